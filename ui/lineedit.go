package ui

import (
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// lineEdit is the filter bar's one-line editor. (bubbles/textinput would pull in a clipboard
// module this project does not carry.) It keeps runes and a cursor; its keys are editKeys.
type lineEdit struct {
	prompt string
	value  []rune
	pos    int
	limit  int
	keys   editKeys
}

func newLineEdit(prompt string, limit int) lineEdit {
	return lineEdit{prompt: prompt, limit: limit, keys: newEditKeys()}
}

func (e *lineEdit) Value() string { return string(e.value) }

func (e *lineEdit) SetValue(s string) {
	e.value = []rune(sanitizeInput(s))
	if e.limit > 0 && len(e.value) > e.limit {
		e.value = e.value[:e.limit]
	}
	e.pos = len(e.value)
}

// sanitizeInput drops control characters from typed or pasted text.
func sanitizeInput(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

func (e *lineEdit) insert(s string) {
	rs := []rune(sanitizeInput(s))
	if e.limit > 0 {
		rs = rs[:min(len(rs), max(0, e.limit-len(e.value)))]
	}
	v := make([]rune, 0, len(e.value)+len(rs))
	v = append(append(append(v, e.value[:e.pos]...), rs...), e.value[e.pos:]...)
	e.value = v
	e.pos += len(rs)
}

// update applies a key or paste; it reports whether the message was for the editor.
func (e *lineEdit) update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		e.insert(msg.Content)
		return true
	case tea.KeyPressMsg:
		if e.edit(msg) || e.moveCursor(msg) {
			return true
		}
		if msg.Text == "" || msg.Mod.Contains(tea.ModCtrl) || msg.Mod.Contains(tea.ModAlt) {
			return false
		}
		e.insert(msg.Text)
		return true
	}
	return false
}

// moveCursor applies the cursor keys.
func (e *lineEdit) moveCursor(msg tea.KeyPressMsg) bool {
	k := &e.keys
	switch {
	case key.Matches(msg, k.Left):
		e.pos = max(0, e.pos-1)
	case key.Matches(msg, k.Right):
		e.pos = min(len(e.value), e.pos+1)
	case key.Matches(msg, k.Start):
		e.pos = 0
	case key.Matches(msg, k.End):
		e.pos = len(e.value)
	default:
		return false
	}
	return true
}

// edit applies the keys that change the text other than by typing.
func (e *lineEdit) edit(msg tea.KeyPressMsg) bool {
	k := &e.keys
	switch {
	case key.Matches(msg, k.DeleteBack):
		if e.pos > 0 {
			e.value = append(e.value[:e.pos-1], e.value[e.pos:]...)
			e.pos--
		}
	case key.Matches(msg, k.DeleteForward):
		if e.pos < len(e.value) {
			e.value = append(e.value[:e.pos], e.value[e.pos+1:]...)
		}
	case key.Matches(msg, k.ClearBefore):
		e.value = e.value[e.pos:]
		e.pos = 0
	case key.Matches(msg, k.ClearAfter):
		e.value = e.value[:e.pos]
	case key.Matches(msg, k.DeleteWord):
		i := e.pos
		for i > 0 && e.value[i-1] == ' ' {
			i--
		}
		for i > 0 && e.value[i-1] != ' ' {
			i--
		}
		e.value = append(e.value[:i], e.value[e.pos:]...)
		e.pos = i
	case key.Matches(msg, k.Space):
		e.insert(" ")
	default:
		return false
	}
	return true
}

// view draws the prompt and the text cut to width cells, keeping the cursor visible; it
// returns the cursor's column.
func (e *lineEdit) view(width int) (string, int) {
	avail := max(1, width-textWidth(e.prompt)-1)
	start := 0
	if e.pos > avail {
		start = e.pos - avail
	}
	end := min(len(e.value), start+avail)
	shown := string(e.value[start:end])
	return e.prompt + shown, textWidth(e.prompt) + textWidth(string(e.value[start:e.pos]))
}
