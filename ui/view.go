package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// layoutInfo is where each part of the screen goes; View draws with it and mouse clicks are
// resolved with it, so both always agree.
type layoutInfo struct {
	headerH        int
	bodyY, bodyH   int
	cliY, cliH     int // pane heights include the title bar and the column header
	sessY, sessH   int
	statusY, keysY int
}

func (m *Model) headerHeight() int {
	if m.lastErr != nil {
		return 3
	}
	return 2
}

func (m *Model) layout() layoutInfo {
	l := layoutInfo{headerH: m.headerHeight()}
	l.bodyY = l.headerH
	l.bodyH = max(0, m.height-l.headerH-2)
	l.statusY = l.bodyY + l.bodyH
	l.keysY = l.statusY + 1
	switch {
	case m.maximised && m.focus == focusClients:
		l.cliH = l.bodyH
	case m.maximised:
		l.sessH = l.bodyH
	default:
		l.cliH, l.sessH = m.paneHeights(l.bodyH)
	}
	l.cliY = l.bodyY
	l.sessY = l.bodyY + l.cliH
	return l
}

// View draws the screen. It only reads state prepared by Update and draws the visible rows.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "currentop"
	if m.latest != nil && m.latest.Target != "" {
		v.WindowTitle = "currentop — " + source.Clean(m.latest.Target)
	} else if m.target != "" {
		v.WindowTitle = "currentop — " + source.Clean(m.target)
	}
	if m.filtering && m.overlay == overlayNone {
		_, x := m.filterIn.view(m.filterWidth())
		v.Cursor = tea.NewCursor(x, m.layout().statusY)
	}
	return v
}

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	now := m.now()
	l := m.layout()
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	m.renderHeader(&b, now)
	switch m.overlay {
	case overlayDetail:
		m.renderDetail(&b, l.bodyH, now)
	case overlayHelp:
		title := "Keys — ↑↓ scroll, esc closes"
		b.WriteString(m.st.paneFocused.Render(fit(" "+title, m.width, false)))
		b.WriteByte('\n')
		m.help.render(&b, l.bodyH-1)
	case overlayConfirm:
		b.WriteString(lipgloss.Place(m.width, l.bodyH, lipgloss.Center, lipgloss.Center, m.renderConfirm(l.bodyH, now)))
		b.WriteByte('\n')
	default:
		if l.cliH > 0 {
			m.renderClients(&b, l.cliH, now)
		}
		if l.sessH > 0 {
			m.renderSessions(&b, l.sessH, now)
		}
	}
	b.WriteString(m.renderStatus(now))
	b.WriteByte('\n')
	b.WriteString(m.renderKeys())
	return clip(b.String(), m.width, m.height)
}

// clip cuts the screen to height lines, and on screens too narrow for the layout (it is made
// for 80 columns and more) each line to width cells.
func clip(s string, width, height int) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n++
			if n == height {
				s = s[:i]
				break
			}
		}
	}
	if width >= 60 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if lipgloss.Width(l) > width {
			lines[i] = ansi.Truncate(l, width, "")
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) renderHeader(b *strings.Builder, now time.Time) {
	st := &m.st
	sep := st.dim.Render(" · ")
	// Line 1: what is monitored.
	parts := []string{st.appName.Render("currentop")}
	snap := m.latest
	if snap == nil {
		parts = append(parts, st.dim.Render(m.connectingText(now)))
	} else {
		if snap.Source != "" {
			parts = append(parts, st.value.Render(source.Clean(snap.Source)))
		}
		sv := snap.Server
		if sv.Version != "" || sv.Kind != "" {
			parts = append(parts, strings.TrimSpace(source.Clean(sv.Kind)+" "+source.Clean(sv.Version)))
		}
		if sv.UptimeS > 0 {
			parts = append(parts, st.label.Render("up ")+humanDuration(time.Duration(sv.UptimeS)*time.Second))
		}
		if sv.Host != "" {
			parts = append(parts, source.Clean(sv.Host))
		}
		// The target goes last: it is the longest part and the one cut on narrow screens.
		if snap.Target != "" {
			parts = append(parts, st.dim.Render(source.Clean(snap.Target)))
		}
	}
	b.WriteString(fitStyled(strings.Join(parts, sep), m.width))
	b.WriteByte('\n')

	// Line 2: counters on the left, the state badge on the right. Optional counters are
	// dropped first when the line is too narrow.
	// Each counter has a full and a compact form; on narrow screens the optional ones go
	// first, then the compact forms are used.
	type seg struct {
		full, compact string
		optional      bool
	}
	var segs []seg
	if snap != nil {
		c := snap.Server.Connections
		cur := st.label.Render("conns ") + st.value.Render(count(c.Current))
		sg := seg{full: cur, compact: cur}
		if c.Available > 0 {
			sg.full += sep + st.label.Render("available ") + count(c.Available)
			sg.compact += st.label.Render(" avail ") + count(c.Available)
		}
		segs = append(segs, sg)
		if c.Active > 0 {
			a := st.label.Render("active conns ") + count(c.Active)
			segs = append(segs, seg{a, a, true})
		}
		segs = append(segs, seg{
			full:    st.label.Render("ops ") + st.value.Render(count(m.totalOps)) + st.label.Render(" ("+count(m.activeOps)+" active)"),
			compact: st.label.Render("ops ") + st.value.Render(count(m.totalOps)) + st.label.Render(" ("+count(m.activeOps)+" active)"),
		})
	}
	every := st.label.Render("every ") + intervalString(m.interval)
	segs = append(segs, seg{every, every, false})
	if m.shown != nil {
		age := ageString(now.Sub(m.shownAt))
		segs = append(segs, seg{st.label.Render("updated ") + age + st.label.Render(" ago"), age + st.label.Render(" ago"), false})
	}
	badge := m.badge(now)
	bw := lipgloss.Width(badge)
	join := func(compact bool) string {
		parts := make([]string, len(segs))
		for i, sg := range segs {
			parts[i] = sg.full
			if compact {
				parts[i] = sg.compact
			}
		}
		return strings.Join(parts, sep)
	}
	room := m.width - bw - 1
	line := join(false)
	if lipgloss.Width(line) > room {
		segs = slices.DeleteFunc(segs, func(sg seg) bool { return sg.optional })
		if line = join(false); lipgloss.Width(line) > room {
			line = join(true)
		}
	}
	line = fitStyled(line, max(0, m.width-bw-1))
	gap := max(1, m.width-lipgloss.Width(line)-bw)
	b.WriteString(line + strings.Repeat(" ", gap) + badge)
	b.WriteByte('\n')

	// Line 3, only while failing: the error, its age and the next retry.
	if m.lastErr != nil {
		msg := "✗ refresh failed"
		if m.failures > 1 {
			msg += fmt.Sprintf(" %d times in %s", m.failures, ageString(now.Sub(m.errSince)))
		}
		if m.inFlight {
			msg += ", retrying now"
		} else if d := m.nextRetry.Sub(now); d > 0 {
			msg += ", retry in " + ageString(d.Round(time.Second))
		}
		msg += ": " + m.errorText()
		b.WriteString(st.errText.Render(fit(msg, m.width, false)))
		b.WriteByte('\n')
	}
}

// connectingText says what is being connected to, and for how long once it is slow.
func (m *Model) connectingText(now time.Time) string {
	s := "connecting…"
	if m.target != "" {
		s = "connecting to " + source.Clean(m.target) + "…"
	}
	if d := now.Sub(m.fetchedAt); (m.connecting || m.inFlight) && d >= slowAnswer {
		s += " " + ageString(d)
	}
	return s
}

// errorText is the last error for the header. The target is already on the first line, so an
// error the source explained is shown as its kind and hint, which do not repeat it.
func (m *Model) errorText() string {
	var se *source.Error
	if errors.As(m.lastErr, &se) && se.Hint != "" {
		return source.Clean(se.Kind.String() + ": " + se.Hint)
	}
	return source.Clean(m.lastErr.Error())
}

// slowAnswer is how long a refresh may take before the header says it is waiting.
const slowAnswer = 3 * time.Second

// badge is the refresh state: LIVE, PAUSED or STALE with the data's age.
func (m *Model) badge(now time.Time) string {
	st := &m.st
	switch {
	case m.lastErr != nil && m.shown != nil:
		return st.stale.Render("STALE " + ageString(now.Sub(m.latestAt)))
	case m.lastErr != nil:
		return st.stale.Render("NO DATA")
	case m.paused:
		s := "PAUSED"
		if m.latest != m.shown {
			s += " · new data"
		}
		return st.paused.Render(s)
	case m.shown == nil:
		return st.dim.Render("loading…")
	case m.inFlight && now.Sub(m.fetchedAt) >= slowAnswer:
		// Between a server going away and the refresh timing out, LIVE would be a lie.
		return st.paused.Render("WAITING " + ageString(now.Sub(m.fetchedAt)) + " for an answer")
	}
	return st.live.Render("● LIVE")
}

// fitStyled cuts a styled line to width cells.
func fitStyled(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return truncateStyled(s, width)
}

func (m *Model) paneTitle(focused bool, text string) string {
	style := m.st.paneTitle
	if focused {
		style = m.st.paneFocused
	}
	return style.Render(fit(" "+text, m.width, false))
}

func nOfM(n, total int, filtered bool) string {
	if filtered || n != total {
		return count(n) + " of " + count(total)
	}
	return count(n)
}

func (m *Model) renderClients(b *strings.Builder, h int, now time.Time) {
	focused := m.focus == focusClients
	m.cli.settle(m.width, h-2, now)
	t := "CLIENTS"
	if m.shown != nil {
		t += " " + nOfM(len(m.cli.rows), m.cliTotal, m.query.Filter.HasClientTerms())
	}
	if m.narrowIP != "" {
		t += " · sessions narrowed to " + m.narrowIP
	}
	if h := m.cli.hiddenSort(m.width); h != "" {
		t += " · sorted by " + h
	}
	if m.maximised {
		t += " · maximised (z)"
	}
	t = m.cli.titleNotes(t, m.width)
	b.WriteString(m.paneTitle(focused, t))
	b.WriteByte('\n')
	if m.shown == nil {
		m.renderEmpty(b, h-1)
		return
	}
	if len(m.cli.rows) == 0 {
		msg := "no clients"
		if !m.query.Filter.Empty() {
			msg = "no client matches the filter"
		}
		m.cli.render(b, m.width, 1, focused, &m.st, now, rowDecor[cliRow]{})
		b.WriteString(m.st.dim.Render(fit("  "+msg, m.width, false)))
		b.WriteByte('\n')
		blank(b, h-3)
		return
	}
	m.cli.render(b, m.width, h-1, focused, &m.st, now, rowDecor[cliRow]{
		mark: func(r *cliRow) string {
			if r.c.IP == m.narrowIP {
				return "»"
			}
			return ""
		},
		cell: func(r *cliRow, key string) (lipgloss.Style, bool) {
			if key == "active" && r.c.Active > 0 {
				return m.st.value, true
			}
			return lipgloss.Style{}, false
		},
	})
}

func (m *Model) renderSessions(b *strings.Builder, h int, now time.Time) {
	focused := m.focus == focusSessions
	m.sess.settle(m.width, h-2, now)
	t := "SESSIONS"
	if m.shown != nil {
		t += " " + nOfM(len(m.sess.rows), m.sessTotal, !m.query.Filter.Empty())
	}
	if m.narrowIP != "" {
		t += " · client " + m.narrowIP
	}
	if !m.query.Filter.Empty() {
		t += " · filter " + source.Clean(m.query.Filter.Text)
	}
	if h := m.sess.hiddenSort(m.width); h != "" {
		t += " · sorted by " + h
	}
	if n := len(m.marked); n > 0 {
		t += fmt.Sprintf(" · %d marked", n)
	}
	if snap := m.shown; snap != nil && snap.TotalSessions > len(snap.Sessions) {
		t += " · the source sent " + count(len(snap.Sessions)) + " of " + count(snap.TotalSessions)
	}
	if m.query.IdleConnections {
		t += " · +idle"
	}
	if m.query.System {
		t += " · +system"
	}
	if m.maximised {
		t += " · maximised (z)"
	}
	t = m.sess.titleNotes(t, m.width)
	b.WriteString(m.paneTitle(focused, t))
	b.WriteByte('\n')
	if m.shown == nil {
		m.renderEmpty(b, h-1)
		return
	}
	if len(m.sess.rows) == 0 {
		msg := "no operation in flight — i shows idle connections, s internal operations"
		switch {
		case !m.query.Filter.Empty():
			msg = "no session matches the filter — esc clears it"
		case m.narrowIP != "":
			msg = "no session from " + m.narrowIP + " — esc shows every client"
		}
		m.sess.render(b, m.width, 1, focused, &m.st, now, rowDecor[sessRow]{})
		b.WriteString(m.st.dim.Render(fit("  "+msg, m.width, false)))
		b.WriteByte('\n')
		blank(b, h-3)
		return
	}
	m.sess.render(b, m.width, h-1, focused, &m.st, now, rowDecor[sessRow]{
		mark: func(r *sessRow) string {
			if m.marked[r.s.ID] {
				return "*"
			}
			return ""
		},
		cell: func(r *sessRow, key string) (lipgloss.Style, bool) {
			switch key {
			case "id":
				if m.marked[r.s.ID] {
					return m.st.mark, true
				}
			case "running":
				switch d := r.s.Running(); {
				case d >= time.Minute:
					return m.st.alert, true
				case d >= 10*time.Second:
					return m.st.warn, true
				}
			case "plan":
				if strings.HasPrefix(r.s.PlanSummary, "COLLSCAN") {
					return m.st.warn, true
				}
			case "lock":
				if r.s.WaitingForLock {
					return m.st.alert, true
				}
			case "op":
				if r.s.KillPending {
					return m.st.alert, true
				}
			}
			return lipgloss.Style{}, false
		},
	})
}

// renderEmpty fills a pane before the first snapshot.
func (m *Model) renderEmpty(b *strings.Builder, h int) {
	if h <= 0 {
		return
	}
	msg := "  waiting for the first snapshot…"
	if m.connecting {
		msg = "  " + m.connectingText(m.now()) + " — q quits"
	}
	if m.lastErr != nil {
		msg = "  no data yet — see the error above; retrying automatically"
	}
	b.WriteString(m.st.dim.Render(fit(msg, m.width, false)))
	b.WriteByte('\n')
	blank(b, h-1)
}

func blank(b *strings.Builder, n int) {
	for i := 0; i < n; i++ {
		b.WriteByte('\n')
	}
}

func (m *Model) renderDetail(b *strings.Builder, h int, now time.Time) {
	r := m.detailRow
	if r == nil {
		blank(b, h)
		return
	}
	t := "SESSION " + source.Clean(r.s.ID) + " · as of " + ageString(now.Sub(m.detailAt)) + " ago"
	if !m.detailListed {
		t += " · no longer listed"
	}
	t += " · esc back"
	b.WriteString(m.st.paneFocused.Render(fit(" "+t, m.width, false)))
	b.WriteByte('\n')
	m.detail.render(b, h-1)
}

func (m *Model) renderConfirm(bodyH int, now time.Time) string {
	n := len(m.confirm)
	w := min(m.width-4, 110)
	inner := w - 4
	var lines []string
	lines = append(lines, m.st.dialogTitle.Render(fmt.Sprintf("Kill %d operation%s?", n, plural(n))), "")
	hdr := fmt.Sprintf("%s %s %s %s %s", fit("ID", 16, false), fit("OP", 9, false), fit("RUNNING", 7, true), fit("CLIENT", 21, false), "NS")
	lines = append(lines, m.st.colHeader.Render(strings.TrimRight(fit(hdr, inner, false), " ")))
	room := max(1, bodyH-8)
	for i, s := range m.confirm {
		if i == room-1 && n > room {
			lines = append(lines, fmt.Sprintf("… and %d more", n-i))
			break
		}
		run := runningText(&s)
		row := fmt.Sprintf("%s %s %s %s %s", fitTail(source.Clean(s.ID), 16), fit(source.Clean(opText(&s)), 9, false),
			fit(run, 7, true), fit(source.Clean(s.Client), 21, false), source.Clean(s.NS))
		lines = append(lines, strings.TrimRight(fit(row, inner, false), " "))
	}
	lines = append(lines, "", m.st.key.Render("y")+" kill   "+m.st.key.Render("n")+"/"+m.st.key.Render("esc")+" cancel")
	widest := 0
	for _, l := range lines {
		widest = max(widest, lipgloss.Width(l))
	}
	return m.st.dialog.Width(min(w, max(44, widest+4))).Render(strings.Join(lines, "\n"))
}

func (m *Model) renderStatus(now time.Time) string {
	if m.filtering {
		in, _ := m.filterIn.view(m.filterWidth())
		text := in[len(m.filterIn.prompt):]
		// Underline the offending part of an invalid filter when the whole text is shown.
		if p, n := m.filterErrAt[0], m.filterErrAt[1]; m.filterErr != "" && p >= 0 && text == m.filterIn.Value() && p <= len(text) {
			e := min(len(text), p+max(n, 1))
			text = text[:p] + m.st.alert.Underline(true).Render(text[p:e]) + text[e:]
		}
		in = m.st.filterPrompt.Render(m.filterIn.prompt) + text
		info := ""
		if m.filterErr != "" {
			info = m.st.errText.Render("✗ " + source.Clean(m.filterErr) + " (keeping the last valid filter)")
		} else {
			info = m.st.dim.Render(nOfM(len(m.sess.rows), m.sessTotal, true) + " sessions")
		}
		return fitStyled(in+"  "+info, m.width)
	}
	if m.status != "" && now.Sub(m.statusAt) < statusTTL {
		style := m.st.ok
		if m.statusBad {
			style = m.st.errText
		}
		return style.Render(fit(source.Clean(m.status), m.width, false))
	}
	if m.sess.gone && m.sess.selID != "" && m.shown != nil {
		why := "has ended"
		if m.goneHidden {
			why = "is hidden by the filter or toggles"
		}
		return m.st.warn.Render(fit("selected session "+source.Clean(m.sess.selID)+" "+why+" — no row is selected; move to pick another", m.width, false))
	}
	if m.shown != nil && len(m.shown.Warnings) > 0 {
		return m.st.warn.Render(fit("⚠ "+source.Clean(strings.Join(m.shown.Warnings, "; ")), m.width, false))
	}
	return ""
}

// renderKeys is the footer: the keys that matter in the current state, most useful first.
func (m *Model) renderKeys() string {
	k := m.keys
	var bs []key.Binding
	switch {
	case m.filtering:
		return m.keyLine([]key.Binding{
			key.NewBinding(key.WithHelp("enter", "keep filter")),
			key.NewBinding(key.WithHelp("esc", "clear filter")),
			key.NewBinding(key.WithHelp("↑↓", "move")),
			key.NewBinding(key.WithHelp("", "e.g. op:query ns:/^shop/ running>5s -app:mongosh")),
		})
	case m.overlay == overlayConfirm:
		bs = []key.Binding{k.Yes, k.No}
	case m.overlay == overlayHelp:
		bs = []key.Binding{key.NewBinding(key.WithHelp("↑↓", "scroll")), key.NewBinding(key.WithHelp("esc/?", "close"))}
	case m.overlay == overlayDetail:
		bs = []key.Binding{key.NewBinding(key.WithHelp("↑↓/pgdn", "scroll")), k.Copy}
		if m.canKill() {
			bs = append(bs, key.NewBinding(key.WithHelp("k", "kill")))
		}
		bs = append(bs, key.NewBinding(key.WithHelp("esc", "back")), k.Help)
	case m.focus == focusClients:
		bs = []key.Binding{
			key.NewBinding(key.WithHelp("enter", "sessions of client")),
			k.Filter, key.NewBinding(key.WithHelp("< >", "sort")), k.Reverse,
			key.NewBinding(key.WithHelp("tab", "sessions")), k.Pause, k.Idle, k.System, k.Zoom, k.Help, k.Quit,
		}
	default:
		bs = []key.Binding{key.NewBinding(key.WithHelp("enter", "details")), k.Filter}
		if m.canKill() {
			if n := len(m.marked); n > 0 {
				bs = append(bs, key.NewBinding(key.WithHelp("k", fmt.Sprintf("kill %d marked", n))),
					key.NewBinding(key.WithHelp("esc", "unmark")))
			} else {
				bs = append(bs, key.NewBinding(key.WithHelp("k", "kill")))
			}
			bs = append(bs, key.NewBinding(key.WithHelp("space", "mark")))
		}
		bs = append(bs, key.NewBinding(key.WithHelp("< >", "sort")), k.Reverse, k.Pause,
			key.NewBinding(key.WithHelp("tab", "clients")), k.Idle, k.Zoom, k.Help, k.Quit)
	}
	if m.paused && m.overlay == overlayNone {
		bs = append([]key.Binding{key.NewBinding(key.WithHelp("p", "resume"))}, bs...)
	}
	return m.keyLine(bs)
}

func (m *Model) canKill() bool { return !m.readonly && m.killer != nil }

// keyLine joins bindings' help until the width is used up; help and quit, when listed, are
// kept at the end whatever is dropped before them.
func (m *Model) keyLine(bs []key.Binding) string {
	var tail []key.Binding
	for len(bs) > 0 {
		last := bs[len(bs)-1].Help().Key
		if last != "?" && last != "q" {
			break
		}
		tail = append([]key.Binding{bs[len(bs)-1]}, tail...)
		bs = bs[:len(bs)-1]
	}
	tailLine, tailW := m.keyItems(tail, m.width)
	head, _ := m.keyItems(bs, m.width-tailW-2)
	if head == "" {
		return tailLine
	}
	if tailLine == "" {
		return head
	}
	return head + "  " + tailLine
}

func (m *Model) keyItems(bs []key.Binding, width int) (string, int) {
	var out strings.Builder
	w := 0
	for _, b := range bs {
		h := b.Help()
		item := h.Key
		seg := m.st.key.Render(h.Key) + " " + m.st.keyDesc.Render(h.Desc)
		if h.Key == "" {
			item, seg = h.Desc, m.st.keyDesc.Render(h.Desc)
		} else {
			item += " " + h.Desc
		}
		iw := textWidth(item)
		if w > 0 {
			iw += 2
		}
		if w+iw > width {
			break
		}
		if w > 0 {
			out.WriteString("  ")
		}
		out.WriteString(seg)
		w += iw
	}
	return out.String(), w
}

// helpLines is the '?' screen: every key, grouped, in two columns when the screen is wide
// enough, then the filter language.
func helpLines(m *Model, width int) []string {
	k := m.keys
	type group struct {
		title string
		keys  []key.Binding
	}
	kill := []key.Binding{k.Mark, k.Kill}
	if m.readonly {
		kill = nil
	}
	groups := []group{
		{"Move (or the mouse: wheel, click a row)", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Focus, k.FocusBack, k.Zoom}},
		{"Sort (or click a column header; click again to reverse)", []key.Binding{k.SortPrev, k.SortNext, k.Reverse}},
		{"Filter", []key.Binding{k.Filter, k.Back}},
		{"Show", []key.Binding{k.Enter, k.Idle, k.System, k.Copy}},
		{"Refresh", []key.Binding{k.Pause, k.Refresh, k.Faster, k.Slower}},
		{"Kill", kill},
		{"Program", []key.Binding{k.Help, k.Quit}},
	}
	var blocks [][]string
	total := 0
	for _, g := range groups {
		if len(g.keys) == 0 {
			continue
		}
		blk := []string{"", "  " + g.title}
		for _, b := range g.keys {
			h := b.Help()
			keys := strings.Join(b.Keys(), " ")
			blk = append(blk, fmt.Sprintf("    %-22s %s", keys, h.Desc))
		}
		blocks = append(blocks, blk)
		total += len(blk)
	}
	var lines []string
	const colW = 62
	if width >= 2*colW-4 {
		var left, right []string
		for _, blk := range blocks {
			if len(left) < total/2 {
				left = append(left, blk...)
			} else {
				right = append(right, blk...)
			}
		}
		for i := 0; i < max(len(left), len(right)); i++ {
			var l, r string
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			lines = append(lines, strings.TrimRight(fit(l, colW, false)+r, " "))
		}
	} else {
		for _, blk := range blocks {
			lines = append(lines, blk...)
		}
	}
	lines = append(lines, "",
		"  Filter terms (all must match; the filter applies as you type)",
		"    text  \"two words\"     any column contains the text (case-insensitive)",
		"    field:text            one column contains it; fields: "+strings.Join(slices.DeleteFunc(slices.Clone(source.FilterFields), func(f string) bool { return f == "running" }), " "),
		"    field=text            one column equals it",
		"    /regex/  field:/re/   regular expression (case-insensitive)",
		"    running>5s            running time: > >= < <= = with us ms s m h (a bare number is seconds)",
		"    -term  !term          negation",
		"",
		"  In the filter bar: enter keeps the filter, esc clears it; ← → home end backspace ctrl+w ctrl+u ctrl+k edit;",
		"    ↑ ↓ pgup pgdn move the selection.",
	)
	if m.readonly {
		lines = append(lines,
			"  In the detail view: ↑ ↓ pgup pgdn space g G scroll, y copies the command (OSC 52), esc q enter return.",
			"  Read-only mode: kill is disabled.")
	} else {
		lines = append(lines,
			"  In the detail view: ↑ ↓ pgup pgdn space g G scroll, y copies the command (OSC 52), k kills, esc q enter return.",
			"  In the kill dialog: y kills, n esc q cancel.")
	}
	lines = append(lines,
		"  The selection follows a session by ID across refreshes; when one you picked goes, nothing is selected.")
	return lines
}

// filterWidth is the room the filter text gets in the status line; the rest shows N of M or
// the error.
func (m *Model) filterWidth() int { return max(12, m.width*3/5) }
