package mongod

import (
	"context"
	"net"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

func startSet(t testing.TB, opts ReplicaSetOptions) *ReplicaSet {
	t.Helper()
	rs, err := StartReplicaSet(opts)
	if err != nil {
		t.Fatalf("StartReplicaSet: %v", err)
	}
	t.Cleanup(rs.Close)
	return rs
}

func direct(s *Server) string { return "mongodb://" + s.Addr() + "/?directConnection=true" }

func hello(t testing.TB, cl *mongo.Client) bson.Raw {
	t.Helper()
	h, err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "hello", Value: 1}}).Raw()
	if err != nil {
		t.Fatalf("hello: %v", err)
	}
	return h
}

func insertOne(ctx context.Context, cl *mongo.Client) error {
	_, err := cl.Database("shop").Collection("orders").InsertOne(ctx, bson.D{{Key: "x", Value: 1}})
	return err
}

func TestReplicaSetHello(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 3, Hidden: 1, Arbiter: true})
	m := rs.Members()
	if len(m) != 4 || rs.Primary() != m[0] {
		t.Fatalf("members %d, primary %v", len(m), rs.Primary())
	}
	want := []struct {
		writable, secondary, hidden, arbiter bool
	}{{true, false, false, false}, {false, true, false, false}, {false, true, true, false}, {false, false, false, true}}
	for i, s := range m {
		h := hello(t, connect(t, direct(s), nil))
		hosts, _ := h.Lookup("hosts").Array().Values()
		if len(hosts) != 2 || hosts[0].StringValue() != m[0].Addr() || hosts[1].StringValue() != m[1].Addr() {
			t.Errorf("member %d hosts = %v, want the two visible data members", i, hosts)
		}
		if a := h.Lookup("arbiters", "0").StringValue(); a != m[3].Addr() {
			t.Errorf("member %d arbiters[0] = %q", i, a)
		}
		w := want[i]
		got := struct{ writable, secondary, hidden, arbiter bool }{
			h.Lookup("isWritablePrimary").Boolean(), h.Lookup("secondary").Boolean(),
			h.Lookup("hidden").Type == bson.TypeBoolean, h.Lookup("arbiterOnly").Type == bson.TypeBoolean,
		}
		if got != w {
			t.Errorf("member %d: %+v, want %+v (%s)", i, got, w, h)
		}
		if h.Lookup("me").StringValue() != s.Addr() || h.Lookup("primary").StringValue() != m[0].Addr() || h.Lookup("setName").StringValue() != "rs0" {
			t.Errorf("member %d me/primary/setName: %s", i, h)
		}
		if (i == 0) != (h.Lookup("electionId").Type == bson.TypeObjectID) {
			t.Errorf("member %d electionId: %s", i, h)
		}
	}
	if rs.URI() != "mongodb://"+m[0].Addr()+","+m[1].Addr()+"/?replicaSet=rs0" {
		t.Errorf("URI = %s", rs.URI())
	}
}

// A driver given one seed finds the others, and a secondary read runs on a secondary, as a
// real operation of that member.
func TestReplicaSetDiscoveryAndSecondaryReads(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 3})
	m := rs.Members()
	cl := connect(t, "mongodb://"+m[0].Addr()+"/?replicaSet=rs0", nil)
	ctx := ctxT(t)
	if err := insertOne(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if m[0].counters.insert.Load() != 1 {
		t.Errorf("insert did not land on the primary")
	}
	reader := connect(t, "mongodb://"+m[0].Addr()+"/?replicaSet=rs0", func(o *options.ClientOptions) { o.SetReadPreference(readpref.Secondary()) })
	done := runHeld(reader, "orders", bson.D{{Key: "holdMS", Value: 600000}})
	var on *Server
	var opid int32
	waitFor(t, "the secondary read in a secondary's $currentOp", func() bool {
		for _, s := range m[1:] {
			mon := directClient(t, s)
			for _, d := range currentOp(t, mon, bson.D{{Key: "allUsers", Value: true}}) {
				if str(d, "ns") == "shop.orders" {
					on, opid = s, d.Lookup("opid").Int32()
					return true
				}
			}
		}
		return false
	})
	if opid <= opIDSpacing {
		t.Errorf("opid %d is not in the secondary's own range", opid)
	}
	kill := directClient(t, on)
	if err := kill.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: opid}}).Err(); err != nil {
		t.Fatal(err)
	}
	if code := commandCode(<-done); code != 11601 {
		t.Errorf("killed secondary read ended with %d, want 11601", code)
	}
}

var directClients = map[*Server]*mongo.Client{}

func directClient(t *testing.T, s *Server) *mongo.Client {
	if cl, ok := directClients[s]; ok {
		return cl
	}
	cl := connect(t, direct(s), nil)
	directClients[s] = cl
	t.Cleanup(func() { delete(directClients, s) })
	return cl
}

func TestSecondaryRefuses(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 2})
	sec := connect(t, direct(rs.Members()[1]), nil)
	ctx := ctxT(t)
	if code := commandCode(insertOne(ctx, sec)); code != codeNotWritablePrimary {
		t.Errorf("insert on a secondary: code %d, want 10107", code)
	}
	// A direct connection reads with primaryPreferred: a secondary answers.
	if err := sec.Database("shop").RunCommand(ctx, bson.D{{Key: "count", Value: "orders"}}).Err(); err != nil {
		t.Errorf("count on a direct secondary: %v", err)
	}
	// Without a read preference (raw OP_MSG), a read is refused; serverStatus is not.
	c, err := net.Dial("tcp", rs.Members()[1].Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, tc := range []struct {
		cmd  bson.D
		code int32
	}{
		{bson.D{{Key: "find", Value: "orders"}, {Key: "$db", Value: "shop"}}, codeNotPrimaryNoSecondaryOk},
		{bson.D{{Key: "find", Value: "orders"}, {Key: "$db", Value: "shop"}, {Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "secondaryPreferred"}}}}, 0},
		{bson.D{{Key: "serverStatus", Value: 1}, {Key: "$db", Value: "admin"}}, 0},
	} {
		if _, err := c.Write(opMsgRequest(t, int32(i+1), 0, tc.cmd)); err != nil {
			t.Fatal(err)
		}
		_, _, body := readReply(t, c)
		code, _ := body.Lookup("code").Int32OK()
		if code != tc.code {
			t.Errorf("%v: code %d, want %d (%s)", tc.cmd[0], code, tc.code, body)
		}
	}
}

func TestReplicaSetFailover(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 3})
	m := rs.Members()
	cl := connect(t, rs.URI(), nil)
	ctx := ctxT(t)
	if err := insertOne(ctx, cl); err != nil {
		t.Fatal(err)
	}
	if got := rs.StepDown(); got != m[1] || rs.Primary() != m[1] {
		t.Fatalf("StepDown returned %v", got)
	}
	if h := hello(t, directClient(t, m[0])); h.Lookup("secondary").Boolean() != true || h.Lookup("primary").StringValue() != m[1].Addr() {
		t.Errorf("old primary after step-down: %s", h)
	}
	waitFor(t, "a write on the new primary", func() bool {
		_ = insertOne(ctx, cl)
		return m[1].counters.insert.Load() > 0
	})
}

// An awaitable hello waits for maxAwaitTimeMS, unless the topology changes first.
func TestAwaitableHelloReturnsOnChange(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 2})
	cl := connect(t, direct(rs.Members()[1]), nil)
	h := hello(t, cl)
	tv := h.Lookup("topologyVersion").Document()
	got := make(chan bson.Raw, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		r, _ := cl.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "topologyVersion", Value: tv}, {Key: "maxAwaitTimeMS", Value: int64(10 * time.Minute / time.Millisecond)}}, options.RunCmd().SetReadPreference(readpref.PrimaryPreferred())).Raw()
		got <- r
	}()
	waitFor(t, "the hello to park", func() bool {
		st := rs.Members()[1].connStats()
		return st.awaiting > 0
	})
	rs.StepDown()
	r := <-got
	if r.Lookup("isWritablePrimary").Boolean() != true {
		t.Errorf("awaited hello after the step-down: %s", r)
	}
	if r.Lookup("topologyVersion", "counter").Int64() <= tv.Lookup("counter").Int64() {
		t.Errorf("counter did not grow: %s", r.Lookup("topologyVersion"))
	}
}

func TestReplicaSetStopRestart(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 3})
	m := rs.Members()
	cl := connect(t, rs.URI(), nil)
	ctx := ctxT(t)
	addr := m[2].Addr()
	rs.Stop(2)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("stopped member %s still accepts connections", addr)
	}
	st := replStatus(t, directClient(t, m[0]))
	if s := str(st, "members", "2", "stateStr"); s != "(not reachable/healthy)" {
		t.Errorf("stopped member stateStr %q", s)
	}
	if err := rs.Restart(2); err != nil {
		t.Fatal(err)
	}
	if m[2].Addr() != addr {
		t.Errorf("restarted on %s, want %s", m[2].Addr(), addr)
	}
	if h := hello(t, connect(t, direct(m[2]), nil)); !h.Lookup("secondary").Boolean() {
		t.Errorf("restarted member: %s", h)
	}
	// Stopping the primary elects another; the driver follows.
	rs.Stop(0)
	if rs.Primary() != m[1] {
		t.Fatalf("primary after stopping member 0: %v", rs.Primary())
	}
	waitFor(t, "a write after the primary stopped", func() bool { return insertOne(ctx, cl) == nil })
	if m[1].counters.insert.Load() == 0 {
		t.Errorf("the write did not land on the new primary")
	}
}

func replStatus(t testing.TB, cl *mongo.Client) bson.Raw {
	t.Helper()
	st, err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "replSetGetStatus", Value: 1}}).Raw()
	if err != nil {
		t.Fatalf("replSetGetStatus: %v", err)
	}
	return st
}

func TestReplSetGetStatusLag(t *testing.T) {
	users := []User{{Name: "mon", Password: "p", Roles: []string{"clusterMonitor"}}, {Name: "app", Password: "p", Roles: []string{"readWrite"}}}
	rs := startSet(t, ReplicaSetOptions{Members: 3, Users: users})
	m := rs.Members()
	rs.SetLag(1, 30*time.Second)
	for _, s := range m {
		st := replStatus(t, connect(t, "mongodb://mon:p@"+s.Addr()+"/?directConnection=true", nil))
		prim := st.Lookup("members", "0", "optimeDate").Time()
		lag := prim.Sub(st.Lookup("members", "1", "optimeDate").Time())
		if lag < 29*time.Second || lag > 31*time.Second {
			t.Errorf("from %s: member 1 lags %v, want 30s", s.Addr(), lag)
		}
		if st.Lookup("members", "0", "stateStr").StringValue() != "PRIMARY" || st.Lookup("members", "2", "stateStr").StringValue() != "SECONDARY" {
			t.Errorf("states: %s", st.Lookup("members"))
		}
		self := 0
		for i := range m {
			if b, _ := st.Lookup("members", string(rune('0'+i)), "self").BooleanOK(); b {
				self++
				if m[i] != s {
					t.Errorf("self is member %d from %s", i, s.Addr())
				}
			}
		}
		if self != 1 {
			t.Errorf("%d members marked self", self)
		}
	}
	app := connect(t, "mongodb://app:p@"+m[0].Addr()+"/?directConnection=true", nil)
	err := app.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "replSetGetStatus", Value: 1}}).Err()
	if commandCode(err) != codeUnauthorized {
		t.Errorf("replSetGetStatus as readWrite: %v, want 13", err)
	}
}

func TestMembersHaveOwnCounters(t *testing.T) {
	rs := startSet(t, ReplicaSetOptions{Members: 2})
	m := rs.Members()
	ss := func(s *Server) bson.Raw {
		r, err := directClient(t, s).Database("admin").RunCommand(ctxT(t), bson.D{{Key: "serverStatus", Value: 1}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := insertOne(ctxT(t), directClient(t, m[0])); err != nil {
		t.Fatal(err)
	}
	a, b := ss(m[0]), ss(m[1])
	if a.Lookup("opcounters", "insert").Int64() != 1 || b.Lookup("opcounters", "insert").Int64() != 0 {
		t.Errorf("insert counters: %v and %v", a.Lookup("opcounters"), b.Lookup("opcounters"))
	}
	if !a.Lookup("repl", "isWritablePrimary").Boolean() || !b.Lookup("repl", "secondary").Boolean() || str(b, "repl", "me") != m[1].Addr() || str(b, "repl", "primary") != m[0].Addr() {
		t.Errorf("repl sections: %s / %s", a.Lookup("repl"), b.Lookup("repl"))
	}
}
