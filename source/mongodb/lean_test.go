package mongodb

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod/agg"
)

// projectLean runs the lean $project over doc with the simulator's aggregation evaluator,
// which follows MongoDB's documented semantics.
func projectLean(t *testing.T, doc bson.Raw, me self, host string, commands bool) bson.Raw {
	t.Helper()
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	stage, err := bson.Marshal(leanProject(me, host, commands))
	if err != nil {
		t.Fatal(err)
	}
	out, err := agg.Run([]bson.D{d}, []bson.Raw{stage})
	if err != nil {
		t.Fatalf("lean $project: %v", err)
	}
	if len(out) != 1 {
		t.Fatalf("lean $project returned %d documents", len(out))
	}
	raw, err := bson.Marshal(out[0])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// leanCorpus is every fixture plus documents that exercise the projection's conditions.
func leanCorpus(t *testing.T) map[string]bson.Raw {
	t.Helper()
	docs := map[string]bson.Raw{}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, f := range files {
		docs[filepath.Base(f)] = loadDoc(t, filepath.Base(f))
	}
	extra := map[string]bson.D{
		"desc not conn": {{Key: "type", Value: "op"}, {Key: "desc", Value: "conn9"}, {Key: "connectionId", Value: int32(7)}, {Key: "active", Value: true}, {Key: "opid", Value: int32(1)}},
		"no desc":       {{Key: "connectionId", Value: int64(7)}, {Key: "active", Value: false}},
		"string connId": {{Key: "connectionId", Value: "7"}, {Key: "desc", Value: "conn7"}},
		"active no opid": {{Key: "type", Value: "op"}, {Key: "active", Value: true}, {Key: "connectionId", Value: int32(3)},
			{Key: "command", Value: bson.D{{Key: "replSetHeartbeat", Value: "rs0"}}}},
		"secs only":     {{Key: "opid", Value: int32(2)}, {Key: "secs_running", Value: int64(4)}, {Key: "connectionId", Value: int32(3)}},
		"empty command": {{Key: "opid", Value: int32(2)}, {Key: "connectionId", Value: int32(3)}, {Key: "command", Value: bson.D{}}},
		"big first value": {{Key: "opid", Value: int32(2)}, {Key: "connectionId", Value: int32(3)},
			{Key: "command", Value: bson.D{{Key: "applyOps", Value: bson.A{bson.D{{Key: "op", Value: "i"}}}}}}},
		"metadata app": {{Key: "opid", Value: int32(2)}, {Key: "connectionId", Value: int32(3)}, {Key: "appName", Value: ""},
			{Key: "clientMetadata", Value: bson.D{{Key: "application", Value: bson.D{{Key: "name", Value: "meta-app"}}},
				{Key: "driver", Value: bson.D{{Key: "name", Value: "NetworkInterfaceTL-x"}}}}}},
		"mongos own comment": {{Key: "shard", Value: "s1"}, {Key: "opid", Value: "s1:4"}, {Key: "connectionId", Value: int32(3)},
			{Key: "client_s", Value: "10.0.0.1:5"}, {Key: "command", Value: bson.D{{Key: "aggregate", Value: 1}, {Key: "comment", Value: ownComment}}}},
	}
	for name, cmd := range partCorpus() {
		extra["part: "+name] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
			{Key: "op", Value: "update"}, {Key: "command", Value: cmd}}
	}
	extra["getMore without a cursor"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "command", Value: bson.D{{Key: "getMore", Value: int64(5)}, {Key: "collection", Value: "c"}}}}
	extra["getMore with a string cursor"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "command", Value: bson.D{{Key: "getMore", Value: int64(5)}}}, {Key: "cursor", Value: "x"}}
	extra["odd progress"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "progress", Value: bson.D{{Key: "done", Value: "5"}, {Key: "total", Value: 9}}}}
	extra["progress without total"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "progress", Value: bson.D{{Key: "done", Value: 5}, {Key: "total", Value: 0}}}}
	extra["odd users"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "effectiveUsers", Value: bson.A{"x", bson.D{{Key: "user", Value: "__system"}, {Key: "db", Value: 5}}}}}
	extra["user without db"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "effectiveUsers", Value: bson.A{bson.D{{Key: "user", Value: "u"}, {Key: "db", Value: ""}}, bson.D{{Key: "user", Value: "__system"}}}}}
	extra["users not an array"] = bson.D{{Key: "opid", Value: int32(9)}, {Key: "connectionId", Value: int32(3)},
		{Key: "effectiveUsers", Value: bson.D{{Key: "user", Value: "__system"}}}}
	for name, d := range extra {
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs[name] = b
	}
	return docs
}

// The lean projection loses nothing the panes use: for every document, converting its lean
// form gives the session converting the whole document gives (the command aside, which the
// lean form names only), and the same own/internal verdicts.
func TestLeanProjectionMatchesFullConvert(t *testing.T) {
	selves := []self{
		{},
		{addrs: []string{"10.20.3.17:53422"}, connIDs: []int64{1842, 3}},
		{mongos: true, addrs: []string{"10.20.3.17:53422"}},
	}
	for name, doc := range leanCorpus(t) {
		want := convert(doc)
		wantCmd := want.Command
		for _, host := range []string{"", want.Host, "other:1"} {
			for _, me := range selves {
				ld := projectLean(t, doc, me, host, false)
				if c := lean.convert(projectLean(t, doc, me, host, true), host).Command; string(c) != string(wantCmd) {
					t.Errorf("%s: lean command with Commands %s, full %s", name, c, wantCmd)
				}
				got := lean.convert(ld, host)
				if got.Command != nil && !json.Valid(got.Command) {
					t.Errorf("%s: lean command %s is not JSON", name, got.Command)
				}
				if want.Command != nil && got.Command == nil && strings.HasPrefix(string(want.Command), "{\"") {
					t.Errorf("%s: lean form names no command; full one is %s", name, want.Command)
				}
				got.Command, want.Command, want.Raw = nil, nil, nil
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s (host %q):\nlean %+v\nfull %+v\nlean document %s", name, host, got, want, ld)
				}
				if g, w := lean.ownKeys(ld).isOwn(me), isOwn(doc, me); g != w {
					t.Errorf("%s: lean isOwn = %v, full %v (self %+v)", name, g, w, me)
				}
			}
		}
	}
}

// partCorpus are commands whose query part (summary) is found by each of the rules, or
// by none, including shapes a server would refuse but $currentOp still shows.
func partCorpus() map[string]bson.D {
	doc := func(kv ...any) bson.D {
		d := bson.D{}
		for i := 0; i+1 < len(kv); i += 2 {
			d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return d
	}
	big := bson.D{}
	for i := range 40 {
		big = append(big, bson.E{Key: strings.Repeat("k", 70) + string(rune('a'+i%26)), Value: i})
	}
	ids := bson.A{}
	for i := range 100 {
		ids = append(ids, int64(i))
	}
	return map[string]bson.D{
		"find":                 doc("find", "c", "filter", doc("a", 1, "b", doc("$gt", 2))),
		"filter null, query":   doc("findAndModify", "c", "filter", nil, "query", doc("x", true)),
		"filter not a doc":     doc("find", "c", "filter", int32(5), "query", doc("x", 1)),
		"filter too big":       doc("find", "c", "filter", doc("_id", doc("$in", ids))),
		"filter with 40 keys":  doc("find", "c", "filter", big),
		"statement":            doc("q", doc("s", "open"), "u", doc("$set", doc("s", "x")), "multi", true),
		"pipeline":             doc("aggregate", "c", "pipeline", bson.A{doc("$match", doc("a", 1)), doc("$count", "n")}),
		"pipeline, one stage":  doc("aggregate", "c", "pipeline", bson.A{doc("$changeStream", doc())}),
		"pipeline empty":       doc("aggregate", "c", "pipeline", bson.A{}),
		"pipeline null first":  doc("aggregate", "c", "pipeline", bson.A{nil, doc("$match", doc())}, "updates", bson.A{doc("q", doc("z", 1))}),
		"pipeline not array":   doc("aggregate", "c", "pipeline", doc("$match", doc())),
		"pipeline of scalars":  doc("aggregate", "c", "pipeline", bson.A{1, 2}),
		"big stage":            doc("aggregate", "c", "pipeline", bson.A{doc("$match", doc("_id", doc("$in", ids))), doc("$limit", 1)}),
		"updates":              doc("update", "c", "updates", bson.A{doc("q", doc("a", 1), "u", doc())}),
		"updates without q":    doc("update", "c", "updates", bson.A{doc("u", doc())}, "deletes", bson.A{doc("q", doc("d", 1))}),
		"updates of scalars":   doc("update", "c", "updates", bson.A{5}),
		"updates nested":       doc("update", "c", "updates", bson.A{bson.A{doc("q", doc("a", 1))}}),
		"updates not an array": doc("update", "c", "updates", doc("q", doc("a", 1))),
		"deletes":              doc("delete", "c", "deletes", bson.A{doc("q", doc("a", "x"), "limit", 1)}),
		"indexes":              doc("createIndexes", "c", "indexes", bson.A{doc("key", doc("a", 1, "b", -1), "name", "a_1_b_-1")}),
		"q not a doc":          doc("q", "text"),
		"truncated":            doc("$truncated", `{ find: "orders", filter: { status: "A" } ...`, "comment", "x"),
		"truncated non-string": doc("$truncated", 5),
		"no part":              doc("ping", 1),
	}
}

func TestLeanCommand(t *testing.T) {
	tests := []struct {
		cmd  any
		want string
	}{
		{bson.D{{Key: "find", Value: "orders"}, {Key: "filter", Value: bson.D{{Key: "x", Value: 1}}}}, `{"find":"orders"}`},
		{bson.D{{Key: "getMore", Value: int64(6312883190488772611)}, {Key: "collection", Value: "orders"}}, `{"getMore":6312883190488772611}`},
		{bson.D{{Key: "applyOps", Value: bson.A{1}}}, `{"applyOps":"…"}`},
		{bson.D{{Key: "find", Value: strings.Repeat("é", 300)}}, `{"find":"` + strings.Repeat("é", leanMaxValue) + `"}`},
		{bson.D{}, ``},
		{"a string", ``},
	}
	for _, tt := range tests {
		doc, _ := bson.Marshal(bson.D{{Key: "opid", Value: int32(1)}, {Key: "command", Value: tt.cmd}})
		got := lean.convert(projectLean(t, doc, self{}, "", false), "")
		if string(got.Command) != tt.want {
			t.Errorf("%v: lean command %s, want %s", tt.cmd, got.Command, tt.want)
		}
	}
}

// A lean document is a small fraction of the whole: the budget rests on it.
func TestLeanDocumentSize(t *testing.T) {
	doc := loadDoc(t, "a_find_collscan.json")
	s := convert(doc)
	ld := projectLean(t, doc, self{}, s.Host, false)
	t.Logf("whole %d bytes, lean %d bytes: %s", len(doc), len(ld), ld)
	if len(ld)*5 > len(doc) {
		t.Errorf("lean document %d bytes is more than a fifth of the whole %d", len(ld), len(doc))
	}
}
