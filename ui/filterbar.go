package ui

import (
	"errors"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// filterBar is the filter's line editor in the status line. The text is parsed as it is
// typed; an invalid text leaves the last valid filter in force, and the bar says why,
// underlining the offending part.
type filterBar struct {
	keys  filterKeys
	in    lineEdit
	open  bool
	err   string // why the text is invalid; "" when it is valid
	errAt [2]int // byte offset and length of the bad text; offset -1 when unknown
}

// filterAction is what a key in the open bar did.
type filterAction int

const (
	filterIgnored  filterAction = iota
	filterEdited                // the text changed
	filterKept                  // enter closed the bar; the filter stays
	filterKeptLast              // enter closed the bar on an invalid text: the last valid filter stays
	filterCleared               // esc closed the bar and emptied it
	filterMoved                 // a move key, for the sessions pane
)

func newFilterBar(text string) filterBar {
	f := filterBar{keys: newFilterKeys(), in: newLineEdit("/ ", 512)}
	f.in.keys = f.keys.edit
	f.in.SetValue(text)
	return f
}

// start opens the bar on text.
func (f *filterBar) start(text string) {
	f.open, f.err = true, ""
	f.in.SetValue(text)
}

// onKey applies a key to the open bar; with filterMoved, the step says which move.
func (f *filterBar) onKey(msg tea.KeyPressMsg) (filterAction, step) {
	switch {
	case key.Matches(msg, f.keys.Clear):
		f.open, f.err = false, ""
		f.in.SetValue("")
		return filterCleared, stepNone
	case key.Matches(msg, f.keys.Keep):
		f.open = false
		if f.err != "" {
			f.err = ""
			return filterKeptLast, stepNone
		}
		return filterKept, stepNone
	}
	if s := f.keys.step(msg); s != stepNone {
		return filterMoved, s
	}
	if f.in.update(msg) {
		return filterEdited, stepNone
	}
	return filterIgnored, stepNone
}

// paste inserts pasted text into the open bar and reports whether it did.
func (f *filterBar) paste(msg tea.Msg) bool { return f.open && f.in.update(msg) }

// parse parses text; when it is invalid it records why and reports false.
func (f *filterBar) parse(text string) (source.Filter, bool) {
	pf, err := parseFilter(text)
	if err != nil {
		f.err = err.Error()
		f.errAt = [2]int{-1, 0}
		if fe, ok := errors.AsType[*source.FilterError](err); ok {
			f.errAt = [2]int{fe.Pos, fe.Len}
		}
		return source.Filter{}, false
	}
	f.err = ""
	pf.Text = text
	return pf, true
}

// textWidth is the room the text gets in a status line width cells wide; the rest says how
// many sessions match, or what is wrong.
func filterTextWidth(width int) int { return max(12, width*3/5) }

// view draws the bar width cells wide; matching says how many sessions match. It returns the
// cursor's column too.
func (f *filterBar) view(width int, st *styles, matching string) (string, int) {
	in, x := f.in.view(filterTextWidth(width))
	text := in[len(f.in.prompt):]
	// Underline the offending part of an invalid filter when the whole text is shown.
	if p, n := f.errAt[0], f.errAt[1]; f.err != "" && p >= 0 && text == f.in.Value() && p <= len(text) {
		e := min(len(text), p+max(n, 1))
		text = text[:p] + st.alert.Underline(true).Render(text[p:e]) + text[e:]
	}
	in = st.filterPrompt.Render(f.in.prompt) + text
	info := st.dim.Render(matching)
	if f.err != "" {
		info = st.errText.Render("✗ " + source.Clean(f.err) + " (keeping the last valid filter)")
	}
	return fitStyled(in+"  "+info, width), x
}
