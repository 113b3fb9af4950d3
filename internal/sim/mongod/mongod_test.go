package mongod

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func commandCode(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func TestHandshakeProfiles(t *testing.T) {
	tests := []struct {
		profile     Profile
		threaded    bool
		opTimeColon bool
	}{
		{Profile44, false, false},
		{Profile60, true, true},
		{Profile70, true, true},
		{Profile80, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.profile.Version, func(t *testing.T) {
			s := startServer(t, Options{Profile: tt.profile})
			cl := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetAppName("hs-test") })
			ctx := ctxT(t)
			if err := cl.Ping(ctx, nil); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			var bi struct {
				Version      string `bson:"version"`
				VersionArray []int32
			}
			if err := cl.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&bi); err != nil {
				t.Fatalf("buildInfo: %v", err)
			}
			if bi.Version != tt.profile.Version {
				t.Errorf("buildInfo.version = %q, want %q", bi.Version, tt.profile.Version)
			}
			hello, err := cl.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Raw()
			if err != nil {
				t.Fatalf("hello: %v", err)
			}
			if got := hello.Lookup("maxWireVersion").Int32(); got != tt.profile.MaxWireVersion {
				t.Errorf("maxWireVersion = %d, want %d", got, tt.profile.MaxWireVersion)
			}
			if _, ok := hello.Lookup("isWritablePrimary").BooleanOK(); !ok {
				t.Errorf("hello reply has no isWritablePrimary: %s", hello)
			}
			docs := currentOp(t, cl, bson.D{{Key: "idleConnections", Value: true}})
			if len(docs) == 0 {
				t.Fatal("$currentOp returned nothing")
			}
			for _, d := range docs {
				_, hasThreaded := d.Lookup("threaded").BooleanOK()
				if hasThreaded != tt.threaded {
					t.Errorf("threaded present = %v, want %v: %s", hasThreaded, tt.threaded, d)
				}
				ts := d.Lookup("currentOpTime").StringValue()
				colon := regexp.MustCompile(`[+-]\d\d:\d\d$`).MatchString(ts)
				if colon != tt.opTimeColon {
					t.Errorf("currentOpTime %q: offset with colon = %v, want %v", ts, colon, tt.opTimeColon)
				}
				if d.Lookup("clientMetadata").Type == 0 {
					continue // a connection still in its handshake
				}
				if app, _ := d.Lookup("appName").StringValueOK(); app != "hs-test" {
					t.Errorf("appName = %q, want hs-test", app)
				}
			}
		})
	}
}

func TestAwaitableHelloDoesNotBusyLoop(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil) // heartbeat 500 ms
	if err := cl.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	// The streaming monitor gets one reply per 500 ms and the RTT monitor sends one hello per
	// 500 ms, so at most two replies come in each 500 ms after the first two: eight replies
	// take at least 500 ms even with a few handshake hellos among them (a busy loop sends
	// thousands at once). A slow machine only makes them take longer.
	const want = 8
	start, began := s.hellos.Load(), time.Now()
	waitFor(t, "hello replies", func() bool { return s.hellos.Load()-start >= want })
	if el := time.Since(began); el < 500*time.Millisecond {
		t.Fatalf("%d hello replies in %v with a 500 ms heartbeat: the awaitable hello does not wait", s.hellos.Load()-start, el)
	}
	// The parked hello shows as an active command op, and serverStatus counts it (between two
	// streamed replies it is briefly not parked: look again).
	waitFor(t, "awaitingTopologyChanges >= 1 in serverStatus", func() bool {
		ss, err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "serverStatus", Value: 1}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		return ss.Lookup("connections", "awaitingTopologyChanges").Int32() >= 1
	})
	waitFor(t, "an awaitable hello op (op command, ns admin.$cmd) in $currentOp", func() bool {
		for _, d := range currentOp(t, cl, bson.D{}) {
			if _, ok := d.Lookup("command", "topologyVersion").DocumentOK(); ok &&
				str(d, "ns") == "admin.$cmd" && d.Lookup("op").StringValue() == "command" {
				return true
			}
		}
		return false
	})
}

func TestCurrentOpOwnAggregate(t *testing.T) {
	s := startServer(t, Options{})
	var mu sync.Mutex
	var aggConn int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "aggregate" && e.ServerConnectionID != nil {
			mu.Lock()
			aggConn = *e.ServerConnectionID
			mu.Unlock()
		}
	}}
	cl := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetAppName("self-test").SetMonitor(mon) })
	docs := currentOp(t, cl, bson.D{})
	var own bson.Raw
	for _, d := range docs {
		if str(d, "ns") == "admin.$cmd.aggregate" {
			own = d
		}
	}
	if own == nil {
		t.Fatalf("own aggregate missing from %d docs", len(docs))
	}
	mu.Lock()
	wantConn := aggConn
	mu.Unlock()
	types := map[string]bson.Type{
		"type": bson.TypeString, "host": bson.TypeString, "desc": bson.TypeString,
		"connectionId": bson.TypeInt32, "client": bson.TypeString, "appName": bson.TypeString,
		"clientMetadata": bson.TypeEmbeddedDocument, "active": bson.TypeBoolean,
		"currentOpTime": bson.TypeString, "threaded": bson.TypeBoolean, "opid": bson.TypeInt32,
		"lsid": bson.TypeEmbeddedDocument, "secs_running": bson.TypeInt64,
		"microsecs_running": bson.TypeInt64, "op": bson.TypeString, "ns": bson.TypeString,
		"command": bson.TypeEmbeddedDocument, "numYields": bson.TypeInt32,
		"locks": bson.TypeEmbeddedDocument, "waitingForLock": bson.TypeBoolean,
		"lockStats": bson.TypeEmbeddedDocument, "waitingForFlowControl": bson.TypeBoolean,
		"flowControlStats": bson.TypeEmbeddedDocument,
	}
	for k, want := range types {
		if got := own.Lookup(k).Type; got != want {
			t.Errorf("%s: BSON type %v, want %v", k, got, want)
		}
	}
	for _, absent := range []string{"planSummary", "killPending", "effectiveUsers", "msg", "progress"} {
		if own.Lookup(absent).Type != 0 {
			t.Errorf("%s present, want absent: %s", absent, own)
		}
	}
	if got := int64(own.Lookup("connectionId").Int32()); got != wantConn {
		t.Errorf("connectionId = %d, want the driver's ServerConnectionID %d", got, wantConn)
	}
	if got, want := own.Lookup("desc").StringValue(), fmt.Sprintf("conn%d", wantConn); got != want {
		t.Errorf("desc = %q, want %q", got, want)
	}
	if !strings.HasPrefix(own.Lookup("client").StringValue(), "127.0.0.1:") {
		t.Errorf("client = %q, want the real loopback peer", own.Lookup("client").StringValue())
	}
	if own.Lookup("host").StringValue() != "localhost:"+s.Addr()[strings.LastIndex(s.Addr(), ":")+1:] {
		t.Errorf("host = %q", own.Lookup("host").StringValue())
	}
	if got := own.Lookup("clientMetadata", "application", "name").StringValue(); got != "self-test" {
		t.Errorf("clientMetadata.application.name = %q", got)
	}
	if _, ok := own.Lookup("command", "pipeline").ArrayOK(); !ok {
		t.Errorf("command has no pipeline: %s", own)
	}
	if sub, uid, _ := own.Lookup("lsid", "uid").BinaryOK(); sub != 0 || len(uid) != 32 {
		t.Errorf("lsid.uid = subtype %d len %d, want BinData(0, 32 bytes)", sub, len(uid))
	}
	// Idle connections have no op fields at all.
	for _, d := range currentOp(t, cl, bson.D{{Key: "idleConnections", Value: true}}) {
		if active, _ := d.Lookup("active").BooleanOK(); active {
			continue
		}
		for _, k := range []string{"opid", "op", "ns", "command", "secs_running", "locks"} {
			if d.Lookup(k).Type != 0 {
				t.Errorf("idle connection has %s: %s", k, d)
			}
		}
	}
}

// runHeld runs a held find in the background and returns its error channel.
func runHeld(cl *mongo.Client, coll string, sim bson.D) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		c, err := cl.Database("shop").Collection(coll).Find(ctx, bson.D{{Key: "status", Value: "pending"}},
			options.Find().SetComment(bson.D{{Key: "sim", Value: sim}}))
		if err == nil {
			c.Close(ctx)
		}
		done <- err
	}()
	return done
}

// waitOp polls $currentOp until an op that match accepts shows up.
func waitOp(t *testing.T, cl *mongo.Client, opts bson.D, match func(bson.Raw) bool) bson.Raw {
	t.Helper()
	var found bson.Raw
	waitFor(t, "the operation in $currentOp", func() bool {
		for _, d := range currentOp(t, cl, opts) {
			if match(d) {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

func nsIs(ns string) func(bson.Raw) bool {
	return func(d bson.Raw) bool { return str(d, "ns") == ns }
}

func TestHeldOpVisibleAndKilled(t *testing.T) {
	s := startServer(t, Options{})
	app := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetAppName("orders-api") })
	mon := connect(t, s.URI(), nil)
	// Held far longer than the test needs: the kill ends it, never the clock.
	done := runHeld(app, "orders", bson.D{{Key: "holdMS", Value: 600000}, {Key: "planSummary", Value: "COLLSCAN"}})
	first := waitOp(t, mon, bson.D{}, nsIs("shop.orders"))
	time.Sleep(60 * time.Millisecond)
	second := waitOp(t, mon, bson.D{}, nsIs("shop.orders"))

	if got := first.Lookup("op").StringValue(); got != "query" {
		t.Errorf("op = %q, want query", got)
	}
	if got := first.Lookup("planSummary").StringValue(); got != "COLLSCAN" {
		t.Errorf("planSummary = %q", got)
	}
	if got := first.Lookup("appName").StringValue(); got != "orders-api" {
		t.Errorf("appName = %q", got)
	}
	if _, ok := first.Lookup("command", "comment", "sim").DocumentOK(); !ok {
		t.Errorf("command lacks the comment: %s", first)
	}
	if first.Lookup("queryShapeHash").Type != bson.TypeString || first.Lookup("queryFramework").StringValue() != "classic" {
		t.Errorf("8.0 query op lacks queryShapeHash/queryFramework: %s", first)
	}
	us1, us2 := first.Lookup("microsecs_running").Int64(), second.Lookup("microsecs_running").Int64()
	if us2-us1 < 50_000 {
		t.Errorf("microsecs_running went %d → %d over 60 ms; want real running time", us1, us2)
	}
	if y1, y2 := first.Lookup("numYields").Int32(), second.Lookup("numYields").Int32(); y2 <= y1 {
		t.Errorf("numYields did not grow: %d → %d", y1, y2)
	}
	if second.Lookup("opid").Int32() != first.Lookup("opid").Int32() {
		t.Errorf("opid changed while held")
	}

	opid := first.Lookup("opid").Int32()
	res, err := mon.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: opid}}).Raw()
	if err != nil {
		t.Fatalf("killOp: %v", err)
	}
	if res.Lookup("info").StringValue() != "attempting to kill op" {
		t.Errorf("killOp reply = %s", res)
	}
	// killPending is visible until the op reaches its interrupt point.
	for _, d := range currentOp(t, mon, bson.D{}) {
		if str(d, "ns") == "shop.orders" {
			if kp, _ := d.Lookup("killPending").BooleanOK(); !kp {
				t.Errorf("killed op without killPending: %s", d)
			}
		}
	}
	select {
	case err := <-done:
		if code := commandCode(err); code != 11601 {
			t.Fatalf("held find ended with %v (code %d), want 11601 Interrupted", err, code)
		}
	case <-time.After(guard):
		t.Fatal("killed op did not end")
	}
	for _, d := range currentOp(t, mon, bson.D{}) {
		if str(d, "ns") == "shop.orders" {
			t.Errorf("killed op still listed: %s", d)
		}
	}
}

func TestHeldOpEndsNormally(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil)
	start := time.Now()
	err := <-runHeld(cl, "orders", bson.D{{Key: "holdMS", Value: 150}})
	if err != nil {
		t.Fatalf("held find: %v", err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("held find replied after %v, want >= 150ms", el)
	}
}

func TestHoldIndexBuildAndLockWait(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil)
	mon := connect(t, s.URI(), nil)
	go func() {
		ctx := t.Context() // the ops are held until the test ends
		_ = cl.Database("shop").RunCommand(ctx, bson.D{
			{Key: "createIndexes", Value: "orders"},
			{Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: "status", Value: 1}}}, {Key: "name", Value: "status_1"}}}},
			{Key: "comment", Value: bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: 600000}, {Key: "msg", Value: "Index Build: scanning collection"}, {Key: "progressTotal", Value: 15116380}}}}},
		}).Err()
	}()
	go func() {
		ctx := t.Context() // the ops are held until the test ends
		_, _ = cl.Database("shop").Collection("stock").UpdateOne(ctx, bson.D{{Key: "sku", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}},
			options.UpdateOne().SetComment(bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: 600000}, {Key: "waitingForLock", Value: true}}}}))
	}()
	ib1 := waitOp(t, mon, bson.D{}, nsIs("shop.orders"))
	time.Sleep(100 * time.Millisecond)
	ib2 := waitOp(t, mon, bson.D{}, nsIs("shop.orders"))
	msgRe := regexp.MustCompile(`^Index Build: scanning collection Index Build: scanning collection: (\d+)/15116380 (\d+)%$`)
	if !msgRe.MatchString(ib1.Lookup("msg").StringValue()) {
		t.Errorf("msg = %q", ib1.Lookup("msg").StringValue())
	}
	d1, _ := ib1.Lookup("progress", "done").AsInt64OK()
	d2, _ := ib2.Lookup("progress", "done").AsInt64OK()
	if total, _ := ib2.Lookup("progress", "total").AsInt64OK(); total != 15116380 || d2 <= d1 || d2 > total {
		t.Errorf("progress %d → %d of %d: want advancing", d1, d2, total)
	}
	if ib1.Lookup("op").StringValue() != "command" {
		t.Errorf("createIndexes op = %q", ib1.Lookup("op").StringValue())
	}
	upd := waitOp(t, mon, bson.D{}, nsIs("shop.stock"))
	if w, _ := upd.Lookup("waitingForLock").BooleanOK(); !w || upd.Lookup("op").StringValue() != "update" {
		t.Errorf("update waiting for lock: %s", upd)
	}
	// An update shows the statement it executes, as write_ops_exec sets it, not the command.
	if stmt, ok := upd.Lookup("command").DocumentOK(); !ok || !has(stmt, "q") || !has(stmt, "u") || !has(stmt, "upsert") ||
		!has(stmt, "comment") || has(stmt, "update") || has(stmt, "updates") {
		t.Errorf("update's command is not its statement {q, u, multi, upsert, comment}: %s", upd.Lookup("command"))
	}
	if upd.Lookup("numYields").Int32() != 0 {
		t.Errorf("an op waiting for a lock does not yield: %s", upd)
	}
}

func TestUnknownCommand(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil)
	for _, name := range []string{"listShards", "frobnicate"} {
		err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: name, Value: 1}}).Err()
		if code := commandCode(err); code != 59 {
			t.Errorf("%s: %v (code %d), want 59 CommandNotFound", name, err, code)
		}
		if err == nil || !strings.Contains(err.Error(), "no such command: '"+name+"'") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestServerStatusCounts(t *testing.T) {
	s := startServer(t, Options{Synthetic: 1000})
	cl := connect(t, s.URI(), nil)
	if err := cl.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	var ss bson.Raw
	real := withStableConns(t, s, func() {
		var err error
		if ss, err = cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "serverStatus", Value: 1}}).Raw(); err != nil {
			t.Fatal(err)
		}
	})
	_, synth := s.Connections()
	if synth != 1000 || real < 2 {
		t.Fatalf("Connections() = %d real, %d synthetic", real, synth)
	}
	conns := ss.Lookup("connections")
	for _, k := range []string{"current", "available", "totalCreated", "active", "awaitingTopologyChanges", "exhaustHello"} {
		if conns.Document().Lookup(k).Type != bson.TypeInt32 {
			t.Errorf("connections.%s is %v, want int32", k, conns.Document().Lookup(k).Type)
		}
	}
	if got := conns.Document().Lookup("current").Int32(); int(got) != real+synth {
		t.Errorf("connections.current = %d, want %d real + %d synthetic", got, real, synth)
	}
	if ss.Lookup("process").StringValue() != "mongod" || ss.Lookup("version").StringValue() != Profile80.Version {
		t.Errorf("process/version: %s", ss)
	}
	if ss.Lookup("localTime").Type != bson.TypeDateTime || ss.Lookup("uptime").Type != bson.TypeDouble {
		t.Errorf("localTime/uptime types: %s", ss)
	}

	// The same count from a server-side $group over $currentOp.
	group := bson.D{
		{Key: "_id", Value: "$clientMetadata.driver.name"},
		{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
		{Key: "apps", Value: bson.D{{Key: "$addToSet", Value: "$appName"}}},
	}
	var groups []bson.Raw
	real = withStableConns(t, s, func() {
		groups = currentOp(t, cl, bson.D{{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}},
			bson.D{{Key: "$match", Value: bson.D{{Key: "connectionId", Value: bson.D{{Key: "$exists", Value: true}}}}}},
			bson.D{{Key: "$group", Value: group}})
	})
	total := 0
	drivers := map[string][]string{}
	for _, g := range groups {
		n, _ := g.Lookup("n").AsInt64OK()
		total += int(n)
		vals, _ := g.Lookup("apps").Array().Values()
		for _, v := range vals {
			drivers[g.Lookup("_id").StringValue()] = append(drivers[g.Lookup("_id").StringValue()], v.StringValue())
		}
	}
	if total != real+synth {
		t.Errorf("$group total = %d, want %d", total, real+synth)
	}
	for _, d := range []string{"mongo-go-driver", "nodejs", "PyMongo", "mongo-java-driver|sync", "MongoDB Internal Client"} {
		if _, ok := drivers[d]; !ok {
			t.Errorf("no synthetic connections from driver %q (got %v)", d, drivers)
		}
	}
	if apps := drivers["MongoDB Internal Client"]; len(apps) != 1 || apps[0] != "MongoDB Shell" {
		t.Errorf("legacy shell apps = %v, want [MongoDB Shell]", apps)
	}
	var v6, testNet bool
	for _, d := range currentOp(t, cl, bson.D{{Key: "idleConnections", Value: true}}) {
		c := d.Lookup("client").StringValue()
		v6 = v6 || strings.HasPrefix(c, "[2001:db8:")
		testNet = testNet || strings.HasPrefix(c, "198.51.100.") || strings.HasPrefix(c, "203.0.113.")
	}
	if !v6 || !testNet {
		t.Errorf("synthetic clients: IPv6 seen %v, TEST-NET seen %v", v6, testNet)
	}
	s.AddSynthetic(50)
	if _, synth := s.Connections(); synth != 1050 {
		t.Errorf("after AddSynthetic(50): %d synthetic", synth)
	}
}

func TestCursorBatches(t *testing.T) {
	s := startServer(t, Options{Synthetic: 450})
	cl := connect(t, s.URI(), nil)
	var getMores int
	var mu sync.Mutex
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "getMore" {
			mu.Lock()
			getMores++
			mu.Unlock()
		}
	}}
	cl2 := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetMonitor(mon) })
	_ = cl.Ping(ctxT(t), nil)
	cur, err := cl2.Database("admin").Aggregate(ctxT(t), mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{{Key: "idleConnections", Value: true}}}}},
		options.Aggregate().SetBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ids := map[int32]bool{}
	for cur.Next(ctxT(t)) {
		n++
		if id, ok := cur.Current.Lookup("connectionId").Int32OK(); ok {
			if ids[id] {
				t.Errorf("connection %d listed twice", id)
			}
			ids[id] = true
		}
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	synthDocs := 0
	for id := range ids {
		if id > 0 && int(id) <= 450+10 && !s.isRealConn(id) {
			synthDocs++
		}
	}
	if synthDocs != 450 || n < 452 {
		t.Errorf("got %d docs (%d synthetic), want all 450 synthetic and the real connections", n, synthDocs)
	}
	mu.Lock()
	gm := getMores
	mu.Unlock()
	if gm < 4 {
		t.Errorf("%d getMores for %d docs at batchSize 100", gm, n)
	}
	// An unknown cursor is CursorNotFound (43).
	err = cl2.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "getMore", Value: int64(77)}, {Key: "collection", Value: "$cmd.aggregate"}}).Err()
	if commandCode(err) != 43 {
		t.Errorf("getMore on unknown cursor: %v", err)
	}
}

func TestCurrentOpOptionErrors(t *testing.T) {
	tests := []struct {
		name    string
		profile Profile
		db      string
		agg     any
		pipe    bson.A
		code    int32
		msg     string
	}{
		{"unknown option 7.0", Profile70, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "bogus", Value: true}}}}}, 9, "Unrecognized option 'bogus' in $currentOp stage."},
		{"unknown option 8.0", Profile80, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "bogus", Value: true}}}}}, 40415, "BSON field '$currentOp.bogus' is an unknown field."},
		{"non-bool 6.0", Profile60, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "idleConnections", Value: 1}}}}}, 9, "The 'idleConnections' parameter of the $currentOp stage must be a boolean value, but found: int"},
		{"non-bool 8.0", Profile80, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: "yes"}}}}}, 14, "BSON field '$currentOp.allUsers' is the wrong type 'string', expected type 'bool'"},
		{"backtrace gone in 8.0", Profile80, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "backtrace", Value: true}}}}}, 40415, ""},
		{"backtrace ok in 7.0", Profile70, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "backtrace", Value: true}}}}}, 0, ""},
		{"targetAllNodes on mongod", Profile80, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "targetAllNodes", Value: true}}}}}, 9, "$currentOp supports targetAllNodes parameter only for sharded clusters"},
		{"not an object", Profile80, "admin", 1, bson.A{bson.D{{Key: "$currentOp", Value: 1}}}, 9, "$currentOp options must be specified in an object, but found: int"},
		{"wrong db", Profile80, "shop", 1, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{}}}}, 73, "$currentOp must be run against the 'admin' database with {aggregate: 1}"},
		{"collection", Profile80, "admin", "orders", bson.A{bson.D{{Key: "$currentOp", Value: bson.D{}}}}, 73, ""},
		{"not first", Profile80, "admin", 1, bson.A{bson.D{{Key: "$match", Value: bson.D{}}}, bson.D{{Key: "$currentOp", Value: bson.D{}}}}, 40602, "$currentOp is only valid as the first stage in a pipeline."},
	}
	clients := map[Profile]*mongo.Client{}
	for _, p := range []Profile{Profile60, Profile70, Profile80} {
		clients[p] = connect(t, startServer(t, Options{Profile: p}).URI(), nil)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := clients[tt.profile]
			err := cl.Database(tt.db).RunCommand(ctxT(t), bson.D{{Key: "aggregate", Value: tt.agg}, {Key: "pipeline", Value: tt.pipe}, {Key: "cursor", Value: bson.D{}}}).Err()
			if code := commandCode(err); code != tt.code {
				t.Fatalf("code %d (%v), want %d", code, err, tt.code)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestDropRefuseDelay(t *testing.T) {
	s := startServer(t, Options{})
	// A polling monitor with a long heartbeat keeps its connection idle: only the next command
	// can learn of the drop. (A streaming monitor would see its own connection drop first and
	// clear the pool, and the command would then succeed on a new connection.)
	cl := connect(t, s.URI(), func(o *options.ClientOptions) {
		o.SetRetryReads(false).SetRetryWrites(false).
			SetServerMonitoringMode(options.ServerMonitoringModePoll).SetHeartbeatInterval(time.Hour)
	})
	if err := cl.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	var dropped []int32
	for id := range s.conns {
		dropped = append(dropped, id)
	}
	s.mu.Unlock()
	s.DropConnections()
	if err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "ping", Value: 1}}).Err(); err == nil {
		t.Error("command after DropConnections succeeded; want a network error")
	}
	waitFor(t, "every dropped connection to be gone", func() bool {
		return !slices.ContainsFunc(dropped, s.isRealConn)
	})

	s.RefuseConnections(true)
	fresh, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetServerSelectionTimeout(300 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Ping(ctxT(t), nil); err == nil {
		t.Error("Ping through a refusing server succeeded")
	}
	_ = fresh.Disconnect(ctxT(t))
	s.RefuseConnections(false)

	s.SetReplyDelay(200 * time.Millisecond)
	cl2 := connect(t, s.URI(), nil)
	if err := cl2.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cl2.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("ping with a 200ms reply delay took %v", el)
	}
	s.SetReplyDelay(0)
}

func TestSetNextOpID(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil)
	if err := cl.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	s.SetNextOpID(-7)
	done := runHeld(cl, "orders", bson.D{{Key: "holdMS", Value: 600000}}) // ended by the kill
	d := waitOp(t, cl, bson.D{}, nsIs("shop.orders"))
	if got := d.Lookup("opid").Int32(); got != -7 {
		t.Fatalf("opid = %d, want the forced -7", got)
	}
	// killOp with the unsigned 32-bit form maps back to the negative opid.
	if err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: int64(1<<32 - 7)}}).Err(); err != nil {
		t.Fatal(err)
	}
	if code := commandCode(<-done); code != 11601 {
		t.Errorf("held op ended with code %d, want 11601", code)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	s, err := Start(Options{ReplicaSet: "rs0"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetHeartbeatInterval(500 * time.Millisecond).
		SetRetryReads(false).SetServerSelectionTimeout(guard))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Ping(ctxT(t), nil); err != nil {
		t.Fatal(err)
	}
	done := runHeld(cl, "orders", bson.D{{Key: "holdMS", Value: 60000}})
	waitOp(t, cl, bson.D{}, nsIs("shop.orders"))
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("Close did not return: a connection goroutine is stuck")
	}
	if err := <-done; err == nil {
		t.Error("held op succeeded although the server closed")
	}
	// Disconnect would try to reach the closed server to end its sessions: not for long.
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = cl.Disconnect(dctx)
	if r, _ := s.Connections(); r != 0 {
		t.Errorf("%d connections after Close", r)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
