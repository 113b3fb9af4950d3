package tencent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

func TestJSONText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{`{ "find" : "orders", "filter": {"a": 1} }`, `{"find":"orders","filter":{"a":1}}`},
		{`[1, 2]`, `[1,2]`},
		{`db.orders.find({a: 1})`, `"db.orders.find({a: 1})"`},
		{`{"find":"x`, `"{\"find\":\"x"`},
		{"{\"find\":\"\u009b31mx\u202e\"}", `{"find":"\u009b31mx\u202e"}`},
		{"plain \x1b[2J text\x7f", `"plain \u001b[2J text\u007f"`},
		{"bad \xff utf8", `"bad \ufffd utf8"`},
		{`{"n":9007199254740993}`, `{"n":9007199254740993}`},
	} {
		got := string(jsonText(tc.in))
		if got != tc.want {
			t.Errorf("jsonText(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got != "" && !json.Valid([]byte(got)) {
			t.Errorf("jsonText(%q) is not valid JSON: %s", tc.in, got)
		}
	}
	long := `{"a":"` + strings.Repeat("x", maxCommand) + `"}`
	got := jsonText(long)
	var s string
	if err := json.Unmarshal(got, &s); err != nil || len(s) > maxCommand+len("…") || !strings.HasSuffix(s, "…") {
		t.Errorf("long command: %d bytes, %v", len(got), err)
	}
}

func TestToSessionCleansAndKeepsRaw(t *testing.T) {
	id := int64(9007199254740993)
	us := uint64(2500000)
	op := &currentOp{OpId: &id, Ns: str("shop.\x1b]0;x\x07orders"), Op: str("Query"), ReplicaSetName: str("cmgo-a_0"),
		NodeName: str("10.0.0.1:7017:1\u202e"), State: str("Primary"), MicrosecsRunning: &us,
		Query: str(`{"find":"orders"}`), Operation: str("not json")}
	s := toSession(op)
	if s.ID != "cmgo-a_0/10.0.0.1:7017:1\uFFFD/9007199254740993" || s.NS != "shop.\uFFFDorders" || s.Host != "10.0.0.1:7017:1\uFFFD" ||
		s.Desc != "primary" || s.Op != "Query" || s.RunningUS != 2500000 || s.Type != source.TypeOp || !s.Active {
		t.Errorf("session = %+v", s)
	}
	var raw struct {
		OpId      json.Number
		Query     map[string]any
		Operation string
	}
	d := json.NewDecoder(strings.NewReader(string(s.Raw)))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || raw.OpId != "9007199254740993" || raw.Query["find"] != "orders" || raw.Operation != "not json" {
		t.Errorf("raw = %s (%v)", s.Raw, err)
	}
	// Nothing at all: no panic, an idle-less op with an ID.
	empty := toSession(&currentOp{})
	if empty.ID != "//0" || empty.Command != nil || !json.Valid(empty.Raw) {
		t.Errorf("empty op = %+v", empty)
	}
	idle := toSession(&currentOp{Op: str("none")})
	if idle.Type != source.TypeIdle || idle.Active {
		t.Errorf("none op = %+v", idle)
	}
}

func TestMongoVersion(t *testing.T) {
	for in, want := range map[string]string{
		"MONGO_40_WT": "4.0", "MONGO_70_WT": "7.0", "MONGO_36_WT": "3.6", "MONGO_3_WT": "3.2",
		"MONGO_3_ROCKS": "3.2", "": "", "weird\x1b[1m": "weird\uFFFD", "MONGO_XX_WT": "MONGO_XX_WT",
	} {
		if got := mongoVersion(in); got != want {
			t.Errorf("mongoVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
