package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// withCommands is smallSnapshot with what each operation is: command names, a summary and an
// index build's progress.
func withCommands() *source.Snapshot {
	snap := smallSnapshot()
	ss := snap.Sessions
	ss[0].CommandName, ss[0].Summary = "find", `{status: "A"}`
	ss[1].CommandName = "update"
	ss[2].CommandName, ss[2].Progress = "createIndexes", &source.Progress{Done: 30, Total: 100}
	ss[3].CommandName = "insert"
	ss[4].CommandName, ss[4].Progress = "aggregate", &source.Progress{Done: 9, Total: 10}
	return snap
}

func TestCommandProgressSummaryColumns(t *testing.T) {
	h, src := started(t, Options{})
	src.set(withCommands())
	h.send(tea.WindowSizeMsg{Width: 200, Height: 40})
	h.fireTick()
	s := screen(h)
	for _, w := range []string{"COMMAND", "PROG", "SUMMARY", "createIndexes", "30%", "90%", `{status: "A"}`} {
		if !strings.Contains(s, w) {
			t.Fatalf("the sessions pane lacks %q:\n%s", w, s)
		}
	}
	for _, tc := range []struct {
		key  string
		desc bool
		want []string
	}{
		{"progress", true, []string{"105", "103", "101", "102", "104"}},
		{"command", false, []string{"105", "103", "101", "104", "102"}},
	} {
		for i := 0; i < len(h.m.panes.sess.cols) && h.m.panes.sess.sortKey != tc.key; i++ {
			h.keys(">")
		}
		if h.m.panes.sess.sortKey != tc.key || h.m.panes.sess.desc != tc.desc {
			t.Fatalf("> never reached %s (desc %v): at %s desc=%v", tc.key, tc.desc, h.m.panes.sess.sortKey, h.m.panes.sess.desc)
		}
		if got := h.sessionIDs(); !slices.Equal(got, tc.want) {
			t.Fatalf("sorted by %s: %v, want %v", tc.key, got, tc.want)
		}
	}
	h.selectSession("103")
	h.keys("enter")
	s = screen(h)
	for _, w := range []string{"SESSION 103 · createIndexes 30%", "progress          30% (30 of 100)"} {
		if !strings.Contains(s, w) {
			t.Fatalf("the detail view lacks %q:\n%s", w, s)
		}
	}
}

var _ = time.Second
