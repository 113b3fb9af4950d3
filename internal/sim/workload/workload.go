// Package workload keeps a realistic mix of operations in flight on a simulated server
// (sim/mongod) with real driver clients: several applications (each its own mongo.Client with
// its own appName and, when the server has users, its own user) running long collection
// scans, an index build whose progress {done, total} advances for minutes, aggregations,
// a pile-up of one slow query every minute or so (pileup.go), operations waiting for a lock, short
// operations, open transactions between statements, a change-stream-like getMore loop, and
// idle pooled connections.
//
// Operations stay in flight by the simulator's hold convention (see package sim/mongod): each
// command carries comment {sim: {holdMS, planSummary, waitingForLock, msg, progressTotal}}.
// A real server ignores such comments, so against one the workload only runs quick commands.
//
// Killed operations (error 11601) are restarted after a pause, like an application retrying.
package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// User is a credential the workload's applications may log in with.
type User struct{ Name, DB, Password string }

// Options configures a workload.
type Options struct {
	// URI of the server (usually sim/mongod's Server.URI()).
	URI string
	// Seed makes hold times and pauses reproducible.
	Seed int64
	// Users, when the server requires authentication, are spread over the applications
	// round-robin (several users in $currentOp). Empty: every application uses the URI's
	// own credentials, if any.
	Users []User
	// Storm, when set, adds bursts of connections from one client address (see Storm).
	Storm *Storm
	// Pileup adds a burst of one slow query every minute or so (pileup.go): dozens of
	// connections and operations more, which only the demo wants.
	Pileup bool
}

// Workload is a running mix of applications. Stop ends it.
type Workload struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	clients  []*mongo.Client
	stopOnce sync.Once
}

// codeInterrupted is the error a killed operation ends with.
const codeInterrupted = 11601

// hold is one held command: what the simulator shows while it is in flight.
type hold struct {
	min, max       time.Duration
	plan           string
	waitingForLock bool
	msg            string
	progressTotal  int64
}

// job is a loop one worker runs: build a command, run it held, pause, repeat.
type job struct {
	name    string
	workers int
	db      string
	cmd     func(r *rand.Rand) bson.D
	hold    hold
	pause   [2]time.Duration
	// run replaces the plain command loop for jobs with state (cursors, transactions).
	run func(ctx context.Context, w *worker)
}

type app struct {
	name    string
	minPool uint64 // connections kept open even when idle
	jobs    []job
}

// apps is the demo deployment's clientele.
func apps() []app {
	return []app{
		{name: "orders-api", minPool: 6, jobs: []job{
			{name: "pending-orders scan", workers: 2, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "find", Value: "orders"},
					{Key: "filter", Value: bson.D{{Key: "status", Value: "pending"}, {Key: "total", Value: bson.D{{Key: "$gt", Value: 100 + r.IntN(900)}}}}},
					{Key: "sort", Value: bson.D{{Key: "createdAt", Value: -1}}}}
			}, hold: hold{min: 5 * time.Second, max: 60 * time.Second, plan: "COLLSCAN"}, pause: [2]time.Duration{50 * time.Millisecond, 300 * time.Millisecond}},
			{name: "order by id", workers: 2, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "find", Value: "orders"}, {Key: "filter", Value: bson.D{{Key: "_id", Value: r.IntN(1_000_000)}}}, {Key: "limit", Value: 1}, {Key: "singleBatch", Value: true}}
			}, hold: hold{min: 50 * time.Millisecond, max: 500 * time.Millisecond, plan: "IDHACK"}, pause: [2]time.Duration{100 * time.Millisecond, time.Second}},
			{name: "new order", workers: 1, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "insert", Value: "orders"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: r.Int64()}, {Key: "status", Value: "pending"}, {Key: "total", Value: r.IntN(5000)}}}}}
			}, hold: hold{min: 50 * time.Millisecond, max: 300 * time.Millisecond}, pause: [2]time.Duration{200 * time.Millisecond, 2 * time.Second}},
		}},
		{name: "billing-worker", minPool: 3, jobs: []job{
			{name: "close invoices (blocked)", workers: 1, db: "billing", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "update", Value: "invoices"}, {Key: "updates", Value: bson.A{bson.D{
					{Key: "q", Value: bson.D{{Key: "status", Value: "open"}, {Key: "dueDate", Value: bson.D{{Key: "$lt", Value: time.Now().UTC().Truncate(time.Hour)}}}}},
					{Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "overdue"}}}}},
					{Key: "multi", Value: true}}}}}
			}, hold: hold{min: 5 * time.Second, max: 30 * time.Second, plan: "COLLSCAN", waitingForLock: true}, pause: [2]time.Duration{100 * time.Millisecond, 500 * time.Millisecond}},
			{name: "recompute totals", workers: 1, db: "billing", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "update", Value: "invoices"}, {Key: "updates", Value: bson.A{bson.D{
					{Key: "q", Value: bson.D{{Key: "customerId", Value: r.IntN(90000)}}},
					{Key: "u", Value: bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}},
					{Key: "multi", Value: true}}}}}
			}, hold: hold{min: 5 * time.Second, max: 20 * time.Second, plan: "COLLSCAN"}, pause: [2]time.Duration{100 * time.Millisecond, time.Second}},
			{name: "payment transaction", workers: 1, db: "billing", run: runTransaction,
				hold: hold{min: 2 * time.Second, max: 8 * time.Second}, pause: [2]time.Duration{500 * time.Millisecond, 2 * time.Second}},
		}},
		{name: "reporting", minPool: 2, jobs: []job{
			{name: "daily revenue", workers: 1, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "aggregate", Value: "orders"}, {Key: "pipeline", Value: bson.A{
					bson.D{{Key: "$match", Value: bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: time.Now().UTC().AddDate(0, 0, -1-r.IntN(30)).Truncate(24 * time.Hour)}}}}}},
					bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "revenue", Value: bson.D{{Key: "$sum", Value: "$total"}}}}}},
				}}, {Key: "cursor", Value: bson.D{}}}
			}, hold: hold{min: 10 * time.Second, max: 60 * time.Second, plan: "COLLSCAN"}, pause: [2]time.Duration{100 * time.Millisecond, time.Second}},
			{name: "count orders", workers: 1, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "count", Value: "orders"}, {Key: "query", Value: bson.D{{Key: "status", Value: "shipped"}}}}
			}, hold: hold{min: 100 * time.Millisecond, max: 500 * time.Millisecond, plan: "COUNT_SCAN { status: 1 }"}, pause: [2]time.Duration{500 * time.Millisecond, 3 * time.Second}},
		}},
		{name: "cdc-worker", minPool: 1, jobs: []job{
			{name: "tail orders", workers: 1, db: "shop", run: runTail,
				hold: hold{min: time.Second, max: 5 * time.Second}, pause: [2]time.Duration{10 * time.Millisecond, 50 * time.Millisecond}},
		}},
		{name: "mongosh 2.3.1", minPool: 1, jobs: []job{
			{name: "index build", workers: 1, db: "shop", cmd: func(r *rand.Rand) bson.D {
				return bson.D{{Key: "createIndexes", Value: "orders"}, {Key: "indexes", Value: bson.A{bson.D{
					{Key: "key", Value: bson.D{{Key: "customerId", Value: 1}, {Key: "createdAt", Value: -1}}},
					{Key: "name", Value: "customerId_1_createdAt_-1"}}}}}
			}, hold: hold{min: 60 * time.Second, max: 180 * time.Second, msg: "Index Build: scanning collection", progressTotal: 15116380}, pause: [2]time.Duration{time.Second, 2 * time.Second}},
		}},
	}
}

// Start connects every application and starts their jobs. It returns once all clients
// answered a ping, so within about a second after it returns at least five long operations
// from four applications are in flight. The workload runs until Stop or until ctx ends.
func Start(ctx context.Context, opts Options) (*Workload, error) {
	return start(ctx, opts, apps())
}

func start(ctx context.Context, opts Options, list []app) (*Workload, error) {
	if opts.URI == "" {
		return nil, errors.New("workload: no server URI: pass the simulator's URI (mongod.Server.URI())")
	}
	runCtx, cancel := context.WithCancel(ctx)
	w := &Workload{cancel: cancel}
	for i, a := range list {
		co := options.Client().ApplyURI(opts.URI).
			SetAppName(a.name).
			SetMinPoolSize(a.minPool).
			SetMaxPoolSize(a.minPool + 8).
			SetServerSelectionTimeout(5 * time.Second).
			SetConnectTimeout(5 * time.Second)
		if len(opts.Users) > 0 {
			u := opts.Users[i%len(opts.Users)]
			src := u.DB
			if src == "" {
				src = "admin"
			}
			co.SetAuth(options.Credential{Username: u.Name, Password: u.Password, AuthSource: src})
		}
		c, err := mongo.Connect(co)
		if err != nil {
			w.Stop()
			return nil, fmt.Errorf("workload: connect %s: %w", a.name, err)
		}
		w.clients = append(w.clients, c)
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		err = c.Ping(pctx, nil)
		pcancel()
		if err != nil {
			w.Stop()
			return nil, fmt.Errorf("workload: %s cannot reach the server: %w", a.name, err)
		}
	}
	if opts.Pileup {
		if err := w.startPileup(ctx, runCtx, opts); err != nil {
			w.Stop()
			return nil, err
		}
	}
	seq := uint64(0)
	for i, a := range list {
		for _, j := range a.jobs {
			for range j.workers {
				seq++
				wk := &worker{
					client: w.clients[i],
					job:    j,
					r:      rand.New(rand.NewPCG(uint64(opts.Seed), seq)),
				}
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					if j.run != nil {
						j.run(runCtx, wk)
						return
					}
					runLoop(runCtx, wk)
				}()
			}
		}
	}
	if opts.Storm != nil {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			runStorm(runCtx, *opts.Storm, opts.URI, stormCredential(opts.Users))
		}()
	}
	return w, nil
}

// Stop ends every job, waits for the workers and disconnects the clients. It is safe to
// call more than once.
func (w *Workload) Stop() {
	w.stopOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, c := range w.clients {
			_ = c.Disconnect(ctx)
		}
	})
}

type worker struct {
	client *mongo.Client
	job    job
	r      *rand.Rand
}

func runLoop(ctx context.Context, w *worker) {
	for ctx.Err() == nil {
		err := w.command(ctx, w.job.db, w.job.cmd(w.r), w.holdFor(), nil)
		w.after(ctx, err)
	}
}

// command runs cmd held per the hold convention for d, decoding the reply into out if set.
func (w *worker) command(ctx context.Context, db string, cmd bson.D, d time.Duration, out any) error {
	h := w.job.hold
	sim := bson.D{{Key: "holdMS", Value: d.Milliseconds()}}
	if h.plan != "" {
		sim = append(sim, bson.E{Key: "planSummary", Value: h.plan})
	}
	if h.waitingForLock {
		sim = append(sim, bson.E{Key: "waitingForLock", Value: true})
	}
	if h.msg != "" {
		sim = append(sim, bson.E{Key: "msg", Value: h.msg}, bson.E{Key: "progressTotal", Value: h.progressTotal})
	}
	cmd = append(cmd, bson.E{Key: "comment", Value: bson.D{{Key: "sim", Value: sim}}})
	res := w.client.Database(db).RunCommand(ctx, cmd)
	if out != nil && res.Err() == nil {
		return res.Decode(out)
	}
	return res.Err()
}

func (w *worker) holdFor() time.Duration { return between(w.r, w.job.hold.min, w.job.hold.max) }

// after pauses between runs: longer after a kill (the application backs off and retries) or
// another error (e.g. the server went away), short otherwise.
func (w *worker) after(ctx context.Context, err error) {
	p := between(w.r, w.job.pause[0], w.job.pause[1])
	var ce mongo.CommandError
	switch {
	case err == nil || ctx.Err() != nil:
	case errors.As(err, &ce) && ce.Code == codeInterrupted:
		p = between(w.r, 500*time.Millisecond, 1500*time.Millisecond)
	default:
		p = between(w.r, time.Second, 2*time.Second)
	}
	sleep(ctx, p)
}

// runTail is a change-stream consumer: open a tailable cursor, then getMore on it in a loop,
// each getMore waiting in flight like an awaitData cursor does.
func runTail(ctx context.Context, w *worker) {
	for ctx.Err() == nil {
		var reply struct {
			Cursor struct {
				ID int64 `bson:"id"`
			} `bson:"cursor"`
		}
		find := bson.D{{Key: "find", Value: "orders"}, {Key: "filter", Value: bson.D{}}, {Key: "tailable", Value: true}, {Key: "awaitData", Value: true}, {Key: "batchSize", Value: 0}}
		err := w.command(ctx, "shop", find, 0, &reply)
		if err != nil || reply.Cursor.ID == 0 {
			// No cursor to tail: a long change-stream aggregate stands in for the getMores.
			agg := bson.D{{Key: "aggregate", Value: "orders"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$changeStream", Value: bson.D{{Key: "fullDocument", Value: "updateLookup"}}}}}}, {Key: "cursor", Value: bson.D{}}}
			w.after(ctx, w.command(ctx, "shop", agg, w.holdFor(), nil))
			continue
		}
		for ctx.Err() == nil {
			err = w.command(ctx, "shop", bson.D{{Key: "getMore", Value: reply.Cursor.ID}, {Key: "collection", Value: "orders"}, {Key: "maxTimeMS", Value: int64(5000)}}, w.holdFor(), nil)
			if err != nil {
				break
			}
			sleep(ctx, between(w.r, w.job.pause[0], w.job.pause[1]))
		}
		w.after(ctx, err)
	}
}

// runTransaction opens a transaction, writes, then sits idle with the transaction open (an
// idleSession in $currentOp) before committing.
func runTransaction(ctx context.Context, w *worker) {
	for ctx.Err() == nil {
		err := w.transaction(ctx)
		w.after(ctx, err)
	}
}

func (w *worker) transaction(ctx context.Context) error {
	sess, err := w.client.StartSession()
	if err != nil {
		return err
	}
	defer func() {
		ectx, cancel := cleanupCtx(ctx)
		defer cancel()
		sess.EndSession(ectx)
	}()
	if err := sess.StartTransaction(); err != nil {
		return err
	}
	sctx := mongo.NewSessionContext(ctx, sess)
	ins := bson.D{{Key: "insert", Value: "payments"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: w.r.Int64()}, {Key: "amount", Value: w.r.IntN(10000)}}}}}
	if err := w.client.Database("billing").RunCommand(sctx, ins).Err(); err != nil {
		abort(ctx, sess)
		return err
	}
	sleep(ctx, w.holdFor()) // the transaction stays open, idle
	if ctx.Err() != nil {
		abort(ctx, sess)
		return ctx.Err()
	}
	return sess.CommitTransaction(ctx)
}

func abort(ctx context.Context, sess *mongo.Session) {
	actx, cancel := cleanupCtx(ctx)
	defer cancel()
	_ = sess.AbortTransaction(actx)
}

// cleanupCtx bounds clean-up work that must run even when ctx has ended.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
}

func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
