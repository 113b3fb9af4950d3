package mongod

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

func startCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	cl, err := StartCluster(opts)
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// owner is the shard replica set that owns ns.
func (cl *Cluster) owner(ns string) (string, *ReplicaSet) {
	k := cl.shardIndex(ns)
	return cl.names[k], cl.ShardFor(ns)
}

func TestClusterListShardsAndHello(t *testing.T) {
	cl := startCluster(t, ClusterOptions{Shards: 3, Members: 2})
	mon := connect(t, cl.URI(), nil)
	if h := hello(t, mon); h.Lookup("msg").StringValue() != "isdbgrid" {
		t.Errorf("mongos hello: %s", h)
	}
	res, err := mon.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "listShards", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := res.Lookup("shards").Array().Values()
	if len(vals) != 3 {
		t.Fatalf("listShards: %s", res)
	}
	for k, v := range vals {
		rs := cl.Shards()[k]
		want := rs.Name() + "/" + rs.Members()[0].Addr() + "," + rs.Members()[1].Addr()
		if got := v.Document().Lookup("host").StringValue(); got != want || v.Document().Lookup("_id").StringValue() != rs.Name() {
			t.Errorf("shard %d: %s, want host %s", k, v, want)
		}
	}
	sm, err := mon.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "getShardMap", Value: 1}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if got := str(sm, "map", "shard02"); got != str(vals[1].Document(), "host") {
		t.Errorf("getShardMap map.shard02 = %q", got)
	}
	if cl.Shards()[0].Name() != "shard01" {
		t.Errorf("first shard %q", cl.Shards()[0].Name())
	}
}

// A routed operation is a real operation of the owning shard's primary, with the mongos as
// its client; mongos's $currentOp shows it as "shard:opid" and killOp through mongos ends it.
func TestClusterRoutesAndFansOut(t *testing.T) {
	users := []User{{Name: "mon", Password: "p", Roles: []string{"clusterMonitor", "hostManager"}}, {Name: "app", Password: "p", Roles: []string{"readWrite"}}}
	cl := startCluster(t, ClusterOptions{Shards: 2, Members: 3, Users: users})
	app := connect(t, "mongodb://app:p@"+cl.Mongos().Addr()+"/", func(o *options.ClientOptions) { o.SetAppName("orders-api") })
	mon := connect(t, "mongodb://mon:p@"+cl.Mongos().Addr()+"/", nil)
	name, rs := cl.owner("shop.orders")
	shardMon := connect(t, "mongodb://mon:p@"+rs.Primary().Addr()+"/?directConnection=true", nil)

	done := runHeld(app, "orders", bson.D{{Key: "holdMS", Value: 600000}, {Key: "planSummary", Value: "COLLSCAN"}})
	onShard := waitOp(t, shardMon, bson.D{{Key: "allUsers", Value: true}}, nsIs("shop.orders"))
	if onShard.Lookup("appName").StringValue() != "orders-api" || onShard.Lookup("runBy", "0", "user").StringValue() != "__system" ||
		onShard.Lookup("effectiveUsers", "0", "user").StringValue() != "app" {
		t.Errorf("shard-side op: %s", onShard)
	}
	if c := str(onShard, "clientMetadata", "mongos", "client"); !strings.HasPrefix(c, "127.0.0.1:") || str(onShard, "clientMetadata", "mongos", "host") != cl.Mongos().hostPort {
		t.Errorf("clientMetadata.mongos: %s", onShard.Lookup("clientMetadata"))
	}
	opid := onShard.Lookup("opid").Int32()

	viaMongos := waitOp(t, mon, bson.D{{Key: "allUsers", Value: true}}, nsIs("shop.orders"))
	first, _ := viaMongos.IndexErr(0)
	want := name + ":" + itoa(opid)
	if first.Key() != "shard" || str(viaMongos, "shard") != name || str(viaMongos, "opid") != want {
		t.Errorf("mongos doc: shard %q first %q opid %v, want %s", str(viaMongos, "shard"), first.Key(), viaMongos.Lookup("opid"), want)
	}
	if viaMongos.Lookup("client").Type != 0 || str(viaMongos, "client_s") != str(onShard, "client") || str(viaMongos, "host") != rs.Primary().Addr() {
		t.Errorf("mongos doc client_s/host: %s", viaMongos)
	}
	// Other shards' internal work shows too, prefixed with their names.
	shards := map[string]bool{}
	for _, d := range currentOp(t, mon, bson.D{{Key: "allUsers", Value: true}}) {
		shards[str(d, "shard")] = true
	}
	if !shards["shard01"] || !shards["shard02"] {
		t.Errorf("fan-out reached %v", shards)
	}
	// targetAllNodes asks every data-bearing member, secondaries included.
	hosts := map[string]bool{}
	for _, d := range currentOp(t, mon, bson.D{{Key: "allUsers", Value: true}, {Key: "targetAllNodes", Value: true}}) {
		if str(d, "shard") == name {
			hosts[str(d, "host")] = true
		}
	}
	for _, m := range rs.Members() {
		if !hosts[m.Addr()] {
			t.Errorf("targetAllNodes did not reach %s: %v", m.Addr(), hosts)
		}
	}
	if _, err := mon.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: want}}).Raw(); err != nil {
		t.Fatal(err)
	}
	if code := commandCode(<-done); code != 11601 {
		t.Errorf("killed routed op ended with %d, want 11601", code)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestClusterWritesReadsAndFailover(t *testing.T) {
	cl := startCluster(t, ClusterOptions{Shards: 2, Members: 3})
	app := connect(t, cl.URI(), nil)
	ctx := ctxT(t)
	_, rs := cl.owner("shop.orders")
	if err := insertOne(ctx, app); err != nil {
		t.Fatal(err)
	}
	if rs.Primary().counters.insert.Load() != 1 {
		t.Errorf("insert did not reach the owning shard's primary")
	}
	// A secondary read lands on a secondary of the owning shard.
	sec := connect(t, cl.URI(), func(o *options.ClientOptions) { o.SetReadPreference(readpref.Secondary()) })
	runHeld(sec, "orders", bson.D{{Key: "holdMS", Value: 600000}, {Key: "planSummary", Value: "IXSCAN { x: 1 }"}})
	waitFor(t, "the secondary read on a secondary", func() bool {
		for _, m := range rs.Members()[1:] {
			for _, d := range currentOp(t, directClient(t, m), bson.D{{Key: "allUsers", Value: true}}) {
				if str(d, "planSummary") == "IXSCAN { x: 1 }" {
					return true
				}
			}
		}
		return false
	})
	// A transaction commits through the mongos.
	err := app.UseSession(ctx, func(sc context.Context) error {
		sess := mongo.SessionFromContext(sc)
		if err := sess.StartTransaction(); err != nil {
			return err
		}
		if err := insertOne(sc, app); err != nil {
			return err
		}
		return sess.CommitTransaction(sc)
	})
	if err != nil {
		t.Errorf("transaction through mongos: %v", err)
	}
	// The owning shard's primary goes down: the next member takes over and writes follow.
	old := rs.Primary()
	rs.Stop(0)
	if rs.Primary() == old || rs.Primary() == nil {
		t.Fatalf("no new primary")
	}
	waitFor(t, "a write after the shard's failover", func() bool { return insertOne(ctx, app) == nil })
	if rs.Primary().counters.insert.Load() == 0 {
		t.Errorf("write did not reach the new primary")
	}
}
