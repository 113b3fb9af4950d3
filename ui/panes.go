package ui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

type focusPane int

const (
	focusClients focusPane = iota
	focusSessions
)

// panes are the clients pane and the sessions pane: the snapshot they show, which one has the
// focus, the client the sessions are narrowed to and the sessions marked for kill. Rows are
// derived here when the data or the settings change, so that drawing only reads them.
type panes struct {
	cli  pane[cliRow]
	sess pane[sessRow]

	shown   *source.Snapshot // what the panes show: the newest data unless paused
	shownAt time.Time
	paused  bool

	cliTotal  int // clients the toggles show, before the filter
	sessTotal int // sessions the toggles and the narrowing show, before the filter
	activeOps int // operations the toggles show (the header counts them)
	totalOps  int

	focus     focusPane
	maximised bool
	narrowIP  string          // sessions narrowed to this client IP
	marked    map[string]bool // session IDs marked for kill
	// goneHidden: the followed session is still in the data but filtered out.
	goneHidden bool
	// staleRows counts the rows shown whose member did not answer; perMember is the narrowed
	// client's sessions per member (" · by member: a 3, b 1"), when there are members.
	staleRows int
	perMember string
	// churn gives the clients' change per minute and storms (nil: none).
	churn *source.Churn
	// folded: the rows' haystacks for free-text matching are built (once per snapshot, when
	// a filter first needs them: with no filter a snapshot costs nothing more).
	folded bool

	groupState // the grouped view (groups.go)
}

func newPanes() panes {
	return panes{
		sess: pane[sessRow]{
			cols: sessionColumns(), sortKey: "running", desc: true, tie: compareID,
			id: func(r *sessRow) string { return r.s.ID },
		},
		cli: pane[cliRow]{
			cols: clientColumns(), sortKey: "conns", desc: true,
			tie: func(a, b *cliRow) int { return naturalCompare(a.c.IP, b.c.IP) },
			id:  func(r *cliRow) string { return r.c.IP },
		},
		marked:     map[string]bool{},
		focus:      focusSessions,
		groupState: newGroupState(),
	}
}

// show makes snap the data on screen: rows are rebuilt, filtered by q and sorted.
func (p *panes) show(snap *source.Snapshot, at time.Time, q source.Query) {
	p.shown, p.shownAt = snap, at
	sd := make([]sessRow, len(snap.Sessions))
	for i := range snap.Sessions {
		sd[i] = newSessRow(&snap.Sessions[i])
	}
	cd := make([]cliRow, len(snap.Clients))
	for i := range snap.Clients {
		cd[i] = newCliRow(&snap.Clients[i])
	}
	p.showHosts(snap)
	setChurn(cd, p.churn)
	p.sess.setData(sd)
	p.cli.setData(cd)
	p.folded = false
	p.refilter(q, false)
	if len(p.marked) > 0 { // marks follow IDs; drop those that have left
		live := make(map[string]bool, len(p.marked))
		for i := range sd {
			if id := sd[i].s.ID; p.marked[id] {
				live[id] = true
			}
		}
		p.marked = live
	}
}

// refilter recomputes both panes' rows under q; byUser says the user changed the settings
// (rather than new data arriving).
func (p *panes) refilter(q source.Query, byUser bool) {
	p.cliTotal = 0
	p.cli.filter(func(r *cliRow) bool {
		if r.c.Internal && !q.System {
			return false
		}
		p.cliTotal++
		return matchClient(q.Filter, r.c)
	}, byUser)
	p.refilterSessions(q, byUser)
}

// fold builds the rows' free-text haystacks: the rows are the shown snapshot's sessions in
// order, folded in one allocation.
func (p *panes) fold() {
	d := p.sess.data
	if p.shown != nil && len(p.shown.Sessions) == len(d) && (len(d) == 0 || d[0].s == &p.shown.Sessions[0]) {
		for i, f := range foldAll(p.shown.Sessions) {
			d[i].folded = f
		}
	} else {
		for i := range d {
			d[i].folded = foldSession(d[i].s)
		}
	}
	p.folded = true
}

func (p *panes) refilterSessions(q source.Query, byUser bool) {
	p.sessTotal, p.totalOps, p.activeOps = 0, 0, 0
	if !q.Filter.Empty() && !p.folded {
		p.fold()
	}
	p.sess.filter(func(r *sessRow) bool {
		if !q.Shows(r.s) { // sources may return a superset of what the toggles show
			return false
		}
		if t := r.s.Type; t == source.TypeOp || t == "" { // the header counts what the toggles show
			p.totalOps++
			if r.s.Active {
				p.activeOps++
			}
		}
		if p.narrowIP != "" && r.clientIP != p.narrowIP {
			return false
		}
		p.sessTotal++
		return matchFolded(q.Filter, r.s, r.folded)
	}, byUser)
	p.regroup(byUser)
	p.goneHidden = p.sess.gone && p.sess.selID != "" && p.inData(p.sess.selID)
	p.countMembers(q)
}

// inData reports whether id is in the snapshot on screen, filtered or not.
func (p *panes) inData(id string) bool { return p.find(id) != nil }

// find is the row of session id in the data on screen, filtered or not; nil when it is not there.
func (p *panes) find(id string) *sessRow {
	for i := range p.sess.data {
		if p.sess.data[i].s.ID == id {
			return &p.sess.data[i]
		}
	}
	return nil
}

// listed reports whether id is among the sessions on screen.
func (p *panes) listed(id string) bool {
	for _, i := range p.sess.rows {
		if p.sess.data[i].s.ID == id {
			return true
		}
	}
	return false
}

// move moves the focused pane's selection by d rows.
func (p *panes) move(d int) {
	if p.focus == focusClients {
		p.cli.move(d)
	} else if p.showingGroups() {
		p.grp.move(d)
	} else {
		p.sess.move(d)
	}
}

func (p *panes) switchFocus() { p.focus = 1 - p.focus }

// shiftSort moves the focused pane's sort column left (dir < 0) or right.
func (p *panes) shiftSort(dir, width int) {
	if p.focus == focusClients {
		p.cli.shiftSort(dir, width)
	} else if p.showingGroups() {
		p.grp.shiftSort(dir, width)
	} else {
		p.sess.shiftSort(dir, width)
	}
}

// reverse reverses the focused pane's sort.
func (p *panes) reverse() {
	if p.focus == focusClients {
		p.cli.setSort(p.cli.sortKey)
	} else if p.showingGroups() {
		p.grp.setSort(p.grp.sortKey)
	} else {
		p.sess.setSort(p.sess.sortKey)
	}
}

// toggleMark marks or unmarks the selected session and moves on to the next row.
func (p *panes) toggleMark() {
	if p.focus != focusSessions {
		return
	}
	if p.showingGroups() {
		p.toggleGroupMark()
		return
	}
	r := p.sess.selected()
	if r == nil {
		return
	}
	if p.marked[r.s.ID] {
		delete(p.marked, r.s.ID)
	} else {
		p.marked[r.s.ID] = true
	}
	p.sess.move(1)
}

// markedRows are the marked sessions still in the data, in data order.
func (p *panes) markedRows() []*sessRow {
	var rows []*sessRow
	for i := range p.sess.data {
		if r := &p.sess.data[i]; p.marked[r.s.ID] {
			rows = append(rows, r)
		}
	}
	return rows
}

// narrow shows only the sessions of client ip ("" shows every client's), under q.
func (p *panes) narrow(ip string, q source.Query) {
	p.narrowIP = ip
	if ip != "" {
		p.focus = focusSessions
	}
	p.refilterSessions(q, true)
}

// paneView is what drawing the panes needs from outside them.
type paneView struct {
	width int
	st    *styles
	now   time.Time
	q     source.Query
	// waiting is what an empty pane says before the first snapshot.
	waiting string
	// stale: refreshing fails, so the rows are the last good data: they are drawn dimmed
	// and the titles say "stale" (for terminals and eyes without the dimming).
	stale bool
}

// rowsView draws a pane's rows through render, dimmed when the data is stale.
func rowsView(b *strings.Builder, v paneView, render func(*strings.Builder)) {
	if !v.stale {
		render(b)
		return
	}
	var rb strings.Builder
	render(&rb)
	lines := strings.Split(strings.TrimSuffix(rb.String(), "\n"), "\n")
	for _, l := range lines {
		b.WriteString(v.st.dim.Render(ansi.Strip(l)))
		b.WriteByte('\n')
	}
}

// staleTag is what a title says about stale data.
func staleTag(v paneView) string {
	if v.stale {
		return " · STALE (last good data)"
	}
	return ""
}

func (p *panes) title(v paneView, focused bool, text string) string {
	style := v.st.paneTitle
	if focused {
		style = v.st.paneFocused
	}
	return style.Render(fit(" "+text, v.width, false))
}

func nOfM(n, total int, filtered bool) string {
	if filtered || n != total {
		return count(n) + " of " + count(total)
	}
	return count(n)
}

func (p *panes) viewClients(b *strings.Builder, v paneView, h int) {
	viewPane(b, v, h, p, &p.cli, p.focus == focusClients, func() string { return p.clientsTitle(v) }, func() string {
		if !v.q.Filter.Empty() {
			return "no client matches the filter"
		}
		return "no clients"
	}, func() rowDecor[cliRow] { return p.clientDecor(v.st) })
}

func (p *panes) clientsTitle(v paneView) string {
	t := "CLIENTS"
	if p.shown != nil {
		t += " " + nOfM(len(p.cli.rows), p.cliTotal, v.q.Filter.HasClientTerms())
	}
	if p.narrowIP != "" {
		t += " · sessions narrowed to " + p.narrowIP + p.perMember
	}
	if s := p.cli.hiddenSort(v.width); s != "" {
		t += " · sorted by " + s
	}
	if p.maximised {
		t += " · maximised (z)"
	}
	t += staleTag(v)
	return p.cli.titleNotes(t, v.width)
}

func (p *panes) clientDecor(st *styles) rowDecor[cliRow] {
	return rowDecor[cliRow]{
		mark: func(r *cliRow) string {
			if r.c.IP == p.narrowIP {
				return "»"
			}
			return ""
		},
		cell: func(r *cliRow, key string) (lipgloss.Style, bool) {
			if key == "active" && r.c.Active > 0 {
				return st.value, true
			}
			if r.churn.storm && (key == "ip" || key == "churn" || key == "conns") {
				return st.warn, true // a connection storm from this client
			}
			return lipgloss.Style{}, false
		},
	}
}

// sessionsTitle is the sessions pane's title: the counts and everything that narrows them.
func (p *panes) sessionsTitle(v paneView) string {
	t := "SESSIONS"
	if p.shown != nil {
		t += " " + nOfM(len(p.sess.rows), p.sessTotal, !v.q.Filter.Empty())
	}
	if p.open != "" {
		t += " · " + groupNoun(p.by, 1) + " " + source.Clean(p.openLabel) + " (esc: groups)"
	}
	t += p.sessionNotes(v, p.sess.hiddenSort(v.width), len(p.marked))
	t += p.memberNotes() + staleTag(v)
	return p.sess.titleNotes(t, v.width)
}

func (p *panes) viewSessions(b *strings.Builder, v paneView, h int) {
	if p.showingGroups() {
		p.viewGroups(b, v, h)
		return
	}
	viewPane(b, v, h, p, &p.sess, p.focus == focusSessions, func() string { return p.sessionsTitle(v) }, func() string {
		switch {
		case p.open != "":
			return "no session of this " + groupNoun(p.by, 1) + " is left — esc returns to the groups"
		case !v.q.Filter.Empty():
			return "no session matches the filter — esc clears it"
		case p.narrowIP != "":
			return "no session from " + p.narrowIP + " — esc shows every client"
		}
		return "no operation in flight — i shows idle connections, s internal operations"
	}, func() rowDecor[sessRow] { return p.sessionDecor(v.st) })
}

// sessionDecor marks the marked sessions and colours what deserves a look: long running
// times, collection scans, lock waits, kills pending.
func (p *panes) sessionDecor(st *styles) rowDecor[sessRow] {
	return rowDecor[sessRow]{
		mark: func(r *sessRow) string {
			if p.marked[r.s.ID] {
				return "*"
			}
			return ""
		},
		cell: func(r *sessRow, key string) (lipgloss.Style, bool) {
			switch key {
			case "id":
				return st.mark, p.marked[r.s.ID]
			case "running":
				switch d := r.s.Running(); {
				case d >= time.Minute:
					return st.alert, true
				case d >= 10*time.Second:
					return st.warn, true
				}
			case "plan":
				return st.warn, strings.HasPrefix(r.s.PlanSummary, "COLLSCAN")
			case "lock":
				return st.alert, r.s.WaitingForLock
			case "op":
				return st.alert, r.s.KillPending
			}
			return lipgloss.Style{}, false
		},
		dim: func(r *sessRow) bool { return r.s.Stale },
	}
}

// viewNoRows draws a pane's column header (by header), a line saying why there are no rows,
// and blank lines to fill h.
func viewNoRows(b *strings.Builder, v paneView, h int, msg string, header func(*strings.Builder)) {
	header(b)
	b.WriteString(v.st.dim.Render(fit("  "+msg, v.width, false)))
	b.WriteByte('\n')
	blank(b, h-3)
}

// viewWaiting fills a pane before the first snapshot.
func viewWaiting(b *strings.Builder, v paneView, h int) {
	if h <= 0 {
		return
	}
	b.WriteString(v.st.dim.Render(fit(v.waiting, v.width, false)))
	b.WriteByte('\n')
	blank(b, h-1)
}

func blank(b *strings.Builder, n int) {
	for i := 0; i < n; i++ {
		b.WriteByte('\n')
	}
}
