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

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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

// settle waits until the number of real connections has been stable for 100 ms (drivers open
// their monitoring and RTT connections in the background).
func settle(t testing.TB, s *Server) {
	t.Helper()
	last, _ := s.Connections()
	stable := time.Now()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n, _ := s.Connections()
		if n != last {
			last, stable = n, time.Now()
		}
		if time.Since(stable) >= 100*time.Millisecond {
			return
		}
	}
}
