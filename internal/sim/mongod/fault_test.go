package mongod

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// An endless cursor answers every getMore with a full batch under the same cursor id, and
// killCursors ends it.
func TestEndlessCurrentOpCursor(t *testing.T) {
	s := startServer(t, Options{CurrentOpFault: EndlessCursor})
	cl := connect(t, s.URI(), nil)
	admin := cl.Database("admin")
	var first bson.Raw
	err := admin.RunCommand(ctxT(t), bson.D{
		{Key: "aggregate", Value: 1},
		{Key: "pipeline", Value: bson.A{bson.D{{Key: "$currentOp", Value: bson.D{}}}}},
		{Key: "cursor", Value: bson.D{{Key: "batchSize", Value: 10}}},
	}).Decode(&first)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := first.Lookup("cursor", "id").Int64OK()
	if !ok || id == 0 {
		t.Fatalf("cursor id %v: the cursor must stay open", first.Lookup("cursor", "id"))
	}
	lastOpID := int32(0)
	for i := range 2 {
		var more bson.Raw
		// Without batchSize a getMore answers about 16 MiB; with one, that many operations.
		getMore := bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "$cmd.aggregate"}}
		if i == 1 {
			getMore = append(getMore, bson.E{Key: "batchSize", Value: 10})
		}
		if err := admin.RunCommand(ctxT(t), getMore).Decode(&more); err != nil {
			t.Fatal(err)
		}
		if got, _ := more.Lookup("cursor", "id").Int64OK(); got != id {
			t.Fatalf("getMore returned cursor id %d, want %d", got, id)
		}
		vals, _ := more.Lookup("cursor", "nextBatch").Array().Values()
		if i == 0 && len(more) < 15<<20 || i == 1 && len(vals) != 10 {
			t.Fatalf("getMore %d answered %d bytes in %d documents", i, len(more), len(vals))
		}
		op := vals[0].Document().Lookup("opid").Int32()
		if op <= lastOpID {
			t.Errorf("opids repeat: %d after %d", op, lastOpID)
		}
		lastOpID = vals[len(vals)-1].Document().Lookup("opid").Int32()
	}
	var killed bson.Raw
	if err := admin.RunCommand(ctxT(t), bson.D{{Key: "killCursors", Value: "$cmd.aggregate"}, {Key: "cursors", Value: bson.A{id}}}).Decode(&killed); err != nil {
		t.Fatal(err)
	}
	if n, _ := killed.Lookup("cursorsKilled").Array().Values(); len(n) != 1 {
		t.Errorf("killCursors: %s", killed)
	}
}

// A stalled cursor never answers its getMore: the client's own timeout ends the wait, and
// the server goes on serving other connections.
func TestStalledCurrentOpCursor(t *testing.T) {
	s := startServer(t, Options{})
	s.SetCurrentOpFault(StalledCursor)
	cl := connect(t, s.URI(), nil)
	cur, err := cl.Database("admin").Aggregate(ctxT(t), bson.A{bson.D{{Key: "$currentOp", Value: bson.D{}}}})
	if err != nil {
		t.Fatal(err) // the first batch is answered
	}
	// Only the wait for the getMore is bounded this short: the test waits for the timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for cur.Next(ctx) {
	}
	if err := cur.Err(); !errors.Is(err, context.DeadlineExceeded) && !mongo.IsTimeout(err) {
		t.Errorf("getMore ended with %v, want the client's timeout", err)
	}
	s.SetCurrentOpFault(NoFault)
	if err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		t.Errorf("ping after a stalled getMore: %v", err)
	}
	if docs := currentOp(t, cl, bson.D{}); len(docs) == 0 {
		t.Error("no $currentOp documents once the fault is off")
	}
}
