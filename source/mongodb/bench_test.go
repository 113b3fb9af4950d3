package mongodb

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/sim/mongod"
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
	s := openSource(tb, srv.URI())
	deadline := time.Now().Add(30 * time.Second)
	for {
		snap, err := s.Snapshot(context.Background(), source.Query{})
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

// BenchmarkRefresh compares one default refresh (sessions $match + clients $group +
// serverStatus) with the naive fetch of every connection document, against 20 000 idle
// connections and 500 operations in flight.
func BenchmarkRefresh(b *testing.B) {
	s := scaleDeployment(b)
	b.Run("default", func(b *testing.B) {
		var bytes int64
		for b.Loop() {
			bytes += received(s, func() {
				if _, err := s.Snapshot(context.Background(), source.Query{}); err != nil {
					b.Fatal(err)
				}
			})
		}
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
	})
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

// The performance budget: a default refresh receives at most 10% of the naive fetch's bytes
// (bytes, not time: deterministic enough for a test).
func TestRefreshBytesBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	s := scaleDeployment(t)
	var snap *source.Snapshot
	def := received(s, func() {
		var err error
		if snap, err = s.Snapshot(context.Background(), source.Query{}); err != nil {
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
	t.Logf("default refresh %d bytes (%d sessions, %d clients); naive fetch %d bytes (%d documents): %.1f%%",
		def, len(snap.Sessions), len(snap.Clients), naive, n, 100*float64(def)/float64(naive))
	if n < scaleIdle+scaleActive {
		t.Errorf("naive fetch saw %d documents", n)
	}
	if def*10 > naive {
		t.Errorf("default refresh received %d bytes, more than 10%% of the naive %d", def, naive)
	}
}
