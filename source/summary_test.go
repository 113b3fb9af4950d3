package source

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDescribeCommand(t *testing.T) {
	long := `{"find":"orders","filter":{"status":"` + strings.Repeat("x", 300) + `"}}`
	tests := []struct {
		name, op, cmd     string
		wantName, wantSum string
	}{
		{"find", "query", `{"find":"orders","filter":{"status":"A","qty":{"$gt":5}},"$db":"shop"}`,
			"find", `{status: "A", qty: {$gt: 5}}`},
		{"find without filter", "query", `{"find":"orders","limit":1}`, "find", ``},
		{"aggregate", "command", `{"aggregate":"orders","pipeline":[{"$match":{"status":"A"}},{"$group":{"_id":"$x"}},{"$sort":{"n":-1}},{"$limit":5}],"cursor":{}}`,
			"aggregate", `[$match {status: "A"}] +3 stages`},
		{"aggregate, two stages", "command", `{"aggregate":1,"pipeline":[{"$currentOp":{}},{"$match":{}}]}`,
			"aggregate", `[$currentOp {}] +1 stage`},
		{"change stream", "command", `{"aggregate":"orders","pipeline":[{"$changeStream":{"fullDocument":"updateLookup"}}]}`,
			"aggregate", `[$changeStream {fullDocument: "updateLookup"}]`},
		{"update statement", "update", `{"q":{"status":"open"},"u":{"$set":{"status":"overdue"}},"multi":true,"upsert":false}`,
			"update", `{status: "open"}`},
		{"update command", "update", `{"update":"invoices","updates":[{"q":{"customerId":7},"u":{"$inc":{"v":1}}}]}`,
			"update", `{customerId: 7}`},
		{"delete statement", "remove", `{"q":{"_id":{"$oid":"5f1d7a2b9c3e4f5a6b7c8d9e"}},"limit":1}`,
			"delete", `{_id: ObjectId("5f1d7a2b9c3e4f5a6b7c8d9e")}`},
		{"delete command", "remove", `{"delete":"c","deletes":[{"q":{"a":1},"limit":0}]}`, "delete", `{a: 1}`},
		{"count", "command", `{"count":"orders","query":{"status":"shipped"}}`, "count", `{status: "shipped"}`},
		{"createIndexes", "command", `{"createIndexes":"orders","indexes":[{"key":{"customerId":1,"createdAt":-1},"name":"x"}]}`,
			"createIndexes", `{customerId: 1, createdAt: -1}`},
		{"getMore", "getmore", `{"getMore":{"$numberLong":"6312883190488772611"},"collection":"orders"}`, "getMore", ``},
		{"hello", "command", `{"hello":1,"topologyVersion":{}}`, "hello", ``},
		{"null filter falls through", "command", `{"findAndModify":"c","filter":null,"query":{"a":true}}`, "findAndModify", `{a: true}`},
		{"filter not a document", "query", `{"find":"c","filter":5,"query":{"a":1}}`, "find", ``},
		{"extended JSON values", "query", `{"find":"c","filter":{"d":{"$gte":{"$date":"2026-01-02T00:00:00Z"}},"n":{"$numberLong":"9007199254740993"},"r":{"$regularExpression":{"pattern":"^a","options":"i"}},"t":{"$timestamp":{"t":1,"i":2}},"x":{"$in":[1,2,null]}}}`,
			"find", `{d: {$gte: ISODate("2026-01-02T00:00:00Z")}, n: 9007199254740993, r: /^a/i, t: Timestamp(1, 2), x: {$in: [1, 2, null]}}`},
		{"odd keys quoted", "query", `{"find":"c","filter":{"a b":1,"a.b":2,"":3}}`, "find", `{"a b": 1, a.b: 2, "": 3}`},
		{"control characters stay on one line", "query", `{"find":"c","filter":{"s":"a\nb\u001b[31m"}}`, "find", `{s: "a\nb\u001b[31m"}`},
		{"truncated by the server", "query", `{"$truncated":"{ find: \"orders\", filter: { status: \"A\" } ...","comment":"x"}`,
			"find", `{ find: "orders", filter: { status: "A" } ...`},
		{"text, not JSON", "query", `"{ find: 'user',\n  filter: {} }"`, "find", `{ find: 'user', filter: {} }`},
		{"long", "query", long, "find", `{status: "` + strings.Repeat("x", SummaryMax-11) + `…`},
		{"not a command", "", `[1,2]`, "", ""},
		{"empty", "", ``, "", ""},
		{"broken JSON", "", `{"find":`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, sum := DescribeCommand(tt.op, json.RawMessage(tt.cmd))
			if name != tt.wantName || sum != tt.wantSum {
				t.Errorf("DescribeCommand(%s)\n = %q, %q\nwant %q, %q", tt.cmd, name, sum, tt.wantName, tt.wantSum)
			}
			if n := utf8.RuneCountInString(sum); n > SummaryMax {
				t.Errorf("summary is %d characters, more than %d", n, SummaryMax)
			}
		})
	}
}

func TestQueryPartSummary(t *testing.T) {
	tests := []struct {
		p    QueryPart
		want string
	}{
		{QueryPart{Keys: []string{"_id", "a b"}, NKeys: 2}, `{_id: …, "a b": …}`},
		{QueryPart{Keys: []string{"_id"}, NKeys: 5}, `{_id: …, …}`},
		{QueryPart{Keys: []string{"$match"}, NKeys: 1, Stages: 3}, `[$match …] +2 stages`},
		{QueryPart{Doc: json.RawMessage(`{"$match":{"a":1},"$sort":{}}`), Stages: 1}, `[{$match: {a: 1}, $sort: {}}]`},
		{QueryPart{Doc: json.RawMessage(`{"$gte":1,"$lt":{"$numberInt":"5"}}`)}, `{$gte: 1, $lt: 5}`},
		{QueryPart{Doc: json.RawMessage(`{"a":{"b":{"c":{"d":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}}}`)}, ``},
		{QueryPart{Text: "  {\tfind:\n\"x\" }  "}, `{ find: "x" }`},
		{QueryPart{}, ``},
	}
	for _, tt := range tests {
		if got := tt.p.Summary(); got != tt.want {
			t.Errorf("%+v: Summary() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestCommandName(t *testing.T) {
	tests := []struct{ op, first, want string }{
		{"query", "find", "find"},
		{"update", "q", "update"},
		{"remove", "q", "delete"},
		{"command", "q", "q"},
		{"command", "", ""},
		{"command", "crea\x1b[31mte", "crea\uFFFDte"},
	}
	for _, tt := range tests {
		if got := CommandName(tt.op, tt.first); got != tt.want {
			t.Errorf("CommandName(%q, %q) = %q, want %q", tt.op, tt.first, got, tt.want)
		}
	}
	for text, want := range map[string]string{
		`{ find: "orders", …`:                  "find",
		`{ "odd name": 1 }`:                    "odd name",
		`{aggregate:"x"}`:                      "aggregate",
		`find orders`:                          "",
		`{ ` + strings.Repeat("x", 70) + `: 1`: "",
	} {
		if got := TextName(text); got != want {
			t.Errorf("TextName(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	if p := NewProgress(5, 0); p != nil {
		t.Errorf("NewProgress(5, 0) = %+v, want nil (no total)", p)
	}
	if p := NewProgress(-1, 10); p != nil {
		t.Errorf("NewProgress(-1, 10) = %+v, want nil", p)
	}
	for _, tt := range []struct {
		p    *Progress
		want int
	}{{nil, 0}, {NewProgress(3, 10), 30}, {NewProgress(12763930, 15116380), 84}, {&Progress{Done: 20, Total: 10}, 100}} {
		if got := tt.p.Percent(); got != tt.want {
			t.Errorf("%+v.Percent() = %d, want %d", tt.p, got, tt.want)
		}
	}
}

func FuzzDescribeCommand(f *testing.F) {
	f.Add("query", `{"find":"c","filter":{"a":{"$in":[1,{"$date":{"$numberLong":"-99999999999999999"}}]}}}`)
	f.Add("command", `{"aggregate":"c","pipeline":[{"$match":{"$expr":{"$gt":["$a",1]}}}]}`)
	f.Add("update", `{"q":{"$oid":5},"u":{}}`)
	f.Fuzz(func(t *testing.T, op, cmd string) {
		name, sum := DescribeCommand(op, json.RawMessage(cmd))
		if n := utf8.RuneCountInString(sum); n > SummaryMax {
			t.Fatalf("summary %q is %d characters", sum, n)
		}
		if Clean(sum) != sum || Clean(name) != name {
			t.Fatalf("not clean: %q %q", name, sum)
		}
		if strings.ContainsAny(sum, "\n\r\t") {
			t.Fatalf("summary on more than one line: %q", sum)
		}
	})
}
