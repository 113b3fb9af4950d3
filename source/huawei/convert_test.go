package huawei

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// TestSeedExampleResponse decodes the example response of the seed document
// (shared/seeds/huawei-dds-ListSessions.txt, copied to testdata/seed-ListSessions.json) into
// the session in testdata/seed-session.json, and checks that its operation — whose text has
// "\=" escapes, $binary, $timestamp with doubles and doubles for int64s — becomes a command
// with the right BSON types.
func TestSeedExampleResponse(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-ListSessions.json")
	if err != nil {
		t.Fatal(err)
	}
	var resp listSessionsResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatalf("decode the seed response: %v", err)
	}
	if resp.TotalCount != 1 || len(resp.Sessions) != 1 {
		t.Fatalf("total_count %d, %d sessions; want 1, 1", resp.TotalCount, len(resp.Sessions))
	}
	c, ok := toSession(resp.Sessions[0], "node-host:8635")
	if !ok {
		t.Fatal("the seed session was rejected")
	}
	got := c.s

	wantData, err := os.ReadFile("testdata/seed-session.json")
	if err != nil {
		t.Fatal(err)
	}
	var want source.Session
	if err := json.Unmarshal(wantData, &want); err != nil {
		t.Fatal(err)
	}
	cmd := got.Command
	got.Command, got.Raw = nil, nil
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Errorf("session:\n%s\nwant\n%s", gj, wj)
	}
	if got.Internal {
		t.Error("a PyMongo getMore was marked internal")
	}
	if !json.Valid(got.Raw) && got.Raw != nil {
		t.Error("Raw is not JSON")
	}

	// The command: key order kept, and each value with the type the text meant.
	if !json.Valid(cmd) {
		t.Fatalf("command is not JSON: %s", cmd)
	}
	var doc bson.D
	if err := bson.UnmarshalExtJSON(cmd, false, &doc); err != nil {
		t.Fatalf("command is not relaxed Extended JSON: %v\n%s", err, cmd)
	}
	if doc[0].Key != "getMore" || doc[len(doc)-1].Key != "$db" {
		t.Errorf("key order lost: first %q last %q", doc[0].Key, doc[len(doc)-1].Key)
	}
	m := toMap(doc)
	if v, ok := m["getMore"].(float64); !ok || v != 4.9473050217983027e18 {
		t.Errorf("getMore = %#v, want the double 4.9473050217983027E18", m["getMore"])
	}
	if v, ok := m["batchSize"].(float64); !ok || v != 101 {
		t.Errorf("batchSize = %#v, want the double 101", m["batchSize"])
	}
	if m["$db"] != "admin" || m["collection"] != "$cmd.aggregate" {
		t.Errorf("$db %v, collection %v", m["$db"], m["collection"])
	}
	lsid := toMap(m["lsid"].(bson.D))
	wantID, _ := base64.StdEncoding.DecodeString("9FhcBFVeTzafCH8BUZrLjQ==")
	if b, ok := lsid["id"].(bson.Binary); !ok || b.Subtype != 3 || !bytes.Equal(b.Data, wantID) {
		t.Errorf("lsid.id = %#v, want UUID binary subtype 3 of 9FhcBFVeTzafCH8BUZrLjQ==", lsid["id"])
	}
	if b, ok := lsid["uid"].(bson.Binary); !ok || b.Subtype != 0 || len(b.Data) != 32 {
		t.Errorf("lsid.uid = %#v, want a 32-byte binary subtype 0", lsid["uid"])
	}
	ct := toMap(m["$clusterTime"].(bson.D))
	if ts, ok := ct["clusterTime"].(bson.Timestamp); !ok || ts.T != 1614047961 || ts.I != 1 {
		t.Errorf("$clusterTime.clusterTime = %#v, want Timestamp(1614047961, 1)", ct["clusterTime"])
	}
	cs := toMap(toMap(m["$configServerState"].(bson.D))["opTime"].(bson.D))
	if ts, ok := cs["ts"].(bson.Timestamp); !ok || ts.T != 1614047961 || ts.I != 1 {
		t.Errorf("$configServerState.opTime.ts = %#v", cs["ts"])
	}
	if v, ok := cs["t"].(float64); !ok || v != 2 {
		t.Errorf("opTime.t = %#v, want the double 2 (only $timestamp members become integers)", cs["t"])
	}
	mongos := toMap(toMap(m["$client"].(bson.D))["mongos"].(bson.D))
	if mongos["host"] != "host-172-16-61-110:8635" {
		t.Errorf("$client.mongos.host = %v", mongos["host"])
	}
}

func toMap(d bson.D) map[string]any {
	m := make(map[string]any, len(d))
	for _, e := range d {
		m[e.Key] = e.Value
	}
	return m
}

func TestParseOperation(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		want      string // exact Command; "" for none
		wantApp   string
		wantTrunc bool
	}{
		{name: "empty", op: "", want: ""},
		{name: "blank", op: "  ", want: ""},
		{name: "relaxed JSON", op: `{"find":"orders","filter":{"a":{"$gt":1}},"$db":"shop"}`,
			want: `{"find":"orders","filter":{"a":{"$gt":1}},"$db":"shop"}`},
		{name: "canonical numbers become relaxed", op: `{"count":"c","n":{"$numberLong":"5"}}`,
			want: `{"count":"c","n":5}`},
		{name: "invalid escape repaired", op: `{"a":"x\=y"}`, want: `{"a":"x=y"}`},
		{name: "raw control character repaired", op: "{\"a\":\"x\ty\"}", want: `{"a":"x\u0009y"}`},
		{name: "not JSON kept as a string", op: `find orders {a: 1}`, want: `"find orders {a: 1}"`},
		{name: "truncated JSON kept as a string", op: `{"find":"orders"`, want: `"{\"find\":\"orders\""`},
		{name: "JSON scalar kept as JSON", op: `42`, want: `42`},
		{name: "application name", op: `{"insert":"c","$client":{"application":{"name":"orders-api"},"driver":{"name":"nodejs","version":"6.1"}}}`,
			want: `{"insert":"c","$client":{"application":{"name":"orders-api"},"driver":{"name":"nodejs","version":"6.1"}}}`, wantApp: "orders-api"},
		{name: "escape sequence stays escaped inside JSON", op: "{\"a\":\"\x1b[31mred\"}", want: `{"a":"\u001b[31mred"}`},
		{name: "bad ext JSON stays plain JSON", op: `{"a":{"$binary":7}}`, want: `{"a":{"$binary":7}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, meta, trunc := parseOperation(tt.op)
			if string(cmd) != tt.want {
				t.Errorf("command = %s, want %s", cmd, tt.want)
			}
			if len(cmd) > 0 && !json.Valid(cmd) {
				t.Errorf("command is not valid JSON: %s", cmd)
			}
			if meta.app() != tt.wantApp {
				t.Errorf("app = %q, want %q", meta.app(), tt.wantApp)
			}
			if trunc != tt.wantTrunc {
				t.Errorf("truncated = %v", trunc)
			}
		})
	}

	huge := `{"a":"` + strings.Repeat("x", maxCommand) + `"}`
	cmd, _, trunc := parseOperation(huge)
	if !trunc || !json.Valid(cmd) || len(cmd) > maxCommand+16 {
		t.Errorf("huge operation: truncated=%v valid=%v len=%d", trunc, json.Valid(cmd), len(cmd))
	}
}

func TestToSessionOddTypes(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		ok      bool
		running int64
		active  bool
		typ     string
	}{
		{"cost_time number", `{"id":"1","active":true,"cost_time":1500000}`, true, 1500000, true, source.TypeOp},
		{"cost_time float string", `{"id":"1","active":true,"cost_time":"25.9"}`, true, 25, true, source.TypeOp},
		{"cost_time empty", `{"id":"1","active":false,"cost_time":""}`, true, 0, false, source.TypeIdle},
		{"cost_time null", `{"id":"1","active":true,"cost_time":null}`, true, 0, true, source.TypeOp},
		{"cost_time negative", `{"id":"1","active":true,"cost_time":"-5"}`, true, 0, true, source.TypeOp},
		{"cost_time garbage", `{"id":"1","active":true,"cost_time":"soon"}`, true, 0, true, source.TypeOp},
		{"cost_time huge", `{"id":"1","active":true,"cost_time":1e300}`, true, 1<<63 - 1, true, source.TypeOp},
		{"active as string", `{"id":"1","active":"true"}`, true, 0, true, source.TypeOp},
		{"active as number", `{"id":"1","active":0}`, true, 0, false, source.TypeIdle},
		{"numeric id", `{"id":7201646,"active":true}`, true, 0, true, source.TypeOp},
		{"no id", `{"active":true}`, false, 0, false, ""},
		{"not an object", `[1,2]`, false, 0, false, ""},
		{"string", `"x"`, false, 0, false, ""},
		{"object where a string belongs", `{"id":"1","namespace":{"a":1},"active":true}`, true, 0, true, source.TypeOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := toSession(json.RawMessage(tt.raw), "")
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if c.s.RunningUS != tt.running || c.s.Active != tt.active || c.s.Type != tt.typ {
				t.Errorf("running %d active %v type %q; want %d %v %q", c.s.RunningUS, c.s.Active, c.s.Type, tt.running, tt.active, tt.typ)
			}
		})
	}
}

func TestToSessionCleansText(t *testing.T) {
	raw := `{"id":"1\u001b[2J","active":true,"namespace":"db.\u001b]0;pwned\u0007c","client":"10.0.0.1:5\u202e","description":"conn\u0007x","plan_summary":"COLL\nSCAN","host":"h\u009b1m"}`
	c, ok := toSession(json.RawMessage(raw), "")
	if !ok {
		t.Fatal("rejected")
	}
	for name, v := range map[string]string{"id": c.s.ID, "ns": c.s.NS, "client": c.s.Client, "desc": c.s.Desc, "plan": c.s.PlanSummary, "host": c.s.Host} {
		if v != source.Clean(v) || strings.ContainsAny(v, "\x1b\x07\u202e\u009b\n") {
			t.Errorf("%s not cleaned: %q", name, v)
		}
	}
	if c.s.NS != "db.\uFFFDc" {
		t.Errorf("ns = %q, want db.\uFFFDc (the removed sequence marked)", c.s.NS)
	}
}

func TestInternalSessions(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{`{"id":"1","active":true,"type":"getmore","namespace":"local.oplog.rs","client":"10.0.0.2:1","description":"conn3"}`, true},
		{`{"id":"2","active":true,"type":"command","client":"10.0.0.2:1","description":"conn4","operation":"{\"hello\":1,\"topologyVersion\":{},\"maxAwaitTimeMS\":10000}"}`, true},
		{`{"id":"3","active":true,"type":"none","description":"TTLMonitor"}`, true},
		{`{"id":"4","active":true,"type":"query","client":"10.0.0.3:1","description":"conn5","user":"__system"}`, true},
		{`{"id":"5","active":true,"type":"query","client":"10.0.0.3:1","description":"conn5","operation":"{\"find\":\"c\",\"$client\":{\"driver\":{\"name\":\"NetworkInterfaceTL\",\"version\":\"7.0\"}}}"}`, true},
		{`{"id":"6","active":true,"type":"query","client":"10.0.0.3:1","description":"conn6","operation":"{\"find\":\"c\"}"}`, false},
		{`{"id":"7","active":true,"type":"command","client":"10.0.0.3:1","description":"conn7","operation":"{\"hello\":1}"}`, false},
	}
	for _, tt := range tests {
		c, _ := toSession(json.RawMessage(tt.raw), "")
		if c.s.Internal != tt.want {
			t.Errorf("%s: internal = %v, want %v", tt.raw, c.s.Internal, tt.want)
		}
	}
}

func TestClientsFrom(t *testing.T) {
	st := &connStatsResponse{
		TotalConnections: 75, TotalInnerConnections: 50, TotalOuterConnections: 25,
		InnerConnections: []connByIP{{"10.10.10.24", 19}, {"9.3.185.42", 6}},
		OuterConnections: []connByIP{{"10.10.10.25", 11}, {"9.3.185.46", 8}, {"\x1b[31m", 1}, {"", 3}},
	}
	sessions := []source.Session{
		{Client: "10.10.10.25:5000", Active: true, App: "orders", Driver: "go 2.9"},
		{Client: "10.10.10.25:5001", Active: false, App: "billing"},
		{Client: "10.10.10.25:5002", Active: true, App: "orders"},
		{Client: "[::1]:5000", Active: true},
	}
	got, warnings := clientsFrom(st, sessions)
	byIP := map[string]source.Client{}
	for _, c := range got {
		byIP[c.IP] = c
	}
	if c := byIP["10.10.10.25"]; c.Count != 11 || c.Internal || c.Active != 2 || strings.Join(c.Apps, ",") != "billing,orders" || strings.Join(c.Drivers, ",") != "go 2.9" {
		t.Errorf("outer client = %+v", c)
	}
	if c := byIP["10.10.10.24"]; c.Count != 19 || !c.Internal {
		t.Errorf("inner client = %+v", c)
	}
	if _, ok := byIP[""]; ok {
		t.Error("an empty IP became a client")
	}
	for ip := range byIP {
		if strings.ContainsRune(ip, 0x1b) {
			t.Errorf("IP not cleaned: %q", ip)
		}
	}
	// 25 outer in total, 23 itemised; 50 inner, 25 itemised.
	if len(warnings) != 2 || !strings.Contains(warnings[0], "2 client connections") || !strings.Contains(warnings[1], "25 internal") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestPushdown(t *testing.T) {
	re := func(s string) *regexp.Regexp { return regexp.MustCompile(s) }
	tests := []struct {
		name  string
		terms []source.Term
		want  string
	}{
		{"nothing", nil, ""},
		{"running greater", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">", Dur: 5 * time.Second}}, "cost_time=5000000"},
		{"running at least", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">=", Dur: 5 * time.Second}}, "cost_time=4999999"},
		{"sub-microsecond greater", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">", Dur: 1500 * time.Nanosecond}}, "cost_time=1"},
		{"sub-microsecond at least", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">=", Dur: 1500 * time.Nanosecond}}, "cost_time=1"},
		{"at least zero matches all", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">=", Dur: 0}}, ""},
		{"tightest bound wins", []source.Term{
			{Field: "running", Kind: source.Compare, Cmp: ">", Dur: time.Second},
			{Field: "running", Kind: source.Compare, Cmp: ">", Dur: 3 * time.Second}}, "cost_time=3000000"},
		{"int32 clamp widens", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">", Dur: time.Hour}}, "cost_time=2147483647"},
		{"less than not pushed", []source.Term{{Field: "running", Kind: source.Compare, Cmp: "<", Dur: time.Second}}, ""},
		{"negated not pushed", []source.Term{{Field: "running", Kind: source.Compare, Cmp: ">", Dur: time.Second, Not: true}}, ""},
		{"op exact word", []source.Term{{Field: "op", Kind: source.Contains, Value: "query"}}, "type=query"},
		{"op unique substring", []source.Term{{Field: "op", Kind: source.Contains, Value: "getm"}}, "type=getmore"},
		{"op ambiguous substring", []source.Term{{Field: "op", Kind: source.Contains, Value: "e"}}, ""},
		{"op unknown", []source.Term{{Field: "op", Kind: source.Contains, Value: "aggregate"}}, ""},
		{"op empty", []source.Term{{Field: "op", Kind: source.Contains, Value: ""}}, ""},
		{"op anchored regex", []source.Term{{Field: "op", Kind: source.Regex, Re: re(`(?i)^Insert$`)}}, "type=insert"},
		{"op unanchored regex", []source.Term{{Field: "op", Kind: source.Regex, Re: re(`(?i)insert`)}}, ""},
		{"plan substring not pushed", []source.Term{{Field: "plan", Kind: source.Contains, Value: "collscan"}}, ""},
		{"plan anchored regex", []source.Term{{Field: "plan", Kind: source.Regex, Re: re(`(?i)^collscan$`)}}, "plan_summary=COLLSCAN"},
		{"ns substring not pushed", []source.Term{{Field: "ns", Kind: source.Contains, Value: "shop.orders"}}, ""},
		{"ns case-insensitive regex not pushed", []source.Term{{Field: "ns", Kind: source.Regex, Re: re(`(?i)^shop\.orders$`)}}, ""},
		{"ns exact regex", []source.Term{{Field: "ns", Kind: source.Regex, Re: re(`^shop\.orders$`)}}, "namespace=shop.orders"},
		{"ns caseless literal", []source.Term{{Field: "ns", Kind: source.Regex, Re: re(`(?i)^1\.2$`)}}, "namespace=1.2"},
		{"ns empty regex never sent", []source.Term{{Field: "ns", Kind: source.Regex, Re: re(`^$`)}}, ""},
		{"free text not pushed", []source.Term{{Kind: source.Contains, Value: "query"}}, ""},
		{"combined", []source.Term{
			{Field: "op", Kind: source.Contains, Value: "command"},
			{Field: "running", Kind: source.Compare, Cmp: ">", Dur: 2 * time.Second},
			{Field: "ns", Kind: source.Regex, Re: re(`^admin\.\$cmd$`)}}, "cost_time=2000000&namespace=admin.%24cmd&type=command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := pushdown(source.Filter{Terms: tt.terms})
			if got := q.Encode(); got != tt.want {
				t.Errorf("pushdown = %q, want %q", got, tt.want)
			}
			for k, v := range q {
				if len(v) != 1 || v[0] == "" {
					t.Errorf("parameter %s = %q: empty values must never be sent", k, v)
				}
			}
		})
	}
}

func TestPushdownOfParsedFilters(t *testing.T) {
	tests := []struct{ text, want string }{
		{`op:query running>1s`, "cost_time=1000000&type=query"},
		{`op=getmore plan=collscan`, "plan_summary=COLLSCAN&type=getmore"},
		{`running>=1.5s`, "cost_time=1499999"},
		{`ns=shop.orders`, ""}, // case-insensitive: "shop.Orders" would match locally
		{`ns:/(?-i)^shop\.orders$/`, "namespace=shop.orders"},
		{`-op:query plan:scan query`, ""},
		{`running>1h`, "cost_time=2147483647"},
	}
	for _, tt := range tests {
		f, err := source.ParseFilter(tt.text)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if got := pushdown(f).Encode(); got != tt.want {
			t.Errorf("%s → %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestPushdownIsSuperset checks the pushed cost_time against the local meaning of the term on
// running times around the boundary: every session the term keeps must pass the API filter.
func TestPushdownIsSuperset(t *testing.T) {
	for _, cmp := range []string{">", ">="} {
		for _, d := range []time.Duration{0, time.Nanosecond, 999 * time.Nanosecond, time.Microsecond, 1001 * time.Nanosecond, time.Second, 1500 * time.Millisecond} {
			q := pushdown(source.Filter{Terms: []source.Term{{Field: "running", Kind: source.Compare, Cmp: cmp, Dur: d}}})
			var x int64 = -1
			if v := q.Get("cost_time"); v != "" {
				x = parseInt(v)
			}
			for us := int64(0); us < 2_000_000; us += max(1, us/3) {
				run := time.Duration(us) * time.Microsecond
				local := run > d || (cmp == ">=" && run == d)
				api := x < 0 || us > x
				if local && !api {
					t.Fatalf("running%s%v: a session of %dµs matches locally but cost_time=%d drops it", cmp, d, us, x)
				}
				if api != local && x >= 0 {
					t.Fatalf("running%s%v: cost_time=%d is not exact at %dµs", cmp, d, x, us)
				}
			}
		}
	}
}

func FuzzToSession(f *testing.F) {
	seed, _ := os.ReadFile("testdata/seed-ListSessions.json")
	var resp listSessionsResponse
	_ = json.Unmarshal(seed, &resp)
	for _, s := range resp.Sessions {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"id":"1","operation":"{\"a\":\"\\=\"}"}`))
	f.Add([]byte(`{"id":"1","operation":"{\"$timestamp\":{\"t\":1.5,\"i\":-1}}"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, ok := toSession(raw, "h")
		if !ok {
			return
		}
		if len(c.s.Command) > 0 && !json.Valid(c.s.Command) {
			t.Fatalf("command not JSON: %q", c.s.Command)
		}
		for _, v := range []string{c.s.ID, c.s.NS, c.s.Client, c.s.Host, c.s.Desc, c.s.Op, c.s.PlanSummary, c.s.App, c.s.Driver} {
			if v != source.Clean(v) {
				t.Fatalf("uncleaned %q", v)
			}
		}
		if c.s.RunningUS < 0 {
			t.Fatal("negative running time")
		}
	})
}

// BenchmarkDecodePage measures decoding one full ListSessions page of 20 sessions shaped like
// the seed's (the per-page client cost of a refresh).
func BenchmarkDecodePage(b *testing.B) {
	seed, err := os.ReadFile("testdata/seed-ListSessions.json")
	if err != nil {
		b.Fatal(err)
	}
	var one listSessionsResponse
	if err := json.Unmarshal(seed, &one); err != nil {
		b.Fatal(err)
	}
	page := `{"total_count":20,"sessions":[` + strings.TrimSuffix(strings.Repeat(string(one.Sessions[0])+",", 20), ",") + `]}`
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var resp listSessionsResponse
		if err := json.Unmarshal([]byte(page), &resp); err != nil {
			b.Fatal(err)
		}
		for _, raw := range resp.Sessions {
			if _, ok := toSession(raw, ""); !ok {
				b.Fatal("rejected")
			}
		}
	}
}

// Idle sessions say up front that DeleteSession cannot end them; active ones can be tried.
func TestIdleSessionsAreMarkedNotKillable(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		killable bool
	}{
		{`{"id":"7201646","active":true,"type":"query","cost_time":"1000"}`, true},
		{`{"id":"7201647","active":false,"type":"none"}`, false},
	} {
		c, ok := toSession(json.RawMessage(tc.raw), "node-a:8635")
		if !ok {
			t.Fatalf("%s: not converted", tc.raw)
		}
		if got := c.s.NotKillable == ""; got != tc.killable {
			t.Errorf("%s: killable %v (NotKillable %q), want %v", tc.raw, got, c.s.NotKillable, tc.killable)
		}
	}
}
