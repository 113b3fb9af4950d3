package ui

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// leafBindings are a keymap's bindings (also those of an embedded moveKeys), without those
// that stand for several (anyOf).
func leafBindings(km any) map[string]key.Binding {
	p := reflect.New(reflect.TypeOf(km))
	p.Elem().Set(reflect.ValueOf(km))
	out := map[string]key.Binding{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f, ft := v.Field(i), v.Type().Field(i)
			switch {
			case ft.Anonymous:
				walk(f)
			case ft.Type == reflect.TypeFor[key.Binding]() && ft.IsExported():
				if n := ft.Name; n != "Sort" && n != "Move" && n != "Scroll" {
					// Fields promoted from an unexported embedded struct are read through
					// their address.
					out[n] = *(*key.Binding)(unsafe.Pointer(f.UnsafeAddr()))
				}
			}
		}
	}
	walk(p.Elem())
	return out
}

func stateKeymaps() map[string]any {
	return map[string]any{
		"main": newMainKeys(false), "filter": newFilterKeys(), "edit": newEditKeys(),
		"detail": newDetailKeys(false), "confirm": newConfirmKeys(), "help": newHelpKeys(),
	}
}

// Within one state a key means one thing.
func TestKeymapsHaveNoConflicts(t *testing.T) {
	for name, km := range stateKeymaps() {
		seen := map[string]string{}
		for bn, b := range leafBindings(km) {
			for _, k := range b.Keys() {
				if other, dup := seen[k]; dup {
					t.Errorf("%s: key %q is bound to both %s and %s", name, k, other, bn)
				}
				seen[k] = bn
			}
		}
	}
	// The filter bar's editor and its own keys share the keyboard.
	seen := map[string]string{}
	for _, km := range []any{newFilterKeys(), newEditKeys()} {
		for bn, b := range leafBindings(km) {
			for _, k := range b.Keys() {
				if other, dup := seen[k]; dup {
					t.Errorf("filter bar: key %q is bound to both %s and %s", k, other, bn)
				}
				seen[k] = bn
			}
		}
	}
}

// Every binding the footer offers is one the help documents, with the same keys.
func TestFooterKeysAreDocumented(t *testing.T) {
	for name, km := range map[string]help.KeyMap{
		"main": newMainKeys(false), "filter": newFilterKeys(), "detail": newDetailKeys(false),
		"confirm": newConfirmKeys(), "help": newHelpKeys(),
	} {
		var documented []string
		for _, g := range km.FullHelp() {
			for _, b := range g {
				documented = append(documented, b.Keys()...)
			}
		}
		for _, b := range km.ShortHelp() {
			if !b.Enabled() {
				t.Errorf("%s: footer binding %q has no keys", name, b.Help().Key)
			}
			for _, k := range b.Keys() {
				if !slices.Contains(documented, k) {
					t.Errorf("%s: footer key %q (%s) is not in the help", name, k, b.Help().Desc)
				}
			}
		}
	}
}

func TestMainKeysFollowTheState(t *testing.T) {
	k := newMainKeys(false)
	footer := func() string {
		var parts []string
		for _, b := range k.ShortHelp() {
			parts = append(parts, b.Help().Key+" "+b.Help().Desc)
		}
		return strings.Join(parts, "  ")
	}
	if s := footer(); strings.Contains(s, "k kill") || !strings.HasPrefix(s, "enter details") {
		t.Fatalf("without a killer: %s", s)
	}
	k.sync(focusSessions, false, true, 2)
	if s := footer(); !strings.Contains(s, "k kill 2 marked  esc unmark  space mark") || !strings.Contains(s, "tab clients") {
		t.Fatalf("two marked: %s", s)
	}
	k.sync(focusClients, true, true, 0)
	s := footer()
	if !strings.HasPrefix(s, "p resume  enter sessions of client") || strings.Contains(s, "kill") || strings.Contains(s, "p pause") {
		t.Fatalf("clients pane, paused: %s", s)
	}
	if !strings.HasSuffix(s, "? help  q quit") {
		t.Fatalf("help and quit come last: %s", s)
	}
}

// The footer fits any width, and keeps help and quit while anything fits.
func TestFooterFits(t *testing.T) {
	h, _ := started(t, Options{})
	states := map[string]func(){
		"main":     func() {},
		"clients":  func() { h.keys("tab") },
		"filter":   func() { h.keys("/") },
		"detail":   func() { h.keys("enter") },
		"confirm":  func() { h.keys("k") },
		"help":     func() { h.keys("?") },
		"detail-h": func() { h.keys("enter", "?") },
	}
	for name, setup := range states {
		h.m.overlay, h.m.filter.open, h.m.panes.focus = overlayNone, false, focusSessions
		setup()
		for w := 10; w <= 200; w += 7 {
			h.m.width = w
			line := ansi.Strip(h.m.footer())
			if ansi.StringWidth(line) > w {
				t.Errorf("%s at %d: footer is %d cells: %q", name, w, ansi.StringWidth(line), line)
			}
			if name == "main" && w >= 20 && !strings.HasSuffix(line, "? help  q quit") {
				t.Errorf("%s at %d: help and quit dropped: %q", name, w, line)
			}
		}
	}
}
