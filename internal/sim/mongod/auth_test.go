package mongod

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var testUsers = []User{
	{Name: "mon", DB: "admin", Password: "mon-secret", Roles: []string{"clusterMonitor"}},
	{Name: "killer", DB: "admin", Password: "killer-secret", Roles: []string{"clusterMonitor", "hostManager"}},
	{Name: "app", DB: "admin", Password: "app-secret", Roles: []string{"readWrite"}},
}

func userURI(s *Server, user, pass string) string {
	return "mongodb://" + user + ":" + pass + "@" + s.Addr() + "/?directConnection=true&authSource=admin"
}

func TestAuth(t *testing.T) {
	s := startServer(t, Options{Users: testUsers})
	app := connect(t, userURI(s, "app", "app-secret"), func(o *options.ClientOptions) { o.SetAppName("orders-api") })
	mon := connect(t, userURI(s, "mon", "mon-secret"), nil)
	killer := connect(t, userURI(s, "killer", "killer-secret"), nil)
	anon := connect(t, s.URI(), nil)
	// SCRAM's 15000 PBKDF2 iterations are slow under -race: generous per-call timeouts.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if err := app.Ping(ctx, nil); err != nil {
		t.Fatalf("SCRAM-SHA-256 login: %v", err)
	}

	t.Run("wrong password", func(t *testing.T) {
		bad, err := mongo.Connect(options.Client().ApplyURI(userURI(s, "app", "nope")).SetServerSelectionTimeout(20 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Disconnect(context.Background())
		err = bad.Ping(ctx, nil)
		if err == nil || !strings.Contains(err.Error(), "AuthenticationFailed") {
			t.Fatalf("wrong password: %v, want AuthenticationFailed", err)
		}
		var ce mongo.CommandError
		if errors.As(err, &ce) && ce.Code != 18 {
			t.Errorf("code %d, want 18", ce.Code)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		bad, err := mongo.Connect(options.Client().ApplyURI(userURI(s, "ghost", "x")).SetServerSelectionTimeout(20 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Disconnect(context.Background())
		if err := bad.Ping(ctx, nil); err == nil || !strings.Contains(err.Error(), "AuthenticationFailed") {
			t.Fatalf("unknown user: %v, want AuthenticationFailed", err)
		}
	})

	t.Run("unauthenticated", func(t *testing.T) {
		if err := anon.Ping(ctx, nil); err != nil {
			t.Errorf("ping needs no auth: %v", err)
		}
		if err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Err(); err != nil {
			t.Errorf("buildInfo needs no auth: %v", err)
		}
		err := anon.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Err()
		if commandCode(err) != 13 || !strings.Contains(err.Error(), "Command serverStatus requires authentication") {
			t.Errorf("serverStatus unauthenticated: %v", err)
		}
	})

	t.Run("no inprog", func(t *testing.T) {
		_, err := app.Database("admin").Aggregate(ctx, mongo.Pipeline{{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}}}}})
		if commandCode(err) != 13 {
			t.Fatalf("allUsers without inprog: %v, want code 13", err)
		}
		want := "not authorized on admin to execute command { aggregate: 1, pipeline: [ { $currentOp: { allUsers: true } } ], cursor: {}, lsid: { id: UUID(\""
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
		err = app.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Err()
		if commandCode(err) != 13 || !strings.Contains(err.Error(), "not authorized on admin to execute command { serverStatus: 1") {
			t.Errorf("serverStatus without clusterMonitor: %v", err)
		}
	})

	done := runHeld(app, "orders", bson.D{{Key: "holdMS", Value: 600000}})
	held := waitOp(t, mon, bson.D{{Key: "allUsers", Value: true}}, nsIs("shop.orders"))

	t.Run("own ops only", func(t *testing.T) {
		docs := currentOp(t, app, bson.D{{Key: "idleConnections", Value: true}})
		if len(docs) == 0 {
			t.Fatal("no docs")
		}
		for _, d := range docs {
			if u := d.Lookup("effectiveUsers").String(); !strings.Contains(u, `"app"`) {
				t.Errorf("allUsers:false shows another user's connection: %s", d)
			}
		}
		// The monitor's unauthenticated heartbeat connections are not coauthorized.
		all := currentOp(t, mon, bson.D{{Key: "allUsers", Value: true}, {Key: "idleConnections", Value: true}})
		if len(all) <= len(docs) {
			t.Errorf("allUsers:true shows %d docs, allUsers:false %d", len(all), len(docs))
		}
	})

	if got := held.Lookup("effectiveUsers", "0", "user").StringValue(); got != "app" {
		t.Errorf("effectiveUsers = %s", held.Lookup("effectiveUsers"))
	}
	opid := held.Lookup("opid").Int32()

	t.Run("kill needs killop", func(t *testing.T) {
		err := mon.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: opid}}).Err()
		if commandCode(err) != 13 || !strings.Contains(err.Error(), "not authorized on admin to execute command { killOp: 1") {
			t.Fatalf("killOp by clusterMonitor: %v, want 13", err)
		}
		if err := killer.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: opid}}).Err(); err != nil {
			t.Fatalf("killOp by hostManager: %v", err)
		}
		if code := commandCode(<-done); code != 11601 {
			t.Errorf("killed op ended with code %d", code)
		}
	})

	t.Run("own op kill without killop", func(t *testing.T) {
		done := runHeld(app, "orders", bson.D{{Key: "holdMS", Value: 600000}})
		d := waitOp(t, app, bson.D{}, nsIs("shop.orders"))
		if err := app.Database("admin").RunCommand(ctx, bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: d.Lookup("opid").Int32()}}).Err(); err != nil {
			t.Fatalf("killing an own op: %v", err)
		}
		if code := commandCode(<-done); code != 11601 {
			t.Errorf("code %d", code)
		}
	})

	t.Run("connectionStatus", func(t *testing.T) {
		raw, err := killer.Database("admin").RunCommand(ctx, bson.D{{Key: "connectionStatus", Value: 1}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(raw.String(), `"hostManager"`) || !strings.Contains(raw.String(), `"killer"`) {
			t.Errorf("connectionStatus = %s", raw)
		}
	})
}

// TestSaslStartConversation runs the full saslStart/saslContinue exchange (no speculative
// step) on one pooled connection, as a driver does when speculative auth is not answered.
func TestSaslStartConversation(t *testing.T) {
	s := startServer(t, Options{Users: testUsers})
	cl := connect(t, s.URI(), func(o *options.ClientOptions) { o.SetMaxPoolSize(1) })
	ctx := ctxT(t)
	for _, tt := range []struct {
		pass string
		ok   bool
	}{{"wrong", false}, {"mon-secret", true}} {
		client, err := scram.SHA256.NewClient("mon", tt.pass, "")
		if err != nil {
			t.Fatal(err)
		}
		conv := client.NewConversation()
		first, _ := conv.Step("")
		res, err := cl.Database("admin").RunCommand(ctx, bson.D{
			{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: "SCRAM-SHA-256"},
			{Key: "payload", Value: bson.Binary{Data: []byte(first)}},
			{Key: "options", Value: bson.D{{Key: "skipEmptyExchange", Value: true}}},
		}).Raw()
		if err != nil {
			t.Fatalf("saslStart: %v", err)
		}
		_, payload := res.Lookup("payload").Binary()
		final, err := conv.Step(string(payload))
		if err != nil {
			t.Fatal(err)
		}
		res, err = cl.Database("admin").RunCommand(ctx, bson.D{
			{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: res.Lookup("conversationId").Int32()},
			{Key: "payload", Value: bson.Binary{Data: []byte(final)}},
		}).Raw()
		if !tt.ok {
			if commandCode(err) != 18 || !strings.Contains(err.Error(), "Authentication failed.") {
				t.Fatalf("wrong password: %v, want 18 Authentication failed.", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("saslContinue: %v", err)
		}
		if done, _ := res.Lookup("done").BooleanOK(); !done {
			t.Fatalf("saslContinue with skipEmptyExchange not done: %s", res)
		}
		_, v := res.Lookup("payload").Binary()
		if _, err := conv.Step(string(v)); err != nil || !conv.Valid() {
			t.Fatalf("server signature rejected: %v", err)
		}
	}
	if err := cl.Database("admin").RunCommand(ctx, bson.D{{Key: "serverStatus", Value: 1}}).Err(); err != nil {
		t.Errorf("serverStatus after saslContinue: %v", err)
	}
}
