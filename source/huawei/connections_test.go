package huawei

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

// TestConnectionCountsUnknownNotZero: the API gives the current connections
// (ShowConnectionStatistics) but no limit and no count ever made; when the statistics fail,
// the current count is unknown too. Unknown counters are left out of the JSON, never 0.
func TestConnectionCountsUnknownNotZero(t *testing.T) {
	fake := &fakeBackend{version: "4.4.29"}
	fake.sessions = []source.Session{activeOp(101, "10.0.0.5:51234")}
	fake.clients = []source.Client{{IP: "10.0.0.5", Count: 3}}
	e := newEnv(t, fake)

	snap := mustSnapshot(t, e.src, source.Query{})
	c := snap.Server.Connections
	if !c.Known(source.ConnCurrent) || c.Current != 3 || c.Known(source.ConnAvailable) || c.Known(source.ConnTotalCreated) {
		t.Errorf("statistics read: connections %+v, want current 3 known, available and total_created unknown", c)
	}
	if got := connectionsJSON(t, snap); got != `{"current":3,"active":1}` {
		t.Errorf("statistics read: JSON connections %s", got)
	}

	// The same emulator, with the statistics refused.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/conn-statistics") {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error_code":"DBS.280001","error_msg":"Policy doesn't allow dds:instance:getConnectionStatistics to be performed."}`)
			return
		}
		e.emu.ServeHTTP(w, r)
	}))
	defer hs.Close()
	cfg := e.src.cfg
	cfg.Endpoint = hs.URL
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	snap, err = src.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatalf("statistics refused must not fail the snapshot: %v", err)
	}
	if c := snap.Server.Connections; c.Known(source.ConnCurrent) || !snap.Partial {
		t.Errorf("statistics refused: connections %+v (partial %v), want current unknown", c, snap.Partial)
	}
	if got := connectionsJSON(t, snap); got != `{"active":1}` {
		t.Errorf("statistics refused: JSON connections %s, want only active", got)
	}
}

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
