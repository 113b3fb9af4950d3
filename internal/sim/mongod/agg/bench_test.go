package agg

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// currentOpDocs builds n $currentOp-like documents: mostly idle connections from a few
// hundred IPs, every 40th one active.
func currentOpDocs(n int) []bson.D {
	apps := []string{"orders-api", "billing", "mongosh", "reports", "etl"}
	out := make([]bson.D, n)
	for i := range out {
		active := i%40 == 0
		d := bson.D{
			{Key: "type", Value: "op"},
			{Key: "host", Value: "db1:27017"},
			{Key: "desc", Value: fmt.Sprintf("conn%d", i)},
			{Key: "connectionId", Value: int32(i)},
			{Key: "client", Value: fmt.Sprintf("192.0.2.%d:%d", i%250, 40000+i%20000)},
			{Key: "appName", Value: apps[i%len(apps)]},
			{Key: "clientMetadata", Value: bson.D{
				{Key: "driver", Value: bson.D{{Key: "name", Value: "mongo-go-driver"}, {Key: "version", Value: "2.9.3"}}},
				{Key: "os", Value: bson.D{{Key: "type", Value: "linux"}, {Key: "architecture", Value: "amd64"}}},
				{Key: "platform", Value: "go1.26"},
				{Key: "application", Value: bson.D{{Key: "name", Value: apps[i%len(apps)]}}},
			}},
			{Key: "effectiveUsers", Value: bson.A{bson.D{{Key: "user", Value: "app"}, {Key: "db", Value: "admin"}}}},
			{Key: "active", Value: active},
			{Key: "currentOpTime", Value: "2026-11-22T10:00:00.000+00:00"},
		}
		if active {
			d = append(d, bson.E{Key: "opid", Value: int32(i)}, bson.E{Key: "op", Value: "query"},
				bson.E{Key: "ns", Value: "shop.orders"}, bson.E{Key: "microsecs_running", Value: int64(i * 1000)})
		}
		out[i] = d
	}
	return out
}

func mustPipe(b testing.TB, stages ...bson.D) []bson.Raw {
	out := make([]bson.Raw, len(stages))
	for i, s := range stages {
		raw, err := bson.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// clientsPipeline is the clients-pane query: per client IP (port stripped) the connection
// count, active count, apps, users and drivers.
func clientsPipeline(b testing.TB) []bson.Raw {
	ip := bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$split", Value: bson.A{"$client", ":"}}}, 0}}}
	return mustPipe(b,
		bson.D{{Key: "$match", Value: bson.D{{Key: "client", Value: bson.D{{Key: "$exists", Value: true}}}, {Key: "appName", Value: bson.D{{Key: "$ne", Value: "currentop"}}}}}},
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: ip},
			{Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}},
			{Key: "active", Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$cond", Value: bson.A{bson.D{{Key: "$eq", Value: bson.A{"$active", true}}}, 1, 0}}}}}},
			{Key: "apps", Value: bson.D{{Key: "$addToSet", Value: "$appName"}}},
			{Key: "users", Value: bson.D{{Key: "$addToSet", Value: "$effectiveUsers.user"}}},
			{Key: "drivers", Value: bson.D{{Key: "$addToSet", Value: "$clientMetadata.driver.name"}}},
		}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "count", Value: -1}, {Key: "_id", Value: 1}}}},
	)
}

func TestClientsPipeline(t *testing.T) {
	got, err := Run(currentOpDocs(1000), clientsPipeline(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("got %d groups, want 250 client IPs", len(got))
	}
	total, active := 0, 0
	for _, d := range got {
		total += int(lookup(d, "count").(int32))
		active += int(lookup(d, "active").(int32))
	}
	if total != 1000 || active != 25 {
		t.Errorf("counts add up to %d (active %d), want 1000 (25)", total, active)
	}
}

// BenchmarkMatchGroupByIP is $match + $group by client IP over 20 000 connection documents,
// the clients-pane query at scale.
func BenchmarkMatchGroupByIP(b *testing.B) {
	in := currentOpDocs(20000)
	p := clientsPipeline(b)
	b.ReportAllocs()
	for b.Loop() {
		out, err := Run(in, p)
		if err != nil || len(out) != 250 {
			b.Fatalf("%d groups, %v", len(out), err)
		}
	}
}

// BenchmarkMatchActive is the sessions-pane query: active ops only over 20 000 documents.
func BenchmarkMatchActive(b *testing.B) {
	in := currentOpDocs(20000)
	p := mustPipe(b, bson.D{{Key: "$match", Value: bson.D{{Key: "active", Value: true}, {Key: "appName", Value: bson.D{{Key: "$ne", Value: "currentop"}}}}}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(in, p); err != nil {
			b.Fatal(err)
		}
	}
}
