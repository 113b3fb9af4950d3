package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// guard only turns a hang into a failure; nothing here bets on the machine's speed.
const guard = 60 * time.Second

func startDemo(t *testing.T, c Config) *Demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := Start(ctx, c)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitApps polls the $currentOp of members (as the demo's monitor user) until want reports
// true for the applications with collection operations in flight on any of them.
func waitApps(t *testing.T, members []*mongod.Server, what string, want func(map[string]bool) bool) {
	t.Helper()
	var clients []*mongo.Client
	for _, s := range members {
		uri := "mongodb://" + monitorUser + ":" + MonitorPassword + "@" + s.Addr() + "/?directConnection=true"
		cl, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(10 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Disconnect(context.Background())
		clients = append(clients, cl)
	}
	deadline := time.Now().Add(guard)
	for {
		apps := map[string]bool{}
		for _, cl := range clients {
			collectApps(cl, apps)
		}
		if want(apps) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after %v", what, apps, guard)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collectApps adds the applications with collection operations in $currentOp to apps.
func collectApps(cl *mongo.Client, apps map[string]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cur, err := cl.Database("admin").Aggregate(ctx, mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}}}}})
	if err != nil {
		return
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		a, _ := cur.Current.Lookup("appName").StringValueOK()
		ns, _ := cur.Current.Lookup("ns").StringValueOK()
		if a != "" && !strings.HasSuffix(ns, ".$cmd") { // not the drivers' awaitable hellos
			apps[a] = true
		}
	}
}

func TestReplsetDemoReadsOnSecondaries(t *testing.T) {
	d := startDemo(t, Config{Topology: "replset", Timeout: 5 * time.Second})
	m := d.rs.Members()
	if len(m) != 3 || d.rs.Primary() != m[0] {
		t.Fatalf("replica set: %d members", len(m))
	}
	waitApps(t, m[:1], "the applications on the primary", func(a map[string]bool) bool { return a["orders-api"] && a["billing-worker"] })
	waitApps(t, m[1:], "secondary reads on the secondaries", func(a map[string]bool) bool { return a["analytics-etl"] && !a["orders-api"] })
}

func TestShardedDemoSpreadsOverShards(t *testing.T) {
	d := startDemo(t, Config{Topology: "sharded", Timeout: 5 * time.Second})
	shards := d.cluster.Shards()
	if len(shards) != 2 {
		t.Fatalf("%d shards", len(shards))
	}
	waitApps(t, []*mongod.Server{d.cluster.ShardFor("shop.orders").Primary()}, "shop's shard", func(a map[string]bool) bool { return a["orders-api"] })
	waitApps(t, []*mongod.Server{d.cluster.ShardFor("billing.invoices").Primary()}, "billing's shard", func(a map[string]bool) bool { return a["billing-worker"] })
}

func TestToggleMember(t *testing.T) {
	rs, err := mongod.StartReplicaSet(mongod.ReplicaSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if up := toggleMember(rs, true); up {
		t.Fatal("member still up after the first toggle")
	}
	if rs.Primary() != rs.Members()[0] {
		t.Errorf("stopping a secondary moved the primary")
	}
	if up := toggleMember(rs, false); !up {
		t.Fatal("member not back after the second toggle")
	}
}

func TestUnknownTopology(t *testing.T) {
	if _, err := Start(context.Background(), Config{Topology: "mesh"}); err == nil {
		t.Fatal("Start accepted topology mesh")
	}
}
