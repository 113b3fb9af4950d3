package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source/mongodb"
)

// The event log fed by the real direct source on a simulated replica set, over real sockets:
// the member changes it reports come from the members' own hello and replSetGetStatus
// answers, not from snapshots written for the test.

// deployGuard only turns a hang into a failure; nothing here bets on the machine's speed.
const deployGuard = 60 * time.Second

// startedOnSet is a harness whose source is the direct source on a new three-member set.
func startedOnSet(t *testing.T) (*harness, *mongod.ReplicaSet) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a simulated replica set: skipped with -short")
	}
	rs, err := mongod.StartReplicaSet(mongod.ReplicaSetOptions{Members: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	src, err := mongodb.Open(context.Background(), mongodb.Config{URI: rs.URI(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	h := newHarness(t, Options{Source: src})
	h.refreshUntil("the start event naming the 3 members", func(log []string) bool {
		return len(log) > 0 && strings.HasPrefix(log[len(log)-1], "START ") && strings.HasSuffix(log[len(log)-1], "with 3 members")
	})
	return h, rs
}

// refreshUntil refreshes (2 s apart on the model's clock) until ok holds for the log, most
// recent first. The source's own member backoff runs on the real clock, so the wait is for
// the event, bounded by deployGuard.
func (h *harness) refreshUntil(what string, ok func(log []string) bool) []string {
	h.t.Helper()
	deadline := time.Now().Add(deployGuard)
	for {
		if log := h.logged(); ok(log) {
			return log
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s after %s; log:\n%s\nscreen:\n%s", what, deployGuard, strings.Join(h.logged(), "\n"), screen(h))
		}
		time.Sleep(20 * time.Millisecond)
		h.clock.advance(2 * time.Second)
		h.fireTick()
	}
}

// stripLine is the members strip's first line on screen s.
func stripLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "members ") {
			return l
		}
	}
	return ""
}

func countPrefix(log []string, prefix string) int {
	n := 0
	for _, e := range log {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// A step-down seen through the real source is logged once as the new primary, naming the old.
func TestEventsPrimaryChangeOnRealSet(t *testing.T) {
	h, rs := startedOnSet(t)
	old := rs.Primary().Addr()
	next := rs.StepDown()
	if next == nil || next.Addr() == old {
		t.Fatalf("step-down elected %v (old primary %s)", next, old)
	}
	want := "PRIMARY " + next.Addr() + " is primary of " + rs.Name() + " (was " + old + ")"
	log := h.refreshUntil("PRIMARY event for "+next.Addr(), func(log []string) bool { return slices.Contains(log, want) })
	// The log lags the set by a refresh or two; a few more refreshes must not repeat it.
	for range 3 {
		h.clock.advance(2 * time.Second)
		h.fireTick()
	}
	log = h.logged()
	if n := countPrefix(log, "PRIMARY "); n != 1 {
		t.Errorf("%d PRIMARY events, want 1; log:\n%s", n, strings.Join(log, "\n"))
	}
	// The strip shows the new primary as P and the old one as S.
	s := stripLine(screen(h))
	short := func(addr string) string { return addr[strings.LastIndexByte(addr, ':'):] }
	if !strings.Contains(s, "P "+short(next.Addr())+" ") || !strings.Contains(s, "S "+short(old)+" ") {
		t.Errorf("the members strip does not show %s as primary and %s as secondary:\n%s", next.Addr(), old, s)
	}
}

// A member stopped and restarted is logged as not answering, then answering again, and the
// strip says it is down meanwhile.
func TestEventsMemberDownAndUpOnRealSet(t *testing.T) {
	h, rs := startedOnSet(t)
	const i = 2
	addr := rs.Members()[i].Addr()
	rs.Stop(i)
	down := "MEMBER " + addr + " does not answer"
	h.refreshUntil("MEMBER event for the stopped "+addr, func(log []string) bool {
		return countPrefix(log, down) > 0
	})
	short := addr[strings.LastIndexByte(addr, ':'):]
	if s := stripLine(screen(h)); !strings.Contains(s, "✗ "+short+" down") {
		t.Errorf("the members strip does not say %s is down:\n%s", addr, s)
	}
	if err := rs.Restart(i); err != nil {
		t.Fatal(err)
	}
	log := h.refreshUntil("MEMBER event for the restarted "+addr, func(log []string) bool {
		return slices.Contains(log, "MEMBER "+addr+" answers again")
	})
	if n := countPrefix(log, down); n != 1 {
		t.Errorf("%d 'does not answer' events for %s, want 1; log:\n%s", n, addr, strings.Join(log, "\n"))
	}
	if n := countPrefix(log, "OUTAGE "); n != 0 {
		t.Errorf("one member down was logged as an outage of the source; log:\n%s", strings.Join(log, "\n"))
	}
	if s := stripLine(screen(h)); strings.Contains(s, "✗ ") || strings.Count(s, " S :") != 2 {
		t.Errorf("the members strip still shows a member down:\n%s", s)
	}
}
