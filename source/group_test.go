package source

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name, op, ns, cmdName, cmd, summary string
		want                                string
	}{
		{"find", "query", "shop.orders", "find",
			`{"find":"orders","filter":{"status":"A","qty":{"$gt":5}},"lsid":{"id":{"$binary":{"base64":"AA==","subType":"04"}}},"$db":"shop"}`, "",
			`find shop.orders {status: ?, qty: {$gt: ?}}`},
		{"find with $in and sort", "query", "shop.orders", "find",
			`{"find":"orders","filter":{"_id":{"$in":[{"$oid":"65a1b2c3d4e5f60718293a4b"},{"$oid":"65a1b2c3d4e5f60718293a4c"}]}},"sort":{"ts":-1}}`, "",
			`find shop.orders {_id: {$in: [?]}} sort: {ts: -1}`},
		{"aggregate with $lookup", "command", "shop.orders", "aggregate",
			`{"aggregate":"orders","pipeline":[{"$match":{"customerId":{"$numberLong":"42"},"ts":{"$gte":{"$date":"2026-01-01T00:00:00Z"}}}},{"$lookup":{"from":"customers","localField":"customerId","foreignField":"_id","as":"c"}},{"$group":{"_id":"$status","n":{"$sum":1}}}],"cursor":{}}`, "",
			`aggregate shop.orders [{$match: {customerId: ?, ts: {$gte: ?}}}, {$lookup: {from: "customers", localField: "customerId", foreignField: "_id", as: "c"}}, {$group: {_id: "$status", n: {$sum: ?}}}]`},
		{"aggregate with a $lookup sub-pipeline", "command", "shop.orders", "aggregate",
			`{"aggregate":"orders","pipeline":[{"$lookup":{"from":"items","let":{"o":"$_id"},"pipeline":[{"$match":{"$expr":{"$eq":["$orderId","$$o"]},"sku":"X1"}}],"as":"items"}}]}`, "",
			`aggregate shop.orders [{$lookup: {from: "items", let: {o: "$_id"}, pipeline: [{$match: {$expr: {$eq: ["$orderId", "$$o"]}, sku: ?}}], as: "items"}}]`},
		{"update command", "command", "shop.orders", "update",
			`{"update":"orders","updates":[{"q":{"_id":7},"u":{"$set":{"status":"B"},"$inc":{"n":1}},"multi":false}],"ordered":true}`, "",
			`update shop.orders [{q: {_id: ?}, u: {$set: {status: ?}, $inc: {n: ?}}, multi: ?}]`},
		{"update statement in $currentOp", "update", "shop.orders", "update",
			`{"q":{"status":"A"},"u":{"$set":{"flag":true}},"multi":true,"upsert":false}`, "",
			`update shop.orders {status: ?} u: {$set: {flag: ?}}`},
		{"delete", "command", "shop.orders", "delete",
			`{"delete":"orders","deletes":[{"q":{"ts":{"$lt":{"$date":{"$numberLong":"1700000000000"}}}},"limit":0}]}`, "",
			`delete shop.orders [{q: {ts: {$lt: ?}}, limit: ?}]`},
		{"getMore", "getmore", "shop.orders", "getMore",
			`{"getMore":{"$numberLong":"4947305021798302"},"collection":"orders","batchSize":101}`, "",
			`getMore shop.orders`},
		{"count", "command", "shop.orders", "count",
			`{"count":"orders","query":{"status":"A","tags":["x","y"]}}`, "",
			`count shop.orders {status: ?, tags: [?]}`},
		{"distinct", "command", "shop.orders", "distinct",
			`{"distinct":"orders","key":"sku","query":{"qty":{"$gt":3}}}`, "",
			`distinct shop.orders {qty: {$gt: ?}} key: "sku"`},
		{"truncated by the server", "command", "shop.orders", "find",
			`{"$truncated":"{ find: \"orders\", filter: { status: \"A\", qty: { $gt: 5.5 } }, lsid: { id: UUID(\"2a…"}`, "",
			`find shop.orders {find: ?, filter: {status: ?, qty: {$gt: ?}}, lsid: {id: UUID(?…`},
		{"cloud text that is JSON", "query", "shop.orders", "find",
			`"{\"find\":\"orders\",\"filter\":{\"status\":\"A\"}}"`, "",
			`find shop.orders {status: ?}`},
		{"cloud text that is not JSON", "query", "shop.orders", "",
			`"db.orders.find({ status: 'A', qty: 10 })"`, "",
			`query shop.orders db.orders.find({status: ?, qty: ?})`},
		{"lean update statement: the summary", "update", "billing.invoices", "update",
			`{"q":"…"}`, `{status: "open", dueDate: {$lt: ISODate("2026-12-06T23:00:00Z")}}`,
			`update billing.invoices {status: ?, dueDate: {$lt: ISODate(?)}}`},
		{"lean: the summary", "query", "shop.orders", "find",
			`{"find":"orders"}`, `{status: "A", qty: {$gt: 5}}`,
			`find shop.orders {status: ?, qty: {$gt: ?}}`},
		{"no command", "command", "", "", ``, "", `command`},
		{"broken JSON", "query", "a.b", "find", `{"find":"b","filter":{"x":`, "", `find a.b`},
		{"not an object", "query", "a.b", "find", `[1,2]`, "", `find a.b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Session{Op: tt.op, NS: tt.ns, CommandName: tt.cmdName, Command: json.RawMessage(tt.cmd), Summary: tt.summary}
			if got := Fingerprint(&s); got != tt.want {
				t.Errorf("Fingerprint:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFingerprintGroupsLiterals: the same structure with other literals is one shape; other
// structure is another.
func TestFingerprintGroupsLiterals(t *testing.T) {
	tests := []struct {
		name       string
		a, b, diff string // commands; diff has a different structure than a
	}{
		{"find",
			`{"find":"orders","filter":{"status":"A","qty":{"$gt":5}}}`,
			`{"find":"orders","filter":{"status":"B","qty":{"$gt":9.5}},"lsid":{"id":1}}`,
			`{"find":"orders","filter":{"qty":{"$gt":5},"status":"A"}}`},
		{"$in of any length",
			`{"find":"orders","filter":{"sku":{"$in":["a"]}}}`,
			`{"find":"orders","filter":{"sku":{"$in":["b","c","d"]}}}`,
			`{"find":"orders","filter":{"sku":{"$nin":["a"]}}}`},
		{"aggregate $lookup",
			`{"aggregate":"orders","pipeline":[{"$match":{"c":1}},{"$lookup":{"from":"customers","localField":"c","foreignField":"_id","as":"x"}}]}`,
			`{"aggregate":"orders","pipeline":[{"$match":{"c":2}},{"$lookup":{"from":"customers","localField":"c","foreignField":"_id","as":"x"}}]}`,
			`{"aggregate":"orders","pipeline":[{"$match":{"c":1}},{"$lookup":{"from":"suppliers","localField":"c","foreignField":"_id","as":"x"}}]}`},
		{"update",
			`{"update":"orders","updates":[{"q":{"_id":1},"u":{"$set":{"s":"A"}}}]}`,
			`{"update":"orders","updates":[{"q":{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"}},"u":{"$set":{"s":"Z"}}}]}`,
			`{"update":"orders","updates":[{"q":{"_id":1},"u":{"$unset":{"s":""}}}]}`},
		{"delete",
			`{"delete":"orders","deletes":[{"q":{"ts":{"$lt":5}},"limit":0}]}`,
			`{"delete":"orders","deletes":[{"q":{"ts":{"$lt":{"$date":"2026-01-01T00:00:00Z"}}},"limit":1}]}`,
			`{"delete":"orders","deletes":[{"q":{"ts":{"$lte":5}},"limit":0}]}`},
		{"getMore",
			`{"getMore":{"$numberLong":"1"},"collection":"orders"}`,
			`{"getMore":{"$numberLong":"2"},"collection":"orders","batchSize":5}`,
			`{"getMore":{"$numberLong":"2"},"collection":"orders","filter":{"a":1}}`},
		{"count",
			`{"count":"orders","query":{"a":1}}`,
			`{"count":"orders","query":{"a":"x"}}`,
			`{"count":"orders","query":{"b":1}}`},
		{"distinct",
			`{"distinct":"orders","key":"sku","query":{"a":1}}`,
			`{"distinct":"orders","key":"sku","query":{"a":2}}`,
			`{"distinct":"orders","key":"qty","query":{"a":1}}`},
		{"Huawei operation text",
			`"{\"find\":\"orders\",\"filter\":{\"status\":\"A\"},\"$db\":\"shop\"}"`,
			`"{\"find\":\"orders\",\"filter\":{\"status\":\"B\"},\"$db\":\"shop\"}"`,
			`"{\"find\":\"orders\",\"filter\":{\"state\":\"B\"},\"$db\":\"shop\"}"`},
		{"Tencent statement text",
			`"{ find: \"orders\", filter: { status: \"A\", qty: { $gt: 5 } } }"`,
			`"{ find: \"orders\", filter: { status: \"C\", qty: { $gt: 77 } } }"`,
			`"{ find: \"orders\", filter: { status: \"A\", qty: { $lt: 5 } } }"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := func(cmd string) string {
				name, _ := DescribeCommand("query", json.RawMessage(cmd))
				return Fingerprint(&Session{Op: "query", NS: "shop.orders", CommandName: name, Command: json.RawMessage(cmd)})
			}
			a, b, d := fp(tt.a), fp(tt.b), fp(tt.diff)
			if a != b {
				t.Errorf("different literals, different shapes:\n%s\n%s", a, b)
			}
			if a == d {
				t.Errorf("different structure, one shape: %s", a)
			}
		})
	}
}

func TestFingerprintNeverPanics(t *testing.T) {
	odd := []string{`{`, `{"`, `{"a"`, `{"a":`, `{"a":{`, `{"filter":[`, `{"filter":{"$in":`, `"`, `"\"`, `"{\"filter\":`,
		`{"filter":{"a":"\"}}`, `{"$truncated":5}`, `{"filter":` + deep(200) + `}`, "{\"filter\":{\"a\x00\":\"\x1b[31m\"}}"}
	for _, c := range odd {
		s := Session{Op: "query", CommandName: "find", Command: json.RawMessage(c), Summary: c}
		_ = Fingerprint(&s)
	}
}

func deep(n int) string {
	s := "1"
	for range n {
		s = `{"a":` + s + `}`
	}
	return s
}

func TestGroup(t *testing.T) {
	cmd := func(st string) json.RawMessage {
		return json.RawMessage(`{"find":"orders","filter":{"status":"` + st + `"}}`)
	}
	sessions := []Session{
		{ID: "1", Active: true, Op: "query", NS: "shop.orders", CommandName: "find", Command: cmd("A"), RunningUS: 5_000_000, Client: "10.0.0.1:5000", App: "orders", PlanSummary: "COLLSCAN"},
		{ID: "2", Active: true, Op: "query", NS: "shop.orders", CommandName: "find", Command: cmd("B"), RunningUS: 3_000_000, Client: "10.0.0.2:5000", App: "orders", PlanSummary: "COLLSCAN", WaitingForLock: true},
		{ID: "3", Active: true, Op: "insert", NS: "shop.orders", CommandName: "insert", RunningUS: 7_000_000, Client: "10.0.0.1:5001", App: "loader"},
		{ID: "4", Type: TypeIdle, Client: "10.0.0.3:1", App: "orders", RunningUS: 99_000_000},
	}
	got := GroupSessions(sessions, "shape")
	if len(got) != 3 {
		t.Fatalf("groups: %+v", got)
	}
	g := got[0]
	if g.Key != "find shop.orders {status: ?}" || g.Count != 2 || g.Active != 2 || g.WaitingForLock != 1 ||
		g.RunningUSTotal != 8_000_000 || g.RunningUSMax != 5_000_000 || g.Collscan != 2 || g.ExampleID != "1" ||
		fmt.Sprint(g.Apps) != "[orders]" || fmt.Sprint(g.Clients) != "[10.0.0.1 10.0.0.2]" || fmt.Sprint(g.IDs) != "[1 2]" {
		t.Errorf("first group: %+v", g)
	}
	if got[1].Key != "insert shop.orders" || got[2].RunningUSTotal != 0 {
		t.Errorf("order: %+v", got)
	}
	byApp := GroupSessions(sessions, "app")
	if byApp[0].Key != "orders" || byApp[0].Count != 3 || byApp[1].Key != "loader" {
		t.Errorf("by app: %+v", byApp)
	}
	if g := GroupSessions(sessions, "client"); g[0].Key != "10.0.0.1" || g[0].Count != 2 {
		t.Errorf("by client: %+v", g)
	}
	total := 0
	for _, by := range GroupBys {
		total = 0
		for _, g := range GroupSessions(sessions, by) {
			total += g.Count
		}
		if total != len(sessions) {
			t.Errorf("by %s: counts add up to %d", by, total)
		}
	}
	if GroupSessions(nil, "shape") != nil {
		t.Error("no sessions, groups")
	}
}

func benchSessions(n int) []Session {
	ss := make([]Session, n)
	shapes := []string{
		`{"find":"orders","filter":{"status":"%d","qty":{"$gt":%d}},"lsid":{"id":{"$binary":{"base64":"9FhcBFVeTzafCH8BUZrLjQ==","subType":"04"}}},"$db":"shop"}`,
		`{"aggregate":"orders","pipeline":[{"$match":{"customerId":%d}},{"$lookup":{"from":"customers","localField":"customerId","foreignField":"_id","as":"c"}},{"$limit":%d}],"cursor":{},"$db":"shop"}`,
		`{"update":"orders","updates":[{"q":{"_id":%d},"u":{"$set":{"qty":%d}}}],"ordered":true,"$db":"shop"}`,
	}
	for i := range ss {
		k := i % (len(shapes) + 1)
		s := Session{ID: strconv.Itoa(i), Active: true, Op: "query", NS: "shop.orders", RunningUS: int64(i),
			Client: "10.0.0." + strconv.Itoa(i%200) + ":40000", App: "app" + strconv.Itoa(i%7), PlanSummary: "IXSCAN { a: 1 }"}
		if k < len(shapes) {
			s.Command = json.RawMessage(fmt.Sprintf(shapes[k], i, i*7))
			s.CommandName, _ = DescribeCommand(s.Op, s.Command)
		} else {
			s.CommandName, s.Summary = "find", fmt.Sprintf(`{sku: "%d"}`, i) // lean
		}
		ss[i] = s
	}
	return ss
}

// BenchmarkGroup: grouping 100 000 sessions (target ≤ 30 ms). shape-cold fingerprints every
// session (GroupSessions, --once); shape-warm is a live refresh with a Grouper that saw the
// same sessions last time; shape-warm-5%new has 5 000 of them replaced by new ones. The other
// keys are a live refresh by that key. cpu-ms/op is what a call costs on a shared machine
// (the first pass runs on GOMAXPROCS goroutines: wall time can be less).
func BenchmarkGroup(b *testing.B) {
	ss := benchSessions(100_000)
	b.Run("shape-cold", func(b *testing.B) {
		meterCPU(b)
		for b.Loop() {
			GroupSessions(ss, "shape")
		}
	})
	b.Run("shape-warm", func(b *testing.B) {
		var g Grouper
		g.Group(ss, "shape")
		meterCPU(b)
		for b.Loop() {
			g.Group(ss, "shape")
		}
	})
	b.Run("shape-warm-5%new", func(b *testing.B) {
		var g Grouper
		fresh := benchSessions(105_000)[100_000:]
		for i := range fresh {
			fresh[i].ID = "new" + fresh[i].ID
		}
		a := slices.Clone(ss)
		c := slices.Clone(ss)
		copy(c[:5000], fresh)
		g.Group(a, "shape")
		n := 0
		meterCPU(b)
		for b.Loop() {
			if n++; n%2 == 0 {
				g.Group(a, "shape")
			} else {
				g.Group(c, "shape")
			}
		}
	})
	for _, by := range []string{"app", "ns", "client", "user", "op", "plan", "host"} {
		b.Run(by, func(b *testing.B) {
			var g Grouper
			g.Group(ss, by)
			meterCPU(b)
			for b.Loop() {
				g.Group(ss, by)
			}
		})
	}
}
