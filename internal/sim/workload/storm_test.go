package workload

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/mongodb"
)

// TestStormIsDetected: the workload's burst, read by the direct source as the live view reads
// it, is a storm for source.Churn from its client address; its connections are real (listed
// per client, counted in totalCreated).
func TestStormIsDetected(t *testing.T) {
	srv, err := mongod.Start(mongod.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx := context.Background()
	src, err := mongodb.Open(ctx, mongodb.Config{URI: srv.URI()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	first, err := src.Snapshot(ctx, source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	// The ramp outlasts any wait below: the test ends when the storm is seen.
	storm := Storm{Ramp: 2 * guard, Rate: 20, IP: "127.0.0.7"}
	w, err := Start(ctx, Options{URI: srv.URI(), Seed: 3, Storm: &storm})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	wantIP := "127.0.0.7"
	if stormAddr(storm.IP) == nil {
		wantIP = "127.0.0.1" // this system cannot dial from 127.0.0.7
	}

	// A threshold far below the storm's rate: what is asserted is detection, not speed.
	churn := &source.Churn{Threshold: 2}
	var started *source.StormChange
	var last *source.Snapshot
	waitFor(t, "a storm from "+wantIP, func() bool {
		snap, err := src.Snapshot(ctx, source.Query{})
		if err != nil {
			t.Fatal(err)
		}
		last = snap
		for _, ch := range churn.Observe(time.Now(), snap.Clients) {
			if ch.Started && ch.IP == wantIP {
				started = &ch
			}
		}
		if started == nil {
			time.Sleep(500 * time.Millisecond) // pace the refreshes like the live view does
		}
		return started != nil
	})
	i := slices.IndexFunc(last.Clients, func(c source.Client) bool { return c.IP == wantIP })
	if i < 0 {
		t.Fatalf("storm client %s not in the clients list %+v", wantIP, last.Clients)
	}
	c := last.Clients[i]
	if !slices.Contains(c.Apps, stormApp) || c.Count < started.Count {
		t.Errorf("storm client %+v: want app %s and at least %d connections", c, stormApp, started.Count)
	}
	if created := last.Server.Connections.TotalCreated - first.Server.Connections.TotalCreated; created < int64(started.Count) {
		t.Errorf("totalCreated grew by %d, fewer than the storm's %d connections", created, started.Count)
	}
	if cc, _ := churn.Of(wantIP); !cc.Storm || !cc.Known || cc.PerMin <= 0 {
		t.Errorf("churn of %s: %+v, want a storm growing per minute", wantIP, cc)
	}
}

// Stop ends a burst in its ramp and closes its connections.
func TestStormStops(t *testing.T) {
	srv, err := mongod.Start(mongod.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		runStorm(ctx, Storm{Ramp: 2 * guard, Rate: 20}, srv.URI(), nil)
		close(done)
	}()
	waitFor(t, "storm connections", func() bool { return liveConns(srv) >= 10 })
	cancel()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("the storm did not stop")
	}
	waitFor(t, "the storm's connections to close", func() bool { return liveConns(srv) == 0 })
}

func liveConns(s *mongod.Server) int {
	n, _ := s.Connections()
	return n
}
