package tencent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

func ptrText(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func (p pushed) String() string {
	ms := "-"
	if p.ms != nil {
		ms = fmt.Sprint(*p.ms)
	}
	return fmt.Sprintf("ns=%s op=%s rs=%s state=%s ms=%s", ptrText(p.ns), ptrText(p.op), ptrText(p.rs), ptrText(p.state), ms)
}

func TestPushdown(t *testing.T) {
	info := &instanceInfo{ReplicaSets: []string{"cmgo-abc_0", "cmgo-abc_1"}}
	for _, tc := range []struct {
		filter string
		info   *instanceInfo
		want   string
	}{
		{"", info, "ns=- op=- rs=- state=- ms=-"},
		{"running>2s", info, "ns=- op=- rs=- state=- ms=1999"},
		{"running>=1.5s running>3s", info, "ns=- op=- rs=- state=- ms=2999"},
		{"running=5s", info, "ns=- op=- rs=- state=- ms=4999"},
		{"running<2s -running>1s running>1ms", info, "ns=- op=- rs=- state=- ms=-"},
		{"running>2h", info, "ns=- op=- rs=- state=- ms=3600000"},
		{"op:query", info, "ns=- op=- rs=- state=- ms=-"}, // the API may name ops outside its vocabulary
		{"op=QUERY", info, "ns=- op=query rs=- state=- ms=-"},
		{"op=find", info, "ns=- op=- rs=- state=- ms=-"},
		{"op:re", info, "ns=- op=- rs=- state=- ms=-"}, // getmore and remove
		{"-op:query", info, "ns=- op=- rs=- state=- ms=-"},
		{"op=getmore", info, "ns=- op=getmore rs=- state=- ms=-"},
		{"op:/^kill/", info, "ns=- op=- rs=- state=- ms=-"},
		{"desc:prim", info, "ns=- op=- rs=- state=- ms=-"},
		{"desc=primary", info, "ns=- op=- rs=- state=primary ms=-"},
		{"desc:ary", info, "ns=- op=- rs=- state=- ms=-"},
		{"shard:_1", info, "ns=- op=- rs=- state=- ms=-"},
		{"shard:cmgo", info, "ns=- op=- rs=- state=- ms=-"},
		{"shard:cmgo", nil, "ns=- op=- rs=- state=- ms=-"},
		{"shard=cmgo-abc_0", nil, "ns=- op=- rs=- state=- ms=-"}, // ignores case: not exact without the names
		{"shard=cmgo-abc_0", info, "ns=- op=- rs=cmgo-abc_0 state=- ms=-"},
		{"shard:/(?-i)^cmgo-x_7$/", nil, "ns=- op=- rs=- state=- ms=-"}, // unknown names may answer ReplicaNotFound
		{"shard=cmgo-x_7", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns=shop.orders", info, "ns=- op=- rs=- state=- ms=-"}, // ignores case; the API does not
		{"ns:/(?-i)^shop\\.orders$/", info, "ns=shop.orders op=- rs=- state=- ms=-"},
		{"ns=Shop.Orders", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:shop.orders", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:/^shop\\.orders/", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:/^shop\\.(orders|carts)$/", info, "ns=- op=- rs=- state=- ms=-"},
		{"-ns=shop.orders", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns=1.2", info, "ns=1.2 op=- rs=- state=- ms=-"}, // no letters: case-exact
		{"orders app:x host:y", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:/(?-i)^shop\\.orders$/ op=insert running>1s desc=secondary shard=cmgo-abc_0", info, "ns=shop.orders op=insert rs=cmgo-abc_0 state=secondary ms=999"},
	} {
		f, err := source.ParseFilter(tc.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tc.filter, err)
		}
		if got := pushdown(f, tc.info).String(); got != tc.want {
			t.Errorf("pushdown(%q) = %s, want %s", tc.filter, got, tc.want)
		}
	}
}

// Pushed-down filters reach the API, and the result is what local filtering gives.
func TestPushdownThroughEmulator(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	for _, tc := range []struct {
		filter string
		params string // the filter parameters of the DescribeCurrentOp request
		want   []string
	}{
		{"running>2s", `"MillisecondRunning":1999`, []string{"/101", "/9007199254740993"}},
		{"op=update", `"Op":"update"`, []string{"/102"}},
		{"op:upd", ``, []string{"/102"}},
		{"ns:/(?-i)^shop\\.orders$/", `"Ns":"shop.orders"`, []string{"/101", "/9007199254740993"}},
		{"ns=SHOP.ORDERS", ``, []string{"/101", "/9007199254740993"}},
		{"shard=cmgo-demo0001_0 desc=primary", `"ReplicaSetName":"cmgo-demo0001_0","State":"primary"`, []string{"/101", "/9007199254740993", "/102"}},
		{"ns:orders -running>3s", ``, []string{"/9007199254740993"}},
	} {
		f, _ := source.ParseFilter(tc.filter)
		snap, err := e.src.Snapshot(context.Background(), source.Query{Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		body := string(e.emu.LastRequest(tencentapi.ActionDescribeCurrentOp))
		for _, name := range []string{"Ns", "Op", "ReplicaSetName", "State", "MillisecondRunning"} {
			if strings.Contains(body, `"`+name+`"`) != strings.Contains(tc.params, `"`+name+`"`) {
				t.Errorf("%q: request %s, want filter parameters %s", tc.filter, body, tc.params)
			}
		}
		if !strings.Contains(body, tc.params) {
			t.Errorf("%q: request %s lacks %s", tc.filter, body, tc.params)
		}
		if len(snap.Sessions) != len(tc.want) {
			t.Errorf("%q: sessions %v, want %v", tc.filter, ids(snap), tc.want)
			continue
		}
		for _, w := range tc.want {
			if findSession(snap, w) == nil {
				t.Errorf("%q: %s missing from %v", tc.filter, w, ids(snap))
			}
		}
	}
}

// Whatever is pushed down, the answer equals local filtering of the unfiltered snapshot: a
// pushed filter must never drop a row the local filter keeps (case, substrings, op names
// outside the documented vocabulary).
func TestPushdownNeverHidesRows(t *testing.T) {
	backend := demoBackend()
	backend.sessions = append(backend.sessions,
		op("201", "query", "test.Users", 3*time.Second),
		op("202", "query", "test.users", 3*time.Second),
		op("203", "findAndModify", "test.users", 2*time.Second),
		op("204", "insert", "Test.x", 4*time.Second),
	)
	e := newEnv(t, backend, tencentapi.Options{})
	all, err := e.src.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{
		"ns=test.users", "ns=TEST.USERS", "ns=Test.users", `ns:/^test\.users$/`, `ns:/(?-i)^test\.users$/`,
		"op:in", "op:and", "op=query", "op=QUERY", "op:find", "desc:s", "desc=primary",
		"shard:demo", "shard=cmgo-demo0001_0", "shard=CMGO-DEMO0001_0", "running>2s", "running>=3s op=query",
		`ns:/(?-i)^test\.users$/ op=query running>1s desc=primary shard=cmgo-demo0001_0`,
	} {
		f, err := source.ParseFilter(filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", filter, err)
		}
		want := &source.Snapshot{Sessions: slices.Clone(all.Sessions)}
		source.Apply(want, source.Query{Filter: f})
		got, err := e.src.Snapshot(context.Background(), source.Query{Filter: f})
		if err != nil {
			t.Fatalf("%q: %v", filter, err)
		}
		if g, w := sortedIDs(got), sortedIDs(want); !slices.Equal(g, w) {
			t.Errorf("%q: pushed down %v, local only %v (request %s)", filter, g, w,
				e.emu.LastRequest(tencentapi.ActionDescribeCurrentOp))
		}
	}
}

func sortedIDs(snap *source.Snapshot) []string {
	out := ids(snap)
	slices.Sort(out)
	return out
}

// A replica set name that the instance list still has but the API no longer knows
// (ReplicaNotFound) is dropped from the request, not turned into a failed refresh.
func TestStaleReplicaSetPushdownRetries(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	f, _ := source.ParseFilter("shard=cmgo-demo0001_0")
	e.emu.InjectError(tencentapi.ActionDescribeCurrentOp, "InvalidParameterValue.ReplicaNotFound", "no such replica set", 1)
	snap, err := e.src.Snapshot(context.Background(), source.Query{Filter: f})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if len(snap.Sessions) != 3 {
		t.Errorf("sessions %v, want the three operations of cmgo-demo0001_0", ids(snap))
	}
	if body := string(e.emu.LastRequest(tencentapi.ActionDescribeCurrentOp)); strings.Contains(body, "ReplicaSetName") {
		t.Errorf("the retry still names the replica set: %s", body)
	}
}
