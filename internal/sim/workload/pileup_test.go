package workload

import (
	"context"
	"testing"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// TestPileup: with Pileup, a burst of the same slow query with different literals is in
// flight soon after Start; without it (the tests' default) there is none.
func TestPileup(t *testing.T) {
	for _, on := range []bool{true, false} {
		srv, err := mongod.Start(mongod.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		w, err := Start(context.Background(), Options{URI: srv.URI(), Seed: 1, Pileup: on})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		obs := newObserver(t, srv.URI(), nil)
		if !on {
			// The rest of the mix is in flight, so a burst would have been fired by now.
			waitFor(t, "the mix", func() bool { return len(held(obs.ops(t))) >= 5 })
			for _, d := range obs.ops(t) {
				if d.AppName == PileupApp {
					t.Fatalf("a pile-up without Pileup: %+v", d)
				}
			}
			continue
		}
		waitFor(t, "a pile-up of at least 30 finds with distinct literals", func() bool {
			filters := map[string]bool{}
			for _, d := range held(obs.ops(t)) {
				if d.AppName == PileupApp && d.Op == "query" && d.NS == "shop.orders" && d.PlanSummary == "COLLSCAN" {
					filters[d.Command.Lookup("filter").String()] = true
				}
			}
			return len(filters) >= 20
		})
	}
}
