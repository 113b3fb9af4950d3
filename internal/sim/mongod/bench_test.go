package mongod

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// holdOps keeps n held finds in flight on real connections until the server closes.
func holdOps(b *testing.B, s *Server, n int) {
	b.Helper()
	cl, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetMaxPoolSize(uint64(n + 10)).
		SetRetryReads(false).SetServerSelectionTimeout(time.Second).SetAppName("bench-workload"))
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			_, _ = cl.Database("shop").Collection("orders").Find(ctx, bson.D{{Key: "status", Value: "pending"}},
				options.Find().SetComment(bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: 300000}, {Key: "planSummary", Value: "COLLSCAN"}}}}))
		}()
	}
	b.Cleanup(func() {
		s.Close() // ends the held ops
		wg.Wait()
		_ = cl.Disconnect(context.Background())
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		active := 0
		for _, c := range s.conns {
			if c.op != nil && c.op.hold != nil {
				active++
			}
		}
		s.mu.Unlock()
		if active == n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("held ops did not all start")
}

// BenchmarkCurrentOp20k runs $currentOp against 20 000 synthetic idle connections and 500
// held operations: a per-client $group (what a monitor's clients pane sends), the active ops
// only, and the naive fetch of every connection document.
func BenchmarkCurrentOp20k(b *testing.B) {
	s, err := Start(Options{Synthetic: 20000})
	if err != nil {
		b.Fatal(err)
	}
	holdOps(b, s, 500)
	cl, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Disconnect(context.Background())
	group := bson.D{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$split", Value: bson.A{"$client", ":"}}}, 0}}}},
		{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
		{Key: "active", Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$cond", Value: bson.A{"$active", 1, 0}}}}}},
		{Key: "apps", Value: bson.D{{Key: "$addToSet", Value: "$appName"}}},
		{Key: "drivers", Value: bson.D{{Key: "$addToSet", Value: "$clientMetadata.driver.name"}}},
	}}}
	run := func(b *testing.B, pipe mongo.Pipeline, wantMin int) {
		b.ReportAllocs()
		for b.Loop() {
			cur, err := cl.Database("admin").Aggregate(context.Background(), pipe, options.Aggregate().SetBatchSize(5000))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for cur.Next(context.Background()) {
				n++
			}
			if err := cur.Err(); err != nil {
				b.Fatal(err)
			}
			if n < wantMin {
				b.Fatalf("%d documents, want >= %d", n, wantMin)
			}
		}
	}
	all := bson.D{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}}}}
	b.Run("group-by-client", func(b *testing.B) { run(b, mongo.Pipeline{all, group}, 100) })
	b.Run("active-only", func(b *testing.B) {
		run(b, mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}}}}}, 500)
	})
	b.Run("naive-all", func(b *testing.B) { run(b, mongo.Pipeline{all}, 20500) })
}
