package fromsource

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/currentop/currentop/internal/sim/deployment"
	"github.com/currentop/currentop/source"
)

type fakeSource struct {
	snap    *source.Snapshot
	err     error
	query   source.Query
	targets []source.Session
	results []source.KillResult
}

func (f *fakeSource) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	f.query = q
	return f.snap, f.err
}

type killingSource struct{ *fakeSource }

func (k killingSource) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	k.targets = targets
	return k.results
}

var sessions = []source.Session{
	{ID: "shard01:42", Type: source.TypeOp, Active: true, Op: "query", NS: "shop.orders", RunningUS: 1500,
		PlanSummary: "COLLSCAN", Client: "10.0.0.5:5000", App: "orders", Driver: "mongo-go-driver 2.9.3",
		User: "app@admin", Host: "rs0-a:27017", Shard: "shard01", Desc: "conn7", ConnectionID: 7,
		Command: json.RawMessage(`{"find":"orders"}`), Raw: json.RawMessage(`{"opid":"shard01:42"}`)},
	{ID: "43", Type: source.TypeIdle, Desc: "conn8"},
}

// Read lists everything a cloud API shows, field for field.
func TestRead(t *testing.T) {
	f := &fakeSource{snap: &source.Snapshot{
		Server:   source.Server{Version: "8.0.4", Kind: "mongos", Host: "h:1"},
		Clients:  []source.Client{{IP: "10.0.0.5", Count: 3, Active: 1, Internal: true, Apps: []string{"orders"}}},
		Sessions: sessions,
	}}
	st, err := Deployment(f).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !f.query.IdleConnections || !f.query.IdleSessions || !f.query.IdleCursors || !f.query.System {
		t.Errorf("query %+v: a cloud API lists idle and internal sessions too", f.query)
	}
	if st.Server != (deployment.Server{Version: "8.0.4", Kind: "mongos"}) {
		t.Errorf("server %+v", st.Server)
	}
	if len(st.Clients) != 1 || st.Clients[0] != (deployment.Client{IP: "10.0.0.5", Count: 3, Internal: true}) {
		t.Errorf("clients %+v", st.Clients)
	}
	if len(st.Ops) != 2 {
		t.Fatalf("ops %+v", st.Ops)
	}
	o := st.Ops[0]
	want := deployment.Op{ID: "shard01:42", Active: true, Kind: "query", NS: "shop.orders", RunningUS: 1500,
		PlanSummary: "COLLSCAN", Client: "10.0.0.5:5000", App: "orders", Driver: "mongo-go-driver 2.9.3",
		User: "app@admin", Host: "rs0-a:27017", Shard: "shard01", Desc: "conn7", ConnectionID: 7}
	if string(o.Command) != `{"find":"orders"}` || string(o.Raw) != `{"opid":"shard01:42"}` {
		t.Errorf("command %s raw %s", o.Command, o.Raw)
	}
	o.Command, o.Raw = nil, nil
	if !reflect.DeepEqual(o, want) {
		t.Errorf("op\n got %+v\nwant %+v", o, want)
	}
	if st.Ops[1].Active {
		t.Errorf("idle connection read as active: %+v", st.Ops[1])
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection refused")
	if _, err := Deployment(&fakeSource{err: boom}).Read(context.Background()); !errors.Is(err, boom) {
		t.Errorf("err %v", err)
	}
}

func TestKillOnlyThroughAKiller(t *testing.T) {
	if _, ok := Deployment(&fakeSource{}).(deployment.Killer); ok {
		t.Error("a source without Kill became a Killer")
	}
	if _, ok := Deployment(killingSource{&fakeSource{}}).(deployment.Killer); !ok {
		t.Error("a source with Kill did not become a Killer")
	}
}

// Kill hands the source the session it gave out (what its identity check compares) and says
// which outcomes are not a kill.
func TestKill(t *testing.T) {
	f := &fakeSource{snap: &source.Snapshot{Sessions: sessions}}
	d := Deployment(killingSource{f})
	st, _ := d.Read(context.Background())
	f.results = []source.KillResult{
		{ID: "shard01:42", Outcome: source.KillPending},
		{ID: "43", Outcome: source.KillNotKillable, Err: errors.New("idle")},
	}
	errs := d.(deployment.Killer).Kill(context.Background(), st.Ops)
	if len(f.targets) != 2 {
		t.Fatalf("targets %+v", f.targets)
	}
	got, want := f.targets[0], sessions[0]
	if got.ID != want.ID || got.Type != want.Type || !got.Active || got.Op != want.Op || got.NS != want.NS ||
		got.RunningUS != want.RunningUS || got.Client != want.Client || got.Desc != want.Desc || got.ConnectionID != want.ConnectionID {
		t.Errorf("target\n got %+v\nwant %+v", got, want)
	}
	if f.targets[1].Type != source.TypeIdle || f.targets[1].Active {
		t.Errorf("idle target %+v", f.targets[1])
	}
	if errs[0] != nil || errs[1] == nil || !strings.HasPrefix(errs[1].Error(), "not killable: idle") {
		t.Errorf("errs %v", errs)
	}

	for _, tt := range []struct {
		outcome source.KillOutcome
		killed  bool
	}{
		{source.KillGone, true}, {source.KillPending, true}, {source.KillStillRunning, true}, {source.KillAlreadyGone, true},
		{source.KillRefused, false}, {source.KillNotPermitted, false}, {source.KillNotKillable, false}, {source.KillFailed, false},
	} {
		f.results = []source.KillResult{{ID: "shard01:42", Outcome: tt.outcome}}
		errs := d.(deployment.Killer).Kill(context.Background(), st.Ops[:1])
		if (errs[0] == nil) != tt.killed {
			t.Errorf("%s: err %v", tt.outcome, errs[0])
		}
	}
	f.results = nil
	if errs := d.(deployment.Killer).Kill(context.Background(), st.Ops[:1]); errs[0] == nil {
		t.Error("no result read as a kill")
	}
}
