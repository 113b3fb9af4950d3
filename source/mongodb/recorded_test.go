package mongodb

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

// The documents under testdata/serverstatus and testdata/replsetgetstatus were recorded from
// real servers by others and published; testdata/serverstatus/README.md names each source.

func loadExtJSON(t *testing.T, path string) bson.D {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON(b, false, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func marshalRaw(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// advance returns a copy of doc as the same server would report it secs later, each counter
// at path grown by its delta. Only paths the document has are touched: what was not
// recorded stays absent.
func advance(doc bson.D, secs int64, deltas map[string]int64) bson.D {
	out := bson.D{}
	for _, e := range copyD(doc) {
		switch e.Key {
		case "uptimeMillis":
			e.Value = addInt(e.Value, secs*1000)
		case "uptime":
			e.Value = addInt(e.Value, secs)
		case "localTime":
			if dt, ok := e.Value.(bson.DateTime); ok {
				e.Value = bson.NewDateTimeFromTime(dt.Time().Add(time.Duration(secs) * time.Second))
			}
		}
		out = append(out, e)
	}
	for path, d := range deltas {
		bump(out, strings.Split(path, "."), d)
	}
	return out
}

func copyD(d bson.D) bson.D {
	out := make(bson.D, len(d))
	for i, e := range d {
		if sub, ok := e.Value.(bson.D); ok {
			e.Value = copyD(sub)
		}
		out[i] = e
	}
	return out
}

func bump(d bson.D, path []string, delta int64) {
	for i := range d {
		if d[i].Key != path[0] {
			continue
		}
		if len(path) == 1 {
			d[i].Value = addInt(d[i].Value, delta)
			return
		}
		if sub, ok := d[i].Value.(bson.D); ok {
			bump(sub, path[1:], delta)
		}
	}
}

func addInt(v any, d int64) any {
	switch n := v.(type) {
	case int32:
		return int64(n) + d
	case int64:
		return n + d
	case float64:
		return n + float64(d)
	}
	return v
}

// deltas are what the second sample adds to the first, over 2 seconds.
var deltas = map[string]int64{
	"opcounters.insert": 40, "opcounters.query": 20, "opcounters.update": 10, "opcounters.delete": 4,
	"opcounters.getmore": 6, "opcounters.command": 100,
	"opLatencies.reads.latency": 6000, "opLatencies.reads.ops": 20,
	"opLatencies.writes.latency": 0, "opLatencies.writes.ops": 0,
	"opLatencies.commands.latency": 30000, "opLatencies.commands.ops": 100,
	"network.bytesIn": 20000, "network.bytesOut": 80000, "network.numRequests": 120,
	"connections.totalCreated": 14,
}

func TestRecordedServerStatus(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	i := func(n int64) *int64 { return &n }
	tests := []struct {
		file     string
		clock    bool // no uptimeMillis nor localTime recorded: the interval is the client's
		state    string
		latency  bool // opLatencies recorded
		tickets  *source.Tickets
		cacheMax float64 // "maximum bytes configured", 0 when the cache section is not recorded
		cache    [2]float64
	}{
		{file: "4.2.8-primary.json", state: "PRIMARY", latency: true,
			tickets:  &source.Tickets{ReadOut: i(0), ReadAvailable: i(128), WriteOut: i(0), WriteAvailable: i(128)},
			cacheMax: 16241393664, cache: [2]float64{4148341, 2839808}},
		{file: "4.4.2-standalone.json"},
		{file: "6.0.3-primary.json", clock: true, state: "PRIMARY", latency: true,
			tickets:  &source.Tickets{ReadOut: i(0), ReadAvailable: i(128), WriteOut: i(0), WriteAvailable: i(128)},
			cacheMax: 7854882816, cache: [2]float64{814375, 456446}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			doc := loadExtJSON(t, filepath.Join("testdata", "serverstatus", tc.file))
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			a := decodeSample(marshalRaw(t, doc), at)
			b := decodeSample(marshalRaw(t, advance(doc, 2, deltas)), at.Add(2*time.Second))
			if !tc.clock && (a.UptimeMS == 0 || a.ServerAt.IsZero()) {
				t.Fatalf("server clocks not read: uptime %d, localTime %v", a.UptimeMS, a.ServerAt)
			}
			v := source.ComputeVitals(a, b)
			if v == nil || v.OpsPerS == nil {
				t.Fatalf("vitals = %+v", v)
			}
			want := []struct {
				name string
				got  *float64
				want *float64
			}{
				{"insert/s", v.OpsPerS.Insert, f(20)}, {"query/s", v.OpsPerS.Query, f(10)},
				{"update/s", v.OpsPerS.Update, f(5)}, {"delete/s", v.OpsPerS.Delete, f(2)},
				{"getmore/s", v.OpsPerS.Getmore, f(3)}, {"command/s", v.OpsPerS.Command, f(50)},
				{"in B/s", v.NetInBytesPerS, f(10000)}, {"out B/s", v.NetOutBytesPerS, f(40000)},
				{"requests/s", v.RequestsPerS, f(60)}, {"conns/s", v.ConnsCreatedPerS, f(7)},
			}
			if tc.cacheMax > 0 {
				want = append(want, struct {
					name      string
					got, want *float64
				}{"cache %", v.CacheUsedPct, f(100 * tc.cache[0] / tc.cacheMax)}, struct {
					name      string
					got, want *float64
				}{"dirty %", v.CacheDirtyPct, f(100 * tc.cache[1] / tc.cacheMax)})
			} else if v.CacheUsedPct != nil || v.CacheDirtyPct != nil {
				t.Errorf("cache figures without a recorded cache section: %v %v", *v.CacheUsedPct, *v.CacheDirtyPct)
			}
			for _, w := range want {
				if w.got == nil || math.Abs(*w.got-*w.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", w.name, show(w.got), *w.want)
				}
			}
			checkLatency(t, v, tc.latency)
			checkGauges(t, v, tc.tickets, tc.state)
		})
	}
}

func show(p *float64) any {
	if p == nil {
		return "absent"
	}
	return *p
}

func checkLatency(t *testing.T, v *source.Vitals, recorded bool) {
	t.Helper()
	if !recorded {
		if v.LatencyUS != nil {
			t.Errorf("latency without recorded opLatencies: %+v", *v.LatencyUS)
		}
		return
	}
	if v.LatencyUS == nil || show(v.LatencyUS.Reads) != 300.0 || show(v.LatencyUS.Commands) != 300.0 {
		t.Fatalf("latency = %+v", v.LatencyUS)
	}
	if v.LatencyUS.Writes != nil {
		t.Errorf("writes latency over an interval without writes = %v, want absent", *v.LatencyUS.Writes)
	}
}

func checkGauges(t *testing.T, v *source.Vitals, tickets *source.Tickets, state string) {
	t.Helper()
	if v.Queue == nil || *v.Queue.Readers != 0 || *v.Queue.Writers != 0 || v.Active == nil || *v.Active.Writers != 0 {
		t.Errorf("queue %+v active %+v, want recorded zeros", v.Queue, v.Active)
	}
	switch {
	case tickets == nil && v.Tickets != nil:
		t.Errorf("tickets without a recorded section: %+v", *v.Tickets)
	case tickets != nil && (v.Tickets == nil || *v.Tickets.ReadOut != *tickets.ReadOut ||
		*v.Tickets.ReadAvailable != *tickets.ReadAvailable || *v.Tickets.WriteAvailable != *tickets.WriteAvailable):
		t.Errorf("tickets = %+v, want %+v", v.Tickets, tickets)
	}
	if v.Admission != nil {
		t.Errorf("admission queue on a server older than 8.0: %+v", *v.Admission)
	}
	switch {
	case state == "" && v.Repl != nil:
		t.Errorf("repl on a standalone: %+v", *v.Repl)
	case state != "" && (v.Repl == nil || v.Repl.State != state || v.Repl.LagS != nil):
		t.Errorf("repl = %+v, want state %s and no lag (serverStatus has none)", v.Repl, state)
	}
}

// A restart between two real documents: uptime and every counter went down. No rate may be
// negative; the gauges still show.
func TestRecordedServerStatusRestart(t *testing.T) {
	for _, file := range []string{"4.2.8-primary.json", "4.4.2-standalone.json", "6.0.3-primary.json"} {
		t.Run(file, func(t *testing.T) {
			before := loadExtJSON(t, filepath.Join("testdata", "serverstatus", file))
			down := map[string]int64{}
			for k := range deltas {
				down[k] = -5 // every recorded counter at least 5 lower: the process began again
			}
			after := advance(before, 1, down)
			bump(after, []string{"uptimeMillis"}, -9_000_000)
			at := time.Now()
			v := source.ComputeVitals(decodeSample(marshalRaw(t, before), at), decodeSample(marshalRaw(t, after), at.Add(time.Second)))
			if v == nil || v.Queue == nil {
				t.Fatalf("gauges lost across a restart: %+v", v)
			}
			if v.OpsPerS != nil || v.LatencyUS != nil || v.NetInBytesPerS != nil || v.RequestsPerS != nil || v.ConnsCreatedPerS != nil {
				t.Errorf("rates across a restart: %+v %+v %v %v %v", v.OpsPerS, v.LatencyUS, v.NetInBytesPerS, v.RequestsPerS, v.ConnsCreatedPerS)
			}
		})
	}
}

func TestRecordedReplSetGetStatus(t *testing.T) {
	secondary := loadExtJSON(t, filepath.Join("testdata", "replsetgetstatus", "secondary-with-arbiter.json"))
	tests := []struct {
		name  string
		doc   bson.D
		state string
		lag   any
	}{
		{"recorded primary", loadExtJSON(t, filepath.Join("testdata", "replsetgetstatus", "4.2.8-primary.json")), "PRIMARY", 0.0},
		{"recorded secondary, caught up", secondary, "SECONDARY", 0.0},
		// Derived from the recorded secondary: its own optimeDate moved 7 s back.
		{"secondary 7 s behind", editMember(secondary, "self", func(m bson.D) bson.D {
			return setKey(m, "optimeDate", bson.DateTime(1601384207000-7000))
		}), "SECONDARY", 7.0},
		// Derived: the arbiter of the recorded set answering (it has no optime).
		{"arbiter", editMembers(secondary, func(m bson.D) bson.D {
			m = setKey(m, "self", false)
			if hasKey(m, "stateStr", "ARBITER") {
				m = setKey(m, "self", true)
			}
			return m
		}), "ARBITER", "absent"},
		{"no primary known", editMembers(secondary, func(m bson.D) bson.D {
			if hasKey(m, "stateStr", "PRIMARY") {
				m = setKey(m, "stateStr", "(not reachable/healthy)")
			}
			return m
		}), "SECONDARY", "absent"},
		{"members not an array", bson.D{{Key: "members", Value: "x"}}, "", "absent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state, lag := decodeReplStatus(marshalRaw(t, tc.doc))
			if state != tc.state || show(lag) != tc.lag {
				t.Errorf("got %q lag %v, want %q lag %v", state, show(lag), tc.state, tc.lag)
			}
		})
	}
}

func editMembers(doc bson.D, f func(bson.D) bson.D) bson.D {
	out := copyD(doc)
	for i := range out {
		if out[i].Key != "members" {
			continue
		}
		var ms bson.A
		for _, m := range out[i].Value.(bson.A) {
			ms = append(ms, f(copyD(m.(bson.D))))
		}
		out[i].Value = ms
	}
	return out
}

func editMember(doc bson.D, flag string, f func(bson.D) bson.D) bson.D {
	return editMembers(doc, func(m bson.D) bson.D {
		if hasKey(m, flag, true) {
			return f(m)
		}
		return m
	})
}

func hasKey(d bson.D, k string, v any) bool {
	for _, e := range d {
		if e.Key == k {
			return e.Value == v
		}
	}
	return false
}

func setKey(d bson.D, k string, v any) bson.D {
	for i := range d {
		if d[i].Key == k {
			d[i].Value = v
			return d
		}
	}
	return append(d, bson.E{Key: k, Value: v})
}

// Through the driver against the simulator: a replica-set member's snapshot carries its
// state and lag from replSetGetStatus; a standalone carries none, is asked once, and its
// snapshots do not fail for it.
func TestReplLagFromSimulator(t *testing.T) {
	t.Run("replica set", func(t *testing.T) {
		s := openSource(t, startSim(t, mongod.Options{ReplicaSet: "rs0"}).URI())
		snap := snapshot(t, s, source.Query{})
		sm := snap.Server.Sample
		if sm == nil || sm.ReplState != "PRIMARY" || sm.LagS == nil || *sm.LagS != 0 {
			t.Fatalf("sample = %+v, want PRIMARY with lag 0", sm)
		}
		v := source.ComputeVitals(nil, sm)
		if v == nil || v.Repl == nil || v.Repl.LagS == nil {
			t.Fatalf("vitals repl = %+v", v)
		}
		if s.replOff.Load() {
			t.Error("replSetGetStatus switched off on a replica-set member")
		}
	})
	t.Run("standalone", func(t *testing.T) {
		s := openSource(t, startSim(t, mongod.Options{}).URI())
		for range 2 {
			snap := snapshot(t, s, source.Query{})
			if sm := snap.Server.Sample; sm == nil || sm.LagS != nil || sm.ReplState != "" {
				t.Fatalf("standalone sample = %+v, want no replication figures", sm)
			}
		}
		if !s.replOff.Load() {
			t.Error("NoReplicationEnabled not remembered: replSetGetStatus would be asked every refresh")
		}
	})
	t.Run("helper", func(t *testing.T) {
		srv := startSim(t, mongod.Options{ReplicaSet: "rs0"})
		c := rawClient(t, srv.URI(), "repl-test")
		state, lag, err := replLag(context.Background(), c.Database("admin"))
		if err != nil || state != "PRIMARY" || lag == nil || *lag != 0 {
			t.Errorf("replLag = %q %v %v", state, show(lag), err)
		}
	})
}
