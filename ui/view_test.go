package ui

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGoldenViews pins what the screen looks like at the smallest supported size and a
// common one, in the main states, with a fixed clock. Styling is stripped: the goldens are
// about layout and text. Regenerate with: go test ./ui -run TestGoldenViews -update
func TestGoldenViews(t *testing.T) {
	states := []struct {
		name  string
		setup func(h *harness, src *fakeKiller)
	}{
		{"main", func(h *harness, _ *fakeKiller) { h.clock.advance(1500 * time.Millisecond) }},
		{"filter", func(h *harness, _ *fakeKiller) {
			h.keys("/")
			h.typeText("op:query running>5s")
		}},
		{"detail", func(h *harness, _ *fakeKiller) {
			h.selectSession("101")
			h.keys("enter")
		}},
		{"kill-confirm", func(h *harness, _ *fakeKiller) {
			h.selectSession("101")
			h.keys("space")
			h.selectSession("103")
			h.keys("space", "k")
		}},
		{"stale", func(h *harness, src *fakeKiller) {
			src.fail(errors.New("source/mongodb: server selection timeout: connection refused (127.0.0.1:27017)"))
			h.clock.advance(2 * time.Second)
			h.fireTick()
			h.clock.advance(2 * time.Second)
			h.fireTick()
			h.clock.advance(3 * time.Second)
		}},
		{"clients-focused-paused", func(h *harness, _ *fakeKiller) {
			h.keys("tab", "down", "p")
		}},
		{"help", func(h *harness, _ *fakeKiller) { h.keys("?") }},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		for _, st := range states {
			name := st.name + "-" + itoa(size.w) + "x" + itoa(size.h)
			t.Run(name, func(t *testing.T) {
				h, src := started(t, Options{})
				h.send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
				st.setup(h, src)
				got := ansi.Strip(h.m.View().Content)
				lines := strings.Split(got, "\n")
				if len(lines) != size.h {
					t.Errorf("%d lines, want %d", len(lines), size.h)
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size.w {
						t.Errorf("line %d is %d cells wide, more than %d: %q", i, w, size.w, l)
					}
				}
				golden(t, name, got)
			})
		}
	}
}

func itoa(n int) string { return count(n) }

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run TestGoldenViews -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("view differs from %s (rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// TestTinyAndOddSizes: below 80×24 nothing is promised but nothing may break.
func TestTinyAndOddSizes(t *testing.T) {
	for _, sz := range [][2]int{{0, 0}, {1, 1}, {10, 5}, {40, 10}, {79, 23}, {300, 100}} {
		h, _ := started(t, Options{})
		h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, k := range []string{"", "z", "?", "esc", "enter", "esc", "k", "n", "/"} {
			if k != "" {
				h.keys(k)
			}
			out := ansi.Strip(h.m.View().Content)
			if sz[0] == 0 {
				continue
			}
			lines := strings.Split(out, "\n")
			if len(lines) > max(sz[1], 1) {
				t.Fatalf("%dx%d after %q: %d lines", sz[0], sz[1], k, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Fatalf("%dx%d after %q: line %d is %d cells wide", sz[0], sz[1], k, i, w)
				}
			}
		}
	}
}
