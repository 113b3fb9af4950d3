package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func builtHelp(width int, readonly bool) (*helpScreen, string) {
	st := newStyles(true, false)
	hs := newHelpScreen()
	states := []groupedHelp{newFilterKeys(), newDetailKeys(readonly)}
	if !readonly {
		states = append(states, newConfirmKeys())
	}
	hs.build(newKeyHelp(&st), width, readonly, newMainKeys(readonly), states...)
	hs.text.setSize(width, 30)
	return &hs, ansi.Strip(strings.Join(hs.lines, "\n"))
}

// Every key a state matches is in the help, spelled as it is matched; the move keys of the
// scrolling views are listed in their short forms.
func TestHelpScreenListsEveryMatchedKey(t *testing.T) {
	_, text := builtHelp(120, false)
	for name, km := range map[string]any{
		"main": newMainKeys(false), "filter": newFilterKeys(), "edit": newEditKeys(),
		"detail": newDetailKeys(false), "confirm": newConfirmKeys(),
	} {
		for bn, b := range leafBindings(km) {
			if name == "detail" && strings.Contains("Up Down PageUp PageDown Home End", bn) || bn == "Space" {
				continue
			}
			if want := strings.Join(b.Keys(), " "); !strings.Contains(text, want) {
				t.Errorf("%s.%s: help lacks %q", name, bn, want)
			}
		}
	}
	if !strings.Contains(text, "↑ ↓ pgup pgdn space g G") {
		t.Errorf("the detail view's scroll keys are not listed:\n%s", text)
	}
}

func TestHelpScreenReadonly(t *testing.T) {
	_, text := builtHelp(120, true)
	if strings.Contains(strings.ReplaceAll(text, "kill is disabled", ""), "kill") {
		t.Fatalf("read-only help mentions kill:\n%s", text)
	}
	if !strings.Contains(text, "Read-only mode: kill is disabled.") {
		t.Fatal("read-only help does not say kill is disabled")
	}
}

func TestHelpScreenLayout(t *testing.T) {
	for _, w := range []int{60, 80, 119, 120, 200} {
		hs, text := builtHelp(w, false)
		// Two columns: the first line of groups has a title beyond the first column too.
		twoCols := ansi.StringWidth(strings.TrimRight(strings.Split(text, "\n")[1], " ")) > helpColumn
		if twoCols != (w >= 2*helpColumn-4) {
			t.Errorf("width %d: two columns %v", w, twoCols)
		}
		var b strings.Builder
		hs.text.view(&b, 30)
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 30 {
			t.Errorf("width %d: %d lines, want 30", w, len(lines))
		}
		for _, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("width %d: a line is %d cells: %q", w, lw, ansi.Strip(l))
			}
		}
	}
}
