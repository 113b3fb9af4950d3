package mongodb

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/currentop/currentop/sim/mongod"
	"github.com/currentop/currentop/source"
)

// After the server drops every connection, the first successful refresh runs on sockets the
// pool opened during that very refresh; the clients pane must not count them.
func TestOwnConnectionsHiddenAfterReconnect(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	startWorkload(t, srv.URI())
	s := openSource(t, srv.URI())
	for round := 0; round < 3; round++ {
		srv.DropConnections()
		var snap *source.Snapshot
		deadline := time.Now().Add(15 * time.Second)
		for snap == nil && time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			snap, _ = s.Snapshot(ctx, source.Query{})
			cancel()
		}
		if snap == nil {
			t.Fatal("no snapshot after the connections were dropped")
		}
		for _, c := range snap.Clients {
			if slices.Contains(c.Apps, appName) {
				t.Fatalf("round %d: the monitor's own connections are counted as a client: %+v", round, c)
			}
		}
	}
}
