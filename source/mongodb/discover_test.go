package mongodb

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

func rawDoc(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHelloMembers(t *testing.T) {
	raw := rawDoc(t, bson.D{
		{Key: "setName", Value: "rs0"},
		{Key: "hosts", Value: bson.A{"db1:27017", "db2:27017", "bad host:1", 42, "db1:27017"}},
		{Key: "passives", Value: bson.A{"db3:27017"}},
		{Key: "arbiters", Value: bson.A{"arb:27017"}},
		{Key: "primary", Value: "db2:27017"},
	})
	got := parseHello(raw).members()
	want := []memberInfo{
		{Host: "db1:27017", Set: "rs0", Kind: "mongod"},
		{Host: "db2:27017", Set: "rs0", Kind: "mongod", Primary: true},
		{Host: "db3:27017", Set: "rs0", Kind: "mongod"},
		{Host: "arb:27017", Set: "rs0", Kind: "arbiter"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("members\n got %+v\nwant %+v", got, want)
	}
}

func TestParseShards(t *testing.T) {
	raw := rawDoc(t, bson.D{{Key: "shards", Value: bson.A{
		bson.D{{Key: "_id", Value: "shard01"}, {Key: "host", Value: "shard01/a:27018,b:27018"}},
		bson.D{{Key: "_id", Value: "solo"}, {Key: "host", Value: "c:27018"}},
		bson.D{{Key: "_id", Value: "odd"}, {Key: "host", Value: 7}},
		"not a document",
	}}})
	got := parseShards(raw)
	want := []memberInfo{
		{Host: "a:27018", Set: "shard01", Kind: "mongod"},
		{Host: "b:27018", Set: "shard01", Kind: "mongod"},
		{Host: "c:27018", Set: "solo", Kind: "mongod"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shards\n got %+v\nwant %+v", got, want)
	}
}

func TestParseReplStatusLag(t *testing.T) {
	now := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	member := func(name, state string, behind time.Duration) bson.D {
		d := bson.D{{Key: "name", Value: name}, {Key: "stateStr", Value: state}, {Key: "health", Value: 1.0}}
		if state != "ARBITER" {
			d = append(d, bson.E{Key: "optimeDate", Value: bson.NewDateTimeFromTime(now.Add(-behind))})
		}
		return d
	}
	raw := rawDoc(t, bson.D{{Key: "members", Value: bson.A{
		member("DB1:27017", "PRIMARY", 0),
		member("db2:27017", "SECONDARY", 2500*time.Millisecond),
		member("arb:27017", "ARBITER", 0),
		bson.D{{Key: "name", Value: "db3:27017"}, {Key: "stateStr", Value: "(not reachable/healthy)"}, {Key: "health", Value: 0.0}},
	}}})
	rs := parseReplStatus(raw)
	if rs.lag["db1:27017"] != 0 || rs.lag["db2:27017"] != 2.5 {
		t.Errorf("lag %v", rs.lag)
	}
	if _, ok := rs.lag["arb:27017"]; ok {
		t.Error("an arbiter has no lag")
	}
	if rs.health["db3:27017"] || !rs.health["arb:27017"] || rs.state["arb:27017"] != "ARBITER" {
		t.Errorf("health %v state %v", rs.health, rs.state)
	}
}

func TestScope(t *testing.T) {
	ms := []memberInfo{
		{Host: "db1:27017", Kind: "mongod", Primary: true},
		{Host: "db2:27017", Kind: "mongod"},
		{Host: "arb:27017", Kind: "arbiter"},
	}
	hidden := func() []memberInfo { return []memberInfo{{Host: "hid:27017", Kind: "mongod", Hidden: true}} }
	hosts := func(l []memberInfo) string {
		var out []string
		for _, m := range l {
			out = append(out, m.Host)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		want, poll, list, err string
	}{
		{"", "db1:27017,db2:27017", "db1:27017,db2:27017,arb:27017", ""},
		{"ALL", "db1:27017,db2:27017", "db1:27017,db2:27017,arb:27017", ""},
		{"primary", "db1:27017,db2:27017", "db1:27017,db2:27017", ""},
		{"DB2:27017", "db2:27017", "db2:27017", ""},
		{"db2", "db2:27017", "db2:27017", ""},
		{"db2:27017, arb:27017", "db2:27017", "db2:27017,arb:27017", ""},
		{"hid:27017", "hid:27017", "hid:27017", ""},
		{"db9:27017", "", "", `"db9:27017" is not a member of this deployment; its members are db1:27017, db2:27017, arb:27017, hid:27017`},
		{" , ", "", "", "no host named"},
	}
	for _, tt := range tests {
		poll, list, err := scope(ms, tt.want, hidden)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("scope %q: error %v, want %q", tt.want, err, tt.err)
			}
			continue
		}
		if err != nil || hosts(poll) != tt.poll || hosts(list) != tt.list {
			t.Errorf("scope %q: poll %s list %s err %v; want poll %s list %s", tt.want, hosts(poll), hosts(list), err, tt.poll, tt.list)
		}
	}
}

func TestRoute(t *testing.T) {
	f := newFanout(&Source{}, nil)
	f.sync(topology{members: []memberInfo{{Host: "db1:27017", Kind: "mongod"}}})
	for _, tt := range []struct {
		id, rest string
		routed   bool
		member   bool
	}{
		{"db1:27017/123", "123", true, true},
		{"DB1:27017/conn7", "conn7", true, true},
		{"db9:27017/123", "123", true, false},
		{"[::1]:27017/5", "5", true, false},
		{"shard01:123", "", false, false},
		{"123", "", false, false},
		{"thread:repl/writer", "", false, false},
	} {
		m, rest, ok := f.route(tt.id)
		if ok != tt.routed || rest != tt.rest || (m != nil) != tt.member {
			t.Errorf("route(%q) = %v, %q, %v", tt.id, m, rest, ok)
		}
	}
}

func TestMergeClients(t *testing.T) {
	a := []source.Client{{IP: "10.0.0.1", Count: 3, Active: 1, Apps: []string{"api"}, Users: []string{}, Drivers: []string{"go"}}}
	b := []source.Client{
		{IP: "10.0.0.1", Count: 2, Active: 2, Apps: []string{"api", "batch"}, Users: []string{"u@admin"}, Drivers: []string{}},
		{IP: "10.0.0.9", Count: 9, Internal: true, Apps: []string{}, Users: []string{}, Drivers: []string{}},
		{IP: "10.0.0.1", Count: 1, Internal: true, Apps: []string{}, Users: []string{"__system@local"}, Drivers: []string{}},
	}
	got := mergeClients(a, b)
	want := []source.Client{
		{IP: "10.0.0.9", Count: 9, Internal: true, Apps: []string{}, Users: []string{}, Drivers: []string{}},
		{IP: "10.0.0.1", Count: 6, Active: 3, Apps: []string{"api", "batch"}, Users: []string{"__system@local", "u@admin"}, Drivers: []string{"go"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged\n got %+v\nwant %+v", got, want)
	}
	if a[0].Count != 3 || len(a[0].Apps) != 1 {
		t.Errorf("the inputs changed: %+v", a)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"7.1.0": true, "7.0.12": false, "8.0.4": true, "7.1": true, "7": false, "": false, "7.1.0-rc1": true, "x.y": false, "10.0.0": true} {
		if got := versionAtLeast(v, 7, 1); got != want {
			t.Errorf("versionAtLeast(%q, 7.1) = %v", v, got)
		}
	}
}

func TestIndexBuildNotKillable(t *testing.T) {
	k := &killing{s: &Source{target: "db1:27017"}}
	o, err := k.Check(source.Session{ID: "9", Type: source.TypeOp, Active: true, CommandName: "createIndexes", NS: "shop.$cmd"})
	if o != source.KillNotKillable || err == nil || !strings.Contains(err.Error(), "drop the index") {
		t.Errorf("index build: %s %v", o, err)
	}
	if o, err := k.Check(source.Session{ID: "9", Type: source.TypeOp, Active: true, CommandName: "find"}); o != "" || err != nil {
		t.Errorf("a find: %s %v", o, err)
	}
}

func TestSyncDropsMembersThatLeft(t *testing.T) {
	f := newFanout(&Source{}, nil)
	f.sync(topology{members: []memberInfo{{Host: "db1:27017"}, {Host: "db2:27017"}}})
	gone := f.member("db2:27017")
	f.addHidden([]memberInfo{{Host: "hid:27017", Hidden: true}})
	f.sync(topology{members: []memberInfo{{Host: "db1:27017", Primary: true}, {Host: "db3:27017"}}})
	if f.member("db2:27017") != nil || f.member("db3:27017") == nil || f.member("hid:27017") == nil {
		t.Errorf("members after the change: %v", f.members)
	}
	if !f.infoOf(f.member("db1:27017")).Primary {
		t.Error("db1 is not primary after the change")
	}
	deadline := time.Now().Add(guard)
	for !gone.closed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the member that left is not closed")
		}
		time.Sleep(time.Millisecond)
	}
}
