package mongodb

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

// The lean snapshot names an operation's command; Detail reads its whole document, and says
// when the operation has ended or its opid now belongs to another one.
func TestDetail(t *testing.T) {
	uri := startSim(t, mongod.Options{}).URI() // the held operation is the simulator's convention
	s := openSource(t, uri)
	app := rawClient(t, uri, "detail-app")
	done := holdFind(t, app, "detailed", 3*time.Second)
	lean := waitSession(t, s, source.Query{Lean: true}, "of detail-app", func(ss *source.Session) bool {
		return ss.NS == "test.detailed"
	})
	if lean.Raw != nil || string(lean.Command) != `{"find":"detailed"}` {
		t.Errorf("lean session: command %s, raw %d bytes", lean.Command, len(lean.Raw))
	}
	whole, err := s.Detail(context.Background(), lean)
	if err != nil {
		t.Fatal(err)
	}
	if whole.ID != lean.ID || whole.ConnectionID != lean.ConnectionID || whole.App != "detail-app" {
		t.Errorf("detail of %s is %+v", lean.ID, whole)
	}
	for name, j := range map[string][]byte{"command": whole.Command, "raw": whole.Raw} {
		if !strings.Contains(string(j), `"filter":{"x":1}`) {
			t.Errorf("%s lacks the filter: %s", name, j)
		}
	}
	if !strings.Contains(string(whole.Raw), `"microsecs_running"`) {
		t.Errorf("raw is not the whole document: %s", whole.Raw)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Detail(context.Background(), lean); !errors.Is(err, source.ErrEnded) {
		t.Errorf("detail of an ended operation: %v", err)
	}
}

func TestDetailRefusesReusedOpID(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	s := openSource(t, srv.URI())
	a := rawClient(t, srv.URI(), "app-a")
	b := rawClient(t, srv.URI(), "app-b")
	if err := b.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	done := holdFind(t, a, "first", 200*time.Millisecond)
	seen := waitSession(t, s, source.Query{Lean: true}, "of app-a", func(ss *source.Session) bool { return ss.NS == "test.first" })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	opid, err := strconv.ParseInt(seen.ID, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetNextOpID(int32(opid))
	reused := holdFind(t, b, "second", 5*time.Second)
	now := waitSession(t, s, source.Query{Lean: true}, "of app-b", func(ss *source.Session) bool { return ss.NS == "test.second" })
	if now.ID != seen.ID {
		t.Fatalf("the simulator gave opid %s, want the reused %s", now.ID, seen.ID)
	}
	if d, err := s.Detail(context.Background(), seen); !errors.Is(err, source.ErrEnded) {
		t.Errorf("detail of a reused opid: %+v, %v", d, err)
	}
	if d, err := s.Detail(context.Background(), now); err != nil || d.NS != "test.second" {
		t.Errorf("detail of the current op: %+v, %v", d, err)
	}
	srv.DropConnections()
	<-reused
}

// Idle connections, sessions and cursors have details too: their whole documents.
func TestDetailOfIdleSessions(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	s := openSource(t, srv.URI())
	c := rawClient(t, srv.URI(), "idle-app")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Database("shop").RunCommand(ctx, bson.D{
		{Key: "find", Value: "orders"},
		{Key: "comment", Value: bson.D{{Key: "sim", Value: bson.D{{Key: "openCursor", Value: true}}}}},
	}).Err(); err != nil {
		t.Fatal(err)
	}
	q := source.Query{IdleConnections: true, IdleCursors: true, Lean: true}
	for _, typ := range []string{source.TypeIdle, source.TypeIdleCursor} {
		ss := waitSession(t, s, q, typ, func(ss *source.Session) bool {
			return ss.Type == typ && (typ != source.TypeIdle || ss.App == "idle-app")
		})
		d, err := s.Detail(ctx, ss)
		if err != nil {
			t.Fatalf("%s %s: %v", typ, ss.ID, err)
		}
		if d.ID != ss.ID || len(d.Raw) == 0 {
			t.Errorf("%s %s: detail %+v", typ, ss.ID, d)
		}
	}
}

// A lean snapshot shows the sessions a whole one shows, with the same fields (the command
// aside), on a standalone server, a replica-set primary and a mongos.
func TestLeanSnapshotMatchesWhole(t *testing.T) {
	for name, o := range map[string]mongod.Options{
		"standalone":  {Synthetic: 50},
		"replica set": {ReplicaSet: "rs0"},
		"mongos":      {Mongos: true, Synthetic: 20},
	} {
		t.Run(name, func(t *testing.T) {
			srv := startSim(t, o)
			s := openSource(t, srv.URI())
			app := rawClient(t, srv.URI(), "lean-app")
			done := holdFind(t, app, "held", 5*time.Second)
			for _, q := range []source.Query{{}, everything} {
				waitSession(t, s, q, "held", func(ss *source.Session) bool { return ss.NS == "test.held" })
				lq := q
				lq.Lean = true
				leanSnap, wholeSnap := snapshot(t, s, lq), snapshot(t, s, q)
				whole := map[string]source.Session{}
				for _, ss := range wholeSnap.Sessions {
					whole[ss.ID] = ss
				}
				common := 0
				for _, ls := range leanSnap.Sessions {
					ws, ok := whole[ls.ID]
					if !ok { // began or ended between the two snapshots
						continue
					}
					common++
					// Counters move between the snapshots; the rest must agree.
					ls.RunningUS, ws.RunningUS, ls.NumYields, ws.NumYields = 0, 0, 0, 0
					ls.Command, ws.Command, ws.Raw = nil, nil, nil
					if !reflect.DeepEqual(ls, ws) {
						t.Errorf("system %v:\nlean  %+v\nwhole %+v", q.System, ls, ws)
					}
				}
				if common == 0 || len(leanSnap.Clients) != len(wholeSnap.Clients) {
					t.Errorf("system %v: %d sessions in common; %d and %d clients", q.System, common, len(leanSnap.Clients), len(wholeSnap.Clients))
				}
			}
			srv.DropConnections()
			<-done
		})
	}
}
