package ui

import (
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/currentop/currentop/source"
)

// The grouped view: t turns the sessions pane into groups of the sessions it would list
// (after the toggles, the client narrowing and the filter), T cycles what they are grouped by.
// Grouping happens in Update when the rows change (source.Grouper remembers shapes between
// refreshes), never in View. Enter opens a group: the sessions pane lists its sessions until
// esc. k on a group (or the marked groups) marks its sessions and asks to kill them through
// the one kill dialog.

// groupRow is one group plus its joined lists, computed when the groups are made.
type groupRow struct {
	g              *source.Group
	id             string // key and server hash: unique among the groups
	apps, clients  string
	total, longest string
}

func newGroupRow(g *source.Group) groupRow {
	return groupRow{
		g: g, id: groupID(g), apps: joinList(g.Apps), clients: joinList(g.Clients),
		total: source.FormatDuration(usDuration(g.RunningUSTotal)), longest: source.FormatDuration(usDuration(g.RunningUSMax)),
	}
}

// groupID tells groups apart: two server shape hashes may share one readable shape.
func groupID(g *source.Group) string {
	if g.QueryShapeHash == "" {
		return g.Key
	}
	return g.Key + " #" + g.QueryShapeHash
}

func usDuration(us int64) time.Duration {
	s := source.Session{RunningUS: us}
	return s.Running()
}

// groupNouns name a grouping's groups in titles ("12 shapes of 2,040 sessions").
var groupNouns = map[string][2]string{
	"shape": {"shape", "shapes"}, "app": {"app", "apps"}, "ns": {"namespace", "namespaces"},
	"client": {"client", "clients"}, "user": {"user", "users"}, "op": {"op", "ops"},
	"plan": {"plan", "plans"}, "host": {"host", "hosts"},
}

func groupNoun(by string, n int) string {
	if n == 1 {
		return groupNouns[by][0]
	}
	return groupNouns[by][1]
}

func intGroupCol(key, title string, prio int, get func(*source.Group) int) column[groupRow] {
	return column[groupRow]{
		key: key, title: title, min: len(title) + 1, max: 9, right: true, prio: prio, descFirst: true,
		text:  func(r *groupRow, _ time.Time) string { return count(get(r.g)) },
		num:   func(r *groupRow) int64 { return int64(get(r.g)) },
		width: func(r *groupRow) int { return len(count(get(r.g))) },
	}
}

func durGroupCol(key, title string, prio int, us func(*source.Group) int64, text func(*groupRow) string) column[groupRow] {
	return column[groupRow]{
		key: key, title: title, min: 7, max: 7, right: true, prio: prio, descFirst: true,
		text:  func(r *groupRow, _ time.Time) string { return text(r) },
		num:   func(r *groupRow) int64 { return us(r.g) },
		width: func(*groupRow) int { return 7 },
	}
}

func listGroupCol(key, title string, min, max, prio int, get func(*groupRow) string) column[groupRow] {
	return column[groupRow]{
		key: key, title: title, min: min, max: max, prio: prio,
		text:  func(r *groupRow, _ time.Time) string { return get(r) },
		str:   get,
		width: func(r *groupRow) int { return textWidth(get(r)) },
	}
}

// groupColumns is the grouped view, in display order, for grouping by by; the apps or
// clients column is left out when it would repeat the key.
func groupColumns(by string) []column[groupRow] {
	key := listGroupCol("key", groupKeyTitles[by], 12, 160, 100, func(r *groupRow) string { return r.g.Key })
	key.fair = 48
	n := intGroupCol("count", "COUNT", 98, func(g *source.Group) int { return g.Count })
	active := intGroupCol("active", "ACTIVE", 90, func(g *source.Group) int { return g.Active })
	lock := intGroupCol("lock", "LOCK", 75, func(g *source.Group) int { return g.WaitingForLock })
	total := durGroupCol("total", "TOTAL", 96, func(g *source.Group) int64 { return g.RunningUSTotal }, func(r *groupRow) string { return r.total })
	longest := durGroupCol("max", "MAX", 92, func(g *source.Group) int64 { return g.RunningUSMax }, func(r *groupRow) string { return r.longest })
	scan := intGroupCol("collscan", "COLLSCAN", 80, func(g *source.Group) int { return g.Collscan })
	apps := listGroupCol("apps", "APPS", 8, 60, 70, func(r *groupRow) string { return r.apps })
	apps.fair = 20
	clients := listGroupCol("clients", "CLIENTS", 9, 60, 60, func(r *groupRow) string { return r.clients })
	clients.fair = 20
	cols := []column[groupRow]{key, n, active, lock, total, longest, scan}
	if by != "app" {
		cols = append(cols, apps)
	}
	if by != "client" {
		cols = append(cols, clients)
	}
	return cols
}

// groupKeyTitles head the key column per grouping.
var groupKeyTitles = map[string]string{
	"shape": "SHAPE", "app": "APP", "ns": "NS", "client": "CLIENT IP", "user": "USER", "op": "OP",
	"plan": "PLAN", "host": "HOST",
}

func newGroupPane(by string) pane[groupRow] {
	return pane[groupRow]{
		cols: groupColumns(by), sortKey: "total", desc: true,
		tie: func(a, b *groupRow) int { return naturalCompare(a.id, b.id) },
		id:  func(r *groupRow) string { return r.id },
	}
}

// groupState is the grouped view's part of the panes.
type groupState struct {
	grouped bool   // the sessions pane shows groups
	by      string // one of source.GroupBys
	grp     pane[groupRow]
	groups  []source.Group // the groups of the rows the sessions pane would list
	grouper source.Grouper
	// open is the group whose sessions the sessions pane lists (enter on a group), "" for
	// none; openIDs are its sessions in the latest grouping.
	open, openLabel string
	openIDs         map[string]bool
	markedGroups    map[string]bool
	sessInView      int // sessions grouped: the title's "of N sessions"
}

func newGroupState() groupState {
	return groupState{by: source.GroupBys[0], grp: newGroupPane(source.GroupBys[0]), markedGroups: map[string]bool{}}
}

// showingGroups reports whether the sessions pane shows groups now.
func (p *panes) showingGroups() bool { return p.grouped && p.open == "" }

// needGroups reports whether the rows must be grouped: for the grouped view, or to know an
// opened group's sessions.
func (p *panes) needGroups() bool { return p.grouped || p.open != "" }

// regroup groups the sessions pane's rows (already filtered and sorted); byUser as in
// pane.filter. With a group open, the sessions pane is then narrowed to its sessions.
func (p *panes) regroup(byUser bool) {
	if !p.needGroups() {
		p.groups = nil
		return
	}
	rows, data := p.sess.rows, p.sess.data
	p.sessInView = len(rows)
	p.groups = p.grouper.GroupFunc(len(rows), func(i int) *source.Session { return data[rows[i]].s }, p.by)
	gd := make([]groupRow, len(p.groups))
	for i := range p.groups {
		gd[i] = newGroupRow(&p.groups[i])
	}
	p.grp.setData(gd)
	p.grp.filter(nil, byUser)
	if len(p.markedGroups) > 0 { // marks follow group IDs; drop those that have gone
		live := make(map[string]bool, len(p.markedGroups))
		for i := range gd {
			if p.markedGroups[gd[i].id] {
				live[gd[i].id] = true
			}
		}
		p.markedGroups = live
	}
	if p.open != "" {
		p.openIDs = map[string]bool{}
		for i := range gd {
			if gd[i].id == p.open {
				for _, id := range gd[i].g.IDs {
					p.openIDs[id] = true
				}
			}
		}
		p.sess.keep(func(r *sessRow) bool { return p.openIDs[r.s.ID] }, byUser)
	}
}

// keep narrows the rows (already filtered and sorted) to those keep holds, as filter would.
func (p *pane[R]) keep(keep func(r *R) bool, byUser bool) {
	rows := p.rows[:0]
	for _, ri := range p.rows {
		if keep(&p.data[ri]) {
			rows = append(rows, ri)
		}
	}
	p.rows = rows
	p.reselect()
	p.findFacts()
	if byUser && p.gone {
		p.gone, p.selID, p.cursor, p.picked, p.none = false, "", 0, false, false
		p.reselect()
	}
}

// toggleGroups switches the sessions pane between rows and groups (and closes an open group).
func (p *panes) toggleGroups(q source.Query) {
	p.grouped = !p.grouped && p.open == "" // from a group's sessions, t goes to the rows
	p.open, p.openIDs = "", nil
	p.focus = focusSessions
	p.refilterSessions(q, true)
}

// cycleGroupBy groups by the next of source.GroupBys, and shows the groups.
func (p *panes) cycleGroupBy(q source.Query) {
	p.setGroupBy(p.nextGroupBy(), q)
}

// nextGroupBy is the grouping T leads to.
func (p *panes) nextGroupBy() string {
	for i, b := range source.GroupBys {
		if b == p.by {
			return source.GroupBys[(i+1)%len(source.GroupBys)]
		}
	}
	return source.GroupBys[0]
}

func (p *panes) setGroupBy(by string, q source.Query) {
	sortKey, desc := p.grp.sortKey, p.grp.desc
	p.by = by
	p.grp = newGroupPane(by)
	p.grp.sortKey, p.grp.desc = sortKey, desc
	p.grouped, p.open, p.openIDs = true, "", nil
	p.markedGroups = map[string]bool{}
	p.focus = focusSessions
	p.refilterSessions(q, true)
}

// openSelectedGroup lists the selected group's sessions; it returns the group's label, "" when
// no group is selected.
func (p *panes) openSelectedGroup(q source.Query) string {
	r := p.grp.selected()
	if r == nil {
		return ""
	}
	p.open, p.openLabel = r.id, r.g.Key
	p.sess.selID, p.sess.cursor, p.sess.offset, p.sess.picked, p.sess.none = "", 0, 0, false, false
	p.refilterSessions(q, true)
	return r.g.Key
}

// closeGroup goes back from a group's sessions to the groups.
func (p *panes) closeGroup(q source.Query) {
	p.open, p.openIDs = "", nil
	p.refilterSessions(q, true)
}

// toggleGroupMark marks or unmarks the selected group and moves on to the next row.
func (p *panes) toggleGroupMark() {
	r := p.grp.selected()
	if r == nil {
		return
	}
	if p.markedGroups[r.id] {
		delete(p.markedGroups, r.id)
	} else {
		p.markedGroups[r.id] = true
	}
	p.grp.move(1)
}

// killGroups are the groups k acts on: the marked ones, else the selected one.
func (p *panes) killGroups() []*groupRow {
	var out []*groupRow
	for i := range p.grp.data {
		if r := &p.grp.data[i]; p.markedGroups[r.id] {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		if r := p.grp.selected(); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// groupsTitle is the grouped view's title: "12 shapes of 2,040 sessions" and what narrows them.
func (p *panes) groupsTitle(v paneView) string {
	t := "GROUPS"
	if p.shown != nil {
		t += " " + count(len(p.grp.rows)) + " " + groupNoun(p.by, len(p.grp.rows)) + " of " + count(p.sessInView) + " sessions"
	}
	t += p.sessionNotes(v, p.grp.hiddenSort(v.width), len(p.markedGroups))
	t += staleTag(v)
	return p.grp.titleNotes(t, v.width)
}

func (p *panes) viewGroups(b *strings.Builder, v paneView, h int) {
	viewPane(b, v, h, p, &p.grp, p.focus == focusSessions, func() string { return p.groupsTitle(v) }, func() string {
		if !v.q.Filter.Empty() {
			return "no session matches the filter — esc clears it"
		}
		return "no session to group — i shows idle connections, s internal operations; t shows rows"
	}, func() rowDecor[groupRow] { return p.groupDecor(v.st) })
}

// groupDecor marks the marked groups and colours collection scans and lock waits.
func (p *panes) groupDecor(st *styles) rowDecor[groupRow] {
	return rowDecor[groupRow]{
		mark: func(r *groupRow) string {
			if p.markedGroups[r.id] {
				return "*"
			}
			return ""
		},
		cell: func(r *groupRow, key string) (lipgloss.Style, bool) {
			switch key {
			case "collscan":
				return st.warn, r.g.Collscan > 0
			case "lock":
				return st.alert, r.g.WaitingForLock > 0
			case "max":
				return st.alert, usDuration(r.g.RunningUSMax) >= time.Minute
			}
			return lipgloss.Style{}, false
		},
	}
}
