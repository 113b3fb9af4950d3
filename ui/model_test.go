package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

func started(t *testing.T, opts Options) (*harness, *fakeKiller) {
	t.Helper()
	src := &fakeKiller{outcome: source.KillGone}
	src.set(smallSnapshot())
	if opts.Source == nil {
		opts.Source = src
	}
	h := newHarness(t, opts)
	if h.m.panes.shown == nil {
		t.Fatalf("no snapshot shown after Init; status %q err %v", h.m.status.text, h.m.loop.lastErr)
	}
	return h, src
}

func screen(h *harness) string { return ansi.Strip(h.m.View().Content) }

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			h, _ := started(t, Options{})
			_, cmd := h.m.Update(keyMsg(k))
			if cmd == nil {
				t.Fatalf("%s: no command, want tea.Quit", k)
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatalf("%s: command returned %T, want tea.QuitMsg", k, cmd())
			}
		})
	}
}

func TestFocusAndZoom(t *testing.T) {
	h, _ := started(t, Options{})
	if h.m.panes.focus != focusSessions {
		t.Fatalf("initial focus = %v, want sessions", h.m.panes.focus)
	}
	h.keys("tab")
	if h.m.panes.focus != focusClients {
		t.Fatalf("focus after tab = %v, want clients", h.m.panes.focus)
	}
	h.keys("z")
	l := h.m.layout()
	if l.sessH != 0 || l.cliH != l.bodyH {
		t.Fatalf("zoomed clients: cliH=%d sessH=%d bodyH=%d, want the clients pane to fill the body", l.cliH, l.sessH, l.bodyH)
	}
	if s := screen(h); strings.Contains(s, "SESSIONS") || !strings.Contains(s, "maximised") {
		t.Fatalf("zoomed screen should show only the clients pane:\n%s", s)
	}
	h.keys("tab")
	l = h.m.layout()
	if l.cliH != 0 || l.sessH != l.bodyH {
		t.Fatalf("zoom follows focus: cliH=%d sessH=%d", l.cliH, l.sessH)
	}
	h.keys("z")
	l = h.m.layout()
	if l.cliH == 0 || l.sessH == 0 {
		t.Fatalf("unzoomed: both panes must be visible, cliH=%d sessH=%d", l.cliH, l.sessH)
	}
}

func TestSortKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		key  string
		desc bool
		want []string // session IDs in order
	}{
		{"default is running time, longest first, ties by id", nil, "running", true, []string{"103", "101", "105", "102", "104"}},
		{"reverse", []string{"r"}, "running", false, []string{"104", "102", "101", "105", "103"}},
		{"next column is plan", []string{">"}, "plan", false, []string{"102", "104", "105", "101", "103"}},
		{"previous column is ns", []string{"<"}, "ns", false, []string{"104", "102", "101", "103", "105"}},
		{"two left is op, ascending", []string{"<", "<"}, "op", false, []string{"105", "104", "101", "103", "102"}},
		{"op reversed, ties still by id", []string{"<", "<", "r"}, "op", true, []string{"102", "101", "103", "104", "105"}},
		{"wraps from the first column to the last", []string{"<", "<", "<", "<"}, "lock", true, []string{"103", "101", "102", "104", "105"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := started(t, Options{})
			h.keys(tc.keys...)
			if h.m.panes.sess.sortKey != tc.key || h.m.panes.sess.desc != tc.desc {
				t.Fatalf("sort = %s desc=%v, want %s desc=%v", h.m.panes.sess.sortKey, h.m.panes.sess.desc, tc.key, tc.desc)
			}
			if got := h.sessionIDs(); !slices.Equal(got, tc.want) {
				t.Fatalf("order = %v, want %v", got, tc.want)
			}
			arrow := "▲"
			if tc.desc {
				arrow = "▼"
			}
			col := h.m.panes.sess.cols[h.m.panes.sess.colIndex(tc.key)]
			if !strings.Contains(screen(h), col.title+arrow) {
				t.Fatalf("screen has no sort indicator %q", col.title+arrow)
			}
		})
	}
}

func TestSortClientsPane(t *testing.T) {
	h, _ := started(t, Options{})
	if got, want := h.clientIPs(), []string{"10.20.3.17", "10.20.3.18", "10.20.3.19"}; !slices.Equal(got, want) {
		t.Fatalf("clients by conns = %v, want %v (internal hidden, ties by IP)", got, want)
	}
	h.keys("tab", "<") // from conns to ip
	if h.m.panes.cli.sortKey != "ip" {
		t.Fatalf("clients sort = %s, want ip", h.m.panes.cli.sortKey)
	}
	h.keys("r")
	if got, want := h.clientIPs(), []string{"10.20.3.19", "10.20.3.18", "10.20.3.17"}; !slices.Equal(got, want) {
		t.Fatalf("clients by ip desc = %v, want %v", got, want)
	}
	if h.m.panes.sess.sortKey != "running" {
		t.Fatalf("sorting the clients pane changed the sessions pane's sort to %s", h.m.panes.sess.sortKey)
	}
}

func TestSortByClickingHeader(t *testing.T) {
	h, _ := started(t, Options{})
	l := h.m.layout()
	var nsX int
	for _, v := range h.m.panes.sess.layout(h.m.width) {
		if h.m.panes.sess.cols[v.col].key == "ns" {
			nsX = v.x + 1
		}
	}
	click := tea.MouseClickMsg{X: nsX, Y: l.sessY + 1, Button: tea.MouseLeft}
	h.send(click)
	if h.m.panes.sess.sortKey != "ns" || h.m.panes.sess.desc {
		t.Fatalf("after click: sort %s desc=%v, want ns ascending", h.m.panes.sess.sortKey, h.m.panes.sess.desc)
	}
	h.send(click)
	if !h.m.panes.sess.desc {
		t.Fatal("a second click on the same header should reverse the sort")
	}
	// A click on a row selects it and focuses its pane.
	h.send(tea.MouseClickMsg{X: 5, Y: l.cliY + 3, Button: tea.MouseLeft})
	if h.m.panes.focus != focusClients || h.m.panes.cli.cursor != 1 {
		t.Fatalf("click on the second client row: focus %v cursor %d", h.m.panes.focus, h.m.panes.cli.cursor)
	}
}

func TestFilterBar(t *testing.T) {
	h, src := started(t, Options{})
	h.keys("/")
	if !h.m.filter.open {
		t.Fatal("/ should open the filter bar")
	}
	h.typeText("op:query")
	if got, want := h.sessionIDs(), []string{"103", "101"}; !slices.Equal(got, want) {
		t.Fatalf("op:query shows %v, want %v", got, want)
	}
	if s := screen(h); !strings.Contains(s, "2 of 5") {
		t.Fatalf("filter bar should say 2 of 5:\n%s", s)
	}
	for _, q := range src.queries {
		if !q.Filter.Empty() {
			t.Fatalf("the filter is applied locally (N of M must be exact), yet the source got %q", q.Filter.Text)
		}
	}
	// An invalid term puts the committed filter (none: the bar opened empty) back in force
	// and says why (pasted, so that no valid prefix of it is typed first).
	h.send(tea.PasteMsg{Content: " /[/"})
	if h.m.filter.err == "" {
		t.Fatal("invalid regex: no inline error")
	}
	if h.m.query.Filter.Text != "" {
		t.Fatalf("invalid text: the filter in force is %q, want the committed one (none)", h.m.query.Filter.Text)
	}
	if got := h.sessionIDs(); len(got) != 5 {
		t.Fatalf("invalid text changed the rows: %v", got)
	}
	if s := screen(h); !strings.Contains(s, "✗") {
		t.Fatalf("no inline error on screen:\n%s", s)
	}
	for range 4 {
		h.keys("backspace")
	}
	if h.m.filter.err != "" {
		t.Fatalf("error should clear once the text is valid again: %q", h.m.filter.err)
	}
	h.keys("enter")
	if h.m.filter.open || h.m.query.Filter.Text != "op:query" {
		t.Fatalf("enter keeps the filter and closes the bar: filtering=%v filter=%q", h.m.filter.open, h.m.query.Filter.Text)
	}
	if s := screen(h); !strings.Contains(s, "filter op:query") {
		t.Fatalf("active filter not shown in the pane title:\n%s", s)
	}
	h.keys("/", "esc")
	if !h.m.query.Filter.Empty() || len(h.sessionIDs()) != 5 {
		t.Fatalf("esc clears the filter: %q, %d rows", h.m.query.Filter.Text, len(h.sessionIDs()))
	}
	// Free text and duration terms.
	h.keys("/")
	h.typeText("billing")
	if got := h.sessionIDs(); !slices.Equal(got, []string{"104"}) {
		t.Fatalf("free text billing: %v", got)
	}
	if got := h.clientIPs(); !slices.Equal(got, []string{"10.20.3.19"}) {
		t.Fatalf("free text filters the clients pane too: %v", got)
	}
	h.keys("esc", "/")
	h.typeText("running>5s")
	if got := h.sessionIDs(); !slices.Equal(got, []string{"103", "101", "105"}) {
		t.Fatalf("running>5s: %v", got)
	}
}

func TestEscClearsFilterOutsideTheBar(t *testing.T) {
	h, _ := started(t, Options{})
	h.keys("/")
	h.typeText("shop")
	h.keys("enter", "esc")
	if !h.m.query.Filter.Empty() {
		t.Fatalf("esc in the main view should clear the filter, still %q", h.m.query.Filter.Text)
	}
}

func TestToggles(t *testing.T) {
	h, src := started(t, Options{})
	has := func(id string) bool { return slices.Contains(h.sessionIDs(), id) }
	if has("106") || has("107") {
		t.Fatalf("idle and internal sessions are hidden by default: %v", h.sessionIDs())
	}
	h.keys("i")
	if !has("106") {
		t.Fatalf("i should show idle connections: %v", h.sessionIDs())
	}
	q := src.queries[len(src.queries)-1]
	if !q.IdleConnections || !q.IdleSessions || !q.IdleCursors {
		t.Fatalf("i should ask the source for idle entries: %+v", q)
	}
	h.keys("s")
	if !has("107") || !slices.Contains(h.clientIPs(), "10.20.1.1") {
		t.Fatalf("s should show internal operations and clients: %v %v", h.sessionIDs(), h.clientIPs())
	}
	if q := src.queries[len(src.queries)-1]; !q.System {
		t.Fatalf("s should ask the source for system operations: %+v", q)
	}
	h.keys("i", "s")
	if has("106") || has("107") {
		t.Fatalf("toggling again hides them: %v", h.sessionIDs())
	}
}

func TestEnterOnClientNarrowsSessions(t *testing.T) {
	h, _ := started(t, Options{})
	h.keys("tab", "down", "enter") // second client by conns: 10.20.3.18
	if h.m.panes.narrowIP != "10.20.3.18" {
		t.Fatalf("narrowed to %q", h.m.panes.narrowIP)
	}
	if h.m.panes.focus != focusSessions {
		t.Fatal("enter on a client should move to the sessions pane")
	}
	if got := h.sessionIDs(); !slices.Equal(got, []string{"103", "105"}) {
		t.Fatalf("sessions of 10.20.3.18: %v", got)
	}
	if !strings.Contains(screen(h), "client 10.20.3.18") {
		t.Fatal("the narrowing is not shown")
	}
	h.keys("esc")
	if h.m.panes.narrowIP != "" || len(h.sessionIDs()) != 5 {
		t.Fatalf("esc removes the narrowing: %q %v", h.m.panes.narrowIP, h.sessionIDs())
	}
}

func TestPause(t *testing.T) {
	h, src := started(t, Options{})
	next := smallSnapshot()
	next.Sessions = next.Sessions[1:] // 101 ended
	src.set(next)
	h.keys("p")
	h.fireTick()
	if h.m.loop.latest != next {
		t.Fatal("data must keep arriving while paused")
	}
	if !slices.Contains(h.sessionIDs(), "101") {
		t.Fatal("paused rows must not change")
	}
	if !strings.Contains(screen(h), "PAUSED · new data") {
		t.Fatalf("no PAUSED state with newer data waiting on screen:\n%s", screen(h))
	}
	h.keys("p")
	if slices.Contains(h.sessionIDs(), "101") {
		t.Fatal("resuming shows the newest data")
	}
}

func TestSelectionFollowsID(t *testing.T) {
	h, src := started(t, Options{})
	h.selectSession("105")
	// The next snapshot moves 105 to the top and adds a new session before it.
	next := smallSnapshot()
	next.Sessions[4].RunningUS = (200 * time.Second).Microseconds()
	next.Sessions = append(next.Sessions, sess("99", "query", "shop.orders", 300*time.Second, "10.20.3.17:1"))
	src.set(next)
	h.fireTick()
	r := h.m.panes.sess.selected()
	if r == nil || r.s.ID != "105" {
		t.Fatalf("selection should stay on 105, got %+v", r)
	}
	if h.m.panes.sess.cursor != 1 {
		t.Fatalf("105 is now the second row; cursor %d", h.m.panes.sess.cursor)
	}
	// 105 ends: nothing is selected and the screen says so.
	gone := smallSnapshot()
	gone.Sessions = slices.DeleteFunc(gone.Sessions, func(s source.Session) bool { return s.ID == "105" })
	src.set(gone)
	h.fireTick()
	if r := h.m.panes.sess.selected(); r != nil {
		t.Fatalf("a gone session must not silently select another row, selected %s", r.s.ID)
	}
	if s := screen(h); !strings.Contains(s, "selected session 105 has ended") {
		t.Fatalf("no notice that the selection has gone:\n%s", s)
	}
	// Kill does not fall through to another row.
	h.keys("k")
	if h.m.overlay == overlayConfirm {
		t.Fatal("kill with a gone selection must not open the dialog")
	}
	// Moving picks a row again.
	h.keys("down")
	if h.m.panes.sess.selected() == nil {
		t.Fatal("a move should select a row again")
	}
}

// Until the user picks a row, the selection is the row at the cursor: when that session ends
// the cursor quietly takes the next one, with no warning about a row nobody chose.
func TestAutoSelectionMovesOn(t *testing.T) {
	h, src := started(t, Options{})
	first := h.sessionIDs()[0]
	if r := h.m.panes.sess.selected(); r == nil || r.s.ID != first {
		t.Fatalf("the first row should be selected at start, got %+v", r)
	}
	next := smallSnapshot()
	next.Sessions = slices.DeleteFunc(next.Sessions, func(s source.Session) bool { return s.ID == first })
	src.set(next)
	h.fireTick()
	r := h.m.panes.sess.selected()
	if r == nil || r.s.ID == first {
		t.Fatalf("the selection should move on to a live row, got %+v", r)
	}
	if s := screen(h); strings.Contains(s, "has ended") {
		t.Fatalf("no warning expected for a row the user did not pick:\n%s", s)
	}
}

func TestKill(t *testing.T) {
	t.Run("confirm", func(t *testing.T) {
		h, src := started(t, Options{})
		h.selectSession("103")
		h.keys("k")
		if h.m.overlay != overlayConfirm {
			t.Fatal("k should ask for confirmation")
		}
		s := screen(h)
		for _, want := range []string{"Kill 1 operation?", "103", "query", "shop.orders", "1m35s", "10.20.3.18:40001"} {
			if !strings.Contains(s, want) {
				t.Fatalf("dialog lacks %q:\n%s", want, s)
			}
		}
		if len(src.killed) != 0 {
			t.Fatal("killed before confirmation")
		}
		h.keys("y")
		if len(src.killed) != 1 || len(src.killed[0]) != 1 || src.killed[0][0].ID != "103" {
			t.Fatalf("killer got %+v, want session 103", src.killed)
		}
		if src.killed[0][0].Client != "10.20.3.18:40001" {
			t.Fatal("the killer must receive the session as last seen")
		}
		if !strings.Contains(h.m.status.text, "103 killed") {
			t.Fatalf("status %q", h.m.status.text)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		h, src := started(t, Options{})
		h.keys("k", "n")
		if h.m.overlay != overlayNone || len(src.killed) != 0 {
			t.Fatalf("n should cancel: overlay %v killed %v", h.m.overlay, src.killed)
		}
		h.keys("k", "esc")
		if h.m.overlay != overlayNone || len(src.killed) != 0 {
			t.Fatal("esc should cancel")
		}
	})
	t.Run("marked", func(t *testing.T) {
		h, src := started(t, Options{})
		h.selectSession("101")
		h.keys("space") // marks 101 and moves down
		h.selectSession("104")
		h.keys("space", "k")
		if len(h.m.confirm.targets) != 2 {
			t.Fatalf("dialog lists %d sessions, want 2", len(h.m.confirm.targets))
		}
		if !strings.Contains(screen(h), "Kill 2 operations?") {
			t.Fatal("dialog title")
		}
		h.keys("y")
		var ids []string
		for _, s := range src.killed[0] {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"101", "104"}) {
			t.Fatalf("killed %v, want 101 and 104", ids)
		}
		if len(h.m.panes.marked) != 0 {
			t.Fatal("marks should clear after the kill")
		}
	})
	t.Run("refused outcome is shown", func(t *testing.T) {
		h, src := started(t, Options{})
		src.outcome = source.KillRefused
		h.keys("k", "y")
		if !h.m.status.bad || !strings.Contains(h.m.status.text, "refused") || !strings.Contains(h.m.status.text, "another operation") {
			t.Fatalf("status %q bad=%v", h.m.status.text, h.m.status.bad)
		}
	})
	t.Run("readonly", func(t *testing.T) {
		h, src := started(t, Options{Readonly: true})
		h.keys("space")
		if len(h.m.panes.marked) != 0 || !strings.Contains(h.m.status.text, "read-only") {
			t.Fatalf("space in read-only mode marks nothing and says why: marked %v, status %q", h.m.panes.marked, h.m.status.text)
		}
		h.keys("k")
		if h.m.overlay == overlayConfirm || len(src.killed) != 0 || len(h.m.panes.marked) != 0 {
			t.Fatal("read-only mode must not mark or kill")
		}
		if !strings.Contains(h.m.status.text, "read-only") {
			t.Fatalf("status %q", h.m.status.text)
		}
		if s := screen(h); strings.Contains(s, "k kill") {
			t.Fatalf("footer offers kill in read-only mode:\n%s", s)
		}
		h.keys("?")
		s := strings.Join(h.m.help.lines, "\n")
		if strings.Contains(strings.ReplaceAll(s, "kill is disabled", ""), "kill") || !strings.Contains(s, "kill is disabled") {
			t.Fatalf("help lists kill in read-only mode, or does not say it is disabled:\n%s", s)
		}
	})
	t.Run("source without killer", func(t *testing.T) {
		src := &fakeSource{}
		src.set(smallSnapshot())
		h := newHarness(t, Options{Source: src})
		h.keys("k")
		if h.m.overlay == overlayConfirm || !strings.Contains(h.m.status.text, "not supported by the mongodb source") {
			t.Fatalf("overlay %v status %q", h.m.overlay, h.m.status.text)
		}
	})
}

func TestStaleOnErrorAndBackoff(t *testing.T) {
	h, src := started(t, Options{})
	good := h.m.panes.shown
	src.fail(errors.New("source/mongodb: connection refused; is the server up?"))
	var delays []time.Duration
	for range 6 {
		h.clock.advance(time.Second)
		h.fireTick()
		tk, _ := h.lastTick()
		delays = append(delays, tk.d)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(delays, want) {
		t.Fatalf("retry delays %v, want %v", delays, want)
	}
	if h.m.panes.shown != good {
		t.Fatal("the last good snapshot must stay on screen")
	}
	s := screen(h)
	for _, w := range []string{"STALE 6s", "connection refused", "failed 6 times"} {
		if !strings.Contains(s, w) {
			t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
	// Recovery is automatic.
	src.set(smallSnapshot())
	h.fireTick()
	if h.m.loop.lastErr != nil || strings.Contains(screen(h), "STALE") {
		t.Fatal("a good snapshot should clear the stale state")
	}
	if tk, _ := h.lastTick(); tk.d != 0 {
		t.Fatalf("after recovery the next refresh should come at once, got %v", tk.d)
	}
	h.fireTick()
	if tk, _ := h.lastTick(); tk.d != 2*time.Second {
		t.Fatalf("after recovery the interval is back to 2s, got %v", tk.d)
	}
}

func TestFirstFetchFails(t *testing.T) {
	src := &fakeSource{}
	src.fail(errors.New("source/mongodb: authentication failed for user \"app\""))
	h := newHarness(t, Options{Source: src})
	s := screen(h)
	if !strings.Contains(s, "NO DATA") || !strings.Contains(s, "authentication failed") {
		t.Fatalf("first failure not shown:\n%s", s)
	}
}

func TestGenerationDropsStaleResults(t *testing.T) {
	h, src := started(t, Options{})
	withIdle := smallSnapshot()
	old := smallSnapshot()
	old.Sessions = old.Sessions[:1]
	src.set(old)
	h.hold()
	h.fireTick() // fetch in flight under generation 0
	if !h.m.loop.inFlight {
		t.Fatal("fetch not in flight")
	}
	src.set(withIdle)
	h.keys("i") // the query changes while the fetch is out
	if h.m.loop.gen != 1 {
		t.Fatalf("gen = %d, want 1", h.m.loop.gen)
	}
	nq := len(src.queries)
	h.release() // the old result lands: dropped, and a new fetch goes out at once
	if h.m.panes.shown == old {
		t.Fatal("a result from before the toggle was shown")
	}
	if len(src.queries) != nq+1 || !src.queries[nq].IdleConnections {
		t.Fatalf("expected one new fetch with idle connections, queries %+v", src.queries[nq:])
	}
	if h.m.panes.shown != withIdle {
		t.Fatal("the new generation's result should be shown")
	}
}

func TestSelfPacing(t *testing.T) {
	h, src := started(t, Options{})
	n := len(src.queries)
	h.hold()
	h.fireTick()
	h.fireTick() // the same tick again: it is no longer the armed one
	h.keys("R")  // refresh-now while one is in flight
	if got := len(src.queries) - n; got != 1 {
		t.Fatalf("%d fetches in flight, want 1", got)
	}
	if !strings.Contains(h.m.status.text, "already in progress") {
		t.Fatalf("status %q", h.m.status.text)
	}
	armed := len(h.timers)
	h.release()
	if len(h.timers) != armed+1 {
		t.Fatal("the next tick is armed when the snapshot arrives")
	}
	h.keys("R")
	if got := len(src.queries) - n; got != 2 {
		t.Fatalf("refresh-now: %d fetches, want 2", got)
	}
}

func TestIntervalKeys(t *testing.T) {
	h, _ := started(t, Options{Interval: 2 * time.Second})
	h.keys("+")
	if h.m.loop.interval != time.Second {
		t.Fatalf("+ gives %v, want 1s", h.m.loop.interval)
	}
	if tk, _ := h.lastTick(); tk.d != time.Second {
		t.Fatalf("the waiting tick is re-armed with the new interval, got %v", tk.d)
	}
	h.keys("+", "+", "+")
	if h.m.loop.interval != minInterval {
		t.Fatalf("clamped at %v, got %v", minInterval, h.m.loop.interval)
	}
	for range 12 {
		h.keys("-")
	}
	if h.m.loop.interval != maxInterval {
		t.Fatalf("clamped at %v, got %v", maxInterval, h.m.loop.interval)
	}
	if !strings.Contains(screen(h), "every 60s") {
		t.Fatal("interval not shown in the header")
	}
	if New(Options{Interval: time.Millisecond}).loop.interval != minInterval || New(Options{}).loop.interval != defaultInterval {
		t.Fatal("Options.Interval is not clamped/defaulted")
	}
}

func TestDetailAndCopy(t *testing.T) {
	h, src := started(t, Options{})
	snap := smallSnapshot()
	snap.Sessions[2].Command = []byte(`{"find":"orders","filter":{"status":"A"},"comment":"\u001b]52;c;ZXZpbA==\u0007 hi"}`)
	snap.Sessions[2].App = "evil\x1b[2Japp\u202e"
	src.set(snap)
	h.keys("R")
	h.selectSession("103")
	h.keys("enter")
	if h.m.overlay != overlayDetail {
		t.Fatal("enter on a session opens the detail view")
	}
	raw := h.m.View().Content
	if strings.Contains(raw, "\x1b]52") || strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\u202e") {
		t.Fatal("server text reached the terminal with its escape sequences")
	}
	s := screen(h)
	for _, w := range []string{`"find": "orders"`, `"status": "A"`, "waiting for lock  yes", "IXSCAN { status: 1 }", "evil\uFFFDapp"} {
		if !strings.Contains(s, w) {
			t.Fatalf("detail lacks %q:\n%s", w, s)
		}
	}
	h.keys("y")
	var clip string
	for _, msg := range h.other {
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
			clip = fmt.Sprint(msg)
		}
	}
	if !strings.Contains(clip, `"find": "orders"`) {
		t.Fatalf("y should copy the command with OSC 52; clipboard %q (msgs %v)", clip, h.other)
	}
	h.keys("esc")
	if h.m.overlay != overlayNone {
		t.Fatal("esc closes the detail view")
	}
}

func TestHelpListsEveryKey(t *testing.T) {
	h, _ := started(t, Options{})
	h.keys("?")
	if h.m.overlay != overlayHelp {
		t.Fatal("? opens the help")
	}
	text := strings.Join(h.m.help.lines, "\n")
	k := h.m.keys
	for _, b := range []struct {
		name string
		keys []string
	}{
		{"up", k.Up.Keys()}, {"down", k.Down.Keys()}, {"tab", k.Focus.Keys()}, {"zoom", k.Zoom.Keys()},
		{"sort", k.SortNext.Keys()}, {"reverse", k.Reverse.Keys()}, {"filter", k.Filter.Keys()},
		{"idle", k.Idle.Keys()}, {"system", k.System.Keys()}, {"pause", k.Pause.Keys()},
		{"refresh", k.Refresh.Keys()}, {"faster", k.Faster.Keys()}, {"kill", k.Kill.Keys()},
		{"mark", k.Mark.Keys()}, {"copy", k.Copy.Keys()}, {"quit", k.Quit.Keys()},
		{"focus back", k.FocusBack.Keys()}, {"slower", k.Slower.Keys()}, {"page up", k.PageUp.Keys()},
		{"page down", k.PageDown.Keys()}, {"home", k.Home.Keys()}, {"end", k.End.Keys()},
		{"enter", k.Enter.Keys()}, {"back", k.Back.Keys()}, {"help", k.Help.Keys()}, {"sort left", k.SortPrev.Keys()},
	} {
		if !strings.Contains(text, strings.Join(b.keys, " ")) {
			t.Errorf("help lacks the %s keys %v", b.name, b.keys)
		}
	}
	h.keys("esc")
	if h.m.overlay != overlayNone {
		t.Fatal("esc closes the help")
	}
}

func TestResizeKeepsSelectionVisible(t *testing.T) {
	src := &fakeKiller{}
	src.set(synthSnapshot(500, 7))
	h := newHarness(t, Options{Source: src})
	h.keys("G")
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	l := h.m.layout()
	p := &h.m.panes.sess
	if p.cursor < p.offset || p.cursor >= p.offset+l.sessH-2 {
		t.Fatalf("cursor %d outside the window [%d,%d)", p.cursor, p.offset, p.offset+l.sessH-2)
	}
	lines := strings.Split(screen(h), "\n")
	if len(lines) != 24 {
		t.Fatalf("screen has %d lines, want 24", len(lines))
	}
	for i, line := range lines {
		if w := ansi.StringWidth(line); w > 80 {
			t.Fatalf("line %d is %d cells wide: %q", i, w, line)
		}
	}
}

func TestHostAndShardColumnsOnlyWithData(t *testing.T) {
	h, src := started(t, Options{})
	if s := screen(h); strings.Contains(s, "SHARD") || strings.Contains(s, "HOST") {
		t.Fatal("host/shard columns without data")
	}
	snap := smallSnapshot()
	for i := range snap.Sessions {
		snap.Sessions[i].Host = "db1:27017"
	}
	src.set(snap)
	h.keys("R")
	if s := screen(h); strings.Contains(s, "HOST") {
		t.Fatal("a host column where every session is on the same host")
	}
	snap = smallSnapshot()
	for i := range snap.Sessions {
		shard := []string{"shard01", "shard02"}[i%2]
		snap.Sessions[i].Shard = shard
		snap.Sessions[i].ID = shard + ":" + snap.Sessions[i].ID
	}
	src.set(snap)
	h.keys("R")
	if s := screen(h); !strings.Contains(s, "SHARD") || !strings.Contains(s, "shard02:") {
		t.Fatalf("no SHARD column with sharded data:\n%s", s)
	}
}

func TestNoColor(t *testing.T) {
	h, _ := started(t, Options{})
	h.send(tea.ColorProfileMsg{Profile: 1}) // colorprofile.ASCII
	if !h.m.mono {
		t.Fatal("an ASCII profile should select the mono styles")
	}
	if s := h.m.View().Content; strings.Contains(s, "38;") || strings.Contains(s, "48;") {
		t.Fatal("mono styles still emit colours")
	}
}

func TestHungFetchIsAbandoned(t *testing.T) {
	h, src := started(t, Options{})
	n := len(src.queries)
	h.hold()
	h.fireTick() // this fetch never answers in time
	h.clock.advance(fetchTimeout + hungGrace - time.Second)
	h.send(clockMsg{})
	if h.m.loop.lastErr != nil || len(src.queries) != n+1 {
		t.Fatal("a fetch within its timeout must not be abandoned")
	}
	h.clock.advance(2 * time.Second)
	h.send(clockMsg{})
	if h.m.loop.lastErr == nil || !strings.Contains(h.m.loop.lastErr.Error(), "did not answer") {
		t.Fatalf("a hung fetch should count as a failure, lastErr %v", h.m.loop.lastErr)
	}
	if h.m.loop.inFlight {
		t.Fatal("the hung fetch still blocks the loop")
	}
	h.fireTick() // the retry, also held
	h.release()  // both answers land: the abandoned one is ignored, the retry is shown
	if got := len(src.queries) - n; got != 2 {
		t.Fatalf("%d fetches, want 2 (the hung one and one retry)", got)
	}
	if h.m.loop.lastErr != nil || h.m.loop.inFlight {
		t.Fatalf("the retry's answer should recover: err %v inFlight %v", h.m.loop.lastErr, h.m.loop.inFlight)
	}
}

func TestInitialFilterFromOptions(t *testing.T) {
	h, _ := started(t, Options{Query: source.Query{Filter: source.Filter{Text: "op:query"}}})
	if got := h.sessionIDs(); !slices.Equal(got, []string{"103", "101"}) {
		t.Fatalf("the initial filter text is parsed and applied: %v", got)
	}
	h, _ = started(t, Options{Query: source.Query{Filter: source.Filter{Text: "ns:/[/"}}})
	if len(h.sessionIDs()) != 5 || !strings.Contains(h.m.status.text, "ns:/[/") {
		t.Fatalf("an invalid initial filter is reported and ignored: %v, status %q", h.sessionIDs(), h.m.status.text)
	}
}

func TestLightBackground(t *testing.T) {
	h, _ := started(t, Options{})
	dark := h.m.View().Content
	h.send(tea.BackgroundColorMsg{Color: color.White})
	if h.m.isDark {
		t.Fatal("a white background is light")
	}
	if light := h.m.View().Content; light == dark || ansi.Strip(light) != ansi.Strip(dark) {
		t.Fatal("a light background should change the colours, not the text")
	}
}

func TestReadonlyDetailSaysWhy(t *testing.T) {
	h, src := started(t, Options{Readonly: true})
	h.keys("enter", "k")
	if h.m.overlay != overlayDetail || len(src.killed) != 0 || !strings.Contains(h.m.status.text, "read-only") {
		t.Fatalf("overlay %v killed %v status %q", h.m.overlay, src.killed, h.m.status.text)
	}
}

// A refresh that takes long (a server that went away, before the timeout) is not LIVE.
func TestSlowAnswerIsNotLive(t *testing.T) {
	h, _ := started(t, Options{})
	h.hold()
	h.clock.advance(2 * time.Second)
	h.fireTick()
	if s := screen(h); !strings.Contains(s, "LIVE") {
		t.Fatalf("a fresh refresh in flight is still live:\n%s", s)
	}
	h.clock.advance(4 * time.Second)
	s := screen(h)
	if strings.Contains(s, "LIVE") || !strings.Contains(s, "WAITING 4s") {
		t.Fatalf("after 4s without an answer the badge should say WAITING 4s:\n%s", s)
	}
	h.release()
	if s := screen(h); !strings.Contains(s, "LIVE") {
		t.Fatalf("the answer makes it live again:\n%s", s)
	}
}

// The error line does not repeat the target the first line already shows: an error the source
// explained is shown by its kind and hint; any other as it is.
func TestErrorLineDropsTarget(t *testing.T) {
	h, src := started(t, Options{})
	target := h.m.loop.latest.Target
	src.fail(&source.Error{Kind: source.ErrUnreachable, Hint: "connection refused: check host/port",
		Err: fmt.Errorf("cannot reach %s within 5s: connection refused — check host/port", target)})
	h.clock.advance(2 * time.Second)
	h.fireTick()
	s := screen(h)
	if !strings.Contains(s, "unreachable: connection refused: check host/port") {
		t.Fatalf("error line:\n%s", s)
	}
	if strings.Count(s, target) != 1 {
		t.Fatalf("the target %q should appear once, on the first line:\n%s", target, s)
	}
	src.fail(fmt.Errorf("snapshot: %w", errors.New("unexplained failure")))
	h.clock.advance(time.Minute)
	h.fireTick()
	if s := screen(h); !strings.Contains(s, "snapshot: unexplained failure") {
		t.Fatalf("an unexplained error is shown as it is:\n%s", s)
	}
}

// Enter on an invalid filter keeps the last valid one and says so; esc then clears the
// filter, and the note with it.
func TestFilterEscClearsKeptNote(t *testing.T) {
	h, _ := started(t, Options{})
	h.keys("/")
	h.typeText("ns:shop app:/[/")
	h.keys("enter")
	if s := screen(h); !strings.Contains(s, `kept the last valid filter (none): invalid regular expression`) {
		t.Fatalf("no note about the kept filter:\n%s", s)
	}
	h.keys("/", "esc")
	if s := screen(h); strings.Contains(s, "kept the last valid filter") {
		t.Fatalf("the note outlived the filter:\n%s", s)
	}
	if !h.m.query.Filter.Empty() {
		t.Fatalf("esc should clear the filter, have %q", h.m.query.Filter.Text)
	}
}

// Column widths are display cells: a wide-character namespace does not squeeze the others.
func TestWideCharactersSizeColumns(t *testing.T) {
	h, src := started(t, Options{})
	snap := smallSnapshot()
	snap.Sessions[0].NS = "订单.订单集合"
	src.set(snap)
	h.fireTick()
	want := 0
	for _, s := range snap.Sessions {
		want = max(want, ansi.StringWidth(s.NS))
	}
	screen(h)
	got := 0
	for _, v := range h.m.panes.sess.layout(h.m.width) {
		if h.m.panes.sess.cols[v.col].key == "ns" {
			got = v.w
		}
	}
	if got != want {
		t.Fatalf("ns column is %d cells wide, want %d", got, want)
	}
}

// A session the source says it cannot kill is not offered in the dialog; the reason is shown
// before anything is confirmed.
func TestNotKillableSaidBeforeAsking(t *testing.T) {
	h, src := started(t, Options{})
	snap := smallSnapshot()
	snap.Sessions[0].NotKillable = "idle sessions cannot be killed through this API"
	src.set(snap)
	h.fireTick()
	idle := snap.Sessions[0].ID
	h.selectSession(idle)
	h.keys("k")
	if h.m.overlay == overlayConfirm {
		t.Fatal("the dialog opened for a session that cannot be killed")
	}
	if !strings.Contains(h.m.status.text, "not killable: idle sessions cannot be killed") {
		t.Fatalf("status %q", h.m.status.text)
	}
	// Marked together with a killable one: only that one is asked for.
	h.keys("space")
	other := snap.Sessions[1].ID
	h.selectSession(other)
	h.keys("space", "k")
	if h.m.overlay != overlayConfirm || len(h.m.confirm.targets) != 1 || h.m.confirm.targets[0].ID != other {
		t.Fatalf("dialog %v with %+v, want only %s", h.m.overlay == overlayConfirm, h.m.confirm.targets, other)
	}
	if !strings.Contains(h.m.status.text, "1 of the marked sessions cannot be killed") {
		t.Fatalf("status %q", h.m.status.text)
	}
}

// A source that sends everything filters nothing: the UI filters locally and counts "N of M".
// A source that could not send everything (a capped cloud API) gets the filter too, so that
// what it sends is what matches; a filter edit asks it again.
func TestFilterGoesToCappedSourcesOnly(t *testing.T) {
	lastFilter := func(src *fakeKiller) string {
		src.mu.Lock()
		defer src.mu.Unlock()
		return src.queries[len(src.queries)-1].Filter.Text
	}
	t.Run("complete source", func(t *testing.T) {
		h, src := started(t, Options{})
		h.keys("/")
		h.typeText("op:query")
		h.keys("enter")
		h.clock.advance(2 * time.Second)
		h.fireTick()
		if f := lastFilter(src); f != "" {
			t.Fatalf("a complete source was sent the filter %q", f)
		}
	})
	t.Run("capped source", func(t *testing.T) {
		capped := smallSnapshot()
		capped.TotalSessions = 5000
		src := &fakeKiller{outcome: source.KillGone}
		src.set(capped)
		h := newHarness(t, Options{Source: src})
		h.keys("/")
		h.typeText("op:query")
		if f := lastFilter(src); f != "op:query" {
			t.Fatalf("the capped source was last asked with filter %q, want op:query", f)
		}
		if s := screen(h); !strings.Contains(s, "of 5,000") {
			t.Fatalf("the title should say the source sent only part:\n%s", s)
		}
		h.keys("enter")
		h.clock.advance(2 * time.Second)
		h.fireTick()
		if f := lastFilter(src); f != "op:query" {
			t.Fatalf("refreshes keep sending the filter, got %q", f)
		}
		h.keys("t")
		if s := paneTitle(screen(h), " GROUPS"); !strings.Contains(s, "the source sent") {
			t.Fatalf("the groups are of the sessions sent: their title should say so too: %q", s)
		}
	})
}

// On a narrow screen the keyboard still reaches every column; the title names a sort column
// that is off the screen.
func TestSortReachesHiddenColumns(t *testing.T) {
	h, _ := started(t, Options{})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if strings.Contains(screen(h), " USER ") {
		t.Skip("USER fits at 80 columns; nothing is hidden")
	}
	for range len(h.m.panes.sess.cols) {
		if h.m.panes.sess.sortKey == "user" {
			break
		}
		h.keys(">")
	}
	if h.m.panes.sess.sortKey != "user" {
		t.Fatalf("> never reached the user column; sort %q", h.m.panes.sess.sortKey)
	}
	if s := screen(h); !strings.Contains(s, "sorted by USER▲") {
		t.Fatalf("the title should name the hidden sort column:\n%s", s)
	}
	users := []string{}
	for _, ri := range h.m.panes.sess.rows {
		users = append(users, h.m.panes.sess.data[ri].s.User)
	}
	if !slices.IsSortedFunc(users, naturalCompare) {
		t.Fatalf("rows not ordered by user: %v", users)
	}
}

// With a Detailer, refreshes are lean and the detail view reads the session whole: the row's
// fields show at once, the whole document when it arrives.
func TestDetailReadsWholeSession(t *testing.T) {
	src := &fakeDetailer{fakeKiller: fakeKiller{outcome: source.KillGone}}
	snap := smallSnapshot()
	snap.Sessions[2].Command = json.RawMessage(`{"find":"…"}`)
	snap.Sessions[2].Raw = nil
	src.set(snap)
	whole := snap.Sessions[2]
	whole.Command = json.RawMessage(`{"find":"orders","filter":{"status":"A"}}`)
	whole.Raw = json.RawMessage(`{"opid":103,"locks":{"Global":"r"}}`)
	src.whole = map[string]source.Session{"103": whole}
	h := newHarness(t, Options{Source: src})
	if len(src.queries) == 0 || !src.queries[0].Lean {
		t.Fatalf("refresh queries %+v: a Detailer's refresh should be lean", src.queries)
	}
	h.selectSession("103")
	h.holdDet = true
	h.keys("enter")
	s := screen(h)
	for _, w := range []string{"reading the whole document", `"find": "…"`, "IXSCAN { status: 1 }"} {
		if !strings.Contains(s, w) {
			t.Fatalf("before the whole document arrives the detail lacks %q:\n%s", w, s)
		}
	}
	h.holdDet = false
	for _, d := range h.details {
		h.send(d)
	}
	s = screen(h)
	for _, w := range []string{`"status": "A"`, `"Global": "r"`, "whole document as the server sent it"} {
		if !strings.Contains(s, w) {
			t.Fatalf("the whole document lacks %q:\n%s", w, s)
		}
	}
	if strings.Contains(s, "reading the whole document") {
		t.Errorf("still says it is reading:\n%s", s)
	}
	if !slices.Equal(src.asked, []string{"103"}) {
		t.Errorf("Detail asked for %v", src.asked)
	}
}

func TestDetailReadFails(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ended", fmt.Errorf("session 103: %w", source.ErrEnded), "the session has ended: this is what the last refresh saw"},
		{"error", errors.New("server went away"), "cannot read the whole document: server went away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeDetailer{fakeKiller: fakeKiller{outcome: source.KillGone}, err: tt.err}
			src.set(smallSnapshot())
			h := newHarness(t, Options{Source: src})
			h.selectSession("103")
			h.keys("enter")
			if s := screen(h); !strings.Contains(s, tt.want) || !strings.Contains(s, "IXSCAN { status: 1 }") {
				t.Errorf("detail lacks %q or the row's fields:\n%s", tt.want, s)
			}
		})
	}
}

// An answer for a detail view the user has left, or replaced by another, is dropped.
func TestStaleDetailIsDropped(t *testing.T) {
	src := &fakeDetailer{fakeKiller: fakeKiller{outcome: source.KillGone}}
	snap := smallSnapshot()
	src.set(snap)
	w101, w103 := snap.Sessions[0], snap.Sessions[2]
	w101.Raw, w103.Raw = json.RawMessage(`{"who":"one-oh-one"}`), json.RawMessage(`{"who":"one-oh-three"}`)
	src.whole = map[string]source.Session{"101": w101, "103": w103}
	h := newHarness(t, Options{Source: src})
	h.holdDet = true
	h.selectSession("101")
	h.keys("enter", "esc")
	h.selectSession("103")
	h.keys("enter")
	h.holdDet = false
	for i := len(h.details) - 1; i >= 0; i-- { // the stale answer arrives last
		h.send(h.details[i])
	}
	s := screen(h)
	if strings.Contains(s, "one-oh-one") || !strings.Contains(s, "one-oh-three") || h.m.detail.row.s.ID != "103" {
		t.Errorf("detail of 103 shows:\n%s", s)
	}
}

// y on a row of a lean refresh copies the whole command, read for it.
func TestCopyReadsWholeCommand(t *testing.T) {
	src := &fakeDetailer{fakeKiller: fakeKiller{outcome: source.KillGone}}
	snap := smallSnapshot()
	snap.Sessions[2].Command = json.RawMessage(`{"find":"…"}`)
	src.set(snap)
	whole := snap.Sessions[2]
	whole.Command = json.RawMessage(`{"find":"orders","filter":{"status":"A"}}`)
	src.whole = map[string]source.Session{"103": whole}
	h := newHarness(t, Options{Source: src})
	h.selectSession("103")
	h.keys("y")
	var clip string
	for _, msg := range h.other {
		if fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" {
			clip = fmt.Sprint(msg)
		}
	}
	if !strings.Contains(clip, `"status": "A"`) {
		t.Fatalf("y copied %q (msgs %v)", clip, h.other)
	}
}

// A source that cannot read a session whole gets full refreshes: its snapshot is all there is.
func TestRefreshIsLeanOnlyWithADetailer(t *testing.T) {
	_, src := started(t, Options{})
	for _, q := range src.queries {
		if q.Lean {
			t.Fatalf("query %+v asks a source without Detail for a lean refresh", q)
		}
	}
}
