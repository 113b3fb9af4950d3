package tencent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

func TestEnrichFromOperation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		op, query string
		want      source.Session
	}{
		{"relaxed", `{"opid":61,"active":true,"client":"10.2.0.7:51234","appName":"orders-api","connectionId":1842,
			"clientMetadata":{"driver":{"name":"mongo-go-driver","version":"2.9.3"}},"effectiveUsers":[{"user":"app","db":"admin"}],
			"planSummary":"COLLSCAN","numYields":12,"waitingForLock":true,"killPending":true,"msg":"x\u001b[1m"}`, `{}`,
			source.Session{Client: "10.2.0.7:51234", App: "orders-api", ConnectionID: 1842, Driver: "mongo-go-driver 2.9.3",
				User: "app@admin", PlanSummary: "COLLSCAN", NumYields: 12, WaitingForLock: true, KillPending: true, Msg: "x\uFFFD"}},
		{"canonical and mongos", `{"opid":"shard01:1","connectionId":{"$numberLong":"9007199254740993"},"numYields":{"$numberInt":"3"},
			"clientMetadata":{"mongos":{"client":"10.3.0.1:4000"},"application":{"name":"etl"}},"client_s":"10.0.0.5:1"}`, ``,
			source.Session{LockUnknown: true, Client: "10.3.0.1:4000", App: "etl", ConnectionID: 9007199254740993, NumYields: 3}},
		{"internal thread", `{"opid":5,"desc":"TTLMonitor"}`, ``, source.Session{LockUnknown: true, Internal: true}},
		{"system user", `{"opid":5,"connectionId":3,"effectiveUsers":[{"user":"__system","db":"local"}]}`, ``,
			source.Session{LockUnknown: true, Internal: true, ConnectionID: 3, User: "__system@local"}},
		{"heartbeat in query", `not json`, `{"hello":1,"topologyVersion":{},"maxAwaitTimeMS":10000}`, source.Session{LockUnknown: true, Internal: true}},
		{"replication", `{"opid":5,"connectionId":3,"command":{"replSetUpdatePosition":1}}`, ``,
			source.Session{LockUnknown: true, Internal: true, ConnectionID: 3, CommandName: "replSetUpdatePosition"}},
		{"index build", `{"opid":7,"connectionId":4,"op":"command","command":{"createIndexes":"orders","indexes":[{"key":{"customerId":1},"name":"c"}]},
			"msg":"Index Build: scanning collection","progress":{"done":{"$numberLong":"30"},"total":100}}`, ``,
			source.Session{LockUnknown: true, ConnectionID: 4, Msg: "Index Build: scanning collection", CommandName: "createIndexes",
				Summary: "{customerId: 1}", Progress: &source.Progress{Done: 30, Total: 100}}},
		{"getMore on a change stream", `{"opid":8,"connectionId":4,"command":{"getMore":{"$numberLong":"5"},"collection":"orders"},
			"cursor":{"originatingCommand":{"aggregate":"orders","pipeline":[{"$changeStream":{}}]}}}`, ``,
			source.Session{LockUnknown: true, ConnectionID: 4, CommandName: "getMore", Summary: "[$changeStream {}]"}},
		{"odd progress", `{"opid":9,"connectionId":4,"progress":{"done":5,"total":0}}`, ``, source.Session{LockUnknown: true, ConnectionID: 4}},
		{"odd types", `{"opid":5,"connectionId":"x","client":7,"numYields":-4,"effectiveUsers":{"user":"a"},"clientMetadata":[1]}`, ``, source.Session{LockUnknown: true}},
		{"not an object", `[1,2]`, ``, source.Session{LockUnknown: true}},
		{"idle session", `{"type":"idleSession","active":false}`, ``, source.Session{LockUnknown: true, Type: source.TypeIdleSession}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s source.Session
			enrich(&s, tc.op, tc.query)
			gp, wp := fmt.Sprint(s.Progress), fmt.Sprint(tc.want.Progress)
			s.Progress, tc.want.Progress = nil, nil
			if fmt.Sprintf("%+v", s) != fmt.Sprintf("%+v", tc.want) || gp != wp {
				t.Errorf("got  %+v (progress %s)\nwant %+v (progress %s)", s, gp, tc.want, wp)
			}
		})
	}
}

func TestClientsAttributedFromSessions(t *testing.T) {
	b := demoBackend()
	raw := func(client, app string, conn int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"opid":1,"connectionId":%d,"client":%q,"appName":%q,"effectiveUsers":[{"user":"u","db":"admin"}]}`, conn, client, app))
	}
	for i := range b.sessions[:3] {
		b.sessions[i].Raw = raw(fmt.Sprintf("10.1.0.%d:5000%d", 5+i%2, i), []string{"api", "api", "etl"}[i], 100+i)
	}
	e := newEnv(t, b, tencentapi.Options{})
	snap := snapshotOf(t, e.src, source.Query{})
	c := snap.Clients[0]
	if c.IP != "10.1.0.5" || c.Active != 2 || fmt.Sprint(c.Apps) != "[api etl]" || fmt.Sprint(c.Users) != "[u@admin]" {
		t.Errorf("client = %+v", c)
	}
	if c := snap.Clients[1]; c.IP != "10.1.0.6" || c.Active != 1 || fmt.Sprint(c.Apps) != "[api]" {
		t.Errorf("client = %+v", c)
	}
	s := findSession(snap, "/101")
	if s.Client != "10.1.0.5:50000" || s.App != "api" || s.ConnectionID != 100 {
		t.Errorf("session = %+v", s)
	}
}

func TestManyOperationsTruncated(t *testing.T) {
	b := demoBackend()
	b.sessions = nil
	for i := range 1150 {
		b.sessions = append(b.sessions, op(fmt.Sprint(1000+i), "query", "shop.orders", time.Duration(i)*time.Millisecond))
	}
	e := newEnv(t, b, tencentapi.Options{})
	snap := snapshotOf(t, e.src, source.Query{})
	if len(snap.Sessions) != 1000 || snap.TotalSessions != 1150 || !snap.Partial ||
		!strings.Contains(strings.Join(snap.Warnings, " "), "1000 longest-running of 1150") {
		t.Fatalf("sessions=%d total=%d warnings=%q", len(snap.Sessions), snap.TotalSessions, snap.Warnings)
	}
	if snap.Sessions[0].RunningUS < snap.Sessions[999].RunningUS || findSession(snap, "/2149") == nil {
		t.Error("not the longest-running first")
	}
	if n := e.emu.Requests(tencentapi.ActionDescribeCurrentOp); n != 10 {
		t.Errorf("%d pages, want 10", n)
	}
	// A caller that shows more asks for more.
	snap, err := e.src.Snapshot(context.Background(), source.Query{Limit: 5000})
	if err != nil || len(snap.Sessions) != 1150 || snap.TotalSessions != 0 {
		t.Errorf("Limit 5000: %d sessions, total %d, %v", len(snap.Sessions), snap.TotalSessions, err)
	}
}

// BenchmarkToSession is the per-operation cost of converting a DescribeCurrentOp row with a
// full Operation document.
func BenchmarkToSession(b *testing.B) {
	id, us := int64(4119786), uint64(7391022)
	op := &currentOp{OpId: &id, Ns: str("shop.orders"), Op: str("query"), ReplicaSetName: str("cmgo-p8vnipr5_0"),
		NodeName: str("10.108.93.135:7017:39920912"), State: str("primary"), MicrosecsRunning: &us,
		Query: str(`{"find":"orders","filter":{"status":"A","total":{"$gt":100}},"limit":50}`),
		Operation: str(`{"type":"op","opid":4119786,"active":true,"client":"10.20.3.17:53422","appName":"orders-api",
			"clientMetadata":{"driver":{"name":"mongo-go-driver","version":"2.9.3"}},"connectionId":1842,
			"effectiveUsers":[{"user":"ordersApp","db":"admin"}],"planSummary":"COLLSCAN","numYields":7402,
			"command":{"find":"orders","filter":{"status":"A"}}}`)}
	b.ReportAllocs()
	for b.Loop() {
		_ = toSession(op)
	}
}
