package tencent

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

// TestConnectionCountsUnknownNotZero: the current connections are the sum of the client
// list (DescribeClientConnections); the API has no limit and no count ever made. When the
// list fails, or is not asked for again after a refusal, the current count is unknown, not
// 0. Unknown counters are left out of the JSON.
func TestConnectionCountsUnknownNotZero(t *testing.T) {
	for _, tc := range []struct {
		name, code string
	}{
		{"transient failure", "InternalError"},
		{"refused, then not asked again", "InvalidParameter.PermissionDenied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, demoBackend(), tencentapi.Options{})
			e.emu.InjectError(tencentapi.ActionDescribeClientConnections, tc.code, "no", 1)
			for i := range 2 {
				snap, err := e.src.Snapshot(context.Background(), source.Query{})
				if err != nil {
					t.Fatal(err)
				}
				c := snap.Server.Connections
				listed := len(snap.Clients) > 0
				if c.Known(source.ConnCurrent) != listed || c.Known(source.ConnAvailable) || c.Known(source.ConnTotalCreated) {
					t.Errorf("snapshot %d (%d clients): connections %+v, want current known only with the list", i, len(snap.Clients), c)
				}
				want := `{"active":` + itoa(c.Active) + `}`
				if listed {
					want = `{"current":45,"active":` + itoa(c.Active) + `}`
				}
				if got := connectionsJSON(t, snap); got != want {
					t.Errorf("snapshot %d: JSON connections %s, want %s", i, got, want)
				}
				if i == 0 && listed {
					t.Error("the first snapshot listed clients despite the injected error")
				}
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// connectionsJSON is the server's connections object as the one-shot JSON writes it.
func connectionsJSON(t *testing.T, snap *source.Snapshot) string {
	t.Helper()
	b, err := json.Marshal(snap.Server)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Connections json.RawMessage `json:"connections"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return string(doc.Connections)
}
