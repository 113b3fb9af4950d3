package mongodb

import (
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod/agg"
	"github.com/currentop/currentop/source"
)

// runStages evaluates a pipeline's stages after $currentOp over docs with the simulator's
// aggregation evaluator.
func runStages(t *testing.T, pipeline bson.A, docs []bson.D) []bson.Raw {
	t.Helper()
	var stages []bson.Raw
	for _, st := range pipeline[1:] {
		b, err := bson.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		stages = append(stages, b)
	}
	out, err := agg.Run(docs, stages)
	if err != nil {
		t.Fatal(err)
	}
	var raws []bson.Raw
	for _, d := range out {
		b, _ := bson.Marshal(d)
		raws = append(raws, b)
	}
	return raws
}

func conn(id int32, client, app string, active bool, extra ...bson.E) bson.D {
	d := bson.D{{Key: "type", Value: "op"}, {Key: "connectionId", Value: id}, {Key: "client", Value: client},
		{Key: "clientMetadata", Value: bson.D{{Key: "driver", Value: bson.D{{Key: "name", Value: "mongo-go-driver"}, {Key: "version", Value: "2.9.3"}}}}},
		{Key: "active", Value: active}}
	if app != "" {
		d = append(d, bson.E{Key: "appName", Value: app})
	}
	return append(d, extra...)
}

func TestClientsPipelineGroupsByIP(t *testing.T) {
	hello := bson.E{Key: "command", Value: bson.D{{Key: "hello", Value: 1}, {Key: "topologyVersion", Value: bson.D{}}}}
	docs := []bson.D{
		conn(1, "10.0.0.1:5000", "orders", true),
		conn(2, "10.0.0.1:5001", "orders", false),
		conn(3, "10.0.0.1:5002", "billing", true, hello), // a heartbeat is not work
		conn(4, "[2001:db8::5]:443", "", false),
		conn(5, "[2001:db8::5]:444", "cli", true),
		conn(6, "127.0.0.1:9000", "currentop", true),                                             // the monitor: by address
		conn(7, "127.0.0.1:9001", "impostor", false),                                             // not the monitor
		{{Key: "type", Value: "op"}, {Key: "desc", Value: "ftdc"}, {Key: "active", Value: true}}, // internal thread: no client
	}
	me := self{addrs: []string{"127.0.0.1:9000"}, connIDs: []int64{6}}
	for _, grouped := range []bool{true, false} {
		got := decodeClients(runStages(t, clientsPipeline(me, grouped), docs))
		want := map[string][2]int{"10.0.0.1": {3, 1}, "2001:db8::5": {2, 1}, "127.0.0.1": {1, 0}}
		if len(got) != len(want) {
			t.Fatalf("grouped %v: clients %+v", grouped, got)
		}
		for _, c := range got {
			if w := want[c.IP]; c.Count != w[0] || c.Active != w[1] {
				t.Errorf("grouped %v: client %s: count %d active %d, want %v", grouped, c.IP, c.Count, c.Active, w)
			}
		}
		if !slices.Equal(got[0].Apps, []string{"billing", "orders"}) || !slices.Equal(got[0].Drivers, []string{"mongo-go-driver 2.9.3"}) {
			t.Errorf("grouped %v: apps/drivers of %s: %v %v", grouped, got[0].IP, got[0].Apps, got[0].Drivers)
		}
	}
}

// Each pushed-down condition keeps at least what local filtering keeps.
func TestPushdownIsSuperset(t *testing.T) {
	docs := []bson.D{
		conn(1, "10.0.0.1:1", "orders-api", true, bson.E{Key: "opid", Value: int32(1)}, bson.E{Key: "op", Value: "query"}, bson.E{Key: "ns", Value: "shop.orders"}, bson.E{Key: "microsecs_running", Value: int64(7_000_000)}, bson.E{Key: "planSummary", Value: "COLLSCAN"}),
		conn(2, "10.0.0.1:2", "", true, bson.E{Key: "opid", Value: int32(2)}, bson.E{Key: "op", Value: "update"}, bson.E{Key: "ns", Value: "Shop.Invoices"}, bson.E{Key: "microsecs_running", Value: int64(500)},
			bson.E{Key: "clientMetadata", Value: bson.D{{Key: "application", Value: bson.D{{Key: "name", Value: "Orders-API-2"}}}}}),
		conn(3, "10.0.0.1:3", "billing", false),
		conn(4, "10.0.0.1:4", "a.b*c", true, bson.E{Key: "opid", Value: int32(4)}, bson.E{Key: "op", Value: "command"}, bson.E{Key: "ns", Value: "x.$cmd"}, bson.E{Key: "microsecs_running", Value: int64(1_000_000)}),
		{{Key: "type", Value: "idleSession"}, {Key: "connectionId", Value: int64(9)}, {Key: "active", Value: false}, {Key: "desc", Value: "inactive transaction"}},
		{{Key: "type", Value: "idleCursor"}, {Key: "ns", Value: "shop.orders"}, {Key: "cursor", Value: bson.D{{Key: "cursorId", Value: int64(5)}}}},
	}
	filters := []string{
		"op:query", "-op:query", "ns:shop", "-ns:SHOP.", "app:orders", "app:ORDERS-api", "-app:orders",
		"plan:collscan", "-plan:coll", "running>1s", "running>=1s", "running<1s", "running<=1s", "-running>1s",
		"-running<2s", "running=1s", "running>0s", "running<0s", "app:a.b*c", "ns:x.$cmd", "desc:inactive", "-desc:inactive",
		"op:/^q/", "orders", "app:ørders",
	}
	q := source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}
	for _, text := range filters {
		f, err := source.ParseFilter(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		q.Filter = f
		kept := map[string]bool{}
		for _, raw := range runStages(t, sessionsPipeline(q, self{}), docs) {
			kept[convert(raw).ID] = true
		}
		for _, d := range docs {
			raw, _ := bson.Marshal(d)
			s := convert(raw)
			if f.Match(&s) && !kept[s.ID] {
				t.Errorf("%q: pushdown dropped %s (%+v)", text, s.ID, s)
			}
		}
	}
}

func TestRunningPushdownShape(t *testing.T) {
	tests := []struct {
		term source.Term
		want string
	}{
		{source.Term{Kind: source.Compare, Field: "running", Cmp: ">", Dur: 5 * time.Second}, `{"microsecs_running":{"$gt":{"$numberLong":"5000000"}}}`},
		{source.Term{Kind: source.Compare, Field: "running", Cmp: "<", Dur: time.Second}, `{"$or":[{"microsecs_running":{"$lt":{"$numberLong":"1000000"}}},{"microsecs_running":{"$exists":false}}]}`},
		{source.Term{Kind: source.Compare, Field: "running", Cmp: ">", Dur: time.Second, Not: true}, `{"$or":[{"microsecs_running":{"$not":{"$gt":{"$numberLong":"1000000"}}}},{"microsecs_running":{"$exists":false}}]}`},
	}
	for _, tt := range tests {
		m, ok := runningMatch(tt.term)
		if !ok {
			t.Fatalf("%+v not pushed", tt.term)
		}
		b, _ := bson.MarshalExtJSON(m, true, false)
		if string(b) != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.term, b, tt.want)
		}
	}
	if _, ok := runningMatch(source.Term{Kind: source.Compare, Field: "running", Cmp: "=", Dur: time.Second}); ok {
		t.Error("equality pushed down")
	}
}
