package ui

import (
	"strings"
	"time"

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

func (m *Model) layout() layoutInfo {
	l := layoutInfo{headerH: m.headerHeight()}
	l.bodyY = l.headerH
	l.bodyH = max(0, m.height-l.headerH-2)
	l.statusY = l.bodyY + l.bodyH
	l.keysY = l.statusY + 1
	switch {
	case m.panes.maximised && m.panes.focus == focusClients:
		l.cliH = l.bodyH
	case m.panes.maximised:
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
	now := m.now()
	v := tea.NewView(m.render(now))
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "currentop"
	if l := m.loop.latest; l != nil && l.Target != "" {
		v.WindowTitle = "currentop — " + source.Clean(l.Target)
	} else if m.target != "" {
		v.WindowTitle = "currentop — " + source.Clean(m.target)
	}
	if m.filter.open && m.overlay == overlayNone {
		_, x := m.filter.in.view(m.filter.textWidth(m.width))
		v.Cursor = tea.NewCursor(x, m.layout().statusY)
	}
	return v
}

func (m *Model) render(now time.Time) string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	l := m.layout()
	var b strings.Builder
	b.Grow(m.width * m.height * 2)
	m.viewHeader(&b, now)
	switch m.overlay {
	case overlayDetail:
		m.detail.view(&b, m.width, l.bodyH, &m.st, now)
	case overlayVitals:
		b.WriteString(m.st.paneFocused.Render(fit(" VITALS", m.width, false)))
		b.WriteByte('\n')
		m.vview.text.view(&b, l.bodyH-1)
	case overlayHelp:
		b.WriteString(m.st.paneFocused.Render(fit(" KEYS", m.width, false)))
		b.WriteByte('\n')
		m.help.text.view(&b, l.bodyH-1)
	case overlayEvents:
		m.viewEvents(&b, l.bodyH)
	case overlayConfirm:
		dialog := m.confirm.view(m.width, l.bodyH, &m.st, m.keyHelp, now)
		b.WriteString(lipgloss.Place(m.width, l.bodyH, lipgloss.Center, lipgloss.Center, dialog))
		b.WriteByte('\n')
	default:
		v := paneView{width: m.width, st: &m.st, now: now, q: m.query, waiting: m.waitingText(now),
			stale: m.loop.lastErr != nil && m.panes.shown != nil}
		if l.cliH > 0 {
			m.panes.viewClients(&b, v, l.cliH)
		}
		if l.sessH > 0 {
			m.panes.viewSessions(&b, v, l.sessH)
		}
	}
	b.WriteString(m.statusText(now))
	b.WriteByte('\n')
	b.WriteString(m.footer())
	return clip(b.String(), m.width, m.height)
}

// waitingText is what the panes say before the first snapshot.
func (m *Model) waitingText(now time.Time) string {
	switch {
	case m.loop.lastErr != nil:
		return "  no data yet — see the error above; retrying automatically"
	case m.loop.connecting:
		return "  " + m.connectingText(now) + " — " + m.keys.Quit.Help().Key + " quits"
	}
	return "  waiting for the first snapshot…"
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

// fitStyled cuts a styled line to width cells.
func fitStyled(s string, width int) string {
	if lipgloss.Width(s) <= width {
		return s
	}
	return truncateStyled(s, width)
}

// statusLine is a message for the status line, shown for statusTTL.
type statusLine struct {
	text string
	bad  bool
	at   time.Time
}

func (s *statusLine) set(text string, bad bool, now time.Time) { *s = statusLine{text, bad, now} }

func (s *statusLine) clear() { s.text = "" }

// current is the message, if it is still to be shown at now.
func (s *statusLine) current(now time.Time) (string, bool, bool) {
	if s.text == "" || now.Sub(s.at) >= statusTTL {
		return "", false, false
	}
	return s.text, s.bad, true
}

// statusText is the line above the footer: the filter bar while it is open, else the latest
// message, a note about the selection, or the source's warnings.
func (m *Model) statusText(now time.Time) string {
	if m.filter.open {
		s, _ := m.filter.view(m.width, &m.st, nOfM(len(m.panes.sess.rows), m.panes.sessTotal, true)+" sessions")
		return s
	}
	if text, bad, ok := m.status.current(now); ok {
		style := m.st.ok
		if bad {
			style = m.st.errText
		}
		return style.Render(fit(source.Clean(text), m.width, false))
	}
	p := &m.panes
	if p.sess.gone && p.sess.selID != "" && p.shown != nil && !p.showingGroups() {
		why := "has ended"
		if p.goneHidden {
			why = "is hidden by the filter or toggles"
		}
		return m.st.warn.Render(fit("selected session "+source.Clean(p.sess.selID)+" "+why+" — no row is selected; move to pick another", m.width, false))
	}
	if p.shown != nil && len(p.shown.Warnings) > 0 {
		return m.st.warn.Render(fit("⚠ "+source.Clean(strings.Join(p.shown.Warnings, "; ")), m.width, false))
	}
	return ""
}
