package mongodb

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// loadDoc reads an Extended JSON fixture (the example documents of the reference, §2.6,
// plus odd ones) as the BSON a server would send.
func loadDoc(t testing.TB, name string) bson.Raw {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(data, false, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

func TestConvertExamples(t *testing.T) {
	tests := []struct {
		file string
		want source.Session // Command and Raw are checked separately
		cmd  string         // substring expected in Command ("" = Command must be empty)
		raw  bool           // Raw expected
	}{
		{"a_find_collscan.json", source.Session{
			ID: "4119786", Type: "op", Active: true, Op: "query", NS: "shop.orders", RunningUS: 7391022,
			PlanSummary: "COLLSCAN", Client: "10.20.3.17:53422", App: "orders-api", User: "ordersApp@admin",
			Driver: "mongo-go-driver 2.9.3", Host: "rs0-a.example.net:27017", Desc: "conn1842",
			ConnectionID: 1842, NumYields: 7402,
			CommandName: "find", Summary: `{status: "pending", total: {$gt: 100}}`, QueryShapeHash: "9C2F1E3A7D4B",
		}, `"find":"orders"`, true},
		{"b_idle_connection.json", source.Session{
			ID: "conn1650", Type: "idle", Client: "10.20.3.17:53380", App: "orders-api", User: "ordersApp@admin",
			Driver: "mongo-go-driver 2.9.3", Host: "rs0-a.example.net:27017", Desc: "conn1650", ConnectionID: 1650,
		}, "", false},
		{"c_getmore_changestream.json", source.Session{
			ID: "4120311", Type: "op", Active: true, Op: "getmore", NS: "shop.orders", RunningUS: 612004,
			PlanSummary: "COLLSCAN", Client: "10.20.3.40:40112", App: "cdc-worker", User: "cdc@admin",
			Driver: "mongo-go-driver 2.9.3", Host: "rs0-a.example.net:27017", Desc: "conn1907", ConnectionID: 1907,
			// A getMore is summarised by its cursor's command.
			CommandName: "getMore", Summary: `[$changeStream {fullDocument: "updateLookup"}]`,
		}, `"getMore":6312883190488772611`, true},
		{"d_mongos_op.json", source.Session{
			ID: "shardB:982211", Type: "op", Active: true, Op: "query", NS: "shop.orders", RunningUS: 3190114,
			PlanSummary: "IXSCAN { customerId: 1, createdAt: -1 }", Client: "10.20.3.17:53422", App: "orders-api",
			User: "ordersApp@admin", Driver: "mongo-go-driver 2.9.3", Host: "shardb-1.example.net:27018",
			Shard: "shardB", Desc: "conn311", ConnectionID: 311, NumYields: 1841,
			CommandName: "find", Summary: `{customerId: 81723}`,
		}, `"customerId":81723`, true},
		{"e_awaitable_hello.json", source.Session{
			ID: "4119790", Type: "op", Active: true, Op: "command", NS: "admin.$cmd", RunningUS: 8312004,
			Client: "10.20.3.17:53384", App: "orders-api", Driver: "mongo-go-driver 2.9.3",
			Host: "rs0-a.example.net:27017", Desc: "conn1651", ConnectionID: 1651, Internal: true,
			CommandName: "hello",
		}, `"topologyVersion"`, true},
		{"f_internal_thread.json", source.Session{
			ID: "201", Type: "op", Active: true, Op: "none", Host: "ip-10-122-5-147:27017", Desc: "JournalFlusher",
			Internal: true,
		}, `{}`, true},
		{"g_idle_session.json", source.Session{
			ID: "session:9bdf4c9f17764d1a9e7c9a49849ce135", Type: "idleSession", Client: "10.20.3.18:40000",
			App: "billing-worker", Driver: "pymongo 4.8.0", Host: "rs0-a.example.net:27017",
			Desc: "inactive transaction", ConnectionID: 1777, RunningUS: 2000000, // transaction.timeOpenMicros
		}, "", true},
		{"h_idle_cursor.json", source.Session{
			ID: "cursor:6312883190488772611", Type: "idleCursor", NS: "shop.orders", PlanSummary: "COLLSCAN",
			Host: "rs0-a.example.net:27017", CommandName: "find", Summary: `{}`,
		}, `"find":"orders"`, true},
		{"i_oplog_getmore_system.json", source.Session{
			ID: "3311", Type: "op", Active: true, Op: "getmore", NS: "local.oplog.rs", RunningUS: 4500000,
			PlanSummary: "COLLSCAN", Client: "10.20.0.2:51234", User: "__system@local",
			Driver: "NetworkInterfaceTL-ReplNetwork 8.0.4", Host: "rs0-a.example.net:27017", Desc: "conn12",
			ConnectionID: 12, Internal: true, CommandName: "getMore",
		}, `"oplog.rs"`, true},
		{"j_legacy_shell.json", source.Session{
			// The legacy shell reports an "internal" driver name but is a person at a terminal.
			ID: "-2147483000", Type: "op", Active: true, Op: "update", NS: "app.users", RunningUS: 1500,
			Client: "[2001:db8::5]:51000", App: "MongoDB Shell", User: "dba@admin",
			Driver: "MongoDB Internal Client 4.4.29", Host: "db1:27017", Desc: "conn55", ConnectionID: 55,
			WaitingForLock: true, KillPending: true,
			// An update shows its statement {q, u}: op names the command.
			CommandName: "update", Summary: `{_id: 1}`,
		}, `"$set"`, true},
		{"k_hostile.json", source.Session{
			// Wrong types everywhere: nothing panics, odd values are dropped, text is cleaned.
			ID: "conn0", Type: "op", Active: true, Host: "evil\uFFFDhost:1", Desc: "conn\uFFFD9", App: "app\uFFFDtxt",
			NumYields: 2, Msg: "Index Build 50%", NotKillable: "an index build: drop the index to abort it",
		}, `[1,2,3]`, true},
		{"l_index_build.json", source.Session{
			ID: "4121004", Type: "op", Active: true, Op: "command", NS: "shop.orders", RunningUS: 95131020,
			Client: "10.20.3.50:51500", App: "mongosh 2.3.1", User: "dba@admin", Driver: "nodejs|mongosh 6.10.0|2.3.1",
			Host: "rs0-a.example.net:27017", Desc: "conn1990", ConnectionID: 1990, NumYields: 99710,
			Msg:         "Index Build: scanning collection Index Build: scanning collection: 12763930/15116380 84%",
			CommandName: "createIndexes", Summary: `{customerId: 1, createdAt: -1}`,
			Progress:    &source.Progress{Done: 12763930, Total: 15116380},
			NotKillable: "an index build: drop the index to abort it",
		}, `"createIndexes":"orders"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := convert(loadDoc(t, tt.file))
			cmd, raw := got.Command, got.Raw
			got.Command, got.Raw = nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convert:\n got %+v\nwant %+v", got, tt.want)
			}
			if tt.cmd == "" && cmd != nil {
				t.Errorf("Command = %s, want none", cmd)
			}
			if tt.cmd != "" && !strings.Contains(string(cmd), tt.cmd) {
				t.Errorf("Command = %s, want it to contain %s", cmd, tt.cmd)
			}
			if cmd != nil && !json.Valid(cmd) {
				t.Errorf("Command is not JSON: %s", cmd)
			}
			if (raw != nil) != tt.raw {
				t.Errorf("Raw present = %v, want %v", raw != nil, tt.raw)
			}
			if raw != nil && !json.Valid(raw) {
				t.Errorf("Raw is not JSON: %s", raw)
			}
			assertClean(t, got)
		})
	}
}

// TestConvertRelaxedJSON checks the types survive as relaxed Extended JSON: int64 as plain
// numbers, binary and timestamps in their $-wrappers.
func TestConvertRelaxedJSON(t *testing.T) {
	s := convert(loadDoc(t, "a_find_collscan.json"))
	var raw map[string]any
	if err := json.Unmarshal(s.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["microsecs_running"] != 7391022.0 {
		t.Errorf("raw microsecs_running = %v, want a plain number", raw["microsecs_running"])
	}
	if !strings.Contains(string(s.Command), `"$timestamp":{"t":1741944406,"i":3}`) {
		t.Errorf("command lost its timestamp: %s", s.Command)
	}
}

// assertClean fails when any string field of v would change under source.Clean.
func assertClean(t testing.TB, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if s := v.String(); source.Clean(s) != s {
				t.Errorf("%s = %q is not clean", path, s)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return // raw JSON
			}
			for i := range v.Len() {
				walk(path+"[]", v.Index(i))
			}
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		}
	}
	walk("", reflect.ValueOf(v))
}

func TestIsInternalClassifies(t *testing.T) {
	tests := []struct {
		name string
		doc  bson.D
		want bool
	}{
		{"app op", bson.D{{Key: "connectionId", Value: 5}, {Key: "op", Value: "query"}}, false},
		{"internal thread", bson.D{{Key: "desc", Value: "TTLMonitor"}, {Key: "op", Value: "none"}}, true},
		{"idle cursor has no connection", bson.D{{Key: "type", Value: "idleCursor"}}, false},
		{"__system second user", bson.D{{Key: "connectionId", Value: 5}, {Key: "effectiveUsers", Value: bson.A{
			bson.D{{Key: "user", Value: "app"}, {Key: "db", Value: "admin"}},
			bson.D{{Key: "user", Value: "__system"}, {Key: "db", Value: "local"}}}}}, true},
		{"NetworkInterfaceTL", bson.D{{Key: "connectionId", Value: 5}, {Key: "clientMetadata", Value: bson.D{{Key: "driver", Value: bson.D{{Key: "name", Value: "NetworkInterfaceTL"}}}}}}, true},
		{"legacy shell", bson.D{{Key: "connectionId", Value: 5}, {Key: "appName", Value: "MongoDB Shell"}, {Key: "clientMetadata", Value: bson.D{{Key: "driver", Value: bson.D{{Key: "name", Value: "MongoDB Internal Client"}}}}}}, false},
		{"oplog getmore", bson.D{{Key: "connectionId", Value: 5}, {Key: "op", Value: "getmore"}, {Key: "ns", Value: "local.oplog.rs"}}, true},
		{"app getmore", bson.D{{Key: "connectionId", Value: 5}, {Key: "op", Value: "getmore"}, {Key: "ns", Value: "local.other"}}, false},
		{"heartbeat", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: bson.D{{Key: "replSetHeartbeat", Value: "rs0"}}}}, true},
		{"update position", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: bson.D{{Key: "replSetUpdatePosition", Value: 1}}}}, true},
		{"awaitable isMaster", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: bson.D{{Key: "isMaster", Value: 1}, {Key: "topologyVersion", Value: bson.D{}}}}}, true},
		{"awaitable ismaster", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: bson.D{{Key: "ismaster", Value: 1}, {Key: "topologyVersion", Value: bson.D{}}}}}, true},
		{"plain hello", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: bson.D{{Key: "hello", Value: 1}}}}, false},
		{"command not a document", bson.D{{Key: "connectionId", Value: 5}, {Key: "command", Value: "hello"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := bson.Marshal(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := isInternal(raw); got != tt.want {
				t.Errorf("isInternal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConvertOpIDTypes(t *testing.T) {
	tests := []struct {
		opid any
		want string
	}{
		{int32(12), "12"},
		{int32(-5), "-5"},
		{int64(1 << 40), "1099511627776"},
		{float64(77), "77"},
		{"shard01:4119786", "shard01:4119786"},
		{1.5, "conn3"},        // not an integer: falls back to the connection
		{bson.D{}, "conn3"},   // not a number
		{"\x1b[31m", "conn3"}, // control characters: not an ID to show or kill
	}
	for _, tt := range tests {
		raw, _ := bson.Marshal(bson.D{{Key: "type", Value: "op"}, {Key: "active", Value: true}, {Key: "connectionId", Value: int32(3)}, {Key: "opid", Value: tt.opid}})
		if got := convert(raw).ID; got != tt.want {
			t.Errorf("opid %#v: ID = %q, want %q", tt.opid, got, tt.want)
		}
	}
}

func FuzzConvert(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			f.Add([]byte(loadDoc(f, e.Name())))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := bson.Raw(data)
		s := convert(doc) // must not panic, whatever the bytes
		assertClean(t, s)
		switch s.Type {
		case source.TypeOp, source.TypeIdle, source.TypeIdleSession, source.TypeIdleCursor:
		default:
			t.Errorf("invalid type %q", s.Type)
		}
		if s.ID == "" {
			t.Error("empty ID")
		}
		for _, j := range []json.RawMessage{s.Command, s.Raw} {
			if j != nil && !json.Valid(j) {
				t.Errorf("invalid JSON %q", j)
			}
		}
		_ = isOwn(doc, self{addrs: []string{"1.2.3.4:5"}, connIDs: []int64{1}})
		_ = decodeClients([]bson.Raw{doc})
		_ = decodeServer(doc)
	})
}

// Running times saturate: a huge value of any numeric type reads as huge (it shows as >100y),
// never as 0 or negative; a negative one is clamped to 0.
func TestConvertRunningSaturates(t *testing.T) {
	tests := []struct {
		name  string
		field bson.E
		want  int64
	}{
		{"micros int64 max", bson.E{Key: "microsecs_running", Value: int64(math.MaxInt64)}, math.MaxInt64},
		{"micros huge double", bson.E{Key: "microsecs_running", Value: 1e30}, math.MaxInt64},
		{"micros double", bson.E{Key: "microsecs_running", Value: 2.5e6}, 2_500_000},
		{"micros negative", bson.E{Key: "microsecs_running", Value: int64(-7)}, 0},
		{"micros NaN", bson.E{Key: "microsecs_running", Value: math.NaN()}, 0},
		{"secs", bson.E{Key: "secs_running", Value: int32(3)}, 3_000_000},
		{"secs overflowing micros", bson.E{Key: "secs_running", Value: int64(math.MaxInt64 / 1000)}, math.MaxInt64},
		{"secs huge double", bson.E{Key: "secs_running", Value: 1e300}, math.MaxInt64},
		{"secs very negative", bson.E{Key: "secs_running", Value: int64(math.MinInt64)}, 0},
	}
	for _, tt := range tests {
		raw, _ := bson.Marshal(bson.D{{Key: "type", Value: "op"}, {Key: "active", Value: true}, {Key: "opid", Value: int32(1)}, tt.field})
		s := convert(raw)
		if s.RunningUS != tt.want {
			t.Errorf("%s: RunningUS = %d, want %d", tt.name, s.RunningUS, tt.want)
		}
		if tt.want > 0 && s.Running() <= 0 {
			t.Errorf("%s: Running() = %v", tt.name, s.Running())
		}
	}
	// An idle transaction's open time saturates the same way.
	raw, _ := bson.Marshal(bson.D{{Key: "type", Value: "idleSession"}, {Key: "active", Value: false},
		{Key: "transaction", Value: bson.D{{Key: "timeOpenMicros", Value: 1e25}}}})
	if s := convert(raw); s.RunningUS != math.MaxInt64 {
		t.Errorf("idle transaction: RunningUS = %d, want saturated", s.RunningUS)
	}
}
