package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The pile-up: every minute or so a storefront fires a burst of one slow query — the same
// shape with other literals, a collection scan — as a page whose index was dropped would:
// dozens of copies in flight at once, the picture a grouped view rolls into one row. The
// first burst goes at once, so that a one-shot read of a fresh demo shows it.
const (
	PileupApp = "storefront"
	// pileupMin and pileupMax bound a burst's size.
	pileupMin, pileupMax = 30, 60
	// pileupPoolSize lets a whole burst be in flight at once.
	pileupPoolSize = pileupMax + 4
)

var (
	pileupEvery = [2]time.Duration{60 * time.Second, 75 * time.Second} // from one burst to the next
	pileupHold  = [2]time.Duration{40 * time.Second, 55 * time.Second} // each query's time in flight
)

// startPileup connects the storefront (as the first user, when there are users) and starts its
// bursts.
func (w *Workload) startPileup(ctx, runCtx context.Context, opts Options) error {
	co := options.Client().ApplyURI(opts.URI).SetAppName(PileupApp).
		SetMaxPoolSize(pileupPoolSize).
		SetServerSelectionTimeout(5 * time.Second).SetConnectTimeout(5 * time.Second)
	if len(opts.Users) > 0 {
		u := opts.Users[0]
		src := u.DB
		if src == "" {
			src = "admin"
		}
		co.SetAuth(options.Credential{Username: u.Name, Password: u.Password, AuthSource: src})
	}
	c, err := mongo.Connect(co)
	if err != nil {
		return fmt.Errorf("workload: connect %s: %w", PileupApp, err)
	}
	w.clients = append(w.clients, c)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx, nil); err != nil {
		return fmt.Errorf("workload: %s cannot reach the server: %w", PileupApp, err)
	}
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 1<<32))
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for runCtx.Err() == nil {
			w.burst(runCtx, c, r)
			sleep(runCtx, between(r, pileupEvery[0], pileupEvery[1]))
		}
	}()
	return nil
}

// burst starts one burst of queries and returns; each query runs once (a killed one is not
// retried: the page request it served has gone).
func (w *Workload) burst(ctx context.Context, c *mongo.Client, r *rand.Rand) {
	n := pileupMin + r.IntN(pileupMax-pileupMin+1)
	for i := range n {
		wk := &worker{client: c, job: job{hold: hold{plan: "COLLSCAN"}}, r: rand.New(rand.NewPCG(r.Uint64(), uint64(i)))}
		cmd := pileupQuery(wk.r)
		d := between(wk.r, pileupHold[0], pileupHold[1])
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			_ = wk.command(ctx, "shop", cmd, d, nil)
		}()
	}
}

// pileupQuery is the burst's query with fresh literals: find shop.orders {status: ?, qty: {$gt: ?}}.
func pileupQuery(r *rand.Rand) bson.D {
	statuses := []string{"pending", "paid", "shipped", "returned"}
	return bson.D{{Key: "find", Value: "orders"},
		{Key: "filter", Value: bson.D{{Key: "status", Value: statuses[r.IntN(len(statuses))]}, {Key: "qty", Value: bson.D{{Key: "$gt", Value: 1 + r.IntN(50)}}}}}}
}
