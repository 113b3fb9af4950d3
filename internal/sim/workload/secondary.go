package workload

import (
	"context"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// StartSecondaryReads runs the analytics side of a replica set or sharded cluster: an
// application whose reports read from secondaries (readPreference secondary or
// secondaryPreferred), so that secondaries have operations of their own. On a direct
// connection to one server the reads simply run there.
func StartSecondaryReads(ctx context.Context, opts Options) (*Workload, error) {
	return start(ctx, opts, secondaryApps())
}

func secondaryApps() []app {
	return []app{{name: "analytics-etl", minPool: 2, jobs: []job{
		{name: "revenue by region (secondary)", workers: 2, db: "shop", cmd: func(r *rand.Rand) bson.D {
			return bson.D{{Key: "aggregate", Value: "orders"}, {Key: "pipeline", Value: bson.A{
				bson.D{{Key: "$match", Value: bson.D{{Key: "status", Value: "shipped"}, {Key: "total", Value: bson.D{{Key: "$gte", Value: r.IntN(500)}}}}}},
				bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$region"}, {Key: "revenue", Value: bson.D{{Key: "$sum", Value: "$total"}}}}}},
			}}, {Key: "cursor", Value: bson.D{}}}
		}, hold: hold{min: 10 * time.Second, max: 60 * time.Second, plan: "COLLSCAN"}, pause: [2]time.Duration{200 * time.Millisecond, time.Second},
			run: readsOn(readpref.Secondary())},
		{name: "customer export (secondaryPreferred)", workers: 1, db: "shop", cmd: func(r *rand.Rand) bson.D {
			return bson.D{{Key: "find", Value: "customers"}, {Key: "filter", Value: bson.D{{Key: "country", Value: []string{"DE", "FR", "JP", "BR"}[r.IntN(4)]}}},
				{Key: "sort", Value: bson.D{{Key: "lastOrderAt", Value: -1}}}}
		}, hold: hold{min: 3 * time.Second, max: 20 * time.Second, plan: "IXSCAN { country: 1 }"}, pause: [2]time.Duration{300 * time.Millisecond, 2 * time.Second},
			run: readsOn(readpref.SecondaryPreferred())},
		{name: "count open invoices (secondary)", workers: 1, db: "billing", cmd: func(r *rand.Rand) bson.D {
			return bson.D{{Key: "count", Value: "invoices"}, {Key: "query", Value: bson.D{{Key: "status", Value: "open"}, {Key: "customerId", Value: r.IntN(90000)}}}}
		}, hold: hold{min: 100 * time.Millisecond, max: time.Second, plan: "COUNT_SCAN { status: 1, customerId: 1 }"}, pause: [2]time.Duration{500 * time.Millisecond, 2 * time.Second},
			run: readsOn(readpref.Secondary())},
	}}}
}

// readsOn is a job loop whose commands carry a read preference (RunCommand otherwise reads
// from the primary whatever the client's default).
func readsOn(rp *readpref.ReadPref) func(ctx context.Context, w *worker) {
	return func(ctx context.Context, w *worker) {
		for ctx.Err() == nil {
			cmd := append(w.job.cmd(w.r), bson.E{Key: "comment", Value: bson.D{{Key: "sim", Value: simSpec(w.job.hold, w.holdFor())}}})
			err := w.client.Database(w.job.db).RunCommand(ctx, cmd, options.RunCmd().SetReadPreference(rp)).Err()
			w.after(ctx, err)
		}
	}
}

// simSpec is the hold convention's comment.sim for a hold of d.
func simSpec(h hold, d time.Duration) bson.D {
	sim := bson.D{{Key: "holdMS", Value: d.Milliseconds()}}
	if h.plan != "" {
		sim = append(sim, bson.E{Key: "planSummary", Value: h.plan})
	}
	if h.waitingForLock {
		sim = append(sim, bson.E{Key: "waitingForLock", Value: true})
	}
	return sim
}
