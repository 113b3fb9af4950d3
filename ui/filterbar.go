package ui

import (
	"errors"
	"slices"
	"strconv"
	"strings"

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
	// pending says what the last term still lacks while it is half-typed ("running>", "op:",
	// "runn"): the committed filter stays until the term is complete or enter commits it.
	pending string
	// committed is the filter when the bar opened: it is in force again whenever the text is
	// invalid or half-typed, and stays when enter is pressed on such a text.
	committed source.Filter
}

// filterAction is what a key in the open bar did.
type filterAction int

const (
	filterIgnored filterAction = iota
	filterEdited               // the text changed
	filterKept                 // enter closed the bar: the model commits the text (or keeps the last valid filter)
	filterCleared              // esc closed the bar and emptied it
	filterMoved                // a move key, for the sessions pane
)

func newFilterBar(text string) filterBar {
	f := filterBar{keys: newFilterKeys(), in: newLineEdit("/ ", 512)}
	f.in.keys = f.keys.edit
	f.in.SetValue(text)
	return f
}

// start opens the bar on text.
func (f *filterBar) start(text string) {
	f.open, f.err, f.pending = true, "", ""
	f.in.SetValue(text)
}

// onKey applies a key to the open bar; with filterMoved, the step says which move.
func (f *filterBar) onKey(msg tea.KeyPressMsg) (filterAction, step) {
	switch {
	case key.Matches(msg, f.keys.Clear):
		f.open, f.err, f.pending = false, "", ""
		f.in.SetValue("")
		return filterCleared, stepNone
	case key.Matches(msg, f.keys.Keep):
		f.open, f.pending = false, ""
		return filterKept, stepNone // the model commits the text, or keeps the last valid filter
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
			f.errAt = [2]int{fe.Pos, fe.Len} // the underline says where: the words say what
			f.err = shortReason(fe.Msg)
		}
		return source.Filter{}, false
	}
	f.err = ""
	pf.Text = text
	return pf, true
}

// shortReason is a parse error without the field list it may end with: the footer and the
// help list the fields, and the reason must fit beside the text.
func shortReason(msg string) string {
	if i := strings.Index(msg, " (fields:"); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// halfTyped says what the text's last term still lacks when the user is evidently in the
// middle of typing it: a field name or the start of one with no value yet ("runn",
// "running>", "-op:"), or a lone "-". It is "" for a complete term or a trailing space.
func halfTyped(text string) string {
	i := strings.LastIndexAny(text, " ")
	tok := text[i+1:]
	if tok == "" || strings.Count(text, `"`)%2 == 1 {
		return "" // a blank, or an open quote, which the parser explains
	}
	tok = strings.TrimLeft(tok, "-!")
	if tok == "" {
		return "a term to negate"
	}
	name, rest := tok, ""
	if j := strings.IndexAny(tok, ":<>="); j >= 0 {
		name, rest = tok[:j], tok[j:]
	}
	name = strings.ToLower(name)
	switch rest {
	case "":
		for _, f := range source.FilterFields {
			if strings.HasPrefix(f, name) {
				return "a field (" + f + ":) or text — enter searches for " + strconv.Quote(tok)
			}
		}
	case ":", "=", ">", ">=", "<", "<=":
		if slices.Contains(source.FilterFields, name) || name == "" {
			return "a value after " + strconv.Quote(tok)
		}
	}
	return ""
}

// filterTextWidth is the room the text gets in a status line width cells wide; the rest says
// how many sessions match, or what is wrong.
func filterTextWidth(width int) int { return max(12, width*3/5) }

// textWidth is the room this bar's text gets: less while it explains an error or a
// half-typed term, so that the reason is not cut away.
func (f *filterBar) textWidth(width int) int {
	w := filterTextWidth(width)
	if f.err != "" || f.pending != "" {
		w = min(w, max(12, textWidth(f.in.Value())+2, width-textWidth(f.reason(width))-2))
	}
	return w
}

// reason is what the bar says beside an invalid or half-typed text, in the words that fit
// beside the text on a line width cells wide: an example in parentheses goes first.
func (f *filterBar) reason(width int) string {
	var r string
	switch {
	case f.err != "":
		r = "✗ " + source.Clean(f.err) + " · the last valid filter stays"
	case f.pending != "":
		r = "… waiting for " + f.pending
	default:
		return ""
	}
	room := width - min(filterTextWidth(width), textWidth(f.in.Value())+2) - 2
	if textWidth(r) > room {
		if i, j := strings.Index(r, " ("), strings.Index(r, ")"); i > 0 && j > i {
			r = r[:i] + r[j+1:]
		}
	}
	return r
}

// view draws the bar width cells wide; matching says how many sessions match. It returns the
// cursor's column too.
func (f *filterBar) view(width int, st *styles, matching string) (string, int) {
	in, x := f.in.view(f.textWidth(width))
	text := in[len(f.in.prompt):]
	// Underline the offending part of an invalid filter when the whole text is shown.
	if p, n := f.errAt[0], f.errAt[1]; f.err != "" && p >= 0 && text == f.in.Value() && p <= len(text) {
		e := min(len(text), p+max(n, 1))
		text = text[:p] + st.alert.Underline(true).Render(text[p:e]) + text[e:]
	}
	in = st.filterPrompt.Render(f.in.prompt) + text
	info := st.dim.Render(matching)
	switch {
	case f.err != "":
		info = st.errText.Render(f.reason(width))
	case f.pending != "":
		info = st.dim.Render(f.reason(width) + " · " + matching)
	}
	return fitStyled(in+"  "+info, width), x
}
