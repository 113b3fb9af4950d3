package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func TestFilterBarKeys(t *testing.T) {
	tests := []struct {
		name   string
		text   string // in the bar before the key
		key    tea.KeyPressMsg
		action filterAction
		step   step
		value  string // in the bar after
		open   bool
	}{
		{"typing edits", "op:", keyMsg("q"), filterEdited, stepNone, "op:q", true},
		{"space is typed", "op:", keyMsg("space"), filterEdited, stepNone, "op: ", true},
		{"g is typed, not first row", "", keyMsg("g"), filterEdited, stepNone, "g", true},
		{"k is typed, not kill", "", keyMsg("k"), filterEdited, stepNone, "k", true},
		{"backspace", "op:q", keyMsg("backspace"), filterEdited, stepNone, "op:", true},
		{"enter keeps", "op:q", keyMsg("enter"), filterKept, stepNone, "op:q", false},
		{"esc clears", "op:q", keyMsg("esc"), filterCleared, stepNone, "", false},
		{"up moves the selection", "op:q", keyMsg("up"), filterMoved, stepUp, "op:q", true},
		{"pgdown moves a page", "op:q", tea.KeyPressMsg{Code: tea.KeyPgDown}, filterMoved, stepPageDown, "op:q", true},
		{"ctrl+d deletes, it does not page", "op:q", tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}, filterEdited, stepNone, "op:q", true},
		{"unknown ctrl keys are ignored", "op:q", tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}, filterIgnored, stepNone, "op:q", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFilterBar("")
			f.start(tc.text)
			action, s := f.onKey(tc.key)
			if action != tc.action || s != tc.step || f.in.Value() != tc.value || f.open != tc.open {
				t.Fatalf("action %v step %v value %q open %v, want %v %v %q %v", action, s, f.in.Value(), f.open, tc.action, tc.step, tc.value, tc.open)
			}
		})
	}
}

// An invalid text is reported with where it goes wrong; enter on it keeps the last valid filter.
func TestFilterBarInvalidText(t *testing.T) {
	f := newFilterBar("")
	f.start("ns:/[/")
	if _, ok := f.parse(f.in.Value()); ok || f.err == "" {
		t.Fatal("an invalid regex parsed")
	}
	if f.errAt[0] < 0 {
		t.Fatalf("no position for the error %q", f.err)
	}
	st := newStyles(true, false)
	line, x := f.view(80, &st, "5 of 5 sessions")
	if !strings.Contains(line, "\x1b[") || !strings.Contains(ansi.Strip(line), "✗") || ansi.StringWidth(line) > 80 {
		t.Fatalf("bar %q", ansi.Strip(line))
	}
	if x != len("/ ns:/[/") {
		t.Fatalf("cursor at %d", x)
	}
	if action, _ := f.onKey(keyMsg("enter")); action != filterKept || f.open {
		t.Fatalf("enter on an invalid text: %v, err %q", action, f.err)
	}
	pf, ok := f.parse("op:query running>5s")
	if !ok || pf.Text != "op:query running>5s" || f.err != "" {
		t.Fatalf("valid text: %+v %v %q", pf, ok, f.err)
	}
}

func TestFilterBarPaste(t *testing.T) {
	f := newFilterBar("")
	if f.paste(tea.PasteMsg{Content: "op:query"}) {
		t.Fatal("a paste reached the closed bar")
	}
	f.start("")
	if !f.paste(tea.PasteMsg{Content: "op:\nquery"}) || f.in.Value() != "op: query" {
		t.Fatalf("paste: %q", f.in.Value())
	}
}
