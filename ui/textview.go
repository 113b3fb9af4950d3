package ui

import (
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// textView is a scrolling block of text (the detail view, the help screen): its lines are
// wrapped to the width with hanging indents and shown through bubbles' viewport.
type textView struct {
	vp    viewport.Model
	lines []string // as given, unwrapped
	width int      // what the viewport's lines are wrapped for; -1 before the first size
}

func newTextView() textView {
	vp := viewport.New()
	// Keys are matched by the owner's keymap, which then scrolls; the viewport gets none.
	vp.KeyMap = viewport.KeyMap{}
	vp.MouseWheelDelta = 3
	return textView{vp: vp, width: -1}
}

func (t *textView) setLines(lines []string) {
	t.lines = lines
	t.rewrap()
}

// setSize fits the text to width × height cells, keeping the scroll position where it can.
func (t *textView) setSize(width, height int) {
	t.vp.SetHeight(max(0, height))
	if width != t.width {
		t.width = width
		t.vp.SetWidth(max(0, width))
		t.rewrap()
	}
	t.vp.SetYOffset(t.vp.YOffset())
}

func (t *textView) rewrap() {
	if t.width < 0 {
		return
	}
	t.vp.SetContentLines(wrapHanging(t.lines, t.width))
	t.vp.SetYOffset(t.vp.YOffset())
}

func (t *textView) top() { t.vp.SetYOffset(0) }

// scroll applies one step; a page keeps one line of the last one in view.
func (t *textView) scroll(s step) {
	page := max(1, t.vp.Height()-1)
	switch s {
	case stepUp:
		t.vp.ScrollUp(1)
	case stepDown:
		t.vp.ScrollDown(1)
	case stepPageUp:
		t.vp.ScrollUp(page)
	case stepPageDown:
		t.vp.ScrollDown(page)
	case stepFirst:
		t.vp.GotoTop()
	case stepLast:
		t.vp.GotoBottom()
	}
}

// wheel scrolls by the mouse wheel.
func (t *textView) wheel(msg tea.MouseWheelMsg) { t.vp, _ = t.vp.Update(msg) }

// view draws the text in h lines (h may differ from the last size while the header grows or
// shrinks: the text is drawn for the room there is).
func (t *textView) view(b *strings.Builder, h int) {
	if h <= 0 || t.width <= 0 {
		blank(b, h)
		return
	}
	vp := t.vp
	vp.SetHeight(h)
	vp.SetYOffset(vp.YOffset())
	b.WriteString(vp.View())
	b.WriteByte('\n')
}

// wrapHanging wraps lines to width cells. Continuation lines hang under the line's own
// indentation (two more), so wrapped help entries and JSON values stay readable as one item.
func wrapHanging(lines []string, width int) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if width <= 0 || ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		body := strings.TrimLeft(l, " ")
		indent := min(len(l)-len(body), width/3)
		pad := strings.Repeat(" ", indent+2)
		for i, part := range strings.Split(ansi.Wrap(body, max(10, width-len(pad)), " ,"), "\n") {
			if i == 0 {
				out = append(out, strings.Repeat(" ", indent)+part)
			} else {
				out = append(out, pad+part)
			}
		}
	}
	return out
}
