package workload

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// observer is a plain driver client reading $currentOp, independent of source/mongodb.
type observer struct{ c *mongo.Client }

func newObserver(t *testing.T, uri string, user *User) *observer {
	t.Helper()
	o := options.Client().ApplyURI(uri).SetAppName("workload-test-observer")
	if user != nil {
		o.SetAuth(options.Credential{Username: user.Name, Password: user.Password, AuthSource: user.DB})
	}
	c, err := mongo.Connect(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return &observer{c: c}
}

type opDoc struct {
	OpID           any    `bson:"opid"`
	Type           string `bson:"type"`
	Active         bool   `bson:"active"`
	AppName        string `bson:"appName"`
	Op             string `bson:"op"`
	NS             string `bson:"ns"`
	PlanSummary    string `bson:"planSummary"`
	WaitingForLock bool   `bson:"waitingForLock"`
	Msg            string `bson:"msg"`
	Progress       *struct {
		Done  int64 `bson:"done"`
		Total int64 `bson:"total"`
	} `bson:"progress"`
	KillPending bool `bson:"killPending"`
	Users       []struct {
		User string `bson:"user"`
		DB   string `bson:"db"`
	} `bson:"effectiveUsers"`
	Command bson.Raw `bson:"command"`
}

func (o *observer) ops(t *testing.T) []opDoc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cur, err := o.c.Database("admin").Aggregate(ctx, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{
		{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}, {Key: "idleSessions", Value: true},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	var docs []opDoc
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	var out []opDoc
	for _, d := range docs {
		if d.AppName == "workload-test-observer" {
			continue
		}
		out = append(out, d)
	}
	return out
}

// firstKey is a command's name: its first field.
func firstKey(cmd bson.Raw) string {
	e, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

// held reports the active, held (non-heartbeat) operations.
func held(docs []opDoc) []opDoc {
	var out []opDoc
	for _, d := range docs {
		if d.Type == "op" && d.Active && d.Op != "" && !strings.HasPrefix(d.NS, "admin.") {
			out = append(out, d)
		}
	}
	return out
}

// guard bounds every wait: it turns a hang into a failure, and asserts nothing about speed.
const guard = time.Minute

// waitFor polls cond until it holds, failing after guard.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", guard, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWorkloadMix(t *testing.T) {
	srv, err := mongod.Start(mongod.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w, err := Start(context.Background(), Options{URI: srv.URI(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	obs := newObserver(t, srv.URI(), nil)

	// Soon after Start the whole mix is in flight.
	var docs []opDoc
	var scan, lock, index, agg, idle bool
	waitFor(t, "the mix: 5 active ops from 3 apps, a find scan, a lock wait, an index build with progress, an aggregate, idle connections", func() bool {
		docs = obs.ops(t)
		apps := map[string]bool{}
		for _, d := range held(docs) {
			apps[d.AppName] = true
		}
		scan, lock, index, agg, idle = false, false, false, false, false
		for _, d := range docs {
			switch {
			case d.Type == "op" && !d.Active:
				idle = true
			case d.PlanSummary == "COLLSCAN" && d.Op == "query" && d.NS == "shop.orders" && d.AppName == "orders-api" && firstKey(d.Command) == "find":
				scan = true
			case d.WaitingForLock && d.AppName == "billing-worker" && d.Op == "update":
				lock = true
			case strings.HasPrefix(d.Msg, "Index Build") && d.AppName == "mongosh 2.3.1" && firstKey(d.Command) == "createIndexes":
				index = d.Progress != nil && d.Progress.Total > 0 && d.Progress.Done >= 0 && d.Progress.Done <= d.Progress.Total
			case firstKey(d.Command) == "aggregate" && d.AppName == "reporting":
				agg = true
			}
		}
		return len(held(docs)) >= 5 && len(apps) >= 3 && scan && lock && index && agg && idle
	})

	// The long operations are long: the simulator holds each for seconds.
	long := 0
	for _, d := range held(docs) {
		ms, _ := d.Command.Lookup("comment", "sim", "holdMS").AsInt64OK()
		if (d.PlanSummary == "COLLSCAN" || d.Msg != "") && ms >= 1000 {
			long++
		}
	}
	if long < 5 {
		t.Errorf("%d operations held for a second or more, want at least 5", long)
	}
	// The mix stays: a second later (or more, on a slow machine) 5 long operations are in flight.
	seen := time.Now()
	waitFor(t, "5 long operations in flight a second later", func() bool {
		if time.Since(seen) < time.Second {
			return false
		}
		n := 0
		for _, d := range held(obs.ops(t)) {
			if d.PlanSummary == "COLLSCAN" || d.Msg != "" {
				n++
			}
		}
		return n >= 5
	})
}

func TestWorkloadUsersAndKillRestart(t *testing.T) {
	users := []mongod.User{
		{Name: "mon", DB: "admin", Password: "mon-pw-123", Roles: []string{"clusterMonitor", "hostManager"}},
		{Name: "ordersApp", DB: "admin", Password: "orders-pw-1", Roles: []string{"readWrite"}},
		{Name: "billing", DB: "admin", Password: "billing-pw-1", Roles: []string{"readWrite"}},
	}
	srv, err := mongod.Start(mongod.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w, err := Start(context.Background(), Options{URI: srv.URI(), Seed: 2, Users: []User{
		{Name: "ordersApp", DB: "admin", Password: "orders-pw-1"},
		{Name: "billing", DB: "admin", Password: "billing-pw-1"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	obs := newObserver(t, srv.URI(), &User{Name: "mon", DB: "admin", Password: "mon-pw-123"})

	// Several users appear, and the long scan of orders-api is found to be killed.
	var victim opDoc
	waitFor(t, "ops of two users", func() bool {
		seen := map[string]bool{}
		victim = opDoc{}
		for _, d := range held(obs.ops(t)) {
			for _, u := range d.Users {
				seen[u.User] = true
			}
			if d.AppName == "orders-api" && d.PlanSummary == "COLLSCAN" && victim.OpID == nil {
				victim = d
			}
		}
		return seen["ordersApp"] && seen["billing"] && victim.OpID != nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := obs.c.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: victim.OpID}}).Err(); err != nil {
		t.Fatal(err)
	}
	// The killed op ends; after its pause the worker starts a new scan with a new opid.
	waitFor(t, "the killed op to end", func() bool {
		for _, d := range obs.ops(t) {
			if d.OpID == victim.OpID {
				return false
			}
		}
		return true
	})
	waitFor(t, "the scan to restart", func() bool {
		n := 0
		for _, d := range held(obs.ops(t)) {
			if d.AppName == "orders-api" && d.PlanSummary == "COLLSCAN" {
				n++
			}
		}
		return n == 2
	})
}

func TestWorkloadStopIsClean(t *testing.T) {
	srv, err := mongod.Start(mongod.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	before := runtime.NumGoroutine()
	w, err := Start(context.Background(), Options{URI: srv.URI(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connections", func() bool { r, _ := srv.Connections(); return r >= 10 })
	done := make(chan struct{})
	go func() { w.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(guard):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("Stop did not return:\n%s", buf[:n])
	}
	w.Stop() // idempotent
	waitFor(t, "the server to see every connection closed", func() bool { r, _ := srv.Connections(); return r == 0 })
	// The simulator's own goroutines for those connections end too; allow a little slack
	// for runtime helpers.
	waitFor(t, "goroutines to wind down", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestStartFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Start(ctx, Options{}); err == nil || !strings.Contains(err.Error(), "URI") {
		t.Errorf("Start without URI: %v", err)
	}
}
