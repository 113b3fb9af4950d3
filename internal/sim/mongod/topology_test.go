package mongod

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestReplicaSetInternalActivity(t *testing.T) {
	s := startServer(t, Options{ReplicaSet: "rs0", Profile: Profile70})
	cl := connect(t, s.URI(), nil)
	ctx := ctxT(t)
	hello, err := cl.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if hello.Lookup("setName").StringValue() != "rs0" || hello.Lookup("me").StringValue() != s.hostPort || hello.Lookup("primary").StringValue() != s.hostPort {
		t.Errorf("hello lacks replica-set fields: %s", hello)
	}
	var journal, peerIdle, oplog bson.Raw
	for _, d := range currentOp(t, cl, bson.D{{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}}) {
		switch {
		case str(d, "desc") == "JournalFlusher":
			journal = d
		case str(d, "ns") == "local.oplog.rs":
			oplog = d
		case str(d, "clientMetadata", "driver", "name") == "NetworkInterfaceTL":
			peerIdle = d
		}
	}
	if journal == nil || oplog == nil || peerIdle == nil {
		t.Fatalf("internal activity missing: journal %v, oplog %v, idle peer %v", journal != nil, oplog != nil, peerIdle != nil)
	}
	for _, k := range []string{"connectionId", "client", "clientMetadata"} {
		if journal.Lookup(k).Type != 0 {
			t.Errorf("internal thread has %s: %s", k, journal)
		}
	}
	if journal.Lookup("op").StringValue() != "none" || journal.Lookup("opid").Type != bson.TypeInt32 || journal.Lookup("admissionPriority").StringValue() != "low" {
		t.Errorf("JournalFlusher: %s", journal)
	}
	if oplog.Lookup("op").StringValue() != "getmore" || oplog.Lookup("effectiveUsers", "0", "user").StringValue() != "__system" {
		t.Errorf("oplog getmore: %s", oplog)
	}
	if tail, _ := oplog.Lookup("cursor", "tailable").BooleanOK(); !tail {
		t.Errorf("oplog cursor not tailable: %s", oplog)
	}
	if oplog.Lookup("cursor", "cursorId").Type != bson.TypeInt64 || oplog.Lookup("secs_running").Type != bson.TypeInt64 {
		t.Errorf("oplog getmore types: %s", oplog)
	}
	// Idle internal work only shows with idleConnections.
	for _, d := range currentOp(t, cl, bson.D{{Key: "allUsers", Value: true}}) {
		if a, _ := d.Lookup("active").BooleanOK(); !a {
			t.Errorf("inactive doc without idleConnections: %s", d)
		}
	}
	// Compare with a stable real-connection count (the driver may still be opening one).
	var ss bson.Raw
	real := withStableConns(t, s, func() {
		var err error
		if ss, err = cl.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Raw(); err != nil {
			t.Fatal(err)
		}
	})
	if got := ss.Lookup("connections", "current").Int32(); int(got) != real+4 {
		t.Errorf("connections.current = %d, want %d real + 4 peer connections", got, real)
	}
	if ss.Lookup("repl", "setName").StringValue() != "rs0" {
		t.Errorf("serverStatus.repl: %s", ss.Lookup("repl"))
	}
}

func TestMongos(t *testing.T) {
	s := startServer(t, Options{Mongos: true, Shards: []string{"shardA", "shardB"}})
	app := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetAppName("orders-api") })
	mon := connect(t, s.URI(), nil)
	ctx := ctxT(t)
	hello, err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if hello.Lookup("msg").StringValue() != "isdbgrid" {
		t.Errorf("mongos hello without msg isdbgrid: %s", hello)
	}
	ss, err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Raw()
	if err != nil || ss.Lookup("process").StringValue() != "mongos" {
		t.Errorf("serverStatus.process: %v %s", err, ss)
	}

	done := runHeld(app, "orders", bson.D{{Key: "holdMS", Value: 600000}, {Key: "planSummary", Value: "IXSCAN { customerId: 1 }"}})
	d := waitOp(t, mon, bson.D{{Key: "allUsers", Value: true}}, nsIs("shop.orders"))
	first, _ := d.IndexErr(0)
	if first.Key() != "shard" {
		t.Errorf("first field %q, want shard", first.Key())
	}
	shard := d.Lookup("shard").StringValue()
	opid, ok := d.Lookup("opid").StringValueOK()
	if !ok || !strings.HasPrefix(opid, shard+":") {
		t.Errorf("opid = %v, want \"%s:N\"", d.Lookup("opid"), shard)
	}
	if d.Lookup("client").Type != 0 || d.Lookup("client_s").Type != bson.TypeString {
		t.Errorf("client/client_s: %s", d)
	}
	if c := d.Lookup("clientMetadata", "mongos", "client").StringValue(); !strings.HasPrefix(c, "127.0.0.1:") {
		t.Errorf("clientMetadata.mongos.client = %q, want the app's address", c)
	}
	if d.Lookup("clientMetadata", "mongos", "host").StringValue() != s.hostPort {
		t.Errorf("clientMetadata.mongos.host: %s", d.Lookup("clientMetadata"))
	}
	if d.Lookup("runBy", "0", "user").StringValue() != "__system" {
		t.Errorf("runBy: %s", d)
	}

	// localOps lists the mongos's own client connections the mongod way.
	var local bson.Raw
	for _, ld := range currentOp(t, mon, bson.D{{Key: "allUsers", Value: true}, {Key: "localOps", Value: true}}) {
		if str(ld, "ns") == "shop.orders" {
			local = ld
		}
	}
	if local == nil || local.Lookup("shard").Type != 0 || local.Lookup("opid").Type != bson.TypeInt32 || local.Lookup("client").Type != bson.TypeString {
		t.Errorf("localOps doc: %s", local)
	}

	for _, bad := range []string{"shardA", "shardA:x", ":12"} {
		err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: bad}}).Err()
		if commandCode(err) != 28625 {
			t.Errorf("killOp %q: %v, want 28625", bad, err)
		}
	}
	res, err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: opid}}).Raw()
	if err != nil {
		t.Fatalf("killOp %q: %v", opid, err)
	}
	if res.Lookup("shard").StringValue() != shard {
		t.Errorf("killOp reply: %s", res)
	}
	if code := commandCode(<-done); code != 11601 {
		t.Errorf("killed op ended with code %d, want 11601", code)
	}
	_, err = mon.Database("admin").Aggregate(ctx, mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{{Key: "localOps", Value: true}, {Key: "targetAllNodes", Value: true}}}}})
	if commandCode(err) != 9 {
		t.Errorf("localOps+targetAllNodes: %v, want 9", err)
	}
}

func TestMongosNeedsInprog(t *testing.T) {
	s := startServer(t, Options{Mongos: true, Users: testUsers})
	app := connect(t, userURI(s, "app", "app-secret"), nil)
	_, err := app.Database("admin").Aggregate(ctxT(t), mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{}}}})
	if commandCode(err) != 13 {
		t.Errorf("$currentOp on mongos without inprog: %v, want 13", err)
	}
}
