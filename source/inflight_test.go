package source

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSessionSample(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	ops := []Session{
		{Active: true, Op: "query"}, {Active: true, Op: "query", WaitingForLock: true}, {Active: true, Op: "remove"},
		{Active: true, Op: "insert"}, {Active: true, Op: "getmore"}, {Active: true, Op: "command"},
		{Active: true, Op: "killcursors"}, {Op: "none"}, {Op: "none", Type: TypeIdleSession},
	}
	tests := []struct {
		name     string
		sessions []Session
		total    int
		want     string
	}{
		{"whole list", ops, len(ops),
			`{"total":9,"active":7,"idle":2,"waiting_for_lock":1,"by_type":{"insert":1,"query":2,"update":0,"delete":1,"getmore":1,"command":1}}`},
		{"a list cut short gives the total only", ops[:3], 250, `{"total":250}`},
		{"lock waits unknown", append([]Session{{Active: true, Op: "update", LockUnknown: true}}, ops[:2]...), 3,
			`{"total":3,"active":3,"idle":0,"by_type":{"insert":0,"query":2,"update":1,"delete":0,"getmore":0,"command":0}}`},
		{"nothing running", nil, 0,
			`{"total":0,"active":0,"idle":0,"waiting_for_lock":0,"by_type":{"insert":0,"query":0,"update":0,"delete":0,"getmore":0,"command":0}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := ComputeVitals(nil, SessionSample(at, tc.sessions, tc.total))
			if v == nil || v.InFlight == nil {
				t.Fatalf("vitals = %+v", v)
			}
			b, _ := json.Marshal(v.InFlight)
			if string(b) != tc.want {
				t.Errorf("in_flight = %s\nwant        %s", b, tc.want)
			}
			// A session list gives no rates, latency, queues, tickets, cache or replication.
			v.InFlight = nil
			if *v != (Vitals{}) {
				t.Errorf("figures the list cannot give: %+v", *v)
			}
		})
	}
}
