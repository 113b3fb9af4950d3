package mongod

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestIdleSessionsAndCursors(t *testing.T) {
	s := startServer(t, Options{ReplicaSet: "rs0"})
	cl := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetAppName("cart") })
	ctx := ctxT(t)

	// A cursor left open (find with sim.openCursor) is an idleCursor until drained.
	cur, err := cl.Database("shop").Collection("carts").Find(ctx, bson.D{},
		options.Find().SetComment(bson.D{{Key: "sim", Value: bson.D{{Key: "openCursor", Value: true}, {Key: "planSummary", Value: "COLLSCAN"}}}}))
	if err != nil {
		t.Fatal(err)
	}
	// A transaction left open between statements is an idleSession.
	sess, err := cl.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(context.Background())
	if err := sess.StartTransaction(); err != nil {
		t.Fatal(err)
	}
	sctx := mongo.NewSessionContext(ctx, sess)
	if _, err := cl.Database("shop").Collection("carts").InsertOne(sctx, bson.D{{Key: "sku", Value: 1}}); err != nil {
		t.Fatal(err)
	}

	var idleCursor, idleSession bson.Raw
	for _, d := range currentOp(t, cl, bson.D{{Key: "idleCursors", Value: true}}) {
		switch str(d, "type") {
		case "idleCursor":
			idleCursor = d
		case "idleSession":
			idleSession = d
		}
	}
	if idleCursor == nil || str(idleCursor, "ns") != "shop.carts" || str(idleCursor, "planSummary") != "COLLSCAN" {
		t.Errorf("idleCursor: %s", idleCursor)
	}
	if idleCursor != nil && (idleCursor.Lookup("cursor", "cursorId").Type != bson.TypeInt64 || idleCursor.Lookup("opid").Type != 0 || idleCursor.Lookup("active").Type != 0) {
		t.Errorf("idleCursor shape: %s", idleCursor)
	}
	if idleSession == nil || str(idleSession, "desc") != "inactive transaction" || str(idleSession, "appName") != "cart" {
		t.Fatalf("idleSession: %s", idleSession)
	}
	if idleSession.Lookup("connectionId").Type != bson.TypeInt64 || idleSession.Lookup("transaction", "parameters", "txnNumber").Type != bson.TypeInt64 {
		t.Errorf("idleSession types: %s", idleSession)
	}
	// idleSessions:false hides it; ending the transaction removes it.
	for _, d := range currentOp(t, cl, bson.D{{Key: "idleSessions", Value: false}}) {
		if str(d, "type") == "idleSession" {
			t.Errorf("idleSessions:false still lists %s", d)
		}
	}
	if err := sess.AbortTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range currentOp(t, cl, bson.D{}) {
		if str(d, "type") == "idleSession" {
			t.Errorf("aborted transaction still listed: %s", d)
		}
	}
	if cur.Next(ctx) {
		t.Error("an empty simulated cursor returned a document")
	}
	cur.Close(ctx)
	for _, d := range currentOp(t, cl, bson.D{{Key: "idleCursors", Value: true}}) {
		if str(d, "type") == "idleCursor" {
			t.Errorf("drained cursor still listed: %s", d)
		}
	}
}

func TestCurrentOpCommand(t *testing.T) {
	s := startServer(t, Options{})
	cl := connect(t, s.URI(), nil)
	done := runHeld(cl, "orders", bson.D{{Key: "holdMS", Value: 600000}}) // ended by the kill below
	defer func() { <-done }()
	waitOp(t, cl, bson.D{}, nsIs("shop.orders"))
	res, err := cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "currentOp", Value: 1}, {Key: "ns", Value: "shop.orders"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := res.Lookup("inprog").Array().Values()
	if len(vals) != 1 || !strings.Contains(vals[0].String(), `"shop.orders"`) {
		t.Fatalf("currentOp {ns: shop.orders} = %s", res)
	}
	// Cleanly end the held op.
	_ = cl.Database("admin").RunCommand(ctxT(t), bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: vals[0].Document().Lookup("opid").Int32()}}).Err()
}
