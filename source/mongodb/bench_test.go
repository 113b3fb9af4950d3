package mongodb

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

const (
	scaleIdle   = 20000 // synthetic idle connections
	scaleActive = 500   // real connections with a held operation each
)

// scaleDeployment starts a simulator with scaleIdle idle connections and scaleActive
// operations in flight, and a source on it.
func scaleDeployment(tb testing.TB) *Source {
	tb.Helper()
	srv := startSim(tb, mongod.Options{Synthetic: scaleIdle})
	c, err := mongo.Connect(options.Client().ApplyURI(srv.URI()).SetAppName("scale-app").
		SetMaxPoolSize(scaleActive + 10).SetMaxConnecting(64))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		_ = c.Disconnect(dctx)
	})
	for i := range scaleActive {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Database("shop").RunCommand(ctx, bson.D{
				{Key: "find", Value: "orders"},
				{Key: "filter", Value: bson.D{{Key: "customerId", Value: i}}},
				{Key: "comment", Value: bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: 600_000}, {Key: "planSummary", Value: "COLLSCAN"}}}}},
			}).Err()
		}()
	}
	// A generous timeout: under -race, beside other packages' tests, the simulator takes
	// seconds to render 20 000 documents. The budget is in bytes, not time.
	s, err := Open(context.Background(), Config{URI: srv.URI(), Timeout: 2 * time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	deadline := time.Now().Add(2 * time.Minute) // a bound on a failure, not a bet on speed
	for {
		snap, err := s.Snapshot(context.Background(), source.Query{Lean: true})
		if err != nil {
			tb.Fatal(err)
		}
		if len(snap.Sessions) >= scaleActive {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d operations in flight", len(snap.Sessions), scaleActive)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// naiveFetch is what a monitor without server-side work would do: every connection document.
func naiveFetch(s *Source) (int, error) {
	docs, err := s.aggregate(context.Background(), bson.A{bson.D{{Key: "$currentOp", Value: bson.D{
		{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true},
	}}}})
	return len(docs), err
}

// received runs f and returns the bytes the source's sockets received meanwhile.
func received(s *Source, f func()) int64 {
	before := s.dial.bytesIn.Load()
	f()
	return s.dial.bytesIn.Load() - before
}

// BenchmarkRefresh compares one refresh of the live view (lean sessions $match + $project,
// clients $group, serverStatus), one of --once (whole documents) and the naive fetch of every
// connection document, against 20 000 idle connections and 500 operations in flight.
func BenchmarkRefresh(b *testing.B) {
	s := scaleDeployment(b)
	for _, bc := range []struct {
		name string
		q    source.Query
	}{{"lean", source.Query{Lean: true}}, {"whole", source.Query{}}} {
		b.Run(bc.name, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				bytes += received(s, func() {
					if _, err := s.Snapshot(context.Background(), bc.q); err != nil {
						b.Fatal(err)
					}
				})
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
		})
	}
	b.Run("naive", func(b *testing.B) {
		var bytes int64
		for b.Loop() {
			bytes += received(s, func() {
				if _, err := naiveFetch(s); err != nil {
					b.Fatal(err)
				}
			})
		}
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
	})
}

// The performance budget: a refresh of the live view receives at most 2% of the naive
// fetch's bytes, with every operation listed (bytes, not time: deterministic enough for a
// test, and it runs in the default suite).
func TestRefreshBytesBudget(t *testing.T) {
	s := scaleDeployment(t)
	var snap *source.Snapshot
	def := received(s, func() {
		var err error
		if snap, err = s.Snapshot(context.Background(), source.Query{Lean: true}); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	naive := received(s, func() {
		var err error
		if n, err = naiveFetch(s); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("lean refresh %d bytes (%d sessions, %d clients); naive fetch %d bytes (%d documents): %.2f%%",
		def, len(snap.Sessions), len(snap.Clients), naive, n, 100*float64(def)/float64(naive))
	if n < scaleIdle+scaleActive {
		t.Errorf("naive fetch saw %d documents", n)
	}
	if len(snap.Sessions) < scaleActive || snap.Partial {
		t.Errorf("the refresh lists %d sessions (partial %v, %q); want every one of the %d operations", len(snap.Sessions), snap.Partial, snap.Warnings, scaleActive)
	}
	if def*50 > naive {
		t.Errorf("the refresh received %d bytes, more than 2%% of the naive %d", def, naive)
	}
}
