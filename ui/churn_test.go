package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/source"
)

// withStormClient is smallSnapshot plus n connections from 10.0.0.7 (none: n < 0).
func withStormClient(n int) *source.Snapshot {
	s := smallSnapshot()
	if n >= 0 {
		s.Clients = append(s.Clients, source.Client{IP: "10.0.0.7", Count: n, Apps: []string{"checkout-lambda"}})
	}
	return s
}

// line returns the screen's first line that contains s, or "".
func line(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// rowLine returns the screen's pane row that starts with key (after the gutter), or "".
func rowLine(screen, key string) string {
	for _, l := range strings.Split(screen, "\n") {
		if f := strings.Fields(strings.TrimLeft(l, "›▸» ")); len(f) > 0 && f[0] == key {
			return l
		}
	}
	return ""
}

func (h *harness) cliRow(ip string) *cliRow {
	for i := range h.m.panes.cli.data {
		if r := &h.m.panes.cli.data[i]; r.c.IP == ip {
			return r
		}
	}
	return nil
}

// TestStormOnScreen: a client whose connections grow 25/s over 3 refreshes is a storm: its
// row is highlighted, the header names it, the log records it; it ends when the growth stops.
func TestStormOnScreen(t *testing.T) {
	h, src := startedWith(t, withStormClient(-1), 120, 36)
	for _, n := range []int{50, 100} {
		h.refresh(src, withStormClient(n), 2*time.Second)
	}
	if l := strings.Split(screen(h), "\n")[2]; strings.Contains(l, "storm") {
		t.Fatalf("storm named after 2 refreshes of growth: %q", l)
	}
	h.refresh(src, withStormClient(150), 2*time.Second)
	scr := screen(h)
	// The alert leads the vitals line (headerAlert), which exists for it when there are no vitals.
	if l := strings.Split(scr, "\n")[2]; !strings.HasPrefix(l, "storm: 10.0.0.7 +25/s") {
		t.Errorf("header does not name the storm first on its third line: %q", l)
	}
	if l := strings.Split(scr, "\n")[1]; strings.Contains(l, "storm") {
		t.Errorf("the storm is named twice, on the counters line too: %q", l)
	}
	// 0 → 150 connections in 6 s is +1,500 a minute; steady clients 0.
	if l := rowLine(scr, "10.0.0.7"); !strings.Contains(l, "+1,500") {
		t.Errorf("storm row lacks its change per minute +1,500: %q", l)
	}
	if l := rowLine(scr, "10.20.3.17"); !strings.Contains(l, " 0 ") {
		t.Errorf("steady row lacks a 0 change: %q", l)
	}
	dec := h.m.panes.clientDecor(&h.m.st)
	for _, key := range []string{"ip", "churn", "conns"} {
		if st, ok := dec.cell(h.cliRow("10.0.0.7"), key); !ok || st.String() != h.m.st.warn.String() {
			t.Errorf("storm row's %s cell not in the warning style", key)
		}
		if _, ok := dec.cell(h.cliRow("10.20.3.17"), key); ok && key != "active" {
			t.Errorf("steady row's %s cell highlighted", key)
		}
	}
	golden(t, "storm-120x36", scr)

	h.refresh(src, withStormClient(150), 2*time.Second)
	if l := strings.Join(strings.Split(screen(h), "\n")[:3], "\n"); strings.Contains(l, "storm") {
		t.Errorf("storm still named after the growth stopped:\n%s", l)
	}
	if r := h.cliRow("10.0.0.7"); r.churn.storm {
		t.Error("row still a storm after the growth stopped")
	}
	h.keys("e")
	scr = screen(h)
	var kinds []string
	for _, l := range strings.Split(scr, "\n") {
		for _, k := range []eventKind{evStart, evStorm, evStormEnd} {
			if strings.Contains(l, "  "+string(k)+" ") {
				kinds = append(kinds, string(k))
			}
		}
	}
	if want := []string{"CALM", "STORM", "START"}; !slices.Equal(kinds, want) {
		t.Errorf("event log kinds %v, want %v (most recent first):\n%s", kinds, want, scr)
	}
	if l := line(scr, "STORM"); !strings.Contains(l, "10:00:06  STORM   10.0.0.7: connections growing +25/s over 3 refreshes, 150 now") {
		t.Errorf("storm event %q", l)
	}
	golden(t, "events-120x36", scr)
}

func TestChurnColumnSorts(t *testing.T) {
	h, src := startedWith(t, withStormClient(10), 120, 36)
	grow := withStormClient(20)
	grow.Clients[2].Count = 2 // 10.20.3.19 loses 10
	h.refresh(src, grow, 2*time.Second)
	h.m.panes.focus = focusClients
	h.m.panes.cli.setSort("churn")
	if got := h.clientIPs(); !slices.Equal(got, []string{"10.0.0.7", "10.20.3.17", "10.20.3.18", "10.20.3.19"}) {
		t.Errorf("by change per minute, descending: %v", got)
	}
	if l := rowLine(screen(h), "10.20.3.19"); !strings.Contains(l, "-300") {
		t.Errorf("falling client's change: %q", l)
	}
	h.keys("r")
	if got := h.clientIPs(); got[0] != "10.20.3.19" {
		t.Errorf("reversed: %v", got)
	}
}

func TestStormThresholdOption(t *testing.T) {
	src := &fakeKiller{outcome: source.KillGone}
	src.set(withStormClient(0))
	h := newHarness(t, Options{Source: src, StormThreshold: 100})
	for _, n := range []int{50, 100, 150, 200} {
		h.refresh(src, withStormClient(n), 2*time.Second)
	}
	if s := h.m.stormText(); s != "" {
		t.Errorf("25/s is a storm at a threshold of 100/s: %q", s)
	}
}

func TestSigned(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 5: "+5", -5: "-5", 1500: "+1,500", -12000: "-12,000"} {
		if got := signed(n); got != want {
			t.Errorf("signed(%d) = %q, want %q", n, got, want)
		}
	}
}
