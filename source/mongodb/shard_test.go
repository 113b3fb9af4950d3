package mongodb

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/sourcetest"
)

func startCluster(t testing.TB, o mongod.ClusterOptions) *mongod.Cluster {
	t.Helper()
	cl, err := mongod.StartCluster(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestShardedEveryMember(t *testing.T) {
	cl := startCluster(t, mongod.ClusterOptions{Shards: 2, Members: 3})
	s, _ := openSet(t, cl.URI())
	app := rawClient(t, cl.URI(), "app-via-mongos")
	routed := holdFind(t, app, "routed", time.Minute)
	sec := cl.Shards()[1].Members()[2]
	holdFind(t, memberClient(t, sec, "app-direct"), "direct_on_secondary", time.Minute)

	snap := waitSnap(t, s, source.Query{}, "with both finds", func(snap *source.Snapshot) bool {
		return hasSession(snap, onColl("routed")) != nil && hasSession(snap, onColl("direct_on_secondary")) != nil
	})
	if len(snap.Members) != 7 || snap.Members[0].Kind != "mongos" {
		t.Fatalf("members %+v: want the mongos and 2 × 3 shard members", snap.Members)
	}
	for _, rs := range cl.Shards() {
		for _, m := range rs.Members() {
			got := memberByHost(snap, m.Addr())
			if got == nil || !got.OK || got.Set != rs.Name() {
				t.Errorf("shard member %s: %+v", m.Addr(), got)
			}
		}
	}
	d := hasSession(snap, onColl("direct_on_secondary"))
	if d.Host != sec.Addr() || d.Shard != "shard02" || !strings.HasPrefix(d.ID, sec.Addr()+"/") {
		t.Errorf("the secondary's find: host %s shard %s id %s", d.Host, d.Shard, d.ID)
	}
	r := *hasSession(snap, onColl("routed"))
	if r.App != "app-via-mongos" || r.Shard == "" || !strings.HasPrefix(r.ID, r.Host+"/") {
		t.Errorf("the routed find: %+v", r)
	}
	if snap.Server.Kind != "mongos" || snap.Partial {
		t.Errorf("server %+v partial %v %q", snap.Server, snap.Partial, snap.Warnings)
	}
	// The application's connection is the mongos's: the clients pane has it.
	found := false
	for _, c := range snap.Clients {
		found = found || contains(c.Apps, "app-via-mongos")
	}
	if !found {
		t.Errorf("clients %+v lack the application connected to the mongos", snap.Clients)
	}
	prim := snapshot(t, s, source.Query{Members: source.MembersPrimary})
	if len(prim.Members) != 3 || hasSession(prim, onColl("direct_on_secondary")) != nil || hasSession(prim, onColl("routed")) == nil {
		t.Errorf("primary scope: members %+v", prim.Members)
	}
	for _, m := range prim.Members[1:] {
		if m.State != "PRIMARY" {
			t.Errorf("primary scope lists %+v", m)
		}
	}
	// A kill goes to the shard member that runs the operation.
	res := s.Kill(context.Background(), []source.Session{r})
	if res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending {
		t.Fatalf("kill: %+v", res)
	}
	select {
	case err := <-routed:
		if err == nil {
			t.Error("the routed find ended without an error")
		}
	case <-time.After(guard):
		t.Fatal("the routed find was not killed")
	}
}

// A mongos whose shards' members cannot be dialled from here: its own fan-out stands in, of
// every member from 7.1 (targetAllNodes), else of each shard's primary, and a warning says so.
func TestShardedMembersOutOfReach(t *testing.T) {
	for _, tt := range []struct {
		profile mongod.Profile
		says    string
	}{
		{mongod.Profile80, "every shard member's operations as the mongos relays them ($currentOp targetAllNodes)"},
		{mongod.Profile70, "each shard's primary only: secondaries are not covered"},
	} {
		t.Run(tt.profile.Version, func(t *testing.T) {
			srv := startSim(t, mongod.Options{Mongos: true, Profile: tt.profile}) // shard hosts under example.net
			startWorkload(t, srv.URI())
			s := openSource(t, srv.URI())
			snap := waitSnap(t, s, source.Query{}, "with routed operations", func(snap *source.Snapshot) bool {
				return hasSession(snap, func(ss *source.Session) bool { return ss.Shard != "" }) != nil
			})
			if len(snap.Members) != 3 || snap.Members[0].Kind != "mongos" || snap.Members[1].OK || snap.Members[1].Error == "" {
				t.Errorf("members %+v", snap.Members)
			}
			if !snap.Partial || !strings.Contains(strings.Join(snap.Warnings, "\n"), "cannot be reached directly from here") ||
				!strings.Contains(strings.Join(snap.Warnings, "\n"), tt.says) {
				t.Errorf("warnings %q: want one saying %q", snap.Warnings, tt.says)
			}
			// The mongos's IDs ("shard01:123") stay as they are, and kill through it.
			op := hasSession(snap, func(ss *source.Session) bool { return ss.Shard != "" })
			if !strings.HasPrefix(op.ID, op.Shard+":") {
				t.Errorf("through the mongos the ID %q is not shard:opid", op.ID)
			}
		})
	}
}

// benchOps is how many operations BenchmarkRefreshCluster keeps in flight.
const benchOps = 96

// BenchmarkRefreshCluster refreshes a cluster of 16 shards × 3 members with benchOps
// operations in flight: every member read directly, in parallel. The budget is ≤ 1 s a
// refresh and ≤ 100 MB resident.
func BenchmarkRefreshCluster(b *testing.B) {
	cl := startCluster(b, mongod.ClusterOptions{Shards: 16, Members: 3})
	s, err := Open(context.Background(), Config{URI: cl.URI(), Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	// Operations in flight across the shards: finds held on collections spread by name.
	app := rawClient(b, cl.URI(), "bench-app")
	for i := range benchOps {
		holdFind(b, app, "c"+strconv.Itoa(i), 10*time.Minute)
	}
	q := source.Query{Lean: true}
	snap := waitSnap(b, s, q, "with every held find", func(snap *source.Snapshot) bool {
		n := 0
		for _, ss := range snap.Sessions {
			if strings.HasPrefix(ss.NS, "test.c") {
				n++
			}
		}
		return n == benchOps
	})
	if len(snap.Members) != 49 || snap.Partial {
		b.Fatalf("%d members, partial %v %q", len(snap.Members), snap.Partial, snap.Warnings)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Snapshot(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
	if rss := residentMB(); rss > 0 {
		b.ReportMetric(rss, "RSS-MB")
	}
}

// residentMB is this process's resident memory (Linux), 0 when unknown. The simulated cluster
// runs in the same process, so it is an upper bound on the monitor's own.
func residentMB() float64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize()) / (1 << 20)
}

// Through a mongos whose shards are out of reach, a write is killed with killSessions on its
// session: killOp through a mongos does not reach writes on the shards.
func TestShardedWriteKilledBySession(t *testing.T) {
	srv := startSim(t, mongod.Options{Mongos: true})
	s := openSource(t, srv.URI())
	app := rawClient(t, srv.URI(), "writer")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		done <- app.Database("test").RunCommand(ctx, bson.D{
			{Key: "update", Value: "held_write"},
			{Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: 2}}}}}}}},
			{Key: "comment", Value: bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: 60_000}}}}},
		}).Err()
	}()
	w := waitSession(t, s, source.Query{}, "the held write", func(ss *source.Session) bool { return ss.NS == "test.held_write" })
	k := &killing{s: s, opid: map[string]bson.RawValue{}, lsid: map[string]bson.RawValue{}}
	if cur := k.Reread(context.Background(), []source.Session{w}); !cur[0].Found {
		t.Fatalf("re-read: %+v", cur[0])
	}
	if _, ok := k.lsid[w.ID]; !ok {
		t.Fatal("the write's session was not kept: killOp would be sent through the mongos")
	}
	res := s.Kill(context.Background(), []source.Session{w})
	if res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending {
		t.Fatalf("kill of %s: %+v", w.ID, res)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the write ended without an error")
		}
	case <-time.After(guard):
		t.Fatal("the write was not killed")
	}
}

func TestConformanceCluster(t *testing.T) {
	cl := startCluster(t, mongod.ClusterOptions{Shards: 2, Members: 3})
	startWorkload(t, cl.URI())
	sourcetest.Run(t, sourcetest.Config{
		Open:      func(t *testing.T) source.Source { return openSource(t, cl.URI()) },
		MinActive: 5,
		CanKill:   true,
	})
	t.Run("lean", func(t *testing.T) {
		sourcetest.Run(t, sourcetest.Config{
			Open:      func(t *testing.T) source.Source { return leanSource{openSource(t, cl.URI())} },
			MinActive: 5,
			CanKill:   true,
		})
	})
}
