package tencent

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/currentop/currentop/sim/tencentapi"
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
		{"op:query", info, "ns=- op=query rs=- state=- ms=-"},
		{"op:UPD", info, "ns=- op=update rs=- state=- ms=-"},
		{"op:re", info, "ns=- op=- rs=- state=- ms=-"}, // getmore and remove
		{"-op:query", info, "ns=- op=- rs=- state=- ms=-"},
		{"op=getmore", info, "ns=- op=getmore rs=- state=- ms=-"},
		{"op:/^kill/", info, "ns=- op=killcursors rs=- state=- ms=-"},
		{"desc:prim", info, "ns=- op=- rs=- state=primary ms=-"},
		{"desc:ary", info, "ns=- op=- rs=- state=- ms=-"},
		{"shard:_1", info, "ns=- op=- rs=cmgo-abc_1 state=- ms=-"},
		{"shard:cmgo", info, "ns=- op=- rs=- state=- ms=-"},
		{"shard:cmgo", nil, "ns=- op=- rs=- state=- ms=-"},
		{"shard=cmgo-abc_0", nil, "ns=- op=- rs=- state=- ms=-"}, // ignores case: not exact without the names
		{"shard=cmgo-abc_0", info, "ns=- op=- rs=cmgo-abc_0 state=- ms=-"},
		{"shard:/(?-i)^cmgo-x_7$/", nil, "ns=- op=- rs=cmgo-x_7 state=- ms=-"},
		{"ns=shop.orders", info, "ns=shop.orders op=- rs=- state=- ms=-"},
		{"ns=Shop.Orders", info, "ns=Shop.Orders op=- rs=- state=- ms=-"},
		{"ns:shop.orders", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:/^shop\\.orders/", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns:/^shop\\.(orders|carts)$/", info, "ns=- op=- rs=- state=- ms=-"},
		{"-ns=shop.orders", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns=a", info, "ns=a op=- rs=- state=- ms=-"},
		{"orders app:x host:y", info, "ns=- op=- rs=- state=- ms=-"},
		{"ns=shop.orders op:insert running>1s desc:second shard:_0", info, "ns=shop.orders op=insert rs=cmgo-abc_0 state=secondary ms=999"},
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
		{"op:upd", `"Op":"update"`, []string{"/102"}},
		{"ns=shop.orders", `"Ns":"shop.orders"`, []string{"/101", "/9007199254740993"}},
		{"shard:demo0001 desc:prim", `"ReplicaSetName":"cmgo-demo0001_0","State":"primary"`, []string{"/101", "/9007199254740993", "/102"}},
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
