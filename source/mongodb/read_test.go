package mongodb

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

var everything = source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}

// openAggregateCursors lists the $currentOp cursors left open on the server, seen by another
// client.
func openAggregateCursors(t *testing.T, uri string) int {
	t.Helper()
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cur, err := rawClient(t, uri, "observer").Database("admin").Aggregate(ctx, bson.A{
		bson.D{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}, {Key: "idleCursors", Value: true}}}},
		bson.D{{Key: "$match", Value: bson.D{{Key: "type", Value: "idleCursor"}, {Key: "ns", Value: "admin.$cmd.aggregate"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		n++
	}
	return n
}

// A read stops at the document and byte caps, closes the server's cursor, and the snapshot
// says what it shows.
func TestReadCaps(t *testing.T) {
	tests := []struct {
		name   string
		limits readLimits
		says   string
	}{
		{"documents", readLimits{docs: 40, bytes: MaxReadBytes}, "listed more than 40 $currentOp documents"},
		{"bytes", readLimits{docs: MaxReadDocs, bytes: 20000}, "sent more than 20 000 bytes of $currentOp documents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, mongod.Options{Synthetic: 3000})
			s := openSource(t, srv.URI())
			s.limits = tt.limits
			for _, q := range []source.Query{everything, {IdleConnections: true, Lean: true}} {
				snap := snapshot(t, s, q)
				if !snap.Partial || len(snap.Sessions) == 0 || len(snap.Sessions) > tt.limits.docs {
					t.Errorf("lean %v: %d sessions, partial %v", q.Lean, len(snap.Sessions), snap.Partial)
				}
				want := "showing the first " + thousands(len(snap.Sessions)) + " sessions: the server " + tt.says
				if !strings.Contains(strings.Join(snap.Warnings, "\n"), want) {
					t.Errorf("lean %v: warnings %q lack %q", q.Lean, snap.Warnings, want)
				}
			}
			if n := openAggregateCursors(t, srv.URI()); n != 0 {
				t.Errorf("%d $currentOp cursors left open on the server", n)
			}
		})
	}
}

// A server whose $currentOp cursor never ends is read up to the byte cap, and the snapshot
// says so; one that stops answering after its first batch is reported as slow, not as
// unreachable.
func TestMisbehavingCursors(t *testing.T) {
	t.Run("endless", func(t *testing.T) {
		srv := startSim(t, mongod.Options{})
		// A generous timeout: the caps, not the clock, must end the read.
		s, err := Open(context.Background(), Config{URI: srv.URI(), Timeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		s.limits = readLimits{docs: MaxReadDocs, bytes: 8 << 20} // the CLI test reads 64 MiB
		srv.SetCurrentOpFault(mongod.EndlessCursor)
		snap := snapshot(t, s, source.Query{})
		msg := strings.Join(snap.Warnings, "\n")
		if !snap.Partial || !strings.Contains(msg, "sent more than 8 MiB of $currentOp documents") || !strings.Contains(msg, "clients incomplete") {
			t.Errorf("warnings %q", snap.Warnings)
		}
		if n := len(snap.Sessions); n < 1000 || n > 8<<20/1000 {
			t.Errorf("%d sessions from 8 MiB of ~1 KB documents", n)
		}
		srv.SetCurrentOpFault(mongod.NoFault)
		if n := openAggregateCursors(t, srv.URI()); n != 0 {
			t.Errorf("%d $currentOp cursors left open on the server", n)
		}
	})
	t.Run("stalled", func(t *testing.T) {
		srv := startSim(t, mongod.Options{Synthetic: 1500})
		s := openSource(t, srv.URI())
		// The first batch (1000 documents) must come within this; the stalled getMore then
		// waits for it to pass.
		s.timeout = 2 * time.Second
		srv.SetCurrentOpFault(mongod.StalledCursor)
		snap := snapshot(t, s, source.Query{IdleConnections: true})
		msg := strings.Join(snap.Warnings, "\n")
		for _, want := range []string{"showing the first", "the server answered but did not finish sending $currentOp within 2s", "raise --timeout"} {
			if !strings.Contains(msg, want) {
				t.Errorf("warnings %q lack %q", snap.Warnings, want)
			}
		}
		if strings.Contains(msg, "cannot reach") {
			t.Errorf("a server that answered is reported unreachable: %q", msg)
		}
		if len(snap.Sessions) == 0 {
			t.Error("no sessions: what the server sent before it stalled is shown")
		}
	})
}
