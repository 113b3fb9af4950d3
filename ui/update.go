package ui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if msg.String() == "ctrl+c" {
		return m.quitNow()
	}
	if m.filtering {
		return m.onFilterKey(msg)
	}
	switch m.overlay {
	case overlayConfirm:
		switch {
		case key.Matches(msg, k.Yes):
			return m.runKill()
		case key.Matches(msg, k.No):
			m.overlay, m.confirm = overlayNone, nil
			m.setStatus("kill cancelled", false)
		}
		return nil
	case overlayHelp:
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.overlay = overlayNone
			return nil
		}
		m.scrollKeys(&m.help, msg)
		return nil
	case overlayDetail:
		switch {
		case key.Matches(msg, k.Back, k.Quit, k.Enter):
			m.overlay, m.detailRow = overlayNone, nil
		case key.Matches(msg, k.Copy):
			return m.copyCommand(m.detailRow)
		case msg.String() == "k" || msg.String() == "delete": // also when read-only, to say why not
			if m.detailRow != nil {
				return m.askKill([]*sessRow{m.detailRow})
			}
		case key.Matches(msg, k.Help):
			m.overlay = overlayHelp
		default:
			m.scrollKeys(&m.detail, msg)
		}
		return nil
	}

	switch {
	case key.Matches(msg, k.Quit):
		return m.quitNow()
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
		m.help.off = 0
	case key.Matches(msg, k.Up):
		m.moveSel(-1)
	case key.Matches(msg, k.Down):
		m.moveSel(1)
	case key.Matches(msg, k.PageUp):
		m.moveSel(-m.pageSize())
	case key.Matches(msg, k.PageDown):
		m.moveSel(m.pageSize())
	case key.Matches(msg, k.Home):
		m.moveSel(-1 << 30)
	case key.Matches(msg, k.End):
		m.moveSel(1 << 30)
	case key.Matches(msg, k.Focus, k.FocusBack):
		m.focus = 1 - m.focus
		m.fixScroll()
	case key.Matches(msg, k.Zoom):
		m.maximised = !m.maximised
		m.fixScroll()
	case key.Matches(msg, k.SortPrev):
		m.shiftSort(-1)
	case key.Matches(msg, k.SortNext):
		m.shiftSort(1)
	case key.Matches(msg, k.Reverse):
		if m.focus == focusClients {
			m.cli.setSort(m.cli.sortKey)
		} else {
			m.sess.setSort(m.sess.sortKey)
		}
		m.fixScroll()
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.filterErr = ""
		m.filterIn.SetValue(m.query.Filter.Text)
		return nil
	case key.Matches(msg, k.Enter):
		return m.onEnter()
	case key.Matches(msg, k.Back):
		return m.onEsc()
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
		m.paused = !m.paused
		if !m.paused && m.latest != nil && m.latest != m.shown {
			m.show(m.latest, m.latestAt)
		}
	case key.Matches(msg, k.Refresh):
		if m.inFlight {
			m.setStatus("a refresh is already in progress", false)
			return nil
		}
		return m.fetch()
	case key.Matches(msg, k.Faster):
		return m.setInterval(nextInterval(m.interval, -1))
	case key.Matches(msg, k.Slower):
		return m.setInterval(nextInterval(m.interval, 1))
	case key.Matches(msg, k.Mark) || msg.String() == "space": // disabled in read-only mode, which toggleMark explains
		m.toggleMark()
	case msg.String() == "k" || msg.String() == "delete":
		return m.onKillKey()
	case key.Matches(msg, k.Copy):
		if m.focus == focusSessions {
			if r := m.sess.selected(); r != nil && m.detailer != nil {
				return m.readWhole(r, true) // the row has only the command's name
			}
			return m.copyCommand(m.sess.selected())
		}
	}
	return nil
}

func onOff(what string, on bool) string {
	if on {
		return "showing " + what
	}
	return "hiding " + what
}

func (m *Model) pageSize() int {
	l := m.layout()
	h := l.sessH
	if m.focus == focusClients {
		h = l.cliH
	}
	return max(1, h-3)
}

func (m *Model) moveSel(d int) {
	if m.focus == focusClients {
		m.cli.move(d)
	} else {
		m.sess.move(d)
	}
	m.fixScroll()
}

func (m *Model) shiftSort(dir int) {
	if m.focus == focusClients {
		m.cli.shiftSort(dir, m.width)
	} else {
		m.sess.shiftSort(dir, m.width)
	}
	m.fixScroll()
}

func (m *Model) onEnter() tea.Cmd {
	if m.focus == focusClients {
		r := m.cli.selected()
		if r == nil {
			return nil
		}
		if m.narrowIP == r.c.IP {
			m.narrowIP = ""
			m.setStatus("showing sessions of every client", false)
		} else {
			m.narrowIP = r.c.IP
			m.focus = focusSessions
			m.setStatus("sessions of client "+r.c.IP+" (esc shows all)", false)
		}
		m.refilterSessions(true)
		return nil
	}
	r := m.sess.selected()
	if r == nil {
		if m.sess.gone && m.sess.selID != "" {
			m.setStatus("the selected session is no longer listed; pick another row", true)
		}
		return nil
	}
	return m.openDetail(r)
}

// onEsc clears, one per press, the marks, the client narrowing, then the filter.
func (m *Model) onEsc() tea.Cmd {
	switch {
	case len(m.marked) > 0:
		m.marked = map[string]bool{}
		m.setStatus("marks cleared", false)
	case m.narrowIP != "":
		m.narrowIP = ""
		m.setStatus("showing sessions of every client", false)
		m.refilterSessions(true)
	case !m.query.Filter.Empty() || m.query.Filter.Text != "":
		m.setStatus("filter cleared", false)
		return m.applyFilterText("")
	}
	return nil
}

func (m *Model) toggleMark() {
	if m.readonly {
		m.setStatus("read-only mode: kill is disabled, so there is nothing to mark for", true)
		return
	}
	if m.focus != focusSessions {
		return
	}
	r := m.sess.selected()
	if r == nil {
		return
	}
	if m.marked[r.s.ID] {
		delete(m.marked, r.s.ID)
	} else {
		m.marked[r.s.ID] = true
	}
	m.sess.move(1)
	m.fixScroll()
}

// onFilterKey handles keys while the filter bar has focus: the filter applies as you type.
func (m *Model) onFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.filtering = false
		m.filterErr = ""
		m.status = "" // e.g. "kept the last valid filter": no longer true
		m.filterIn.SetValue("")
		return m.applyFilterText("")
	case "enter":
		m.filtering = false
		if m.filterErr != "" {
			m.setStatus("kept the last valid filter: "+quoteOrNone(m.query.Filter.Text), true)
			m.filterErr = ""
		}
		return nil
	case "up", "down", "pgup", "pgdown":
		m.moveSel(map[string]int{"up": -1, "down": 1, "pgup": -m.pageSize(), "pgdown": m.pageSize()}[msg.String()])
		return nil
	}
	if !m.filterIn.update(msg) {
		return nil
	}
	return m.onFilterEdited()
}

func quoteOrNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", s)
}

// onFilterEdited re-parses the bar after an edit; an invalid text leaves the last valid filter.
func (m *Model) onFilterEdited() tea.Cmd {
	text := m.filterIn.Value()
	if text == m.query.Filter.Text {
		m.filterErr = ""
		return nil
	}
	return m.applyFilterText(text)
}

func (m *Model) applyFilterText(text string) tea.Cmd {
	f, err := parseFilter(text)
	if err != nil {
		m.filterErr = err.Error()
		m.filterErrAt = [2]int{-1, 0}
		if fe, ok := errors.AsType[*source.FilterError](err); ok {
			m.filterErrAt = [2]int{fe.Pos, fe.Len}
		}
		return nil
	}
	m.filterErr = ""
	f.Text = text
	m.query.Filter = f
	if m.pushFilter {
		return m.queryChanged() // the source filters too: ask it again
	}
	m.refilter(true)
	return nil
}

// onClick: a click on a column header sorts by it (again: reverses), on a row selects it.
func (m *Model) onClick(ms tea.Mouse) tea.Cmd {
	if ms.Button != tea.MouseLeft || m.overlay != overlayNone {
		return nil
	}
	l := m.layout()
	in := func(top, h int) bool { return h > 0 && ms.Y >= top && ms.Y < top+h }
	switch {
	case in(l.cliY, l.cliH):
		m.focus = focusClients
		switch y := ms.Y - l.cliY; {
		case y == 1:
			if key := m.cli.colAt(ms.X, m.width); key != "" {
				m.cli.setSort(key)
			}
		case y >= 2:
			m.cli.selectIndex(m.cli.offset + y - 2)
		}
	case in(l.sessY, l.sessH):
		m.focus = focusSessions
		switch y := ms.Y - l.sessY; {
		case y == 1:
			if key := m.sess.colAt(ms.X, m.width); key != "" {
				m.sess.setSort(key)
			}
		case y >= 2:
			m.sess.selectIndex(m.sess.offset + y - 2)
		}
	}
	m.fixScroll()
	return nil
}

func (m *Model) onWheel(ms tea.Mouse) {
	d := 0
	switch ms.Button {
	case tea.MouseWheelUp:
		d = -3
	case tea.MouseWheelDown:
		d = 3
	default:
		return
	}
	switch m.overlay {
	case overlayDetail:
		m.detail.scroll(d, m.layout().bodyH-1)
		return
	case overlayHelp:
		m.help.scroll(d, m.layout().bodyH-1)
		return
	case overlayConfirm:
		return
	}
	l := m.layout()
	if ms.Y >= l.cliY && ms.Y < l.cliY+l.cliH {
		m.cli.move(d)
	} else if ms.Y >= l.sessY && ms.Y < l.sessY+l.sessH {
		m.sess.move(d)
	}
	m.fixScroll()
}

func (m *Model) scrollKeys(s *scroller, msg tea.KeyPressMsg) {
	k := m.keys
	h := m.layout().bodyH - 1
	switch {
	case key.Matches(msg, k.Up):
		s.scroll(-1, h)
	case key.Matches(msg, k.Down):
		s.scroll(1, h)
	case key.Matches(msg, k.PageUp):
		s.scroll(-max(1, h-1), h)
	case key.Matches(msg, k.PageDown), msg.String() == "space":
		s.scroll(max(1, h-1), h)
	case key.Matches(msg, k.Home):
		s.off = 0
	case key.Matches(msg, k.End):
		s.scroll(1<<30, h)
	}
}
