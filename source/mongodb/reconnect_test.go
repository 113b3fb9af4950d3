package mongodb

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
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
		deadline := time.Now().Add(guard)
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

// Through mongos the monitor recognises its fan-out by its comment; a client that sends the
// plain "currentop" comment (or another monitor's) is not hidden.
func TestOwnCommentCannotBeForged(t *testing.T) {
	me := self{mongos: true}
	for _, tc := range []struct {
		comment string
		own     bool
	}{
		{ownComment, true},
		{"currentop", false},
		{"currentop 0000000000000000", false},
	} {
		doc, err := bson.Marshal(bson.D{{Key: "opid", Value: "shard01:7"}, {Key: "command", Value: bson.D{{Key: "find", Value: "x"}, {Key: "comment", Value: tc.comment}}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := isOwn(doc, me); got != tc.own {
			t.Errorf("comment %q: own = %v, want %v", tc.comment, got, tc.own)
		}
	}
}
