package mongodb

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

// status builds a serverStatus document laid out as the given version reports it (tickets in
// wiredTiger.concurrentTransactions up to 7.x; queues.execution and the ingress admission
// queue queues.ingress from 8.0), with every counter at base+k. The layout follows MongoDB's
// serverStatus reference (the 8.0 manual for queues); the values are illustrative, not
// recorded from a server: no recorded 8.0 document was found (testdata/serverstatus/README.md).
func status(version string, uptimeMS, k int64) bson.Raw {
	rw := bson.D{{Key: "write", Value: bson.D{{Key: "out", Value: int32(2)}, {Key: "available", Value: int32(126)}}},
		{Key: "read", Value: bson.D{{Key: "out", Value: int32(1)}, {Key: "available", Value: int32(127)}}}}
	wt := bson.D{{Key: "cache", Value: bson.D{
		{Key: "bytes currently in the cache", Value: int64(500)},
		{Key: "maximum bytes configured", Value: int64(1000)},
		{Key: "tracked dirty bytes in the cache", Value: int64(50)},
	}}}
	doc := bson.D{
		{Key: "version", Value: version},
		{Key: "uptimeMillis", Value: uptimeMS},
		{Key: "localTime", Value: bson.NewDateTimeFromTime(time.UnixMilli(1_700_000_000_000 + uptimeMS))},
		{Key: "connections", Value: bson.D{{Key: "totalCreated", Value: int64(100 + k)}}},
		{Key: "globalLock", Value: bson.D{
			{Key: "currentQueue", Value: bson.D{{Key: "readers", Value: int32(3)}, {Key: "writers", Value: int32(4)}}},
			{Key: "activeClients", Value: bson.D{{Key: "readers", Value: int32(5)}, {Key: "writers", Value: int32(6)}}},
		}},
		{Key: "network", Value: bson.D{{Key: "bytesIn", Value: int64(1000 + 100*k)}, {Key: "bytesOut", Value: int64(2000 + 200*k)}, {Key: "numRequests", Value: int64(10 + k)}}},
		{Key: "opLatencies", Value: bson.D{
			{Key: "reads", Value: bson.D{{Key: "latency", Value: int64(1000 + 300*k)}, {Key: "ops", Value: int64(10 + k)}}},
			{Key: "writes", Value: bson.D{{Key: "latency", Value: int64(500)}, {Key: "ops", Value: int64(5)}}},
			{Key: "commands", Value: bson.D{{Key: "latency", Value: int64(100 + 20*k)}, {Key: "ops", Value: int64(10 + 2*k)}}},
		}},
		{Key: "opcounters", Value: bson.D{{Key: "insert", Value: int64(7 + 4*k)}, {Key: "query", Value: int64(7 + k)}, {Key: "update", Value: int64(7)},
			{Key: "delete", Value: int64(7)}, {Key: "getmore", Value: int64(7)}, {Key: "command", Value: int64(7 + 2*k)}}},
	}
	if version < "8.0" {
		wt = append(wt, bson.E{Key: "concurrentTransactions", Value: rw})
	} else {
		ingress := bson.D{{Key: "out", Value: int64(9)}, {Key: "available", Value: int64(0)}, {Key: "totalTickets", Value: int64(9)},
			{Key: "exempt", Value: bson.D{{Key: "queueLength", Value: int64(0)}}},
			{Key: "normalPriority", Value: bson.D{{Key: "queueLength", Value: int64(17)}}}}
		doc = append(doc, bson.E{Key: "queues", Value: bson.D{{Key: "execution", Value: rw}, {Key: "ingress", Value: ingress}}})
	}
	doc = append(doc, bson.E{Key: "wiredTiger", Value: wt})
	b, err := bson.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func TestVitalsFromServerStatus(t *testing.T) {
	clock := time.Unix(0, 0) // the client clock must not be used when the server has one
	for _, version := range []string{"4.4.29", "6.0.20", "7.0.16", "8.0.4"} {
		t.Run(version, func(t *testing.T) {
			a := decodeSample(status(version, 60_000, 0), clock)
			b := decodeSample(status(version, 62_000, 10), clock) // 2 s later, 10 more of each
			v := source.ComputeVitals(a, b)
			if v == nil || v.OpsPerS == nil || v.LatencyUS == nil || v.Tickets == nil {
				t.Fatalf("vitals = %+v", v)
			}
			checks := []struct {
				name string
				got  *float64
				want float64
			}{
				{"insert/s", v.OpsPerS.Insert, 20}, {"query/s", v.OpsPerS.Query, 5}, {"update/s", v.OpsPerS.Update, 0},
				{"command/s", v.OpsPerS.Command, 10}, {"reads µs", v.LatencyUS.Reads, 300}, {"commands µs", v.LatencyUS.Commands, 10},
				{"in B/s", v.NetInBytesPerS, 500}, {"out B/s", v.NetOutBytesPerS, 1000}, {"requests/s", v.RequestsPerS, 5},
				{"conns/s", v.ConnsCreatedPerS, 5}, {"cache %", v.CacheUsedPct, 50}, {"dirty %", v.CacheDirtyPct, 5},
			}
			for _, c := range checks {
				if c.got == nil || *c.got != c.want {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if v.LatencyUS.Writes != nil {
				t.Errorf("writes latency with no writes = %v, want absent", *v.LatencyUS.Writes)
			}
			if *v.Tickets.ReadOut != 1 || *v.Tickets.WriteAvailable != 126 || *v.Queue.Writers != 4 || *v.Active.Readers != 5 {
				t.Errorf("gauges = %+v %+v %+v", *v.Tickets, *v.Queue, *v.Active)
			}
			switch a := v.Admission; {
			case version < "8.0" && a != nil:
				t.Errorf("admission queue before 8.0: %+v", *a)
			case version >= "8.0" && (a == nil || *a.Queued != 17 || *a.Out != 9 || *a.Available != 0):
				t.Errorf("admission = %+v, want queued 17, out 9, available 0", a)
			}
		})
	}
}

func TestVitalsAcrossRestart(t *testing.T) {
	now := time.Now()
	a := decodeSample(status("7.0.16", 9_000_000, 50), now)
	b := decodeSample(status("7.0.16", 1_000, 1), now.Add(time.Second)) // restarted: uptime and counters down
	v := source.ComputeVitals(a, b)
	if v == nil || v.OpsPerS != nil || v.RequestsPerS != nil || v.LatencyUS != nil {
		t.Fatalf("rates across a restart = %+v, want none (gauges only)", v)
	}
	if v.Queue == nil || v.CacheUsedPct == nil {
		t.Errorf("gauges lost across a restart: %+v", v)
	}
}

// A role without serverStatus: no samples, no vitals, and nothing made up.
func TestVitalsWithoutServerStatus(t *testing.T) {
	if v := source.ComputeVitals(nil, nil); v != nil {
		t.Errorf("vitals from nothing = %+v", v)
	}
	empty := decodeSample(bson.Raw{5, 0, 0, 0, 0}, time.Now())
	if v := source.ComputeVitals(empty, empty); v != nil {
		t.Errorf("vitals from an empty document = %+v", v)
	}
}

// Through the driver: the simulator lays serverStatus out by profile as the manual does for
// that version, and the source reads tickets and the admission queue from wherever they are.
func TestVitalsLayoutBySimProfile(t *testing.T) {
	for _, tc := range []struct {
		profile   mongod.Profile
		admission bool
	}{{mongod.Profile70, false}, {mongod.Profile80, true}} {
		t.Run(tc.profile.Version, func(t *testing.T) {
			s := openSource(t, startSim(t, mongod.Options{Profile: tc.profile}).URI())
			v := source.ComputeVitals(nil, snapshot(t, s, source.Query{}).Server.Sample)
			if v == nil || v.Tickets == nil || v.Tickets.ReadAvailable == nil {
				t.Fatalf("tickets missing: %+v", v)
			}
			if got := v.Admission != nil && v.Admission.Queued != nil && v.Admission.Available != nil; got != tc.admission {
				t.Errorf("admission = %+v, want present %v", v.Admission, tc.admission)
			}
		})
	}
}
