package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// onKey routes a key to the state that has the keyboard: the filter bar, an overlay, or the
// panes. Each state matches only against its own keymap.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.interrupt) {
		return m.quitNow()
	}
	switch {
	case m.filter.open:
		return m.onFilterKey(msg)
	case m.overlay == overlayConfirm:
		return m.onConfirmKey(msg)
	case m.overlay == overlayHelp:
		if key.Matches(msg, m.help.keys.Close) {
			m.overlay = overlayNone
		} else {
			m.help.text.scroll(m.help.keys.step(msg))
		}
		return nil
	case m.overlay == overlayDetail:
		return m.onDetailKey(msg)
	case m.overlay == overlayEvents:
		m.onEventsKey(msg)
		return nil
	case m.overlay == overlayVitals:
		return m.onVitalsKey(msg)
	}
	return m.onMainKey(msg)
}

func (m *Model) onConfirmKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.confirm.keys
	switch {
	case key.Matches(msg, k.Yes):
		return m.runKill()
	case key.Matches(msg, k.No):
		m.overlay = overlayNone
		for _, id := range m.confirm.cancel() {
			delete(m.panes.marked, id)
		}
		m.setStatus("kill cancelled", false)
	}
	return nil
}

func (m *Model) onDetailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.detail.keys
	switch {
	case key.Matches(msg, k.Close):
		m.overlay = overlayNone
		m.detail.close()
	case key.Matches(msg, k.Copy):
		return m.copyCommand(m.detail.row)
	case key.Matches(msg, k.Kill): // also when kill cannot work, to say why
		if m.detail.row != nil {
			m.askKill([]*sessRow{m.detail.row})
		}
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
	default:
		m.detail.text.scroll(k.step(msg))
	}
	return nil
}

// onMainKey handles the panes' keys.
func (m *Model) onMainKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if s := k.step(msg); s != stepNone {
		m.moveSel(s)
		return nil
	}
	if cmd, ok := m.onGroupKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quitNow()
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
		m.help.text.top()
	case key.Matches(msg, k.Vitals):
		m.openVitals()
	case key.Matches(msg, k.Focus, k.FocusBack):
		m.panes.switchFocus()
	case key.Matches(msg, k.Zoom):
		m.panes.maximised = !m.panes.maximised
	case key.Matches(msg, k.Events):
		m.openEvents()
	case key.Matches(msg, k.Sort):
		dir := -1
		if key.Matches(msg, k.SortNext) {
			dir = 1
		}
		m.panes.shiftSort(dir, m.width)
	case key.Matches(msg, k.Reverse):
		m.panes.reverse()
	case key.Matches(msg, k.Filter):
		m.filter.start(m.query.Filter.Text)
		m.filter.committed = m.query.Filter
	case key.Matches(msg, k.Mark):
		m.toggleMark()
	case key.Matches(msg, k.Kill):
		m.onKillKey()
	default:
		return m.onActionKey(msg)
	}
	m.fixScroll()
	return nil
}

// onActionKey handles the panes' keys that act on the data or the refresh.
func (m *Model) onActionKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.Enter):
		return m.onEnter()
	case key.Matches(msg, k.Back):
		return m.onEsc()
	case key.Matches(msg, k.Copy):
		return m.onCopyKey()
	case key.Matches(msg, k.Idle):
		on := !(m.query.IdleConnections && m.query.IdleSessions && m.query.IdleCursors)
		m.query.IdleConnections, m.query.IdleSessions, m.query.IdleCursors = on, on, on
		m.setStatus(onOff("idle connections, sessions and cursors", on), false)
		return m.queryChanged()
	case key.Matches(msg, k.System):
		m.query.System = !m.query.System
		m.setStatus(onOff("internal and system operations", m.query.System), false)
		return m.queryChanged()
	case key.Matches(msg, k.Pause):
		m.panes.paused = !m.panes.paused
		m.vitals.pause(m.panes.paused)
		if l := m.loop.latest; !m.panes.paused && l != nil && l != m.panes.shown {
			m.show(l, m.loop.latestAt)
		}
	case key.Matches(msg, k.Refresh):
		if m.loop.inFlight {
			m.setStatus("a refresh is already in progress", false)
			return nil
		}
		return m.loop.fetch(m.query)
	case key.Matches(msg, k.Members):
		return m.cycleMembers()
	case key.Matches(msg, k.Faster):
		return m.setInterval(nextInterval(m.loop.interval, -1))
	case key.Matches(msg, k.Slower):
		return m.setInterval(nextInterval(m.loop.interval, 1))
	}
	return nil
}

func onOff(what string, on bool) string {
	if on {
		return "showing " + what
	}
	return "hiding " + what
}

// moveSel moves the focused pane's selection.
func (m *Model) moveSel(s step) {
	l := m.layout()
	h := l.sessH
	if m.panes.focus == focusClients {
		h = l.cliH
	}
	page := max(1, h-3)
	d := map[step]int{stepUp: -1, stepDown: 1, stepPageUp: -page, stepPageDown: page, stepFirst: -1 << 30, stepLast: 1 << 30}[s]
	m.panes.move(d)
	m.fixScroll()
}

func (m *Model) onEnter() tea.Cmd {
	p := &m.panes
	if p.focus == focusClients {
		r := p.cli.selected()
		if r == nil {
			return nil
		}
		if p.narrowIP == r.c.IP {
			m.setStatus("showing sessions of every client", false)
			p.narrow("", m.query)
		} else {
			m.setStatus("sessions of client "+r.c.IP+" (esc shows all)", false)
			p.narrow(r.c.IP, m.query)
		}
		m.rowsChanged()
		return nil
	}
	r := p.sess.selected()
	if r == nil {
		if p.sess.gone && p.sess.selID != "" {
			m.setStatus("the selected session is no longer listed; pick another row", true)
		}
		return nil
	}
	return m.openDetail(r)
}

// openDetail shows r in the detail view; with a Detailer it also reads r whole.
func (m *Model) openDetail(r *sessRow) tea.Cmd {
	m.detail.open(r, m.panes.shownAt, m.detailer != nil)
	m.overlay = overlayDetail
	m.fixScroll()
	if m.detailer == nil {
		return nil
	}
	return m.detail.request(m.detailer, *r.s, false)
}

// onDetail shows (or copies) a session read whole; answers to older requests are dropped.
func (m *Model) onDetail(msg detailMsg) tea.Cmd {
	if msg.seq != m.detail.seq {
		return nil
	}
	if msg.copy {
		if msg.err != nil {
			m.setStatus("cannot copy the command: "+source.Clean(msg.err.Error()), true)
			return nil
		}
		return m.copyCommand(&sessRow{s: msg.s})
	}
	if m.overlay == overlayDetail {
		m.detail.whole(msg.s, msg.err, m.now())
	}
	return nil
}

// onCopyKey copies the selected session's command; a lean row has only the command's name,
// so with a Detailer the session is read whole first.
func (m *Model) onCopyKey() tea.Cmd {
	if m.panes.focus != focusSessions {
		return nil
	}
	r := m.panes.sess.selected()
	if r != nil && m.detailer != nil {
		m.setStatus("reading the command of "+source.Clean(r.s.ID)+"…", false)
		return m.detail.request(m.detailer, *r.s, true)
	}
	return m.copyCommand(r)
}

// onEsc clears, one per press, the marks, the client narrowing, then the filter.
func (m *Model) onEsc() tea.Cmd {
	switch {
	case len(m.panes.marked) > 0:
		m.panes.marked = map[string]bool{}
		m.setStatus("marks cleared", false)
	case m.escGroup():
	case m.panes.narrowIP != "":
		m.setStatus("showing sessions of every client", false)
		m.panes.narrow("", m.query)
		m.rowsChanged()
	case !m.query.Filter.Empty() || m.query.Filter.Text != "":
		m.setStatus("filter cleared", false)
		return m.applyFilterText("")
	case m.panes.showingGroups(): // nothing else to clear: back out of the groups
		m.leaveGroups()
	}
	return nil
}

func (m *Model) toggleMark() {
	if m.readonly {
		m.setStatus("read-only mode: kill is disabled, so there is nothing to mark for", true)
		return
	}
	m.panes.toggleMark()
}

// onFilterKey handles keys while the filter bar has the keyboard: the filter applies as you
// type.
func (m *Model) onFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	action, s := m.filter.onKey(msg)
	switch action {
	case filterCleared:
		m.status.clear() // e.g. "kept the last valid filter": no longer true
		return m.applyFilterText("")
	case filterKept:
		return m.commitFilterText()
	case filterMoved:
		m.moveSel(s)
	case filterEdited:
		return m.onFilterEdited()
	}
	return nil
}

func quoteOrNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

// onFilterEdited re-parses the bar after an edit; an invalid text leaves the last valid filter.
func (m *Model) onFilterEdited() tea.Cmd {
	text := m.filter.in.Value()
	m.filter.pending = ""
	if text == m.query.Filter.Text {
		m.filter.err = ""
		return nil
	}
	if p := halfTyped(text); p != "" {
		// Applying "runn" or "running>" would flash an empty (or full) list while the user
		// types running>5s: the committed filter is in force until the term is complete.
		m.filter.err, m.filter.pending = "", p
		return m.setFilter(m.completeTerms(text))
	}
	f, ok := m.filter.parse(text)
	if !ok {
		return m.setFilter(m.filter.committed)
	}
	return m.setFilter(f)
}

// completeTerms is the filter of text without its half-typed last term ("op:query" of
// "op:query runn"), or the committed filter when that part is not valid.
func (m *Model) completeTerms(text string) source.Filter {
	head := text[:max(0, strings.LastIndex(text, " "))]
	if strings.TrimSpace(head) == "" {
		return m.filter.committed
	}
	f, err := parseFilter(head)
	if err != nil {
		return m.filter.committed
	}
	f.Text = head
	return f
}

// setFilter puts f in force, unless it already is.
func (m *Model) setFilter(f source.Filter) tea.Cmd {
	if f.Text == m.query.Filter.Text {
		return nil
	}
	m.query.Filter = f
	if m.loop.pushFilter {
		return m.queryChanged() // the source filters too: ask it again
	}
	m.refilter()
	return nil
}

// commitFilterText is enter in the bar: the text becomes the filter, half-typed or not; an
// invalid text leaves the last valid filter, and the status line says so and why.
func (m *Model) commitFilterText() tea.Cmd {
	text := m.filter.in.Value()
	f, ok := m.filter.parse(text)
	if !ok {
		m.setStatus("kept the last valid filter "+quoteOrNone(m.filter.committed.Text)+": "+m.filter.err, true)
		m.filter.err = ""
		return m.setFilter(m.filter.committed)
	}
	return m.setFilter(f)
}

func (m *Model) applyFilterText(text string) tea.Cmd {
	f, ok := m.filter.parse(text)
	if !ok {
		return nil
	}
	return m.setFilter(f)
}

// onClick: a click on a column header sorts by it (again: reverses), on a row selects it.
func (m *Model) onClick(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.overlay != overlayNone {
		return
	}
	l := m.layout()
	switch {
	case within(ms.Y, l.cliY, l.cliH):
		m.panes.focus = focusClients
		clickPane(&m.panes.cli, ms, ms.Y-l.cliY, m.width)
	case within(ms.Y, l.sessY, l.sessH) && m.panes.showingGroups():
		m.panes.focus = focusSessions
		clickPane(&m.panes.grp, ms, ms.Y-l.sessY, m.width)
	case within(ms.Y, l.sessY, l.sessH):
		m.panes.focus = focusSessions
		clickPane(&m.panes.sess, ms, ms.Y-l.sessY, m.width)
	}
	m.fixScroll()
}

func within(y, top, h int) bool { return h > 0 && y >= top && y < top+h }

// clickPane applies a click on line y of p (0 is its title).
func clickPane[R any](p *pane[R], ms tea.Mouse, y, width int) {
	switch {
	case y == 1:
		if key := p.colAt(ms.X, width); key != "" {
			p.setSort(key)
		}
	case y >= 2:
		p.selectIndex(p.offset + y - 2)
	}
}

func (m *Model) onWheel(msg tea.MouseWheelMsg) {
	switch m.overlay {
	case overlayDetail:
		m.detail.text.wheel(msg)
		return
	case overlayHelp:
		m.help.text.wheel(msg)
		return
	case overlayEvents:
		m.events.text.wheel(msg)
		return
	case overlayVitals:
		m.vview.text.wheel(msg)
		return
	case overlayConfirm:
		return
	}
	ms := msg.Mouse()
	d := 0
	switch ms.Button {
	case tea.MouseWheelUp:
		d = -3
	case tea.MouseWheelDown:
		d = 3
	default:
		return
	}
	l := m.layout()
	if within(ms.Y, l.cliY, l.cliH) {
		m.panes.cli.move(d)
	} else if within(ms.Y, l.sessY, l.sessH) && m.panes.showingGroups() {
		m.panes.grp.move(d)
	} else if within(ms.Y, l.sessY, l.sessH) {
		m.panes.sess.move(d)
	}
	m.fixScroll()
}
