package mongodb

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
)

// realEnv names a real server to run the server-agnostic tests against as well.
const realEnv = "CURRENTOP_TEST_MONGODB_URI"

// guard bounds the tests' waits for an event. It only turns a hang into a failure: nothing
// asserts that the machine is fast.
const guard = time.Minute

func startSim(t testing.TB, o mongod.Options) *mongod.Server {
	t.Helper()
	srv, err := mongod.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func startWorkload(t testing.TB, uri string, users ...workload.User) {
	t.Helper()
	w, err := workload.Start(context.Background(), workload.Options{URI: uri, Seed: 7, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}

func openSource(t testing.TB, uri string) *Source {
	t.Helper()
	s, err := Open(context.Background(), Config{URI: uri, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// onTargets runs f against a fresh simulator and, when CURRENTOP_TEST_MONGODB_URI is set,
// against that real server too (the variant is skipped with a note otherwise).
func onTargets(t *testing.T, o mongod.Options, f func(t *testing.T, uri string)) {
	t.Run("sim", func(t *testing.T) {
		f(t, startSim(t, o).URI())
	})
	t.Run("real", func(t *testing.T) {
		uri := os.Getenv(realEnv)
		if uri == "" {
			t.Skipf("set %s=mongodb://user:pass@host:port/ (a user with clusterMonitor) to run against a real server", realEnv)
		}
		f(t, uri)
	})
}

// testClient is a plain driver client for tests: an independent observer of $currentOp or an
// application whose operations the monitor should see.
type testClient struct {
	*mongo.Client
	sent chan string // names of collections a find was sent for
}

func rawClient(t testing.TB, uri, app string) *testClient {
	t.Helper()
	tc := &testClient{sent: make(chan string, 16)}
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" {
			coll, _ := e.Command.Lookup("find").StringValueOK()
			select {
			case tc.sent <- coll:
			default:
			}
		}
	}}
	// Polling heartbeats once a minute: no background commands interleave with the test's
	// (the opid reuse test needs the next opid to go to its own command).
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetAppName(app).SetMonitor(mon).
		SetServerMonitoringMode(options.ServerMonitoringModePoll).SetHeartbeatInterval(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tc.Client = c
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return tc
}

// currentOp lists every $currentOp document (idle connections included) through c.
func currentOp(t testing.TB, c *testClient) []bson.Raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cur, err := c.Database("admin").Aggregate(ctx, bson.A{bson.D{{Key: "$currentOp", Value: bson.D{
		{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true},
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// holdFind runs a find held by the simulator for d on c; it returns once the command is on
// its way (wait for it in a snapshot), and the channel receives the command's error when it
// ends.
func holdFind(t testing.TB, c *testClient, coll string, d time.Duration) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d+guard)
		defer cancel()
		done <- c.Database("test").RunCommand(ctx, bson.D{
			{Key: "find", Value: coll},
			{Key: "filter", Value: bson.D{{Key: "x", Value: 1}}},
			{Key: "comment", Value: bson.D{{Key: "sim", Value: bson.D{{Key: "holdMS", Value: d.Milliseconds()}, {Key: "planSummary", Value: "COLLSCAN"}}}}},
		}).Err()
	}()
	timeout := time.After(guard)
	for {
		select {
		case got := <-c.sent:
			if got == coll {
				return done
			}
		case <-timeout:
			t.Fatalf("find on %s was never sent", coll)
		}
	}
}

func snapshot(t testing.TB, s *Source, q source.Query) *source.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// waitSession polls snapshots until one has a session matching pred.
func waitSession(t testing.TB, s *Source, q source.Query, what string, pred func(*source.Session) bool) source.Session {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		snap := snapshot(t, s, q)
		for i := range snap.Sessions {
			if pred(&snap.Sessions[i]) {
				return snap.Sessions[i]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session %s in %d sessions", what, len(snap.Sessions))
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func isCode(err error, code int32) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == code
}
