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
