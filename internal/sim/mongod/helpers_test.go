package mongod

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t testing.TB, uri string, mod func(*options.ClientOptions)) *mongo.Client {
	t.Helper()
	o := options.Client().ApplyURI(uri).SetTimeout(5 * time.Second).SetHeartbeatInterval(500 * time.Millisecond)
	if mod != nil {
		mod(o)
	}
	cl, err := mongo.Connect(o)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = cl.Disconnect(ctx)
	})
	return cl
}

// guard bounds every wait of these tests. It only turns a hang into a failure: nothing
// asserts that the machine is fast.
const guard = 60 * time.Second

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

// currentOp runs $currentOp with opts plus optional stages and returns all documents.
func currentOp(t testing.TB, cl *mongo.Client, opts bson.D, stages ...bson.D) []bson.Raw {
	t.Helper()
	pipe := mongo.Pipeline{{{Key: "$currentOp", Value: opts}}}
	pipe = append(pipe, stages...)
	cur, err := cl.Database("admin").Aggregate(ctxT(t), pipe)
	if err != nil {
		t.Fatalf("$currentOp: %v", err)
	}
	var out []bson.Raw
	for cur.Next(ctxT(t)) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatalf("$currentOp cursor: %v", err)
	}
	return out
}

func (s *Server) isRealConn(id int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.conns[id]
	return ok
}

// str reads a string at a path, "" when absent or of another type.
func str(d bson.Raw, path ...string) string {
	s, _ := d.Lookup(path...).StringValueOK()
	return s
}

// waitFor polls cond until it holds, failing after guard.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(guard); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v for %s", guard, what)
		}
	}
}

// withStableConns runs f until the number of real connections is the same before and after
// it (drivers open their monitoring and RTT connections in the background), and returns that
// number: what f saw can then be compared with it.
func withStableConns(t testing.TB, s *Server, f func()) int {
	t.Helper()
	var n int
	waitFor(t, "a stable number of connections", func() bool {
		before, _ := s.Connections()
		f()
		n, _ = s.Connections()
		return n == before
	})
	return n
}

// has reports whether doc has the top-level field.
func has(doc bson.Raw, key string) bool {
	_, err := doc.LookupErr(key)
	return err == nil
}
