package mongodb

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/sourcetest"
)

func startSet(t testing.TB, o mongod.ReplicaSetOptions) *mongod.ReplicaSet {
	t.Helper()
	rs, err := mongod.StartReplicaSet(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	return rs
}

// fakeClock is the fan-out's clock in tests: backoffs pass when the test says so.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// openSet opens the source on a replica set's URI with an injected clock.
func openSet(t testing.TB, uri string) (*Source, *fakeClock) {
	t.Helper()
	s := openSource(t, uri)
	if s.fan == nil {
		t.Fatalf("%s opened as a single node", uri)
	}
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	s.fan.now = clk.Now
	return s, clk
}

// memberClient is an application connected directly to one member.
func memberClient(t testing.TB, m *mongod.Server, app string) *testClient {
	return rawClient(t, m.URI(), app)
}

func memberByHost(snap *source.Snapshot, host string) *source.Member {
	for i := range snap.Members {
		if snap.Members[i].Host == host {
			return &snap.Members[i]
		}
	}
	return nil
}

// waitSnap polls snapshots until pred accepts one.
func waitSnap(t testing.TB, s *Source, q source.Query, what string, pred func(*source.Snapshot) bool) *source.Snapshot {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		snap := snapshot(t, s, q)
		if pred(snap) {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot %s; last: members %+v, %d sessions, warnings %q", what, snap.Members, len(snap.Sessions), snap.Warnings)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasSession(snap *source.Snapshot, pred func(*source.Session) bool) *source.Session {
	for i := range snap.Sessions {
		if pred(&snap.Sessions[i]) {
			return &snap.Sessions[i]
		}
	}
	return nil
}

func onColl(coll string) func(*source.Session) bool {
	return func(s *source.Session) bool { return s.NS == "test."+coll }
}

func TestReplicaSetDiscoveryAndMerge(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3, Arbiter: true})
	ms := rs.Members()
	rs.SetLag(2, 30*time.Second)
	s, _ := openSet(t, rs.URI())
	holdFind(t, memberClient(t, ms[0], "app-p"), "on_primary", time.Minute)
	holdFind(t, memberClient(t, ms[1], "app-s1"), "on_secondary", time.Minute)
	holdFind(t, memberClient(t, ms[2], "app-s2"), "on_secondary", time.Minute)

	snap := waitSnap(t, s, source.Query{}, "with all three finds", func(snap *source.Snapshot) bool {
		n := 0
		for _, ss := range snap.Sessions {
			if strings.HasPrefix(ss.NS, "test.on_") {
				n++
			}
		}
		return n == 3
	})
	if len(snap.Members) != 4 {
		t.Fatalf("members %+v: want 3 data-bearing and the arbiter", snap.Members)
	}
	want := map[string]string{ms[0].Addr(): "PRIMARY", ms[1].Addr(): "SECONDARY", ms[2].Addr(): "SECONDARY", ms[3].Addr(): "ARBITER"}
	for host, state := range want {
		m := memberByHost(snap, host)
		if m == nil || m.State != state || !m.OK {
			t.Errorf("member %s: %+v, want %s and answering", host, m, state)
		}
	}
	if m := memberByHost(snap, ms[2].Addr()); m == nil || m.LagS == nil || *m.LagS < 29 || *m.LagS > 31 {
		t.Errorf("lagging member %+v: want a lag of 30s", m)
	}
	if m := memberByHost(snap, ms[0].Addr()); m == nil || m.LagS == nil || *m.LagS != 0 {
		t.Errorf("primary %+v: want a lag of 0", m)
	}
	if m := memberByHost(snap, ms[3].Addr()); m != nil && m.Kind != "arbiter" {
		t.Errorf("arbiter kind %q", m.Kind)
	}
	if m := memberByHost(snap, ms[1].Addr()); m == nil || m.Version == "" || m.Ops < 1 || m.Connections < 1 || m.Sample == nil {
		t.Errorf("secondary member %+v: want its version, ops, connections and sample", m)
	}
	ids := map[string]bool{}
	for _, ss := range snap.Sessions {
		if ids[ss.ID] {
			t.Errorf("duplicate session ID %s", ss.ID)
		}
		ids[ss.ID] = true
		if !strings.HasPrefix(ss.ID, ss.Host+"/") {
			t.Errorf("session %s: its ID does not name its member %s", ss.ID, ss.Host)
		}
	}
	for i, coll := range map[int]string{0: "on_primary", 1: "on_secondary"} {
		found := false
		for _, ss := range snap.Sessions {
			if ss.NS == "test."+coll && ss.Host == ms[i].Addr() {
				found = true
			}
		}
		if !found {
			t.Errorf("no session on %s with Host %s", coll, ms[i].Addr())
		}
	}
	if snap.Server.Host == "" || snap.Partial {
		t.Errorf("server %+v, partial %v %q", snap.Server, snap.Partial, snap.Warnings)
	}
	// Clients are summed per IP: the three applications all come from 127.0.0.1.
	var apps []string
	for _, c := range snap.Clients {
		if c.IP == "127.0.0.1" {
			apps = c.Apps
		}
	}
	for _, app := range []string{"app-p", "app-s1", "app-s2"} {
		if !contains(apps, app) {
			t.Errorf("clients of 127.0.0.1 list apps %q, want %s among them", apps, app)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestReplicaSetScope(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3, Hidden: 1})
	ms := rs.Members()
	s, _ := openSet(t, rs.URI())
	holdFind(t, memberClient(t, ms[1], "app"), "scoped", time.Minute)
	holdFind(t, memberClient(t, ms[2], "app"), "hidden_one", time.Minute)

	all := waitSnap(t, s, source.Query{}, "with the secondary's find", func(snap *source.Snapshot) bool {
		return hasSession(snap, onColl("scoped")) != nil
	})
	if len(all.Members) != 2 || hasSession(all, onColl("hidden_one")) != nil {
		t.Errorf("all: members %+v: the hidden member is polled only when named", all.Members)
	}
	prim := snapshot(t, s, source.Query{Members: source.MembersPrimary})
	if len(prim.Members) != 1 || prim.Members[0].Host != ms[0].Addr() || hasSession(prim, onColl("scoped")) != nil {
		t.Errorf("primary scope: members %+v", prim.Members)
	}
	one := snapshot(t, s, source.Query{Members: ms[1].Addr() + "," + ms[2].Addr()})
	if len(one.Members) != 2 || hasSession(one, onColl("scoped")) == nil || hasSession(one, onColl("hidden_one")) == nil {
		t.Errorf("hosts scope: members %+v", one.Members)
	}
	_, err := s.Snapshot(context.Background(), source.Query{Members: "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), ms[0].Addr()) {
		t.Errorf("an unknown member: %v, want an error naming the members", err)
	}
}

func TestReplicaSetStepDown(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3})
	ms := rs.Members()
	s, _ := openSet(t, rs.URI())
	first := snapshot(t, s, source.Query{})
	if m := memberByHost(first, ms[0].Addr()); m == nil || m.State != "PRIMARY" {
		t.Fatalf("members %+v", first.Members)
	}
	next := rs.StepDown()
	snap := waitSnap(t, s, source.Query{Members: source.MembersPrimary}, "with the new primary", func(snap *source.Snapshot) bool {
		return len(snap.Members) == 1 && snap.Members[0].Host == next.Addr()
	})
	if snap.Server.Host == "" {
		t.Error("no server facts after the failover")
	}
	all := snapshot(t, s, source.Query{})
	if m := memberByHost(all, ms[0].Addr()); m == nil || m.State != "SECONDARY" {
		t.Errorf("old primary after step-down: %+v", m)
	}
}

func TestReplicaSetMemberDownAndBack(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3})
	ms := rs.Members()
	s, clk := openSet(t, rs.URI())
	holdFind(t, memberClient(t, ms[0], "app"), "p_find", time.Minute)
	holdFind(t, memberClient(t, ms[2], "app"), "s_find", time.Minute)
	waitSnap(t, s, source.Query{}, "with both finds", func(snap *source.Snapshot) bool {
		return hasSession(snap, onColl("p_find")) != nil && hasSession(snap, onColl("s_find")) != nil
	})

	rs.Stop(2)
	start := time.Now()
	down := snapshot(t, s, source.Query{})
	t.Logf("the refresh with a member down took %v", time.Since(start))
	m := memberByHost(down, ms[2].Addr())
	if m == nil || m.OK || m.Error == "" {
		t.Fatalf("stopped member: %+v", m)
	}
	if got := hasSession(down, onColl("s_find")); got == nil || !got.Stale {
		t.Errorf("the stopped member's find: %+v, want it as last seen, stale", got)
	}
	if got := hasSession(down, onColl("p_find")); got == nil || got.Stale {
		t.Errorf("the primary's find: %+v, want it live", got)
	}
	if !down.Partial || !strings.Contains(strings.Join(down.Warnings, "\n"), ms[2].Addr()) {
		t.Errorf("warnings %q: want one naming %s", down.Warnings, ms[2].Addr())
	}
	// Within its backoff the member is not asked again: the same reason, at no cost.
	again := snapshot(t, s, source.Query{})
	if m2 := memberByHost(again, ms[2].Addr()); m2 == nil || m2.OK || m2.Error != m.Error {
		t.Errorf("within the backoff: %+v", m2)
	}

	if err := rs.Restart(2); err != nil {
		t.Fatal(err)
	}
	holdFind(t, memberClient(t, ms[2], "app"), "back_find", time.Minute)
	waitSnap(t, s, source.Query{}, "with the member back", func(snap *source.Snapshot) bool {
		clk.Advance(time.Minute) // past any backoff
		m := memberByHost(snap, ms[2].Addr())
		got := hasSession(snap, onColl("back_find"))
		return m != nil && m.OK && got != nil && !got.Stale
	})
}

func TestReplicaSetKillRouted(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3})
	ms := rs.Members()
	s, _ := openSet(t, rs.URI())
	// The same opid on two members: the kill must reach the one that reported it.
	ms[1].SetNextOpID(777)
	sec := holdFind(t, memberClient(t, ms[1], "app"), "victim", time.Minute)
	ms[0].SetNextOpID(777)
	prim := holdFind(t, memberClient(t, ms[0], "app"), "bystander", time.Minute)
	snap := waitSnap(t, s, source.Query{}, "with both finds", func(snap *source.Snapshot) bool {
		return hasSession(snap, onColl("victim")) != nil && hasSession(snap, onColl("bystander")) != nil
	})
	v, b := *hasSession(snap, onColl("victim")), *hasSession(snap, onColl("bystander"))
	if v.ID != ms[1].Addr()+"/777" || b.ID != ms[0].Addr()+"/777" {
		t.Fatalf("IDs %s and %s: want host:port/777 on each", v.ID, b.ID)
	}
	res := s.Kill(context.Background(), []source.Session{v})
	if len(res) != 1 || res[0].ID != v.ID || (res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending) {
		t.Fatalf("kill: %+v", res)
	}
	select {
	case err := <-sec:
		if !isCode(err, 11601) {
			t.Errorf("the secondary's find ended with %v, want Interrupted", err)
		}
	case <-time.After(guard):
		t.Fatal("the secondary's find was not killed")
	}
	select {
	case err := <-prim:
		t.Fatalf("the primary's find with the same opid ended: %v", err)
	default:
	}
	if got := hasSession(snapshot(t, s, source.Query{}), onColl("bystander")); got == nil {
		t.Error("the primary's find is gone")
	}
	// Detail reads the session from its member.
	d, err := s.Detail(context.Background(), b)
	if err != nil || d.ID != b.ID || d.Host != ms[0].Addr() || len(d.Raw) == 0 {
		t.Errorf("detail: %+v, %v", d, err)
	}
}

func TestConformanceReplicaSet(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3, Synthetic: 50, Users: append(testUsers[:0:0], testUsers...)})
	startWorkload(t, rs.URI(), workload.User{Name: "app", DB: "admin", Password: "app-Secret-3"})
	// The monitor's URI with credentials: every member's client must carry them.
	uri := strings.Replace(rs.URI(), "mongodb://", "mongodb://admin:admin-Secret-2@", 1) + "&authSource=admin"
	for _, lean := range []bool{false, true} {
		name := "full"
		if lean {
			name = "lean"
		}
		t.Run(name, func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Config{
				Open: func(t *testing.T) source.Source {
					if lean {
						return leanSource{openSource(t, uri)}
					}
					return openSource(t, uri)
				},
				Secrets:   []string{"admin-Secret-2", "app-Secret-3", "mon-Secret-1"},
				MinActive: 5,
				CanKill:   true,
			})
		})
	}
}

// The primary goes down: the refresh still answers, from the new primary, with the old one
// marked as not answering.
func TestReplicaSetPrimaryDown(t *testing.T) {
	rs := startSet(t, mongod.ReplicaSetOptions{Members: 3})
	ms := rs.Members()
	s, _ := openSet(t, rs.URI())
	snapshot(t, s, source.Query{})
	rs.Stop(0)
	next := rs.Primary()
	snap := waitSnap(t, s, source.Query{}, "with the new primary", func(snap *source.Snapshot) bool {
		m := memberByHost(snap, next.Addr())
		return m != nil && m.OK && m.State == "PRIMARY"
	})
	if m := memberByHost(snap, ms[0].Addr()); m == nil || m.OK {
		t.Errorf("the stopped primary: %+v", m)
	}
	if snap.Server.Host == "" {
		t.Error("no server facts")
	}
}
