package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// logged is the log's events as "KIND text", most recent first.
func (h *harness) logged() []string {
	var out []string
	for _, e := range h.m.events.newestFirst() {
		out = append(out, string(e.kind)+" "+e.text)
	}
	return out
}

func TestEventsOutageAndRecovery(t *testing.T) {
	h, src := started(t, Options{})
	for _, err := range []error{
		errors.New("connection refused"),
		errors.New("connection refused"), // the same reason: no new event
		errors.New("server selection timeout\x1b[31m"),
	} {
		src.fail(err)
		h.clock.advance(2 * time.Second)
		h.fireTick()
	}
	src.set(smallSnapshot())
	h.clock.advance(8 * time.Second)
	h.fireTick()
	want := []string{
		"RECOVER refreshing works again after 12s and 3 failed refreshes",
		"ERROR refresh still failing (3 in a row), now: server selection timeout\uFFFD", // the escape sequence is cleaned
		"OUTAGE refresh failed: connection refused",
		"START watching mongod 8.0.4 at db1:27017 (mongodb://app:***@db1:27017/)",
	}
	if got := h.logged(); !slices.Equal(got, want) {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEventsKill(t *testing.T) {
	h, _ := started(t, Options{})
	h.selectSession("101")
	h.keys("k", "y")
	if got := h.logged()[0]; got != "KILL 101: killed" {
		t.Errorf("newest event %q, want the kill's outcome", got)
	}
}

func member(host, state, version string, ok bool) source.Member {
	m := source.Member{Host: host, State: state, Version: version, Set: "rs0", Kind: "mongod", OK: ok}
	if !ok {
		m.Error = "connection refused"
	}
	return m
}

func TestEventsServerChanges(t *testing.T) {
	base := func(mod func(s *source.Snapshot)) *source.Snapshot {
		s := smallSnapshot()
		mod(s)
		return s
	}
	three := func(states ...string) []source.Member {
		return []source.Member{member("a:27017", states[0], "8.0.4", true), member("b:27017", states[1], "8.0.4", true), member("c:27017", states[2], "8.0.4", true)}
	}
	tests := []struct {
		name       string
		prev, next *source.Snapshot
		want       []string
	}{
		{"nothing changed", smallSnapshot(), smallSnapshot(), nil},
		{"another server", smallSnapshot(), base(func(s *source.Snapshot) { s.Server.Host = "db2:27017" }),
			[]string{"HOST now reading db2:27017 (was db1:27017)"}},
		{"version", smallSnapshot(), base(func(s *source.Snapshot) { s.Server.Version = "8.0.5"; s.Server.UptimeS = 12 }),
			[]string{"VERSION db1:27017: version 8.0.4 → 8.0.5", "RESTART db1:27017 restarted: up 12s"}},
		{"primary steps down",
			base(func(s *source.Snapshot) { s.Members = three("PRIMARY", "SECONDARY", "SECONDARY") }),
			base(func(s *source.Snapshot) { s.Members = three("SECONDARY", "PRIMARY", "SECONDARY") }),
			[]string{"PRIMARY b:27017 is primary of rs0 (was a:27017)"}},
		{"a member goes and comes",
			base(func(s *source.Snapshot) { s.Members = three("PRIMARY", "SECONDARY", "SECONDARY") }),
			base(func(s *source.Snapshot) {
				s.Members = three("PRIMARY", "SECONDARY", "")
				s.Members[2].OK, s.Members[2].Error = false, "connection refused"
			}),
			[]string{"MEMBER c:27017 does not answer: connection refused"}},
		{"member back with a new version",
			base(func(s *source.Snapshot) {
				s.Members = three("PRIMARY", "SECONDARY", "")
				s.Members[2].OK = false
			}),
			base(func(s *source.Snapshot) {
				s.Members = three("PRIMARY", "SECONDARY", "SECONDARY")
				s.Members[2].Version = "8.0.5"
			}),
			[]string{"VERSION c:27017: version 8.0.4 → 8.0.5", "MEMBER c:27017 answers again"}},
		{"first members are no news", smallSnapshot(),
			base(func(s *source.Snapshot) { s.Members = three("PRIMARY", "SECONDARY", "SECONDARY") }), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range serverChanges(tc.prev, tc.next) {
				got = append(got, string(e.kind)+" "+e.text)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %q, want %q", got, tc.want)
			}
		})
	}
}

// The events between snapshots reach the log, cleaned.
func TestEventsFromRefreshes(t *testing.T) {
	h, src := startedWith(t, smallSnapshot(), 120, 36)
	next := smallSnapshot()
	next.Server.Host = "db2:27017\x1b]0;pwned\x07"
	h.refresh(src, next, 2*time.Second)
	if got := h.logged()[0]; got != "HOST now reading db2:27017\uFFFD (was db1:27017)" {
		t.Errorf("newest event %q", got)
	}
	for _, e := range h.m.events.ring {
		if strings.ContainsAny(e.text, "\x1b\x07") {
			t.Errorf("control characters in %q", e.text)
		}
	}
}

func TestEventLogBounded(t *testing.T) {
	h, _ := startedWith(t, smallSnapshot(), 120, 36)
	for i := range maxEvents + 5 {
		h.m.events.add(baseTime.Add(time.Duration(i)*time.Second), evError, fmt.Sprintf("event %d", i))
	}
	l := &h.m.events
	if len(l.ring) != maxEvents {
		t.Fatalf("%d events kept, want %d", len(l.ring), maxEvents)
	}
	all := l.newestFirst()
	if all[0].text != fmt.Sprintf("event %d", maxEvents+4) || all[len(all)-1].text != "event 5" {
		t.Errorf("kept %q … %q, want the newest %d", all[0].text, all[len(all)-1].text, maxEvents)
	}
	h.keys("e")
	scr := screen(h)
	if l := strings.Split(scr, "\n")[2]; !strings.Contains(l, "EVENTS 1,000 · most recent first · the session's last 1,000 are kept (6 dropped)") {
		t.Errorf("title %q", l)
	}
	first := strings.Split(scr, "\n")[3]
	if !strings.Contains(first, "event 1004") {
		t.Errorf("first line %q, want the newest event", first)
	}
	h.keys("down", "down")
	if l := strings.Split(screen(h), "\n")[3]; !strings.Contains(l, "event 1002") {
		t.Errorf("after scrolling down twice: %q", l)
	}
	h.keys("G")
	if lines := strings.Split(screen(h), "\n"); !strings.Contains(lines[len(lines)-3], "event 5") {
		t.Errorf("the oldest event kept is not at the end:\n%s", strings.Join(lines, "\n"))
	}
	h.keys("esc")
	for _, k := range []string{"esc", "e", "q"} {
		h.keys("e")
		if h.m.overlay != overlayEvents {
			t.Fatal("e does not open the log")
		}
		h.keys(k)
		if h.m.overlay != overlayNone {
			t.Errorf("%s does not close the log", k)
		}
	}
}

// An event logged while the log is open shows at its top.
func TestEventLogFollowsWhileOpen(t *testing.T) {
	h, src := startedWith(t, smallSnapshot(), 120, 36)
	h.keys("e")
	src.fail(errors.New("connection refused"))
	h.clock.advance(2 * time.Second)
	h.fireTick()
	if l := strings.Split(screen(h), "\n"); !strings.Contains(strings.Join(l, "\n"), "OUTAGE") {
		t.Errorf("the open log does not show the outage:\n%s", strings.Join(l, "\n"))
	}
	if !strings.Contains(ansi.Strip(h.m.footer()), "esc/e close") {
		t.Errorf("footer %q does not say how to close the log", h.m.footer())
	}
}
