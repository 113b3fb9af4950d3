package tencent

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

// DescribeCurrentOp gives operation counts by state and type. Its Operation documents here
// carry no waitingForLock, so lock waits are unknown; it has no server counters either.
func TestVitalsFromOperationList(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	snap, err := e.src.Snapshot(context.Background(), source.Query{}) // idle hidden from the view, not from the counts
	if err != nil {
		t.Fatal(err)
	}
	v := source.ComputeVitals(nil, snap.Server.Sample)
	if v == nil || v.InFlight == nil {
		t.Fatalf("vitals = %+v", v)
	}
	b, _ := json.Marshal(v.InFlight)
	want := `{"total":4,"active":3,"idle":1,"by_type":{"insert":0,"query":1,"update":1,"delete":0,"getmore":0,"command":1}}`
	if string(b) != want {
		t.Errorf("in_flight = %s\nwant        %s", b, want)
	}
	if v.OpsPerS != nil || v.LatencyUS != nil || v.Queue != nil || v.Tickets != nil || v.CacheUsedPct != nil {
		t.Errorf("figures DescribeCurrentOp cannot give: %+v", *v)
	}
}
