package mongod

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// rssMB is this process's resident set size (Linux; 0 elsewhere).
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// readMember runs hello and a $currentOp on one member over a raw connection.
func readMember(tb testing.TB, addr string) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	n := 0
	for i, cmd := range []bson.D{
		{{Key: "hello", Value: 1}, {Key: "$db", Value: "admin"}},
		{{Key: "aggregate", Value: 1}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}}}}}},
			{Key: "cursor", Value: bson.D{}}, {Key: "$db", Value: "admin"}, {Key: "$readPreference", Value: bson.D{{Key: "mode", Value: "primaryPreferred"}}}},
	} {
		raw, _ := bson.Marshal(cmd)
		if _, err := c.Write(appendOpMsg(nil, int32(i+1), 0, 0, raw)); err != nil {
			tb.Fatal(err)
		}
		b, err := readMessage(c)
		if err != nil {
			tb.Fatal(err)
		}
		body, err := opMsgBody(b)
		if err != nil || body.Lookup("ok").Double() != 1 {
			tb.Fatalf("%s on %s: %v %s", cmd[0].Key, addr, err, body)
		}
		if a, ok := body.Lookup("cursor", "firstBatch").ArrayOK(); ok {
			vals, _ := a.Values()
			n += len(vals)
		}
	}
	return n
}

// TestCluster16x3 starts the scale-target cluster and reads every member once.
func TestCluster16x3(t *testing.T) {
	cl := startCluster(t, ClusterOptions{Shards: 16, Members: 3})
	if len(cl.Shards()) != 16 {
		t.Fatalf("%d shards", len(cl.Shards()))
	}
	for _, rs := range cl.Shards() {
		for _, m := range rs.Members() {
			if readMember(t, m.Addr()) == 0 {
				t.Errorf("%s lists no operations", m.Addr())
			}
		}
	}
	readMember(t, cl.Mongos().Addr())
}

// BenchmarkCluster16x3 measures starting a 16-shard × 3-member cluster and reading every
// member once (hello + $currentOp), and the process RSS afterwards.
func BenchmarkCluster16x3(b *testing.B) {
	for b.Loop() {
		cl, err := StartCluster(ClusterOptions{Shards: 16, Members: 3})
		if err != nil {
			b.Fatal(err)
		}
		for _, rs := range cl.shards {
			for _, m := range rs.members {
				readMember(b, m.Addr())
			}
		}
		b.ReportMetric(rssMB(), "RSS-MB")
		cl.Close()
	}
}
