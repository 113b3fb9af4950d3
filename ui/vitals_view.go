package ui

import (
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/internal/history"
)

// vitalsView is the v overlay: every figure with its value, its sparkline over the whole
// window, and its least and greatest value over it. It is rebuilt when an answer arrives or
// the width changes, and scrolls like the help screen.
type vitalsView struct {
	keys vitalsKeys
	text textView
}

func newVitalsView() vitalsView { return vitalsView{keys: newVitalsKeys(), text: newTextView()} }

// vitalsKeys are the vitals view's keys.
type vitalsKeys struct {
	moveKeys
	Scroll, Close, Help key.Binding
}

func newVitalsKeys() vitalsKeys {
	k := vitalsKeys{moveKeys: scrollKeys(),
		Close: newBinding("esc/v", "close", "esc", "v", "q"),
		Help:  newBinding("?", "help", "?", "f1"),
	}
	k.Scroll = anyOf("↑↓", "scroll", k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End)
	return k
}

func (k vitalsKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Scroll, k.Close, k.Help} }
func (k vitalsKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k vitalsKeys) groups() []helpGroup {
	return []helpGroup{{"In the vitals view", []key.Binding{k.spelledAll("scroll"), spelled(k.Close, "close"), spelled(k.Help, "help")}}}
}

// Columns of the vitals view.
const (
	vvName  = 24
	vvValue = 11
)

// vitalsViewLines lays the figures out for width: a title with the window, the column
// heads, one line per figure, and what the figures are.
func (m *Model) vitalsViewLines() []string {
	v := &m.vitals
	h := v.hist
	buf := make([]float64, 0, h.Cap())
	n := len(v.series(buf, figOps, h.Len())) // the rows up to the one shown
	sw := max(0, m.width-2-vvName-3*vvValue-2)
	window := "no samples yet"
	if n > 0 {
		window = "last " + ageString(h.Span(v.upto).Round(time.Second)) + " · " + count(n) + " samples, kept up to " +
			count(h.Cap())
	}
	if v.paused {
		window += " · PAUSED (still recording)"
	}
	lines := []string{
		" " + m.st.label.Render(window),
		"",
		m.st.colHeader.Render("  " + fit("figure", vvName, false) + fit("now", vvValue, true) +
			fit("min", vvValue, true) + fit("max", vvValue, true) + "  " + fit("over the window", sw, false)),
	}
	for f := range nFigs {
		vs := v.series(buf[:0], f, n)
		fig := figures[f]
		cur, lo, hi := "—", "—", "—"
		if c, ok := v.current(f); ok {
			cur = formatFigure(c, fig.unit)
		} else if f == figOps && v.measuring {
			cur = "measuring…"
		}
		if a, b, ok := history.MinMax(vs); ok {
			lo, hi = formatFigure(a, fig.unit), formatFigure(b, fig.unit)
		}
		line := "  " + fit(fig.name, vvName, false) + m.st.value.Render(fit(cur, vvValue, true)) +
			fit(lo, vvValue, true) + fit(hi, vvValue, true)
		if sw > 0 {
			line += "  " + m.st.spark.Render(sparkline(vs, sw, m.ascii, fig.relative, true))
		}
		lines = append(lines, line)
	}
	lines = append(lines, m.memberViewLines(sw)...)
	return append(lines, "",
		"  — : the source does not report this figure (or not yet). Rates are per second between",
		"  two refreshes; after a server restart they start again. Sparklines scale from 0 (connections",
		"  and cache used: from the least) to the greatest value shown; a cell holds the greatest of",
		"  its samples. History is kept in memory for the last "+strconv.Itoa(int(historyWindow/time.Minute))+" minutes, paused or not.")
}

// refreshVitalsView rebuilds the open vitals view.
func (m *Model) refreshVitalsView() {
	if m.overlay == overlayVitals {
		m.vview.text.setLines(m.vitalsViewLines())
	}
}

// openVitals shows the vitals view from the top.
func (m *Model) openVitals() {
	m.overlay = overlayVitals
	m.vview.text.top()
	m.fixScroll()
}

func (m *Model) onVitalsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.vview.keys
	switch {
	case key.Matches(msg, k.Close):
		m.overlay = overlayNone
		m.fixScroll()
	case key.Matches(msg, k.Help):
		m.overlay = overlayHelp
		m.help.text.top()
	default:
		m.vview.text.scroll(k.step(msg))
	}
	return nil
}
