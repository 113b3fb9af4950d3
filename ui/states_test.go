package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

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

// The filter bar commits only valid filters: typing running>5s never shows an empty or a
// different list on the way, an invalid text says why in full and leaves the committed filter
// in force, and enter on it keeps that filter and says so.
func TestFilterCommitsOnlyValidText(t *testing.T) {
	h, _ := started(t, Options{})
	h.keys("/")
	h.typeText("op:query")
	h.keys("enter")
	if h.m.query.Filter.Text != "op:query" {
		t.Fatalf("enter committed %q", h.m.query.Filter.Text)
	}
	h.keys("/")
	text := " running>5s"
	for i := range text {
		h.typeText(text[i : i+1])
		typed := "op:query" + text[:i+1]
		got := h.sessionIDs()
		if len(got) == 0 {
			t.Fatalf("typing %q flashed an empty list:\n%s", typed, screen(h))
		}
		if typed == "op:query running>" && !strings.Contains(screen(h), `… waiting for a value after "running>"`) {
			t.Fatalf("the bar does not say the term is half-typed:\n%s", screen(h))
		}
	}
	if got := h.sessionIDs(); !slices.Equal(got, []string{"103", "101"}) {
		t.Fatalf("op:query running>5s shows %v", got)
	}
	for range 1 {
		h.keys("backspace")
	}
	h.typeText("x")
	if h.m.query.Filter.Text != "op:query" {
		t.Fatalf("running>5x: the filter in force is %q, want the committed op:query", h.m.query.Filter.Text)
	}
	s := screen(h)
	if !strings.Contains(s, `✗ invalid duration "5x"`) || !strings.Contains(s, "the last valid filter stays") {
		t.Fatalf("the bar does not say why in full:\n%s", s)
	}
	h.keys("enter")
	if h.m.filter.open || h.m.query.Filter.Text != "op:query" {
		t.Fatalf("enter on running>5x: open %v, filter %q", h.m.filter.open, h.m.query.Filter.Text)
	}
	if s := screen(h); !strings.Contains(s, `kept the last valid filter "op:query": invalid duration`) {
		t.Fatalf("enter on an invalid text does not say the filter was kept:\n%s", s)
	}
	// "op:query foo:" then enter keeps the committed filter, not "op:query foo".
	h.keys("/")
	h.erase()
	h.typeText("op:query foo:")
	h.keys("enter")
	if h.m.query.Filter.Text != "op:query" {
		t.Fatalf("op:query foo: + enter left %q in force", h.m.query.Filter.Text)
	}
	// A bare word that could become a field is searched for on enter.
	h.keys("/")
	h.erase()
	h.typeText("app")
	if h.m.query.Filter.Text != "op:query" {
		t.Fatalf("half-typed app applied: %q", h.m.query.Filter.Text)
	}
	h.keys("enter")
	if h.m.query.Filter.Text != "app" {
		t.Fatalf("enter on app: %q", h.m.query.Filter.Text)
	}
}

// erase empties the open filter bar with backspaces.
func (h *harness) erase() {
	for range h.m.filter.in.Value() {
		h.keys("backspace")
	}
}

// During an outage the rows are the last good data: dimmed, and marked in words; the whole
// error can be read; after recovery the next refresh comes at once and a note says how long
// the outage lasted, for a while.
func TestOutageStaleAndRecovery(t *testing.T) {
	h, src := started(t, Options{})
	long := "source/mongodb: server selection error: context deadline exceeded, current topology: " +
		"{ Type: Unknown, Last error: dial tcp 10.0.0.1:27017: connect: connection refused }] }"
	src.fail(errors.New(long))
	for range 4 {
		h.clock.advance(5 * time.Second)
		h.fireTick()
	}
	v := h.m.View().Content
	s := ansi.Strip(v)
	if !strings.Contains(s, "SESSIONS 5 · STALE") || !strings.Contains(s, "CLIENTS 3 · STALE") {
		t.Fatalf("the pane titles do not say the rows are stale:\n%s", s)
	}
	row := ""
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(ansi.Strip(l), "conn101") {
			row = l
		}
	}
	if row == "" || row != h.m.st.dim.Render(ansi.Strip(row)) {
		t.Fatalf("a stale row is not dimmed: %q", row)
	}
	if !strings.Contains(strings.Join(strings.Fields(s), " "), "connect: connection refused }] }") {
		t.Fatalf("the error is cut:\n%s", s)
	}
	src.set(smallSnapshot())
	h.clock.advance(30 * time.Second)
	h.fireTick()
	if tk, _ := h.lastTick(); tk.d != 0 {
		t.Fatalf("after recovery the next refresh is armed in %v, want at once", tk.d)
	}
	s = screen(h)
	if strings.Contains(s, "STALE") || !strings.Contains(s, "recovered after 45s") {
		t.Fatalf("after recovery:\n%s", s)
	}
	h.fireTick()
	h.clock.advance(5 * time.Second)
	if s := screen(h); !strings.Contains(s, "recovered after 45s") {
		t.Fatalf("the recovery note went at once:\n%s", s)
	}
	h.clock.advance(statusTTL)
	if s := screen(h); strings.Contains(s, "recovered after") {
		t.Fatalf("the recovery note stays for ever:\n%s", s)
	}
}

// --readonly shows in the header; paused, the footer offers resume and never pause.
func TestReadonlyBadgeAndPausedFooter(t *testing.T) {
	h, _ := started(t, Options{Readonly: true})
	if s := screen(h); !strings.Contains(strings.Split(s, "\n")[0], "READ-ONLY") {
		t.Fatalf("no read-only badge:\n%s", s)
	}
	h.keys("p")
	for _, focus := range []string{"sessions", "clients"} {
		lines := strings.Split(screen(h), "\n")
		footer := lines[len(lines)-1]
		if !strings.Contains(footer, "p resume") || strings.Contains(footer, "p pause") || !strings.Contains(lines[1], "PAUSED") {
			t.Fatalf("paused, %s focused: header %q footer %q", focus, lines[1], footer)
		}
		h.keys("tab")
	}
}

// The open detail view follows its session: running time, yields and progress change with
// each refresh, and it says when the operation has ended.
func TestDetailFollowsRefreshes(t *testing.T) {
	h, src := started(t, Options{})
	src.set(withCommands())
	h.fireTick()
	h.selectSession("103")
	h.keys("enter")
	next := withCommands()
	next.Sessions[2].RunningUS = (100 * time.Second).Microseconds()
	next.Sessions[2].NumYields = 4321
	next.Sessions[2].Progress = &source.Progress{Done: 60, Total: 100}
	src.set(next)
	h.clock.advance(2 * time.Second)
	h.fireTick()
	s := screen(h)
	for _, w := range []string{"1m40s", "yields            4,321", "60% (60 of 100)", "createIndexes 60%", "as of <1s ago"} {
		if !strings.Contains(s, w) {
			t.Fatalf("after a refresh the detail lacks %q:\n%s", w, s)
		}
	}
	gone := withCommands()
	gone.Sessions = slices.Delete(gone.Sessions, 2, 3)
	src.set(gone)
	h.fireTick()
	s = screen(h)
	if !strings.Contains(s, "this operation has ended") || !strings.Contains(s, "· ended") || !strings.Contains(s, "1m40s") {
		t.Fatalf("the detail does not say the operation ended:\n%s", s)
	}
}

// One number style: the clients pane separates thousands as the header does; the help
// explains the three "active" counts.
func TestClientCountsAndActiveExplained(t *testing.T) {
	h, src := started(t, Options{})
	snap := smallSnapshot()
	snap.Clients[0].Count = 2029
	src.set(snap)
	h.fireTick()
	s := screen(h)
	if !strings.Contains(s, "2,029") || !strings.Contains(s, "ops 5 (5 running)") {
		t.Fatalf("counts:\n%s", s)
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 200})
	h.keys("?")
	if s := strings.Join(strings.Fields(screen(h)), " "); !strings.Contains(s, "ACTIVE is the operations in flight from that client IP") {
		t.Fatalf("the help does not explain ACTIVE:\n%s", screen(h))
	}
}

// A source that cannot say whether an operation waits for a lock gets n/a, not a blank that
// reads "not blocked".
func TestLockUnknownSaysNA(t *testing.T) {
	h, src := started(t, Options{})
	snap := smallSnapshot()
	for i := range snap.Sessions {
		snap.Sessions[i].WaitingForLock, snap.Sessions[i].LockUnknown = false, true
	}
	src.set(snap)
	h.fireTick()
	for _, l := range strings.Split(screen(h), "\n") {
		if strings.Contains(l, "conn101") && !strings.HasSuffix(strings.TrimRight(l, " "), "n/a") {
			t.Fatalf("LOCK of a session whose source cannot say: %q", l)
		}
	}
	h.selectSession("101")
	h.keys("enter")
	if s := screen(h); !strings.Contains(s, "waiting for lock  n/a") {
		t.Fatalf("detail:\n%s", s)
	}
}
