package huawei

import (
	"encoding/json"
	"testing"

	"github.com/currentop/currentop/source"
)

// ListSessions gives operation counts by state and type; it has no lock-wait flag and no
// server counters, so those figures are absent, not zero.
func TestVitalsFromSessionList(t *testing.T) {
	fake := &fakeBackend{version: "4.4.29"}
	fake.sessions = []source.Session{
		activeOp(101, "10.0.0.5:51234"), activeOp(102, "10.0.0.5:51235"), activeOp(103, "10.0.0.6:40000"),
		idleConn(201, "10.0.0.5:51236"), idleConn(202, "10.0.0.7:1000"),
		{ID: "301", Type: source.TypeOp, Active: true, Op: "none", Desc: "ReplWriterWorker-1", Internal: true, RunningUS: 5},
	}
	e := newEnv(t, fake)
	// The default view hides idle and internal sessions: the counts must not.
	snap := mustSnapshot(t, e.src, source.Query{})
	v := source.ComputeVitals(nil, snap.Server.Sample)
	if v == nil || v.InFlight == nil {
		t.Fatalf("vitals = %+v", v)
	}
	b, _ := json.Marshal(v.InFlight)
	want := `{"total":6,"active":4,"idle":2,"by_type":{"insert":0,"query":3,"update":0,"delete":0,"getmore":0,"command":0}}`
	if string(b) != want {
		t.Errorf("in_flight = %s\nwant        %s", b, want)
	}
	if v.OpsPerS != nil || v.LatencyUS != nil || v.Queue != nil || v.Tickets != nil || v.CacheUsedPct != nil || v.Repl != nil {
		t.Errorf("figures ListSessions cannot give: %+v", *v)
	}
}
