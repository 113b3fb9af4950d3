package mongodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/version"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
)

func TestOpenPerVersionProfile(t *testing.T) {
	tests := []struct {
		name string
		opts mongod.Options
		kind string
	}{
		{"4.4", mongod.Options{Profile: mongod.Profile44}, "mongod"},
		{"6.0", mongod.Options{Profile: mongod.Profile60}, "mongod"},
		{"7.0 replica set", mongod.Options{Profile: mongod.Profile70, ReplicaSet: "rs0"}, "mongod"},
		{"8.0", mongod.Options{Profile: mongod.Profile80}, "mongod"},
		{"8.0 mongos", mongod.Options{Profile: mongod.Profile80, Mongos: true}, "mongos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, tt.opts)
			s := openSource(t, srv.URI())
			snap := snapshot(t, s, source.Query{})
			want := tt.opts.Profile.Version
			if snap.Server.Version != want || snap.Server.Kind != tt.kind {
				t.Errorf("server = %+v, want version %s kind %s", snap.Server, want, tt.kind)
			}
			if snap.Server.Connections.Current <= 0 || snap.Server.Connections.Available <= 0 || snap.Server.Connections.TotalCreated < snap.Server.Connections.Current {
				t.Errorf("connection counters implausible: %+v", snap.Server.Connections)
			}
			if snap.Source != "mongodb" || snap.Target != srv.URI() {
				t.Errorf("source %q target %q", snap.Source, snap.Target)
			}
		})
	}
}

func TestServerFactsOnRealServer(t *testing.T) {
	onTargets(t, mongod.Options{}, func(t *testing.T, uri string) {
		s := openSource(t, uri)
		snap := snapshot(t, s, source.Query{})
		if snap.Server.Host == "" || snap.Server.Version == "" || (snap.Server.Kind != "mongod" && snap.Server.Kind != "mongos") {
			t.Errorf("server facts missing: %+v", snap.Server)
		}
		if snap.Server.Connections.Current < 1 {
			t.Errorf("connections.current = %d, the monitor itself is connected", snap.Server.Connections.Current)
		}
		if time.Since(snap.TakenAt) > time.Minute || snap.TakenAt.After(time.Now().Add(time.Second)) {
			t.Errorf("TakenAt %v", snap.TakenAt)
		}
	})
}

func TestWorkloadOperationsAppear(t *testing.T) {
	srv := startSim(t, mongod.Options{ReplicaSet: "rs0"})
	startWorkload(t, srv.URI())
	s := openSource(t, srv.URI())

	// Each worker pauses between operations: wait for a snapshot with the whole mix.
	var snap *source.Snapshot
	var scan, lock, index *source.Session
	deadline := time.Now().Add(guard)
	for {
		snap = snapshot(t, s, source.Query{})
		apps := map[string]bool{}
		scan, lock, index = nil, nil, nil
		for i := range snap.Sessions {
			ss := &snap.Sessions[i]
			apps[ss.App] = true
			switch {
			case ss.App == "orders-api" && ss.PlanSummary == "COLLSCAN":
				scan = ss
			case ss.App == "billing-worker" && ss.WaitingForLock:
				lock = ss
			case ss.App == "mongosh 2.3.1" && ss.Msg != "":
				index = ss
			}
		}
		if len(snap.Sessions) >= 5 && len(apps) >= 3 && scan != nil && lock != nil && index != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workload not visible: scan %v lock %v index %v in %d sessions from %d apps",
				scan != nil, lock != nil, index != nil, len(snap.Sessions), len(apps))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range snap.Sessions {
		ss := &snap.Sessions[i]
		if ss.Internal || ss.Type != source.TypeOp || !ss.Active {
			t.Errorf("default view shows %+v", ss)
		}
		if strings.Contains(string(ss.Command), `"topologyVersion"`) {
			t.Errorf("an awaitable hello is shown by default: %s", ss.Command)
		}
	}
	host, _, err := net.SplitHostPort(scan.Client)
	if scan.Op != "query" || scan.NS != "shop.orders" || host != "127.0.0.1" || scan.ConnectionID <= 0 ||
		scan.Desc != "conn"+strconv.FormatInt(scan.ConnectionID, 10) || scan.Driver != "mongo-go-driver "+version.Driver ||
		scan.RunningUS <= 0 || scan.Host == "" || err != nil || scan.ID == "" {
		t.Errorf("scan fields wrong: %+v", scan)
	}
	if _, err := strconv.ParseInt(scan.ID, 10, 32); err != nil {
		t.Errorf("mongod opid %q is not an int32", scan.ID)
	}
	var cmd map[string]any
	if err := json.Unmarshal(scan.Command, &cmd); err != nil || cmd["find"] != "orders" {
		t.Errorf("command %s (%v)", scan.Command, err)
	}
	if lock.Op != "update" || lock.NS != "billing.invoices" {
		t.Errorf("lock waiter fields wrong: %+v", lock)
	}
	if !strings.HasPrefix(index.Msg, "Index Build") || index.Op != "command" {
		t.Errorf("index build fields wrong: %+v", index)
	}

	// With System, the replica set's internal work and the drivers' heartbeats show, marked.
	sys := snapshot(t, s, source.Query{System: true})
	var internal, hello int
	for _, ss := range sys.Sessions {
		if ss.Internal {
			internal++
		}
		if ss.Internal && strings.Contains(string(ss.Command), `"topologyVersion"`) {
			hello++
		}
	}
	if internal == 0 || hello == 0 || len(sys.Sessions) <= len(snap.Sessions)-2 {
		t.Errorf("System view: %d internal, %d awaitable hellos, %d sessions (default %d)", internal, hello, len(sys.Sessions), len(snap.Sessions))
	}
}

// The monitor's own connections are recognised by their server connection IDs and socket
// addresses, never by appName: an impostor using the appName "currentop" must show.
func TestOwnOperationsNeverAppear(t *testing.T) {
	onTargets(t, mongod.Options{}, func(t *testing.T, uri string) {
		s := openSource(t, uri)
		observer := rawClient(t, uri, "test-observer")
		all := source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}
		for range 3 {
			observed := currentOp(t, observer) // also connects the observer before the snapshot
			snap := snapshot(t, s, all)
			me := s.self()
			if len(me.addrs) < 2 {
				t.Fatalf("own sockets not tracked: %+v", me)
			}
			for _, ss := range snap.Sessions {
				if slices.Contains(me.addrs, ss.Client) || strings.Contains(string(ss.Command), `"comment":"currentop"`) {
					t.Errorf("own session shown: %+v", ss)
				}
			}
			// Independent check through another client: every connection that introduced
			// itself as currentop and is not an impostor is absent from the snapshot.
			shown := map[int64]bool{}
			for _, ss := range snap.Sessions {
				shown[ss.ConnectionID] = true
			}
			for _, d := range observed {
				if rawStr(d, "appName") == appName && slices.Contains(me.addrs, rawStr(d, "client")) {
					if id, _ := num(d, "connectionId"); shown[id] {
						t.Errorf("own connection %d shown", id)
					}
				}
			}
			clientsTotal := 0
			for _, c := range snap.Clients {
				clientsTotal += c.Count
			}
			if clientsTotal == 0 {
				t.Error("no clients at all: the observer is connected")
			}
		}
	})

	t.Run("impostor appName", func(t *testing.T) {
		srv := startSim(t, mongod.Options{})
		s := openSource(t, srv.URI())
		impostor := rawClient(t, srv.URI(), appName)
		done := holdFind(t, impostor, "impostor", 10*time.Minute) // ended by the kill
		got := waitSession(t, s, source.Query{}, "of the impostor", func(ss *source.Session) bool {
			return ss.NS == "test.impostor"
		})
		if got.App != appName {
			t.Errorf("impostor app %q", got.App)
		}
		res := s.Kill(context.Background(), []source.Session{got})
		if res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending {
			t.Errorf("kill impostor: %+v", res[0])
		}
		<-done
	})
}

// Client counts add up to the server's connections minus the monitor's own, with and
// without 20 000 synthetic idle connections.
func TestClientCountsMatchConnections(t *testing.T) {
	for _, synthetic := range []int{0, 20000} {
		t.Run(fmt.Sprintf("synthetic=%d", synthetic), func(t *testing.T) {
			srv := startSim(t, mongod.Options{Synthetic: synthetic})
			startWorkload(t, srv.URI())
			s := openSource(t, srv.URI())
			clientsAddUp(t, s, srv)
		})
	}
}

// clientsAddUp checks that per-IP client counts add up to serverStatus connections.current
// and to the simulator's live connections, minus the monitor's own. The workload may be
// between connections, so a few snapshots are tried.
func clientsAddUp(t *testing.T, s *Source, srv *mongod.Server) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(guard); time.Now().Before(deadline); {
		snap := snapshot(t, s, source.Query{})
		real, synth := srv.Connections()
		own := len(s.self().addrs)
		total, active := 0, 0
		for _, c := range snap.Clients {
			total += c.Count
			active += c.Active
			if c.Count < c.Active || c.Active < 0 || c.Count <= 0 {
				t.Errorf("client %+v", c)
			}
			if _, _, err := net.SplitHostPort(c.IP); err == nil || net.ParseIP(c.IP) == nil {
				t.Errorf("client IP %q is not a bare IP", c.IP)
			}
		}
		want := int(snap.Server.Connections.Current) - own
		if total == want && total == real+synth-own && active >= 5 {
			return
		}
		last = fmt.Sprintf("clients add up to %d (active %d); serverStatus current %d - own %d = %d; sim real %d + synthetic %d",
			total, active, snap.Server.Connections.Current, own, want, real, synth)
		time.Sleep(100 * time.Millisecond)
	}
	t.Error(last)
}

func TestClientsIPv6AndInternal(t *testing.T) {
	docs := []bson.D{
		{{Key: "_id", Value: "2001:db8::5"}, {Key: "n", Value: int32(3)}, {Key: "a", Value: int64(1)},
			{Key: "p", Value: bson.A{"orders-api", ""}}, {Key: "u", Value: bson.A{bson.A{bson.D{{Key: "user", Value: "app"}, {Key: "db", Value: "admin"}}}}},
			{Key: "d", Value: bson.A{bson.D{{Key: "name", Value: "MongoDB Internal Client"}, {Key: "version", Value: "4.4.29"}}}}},
		{{Key: "_id", Value: "10.0.0.9:27017"}, {Key: "n", Value: 2.0}, {Key: "a", Value: 0},
			{Key: "u", Value: bson.A{bson.A{bson.D{{Key: "user", Value: "__system"}, {Key: "db", Value: "local"}}}}}},
		{{Key: "_id", Value: "10.0.0.9"}, {Key: "n", Value: 1}, {Key: "a", Value: 5}, // active > count: clamped
			{Key: "d", Value: bson.A{bson.D{{Key: "name", Value: "NetworkInterfaceTL-ReplNetwork"}, {Key: "version", Value: "8.0.4"}}}}},
		{{Key: "_id", Value: bson.A{1}}, {Key: "n", Value: 7}}, // no IP: dropped
	}
	var raws []bson.Raw
	for _, d := range docs {
		b, _ := bson.Marshal(d)
		raws = append(raws, b)
	}
	got := decodeClients(raws)
	want := []source.Client{
		{IP: "10.0.0.9", Count: 3, Active: 3, Internal: true, Apps: []string{}, Users: []string{"__system@local"}, Drivers: []string{"NetworkInterfaceTL-ReplNetwork 8.0.4"}},
		{IP: "2001:db8::5", Count: 3, Active: 1, Internal: false, Apps: []string{"orders-api"}, Users: []string{"app@admin"}, Drivers: []string{"MongoDB Internal Client 4.4.29"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("decodeClients:\n got %+v\nwant %+v", got, want)
	}
}

// The server-side IP expression strips ports from IPv4 and bracketed IPv6 addresses.
func TestClientsPipelineSplitsIPv6(t *testing.T) {
	tests := map[string]string{
		"10.1.2.3:5555":         "10.1.2.3",
		"[2001:db8::5]:443":     "2001:db8::5",
		"[::1]:27017":           "::1",
		"anonymous unix socket": "anonymous unix socket",
	}
	for in, want := range tests {
		if got := hostOnly(in); got != want {
			t.Errorf("hostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKillEndsOperation(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	s := openSource(t, srv.URI())
	app := rawClient(t, srv.URI(), "victim-app")
	done := holdFind(t, app, "victim", 10*time.Minute) // ended by the kill
	target := waitSession(t, s, source.Query{}, "of the victim", func(ss *source.Session) bool { return ss.NS == "test.victim" })

	res := s.Kill(context.Background(), []source.Session{target})
	if len(res) != 1 || res[0].ID != target.ID || (res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending) {
		t.Fatalf("kill: %+v", res)
	}
	select {
	case err := <-done:
		if !isCode(err, 11601) {
			t.Errorf("the killed client got %v, want error 11601 Interrupted", err)
		}
	case <-time.After(guard):
		t.Fatal("the killed operation is still running")
	}
	// Killing it again: it is gone.
	if res := s.Kill(context.Background(), []source.Session{target}); res[0].Outcome != source.KillAlreadyGone {
		t.Errorf("second kill: %+v", res[0])
	}
}

// opids are reused: a kill must not hit whatever now has the opid the user saw.
func TestKillRefusedWhenOpIDReused(t *testing.T) {
	tests := []struct {
		name      string
		sameConn  bool // the reuse happens on the same connection (a restarted op)
		otherColl string
	}{
		{"other connection", false, "victim"},
		{"same connection, restarted", true, "victim"},
		{"same connection, other namespace", true, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, mongod.Options{})
			s := openSource(t, srv.URI())
			a := rawClient(t, srv.URI(), "app-a")
			other := rawClient(t, srv.URI(), "app-b")
			if err := other.Ping(context.Background(), nil); err != nil { // settle its handshake
				t.Fatal(err)
			}
			// The first operation is seen running, then ends (killed outside the monitor).
			done := holdFind(t, a, "victim", 10*time.Minute)
			seen := waitSession(t, s, source.Query{}, "of app-a", func(ss *source.Session) bool {
				return ss.NS == "test.victim" && ss.RunningUS > 300_000
			})
			opid, err := strconv.ParseInt(seen.ID, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Database("admin").RunCommand(context.Background(), bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: int32(opid)}}).Err(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; !isCode(err, 11601) {
				t.Fatalf("the first operation ended with %v, want 11601", err)
			}
			b := a
			if !tt.sameConn {
				b = other
			}
			srv.SetNextOpID(int32(opid))
			reused := holdFind(t, b, tt.otherColl, 10*time.Minute) // ended by the kill below
			now := waitSession(t, s, source.Query{}, "of the second find", func(ss *source.Session) bool { return ss.NS == "test."+tt.otherColl })
			if now.ID != seen.ID {
				t.Fatalf("the simulator gave opid %s, want the reused %s", now.ID, seen.ID)
			}

			res := s.Kill(context.Background(), []source.Session{seen})
			if res[0].Outcome != source.KillRefused || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "another operation") {
				t.Fatalf("kill of a reused opid: %+v", res[0])
			}
			// No killOp was sent: the innocent operation runs on, not even kill-pending.
			if again := waitSession(t, s, source.Query{}, "of the second find", func(ss *source.Session) bool { return ss.ID == now.ID }); again.KillPending || again.NS != now.NS {
				t.Fatalf("the innocent operation was hit: %+v", again)
			}
			select {
			case err := <-reused:
				t.Fatalf("the innocent operation ended: %v", err)
			default:
			}
			// Killing what the user sees now works.
			if res := s.Kill(context.Background(), []source.Session{now}); res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending {
				t.Errorf("kill of the current op: %+v", res[0])
			}
			if err := <-reused; !isCode(err, 11601) {
				t.Errorf("killed op ended with %v", err)
			}
		})
	}
}

func TestKillOutcomes(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	s := openSource(t, srv.URI())
	tests := []struct {
		name string
		in   source.Session
		want source.KillOutcome
	}{
		{"idle connection", source.Session{ID: "conn7", Type: source.TypeIdle}, source.KillNotKillable},
		{"idle session", source.Session{ID: "session:ab", Type: source.TypeIdleSession}, source.KillNotKillable},
		{"unknown opid", source.Session{ID: "2147480001", Type: source.TypeOp, Active: true, Op: "query"}, source.KillAlreadyGone},
		{"not an opid", source.Session{ID: "rs0/node1/12", Type: source.TypeOp, Active: true}, source.KillRefused},
		{"mongos opid on mongod", source.Session{ID: "shard01:2147480001", Type: source.TypeOp, Active: true}, source.KillAlreadyGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Kill(context.Background(), []source.Session{tt.in})
			if len(res) != 1 || res[0].Outcome != tt.want || res[0].ID != tt.in.ID {
				t.Errorf("kill %+v: %+v, want %s", tt.in, res, tt.want)
			}
			if tt.want != source.KillAlreadyGone && res[0].Err == nil {
				t.Error("no explanation")
			}
		})
	}
}

var testUsers = []mongod.User{
	{Name: "mon", DB: "admin", Password: "mon-Secret-1", Roles: []string{"clusterMonitor"}},
	{Name: "admin", DB: "admin", Password: "admin-Secret-2", Roles: []string{"root"}},
	{Name: "app", DB: "admin", Password: "app-Secret-3", Roles: []string{"readWrite"}},
}

func userURI(srv *mongod.Server, user, pass string) string {
	return fmt.Sprintf("mongodb://%s:%s@%s/?authSource=admin", user, pass, srv.Addr())
}

func TestAuthErrors(t *testing.T) {
	srv := startSim(t, mongod.Options{Users: testUsers})
	tests := []struct {
		name     string
		uri      string
		secret   string
		kind     source.ErrKind
		contains []string
	}{
		{"wrong password", userURI(srv, "mon", "wrong-Secret-9"), "wrong-Secret-9", source.ErrAuth, []string{"authentication", `"mon@admin"`, "password"}},
		{"unknown user", userURI(srv, "nobody", "nobody-Secret-8"), "nobody-Secret-8", source.ErrAuth, []string{"authentication to", "failed", `"nobody@admin"`}},
		{"without clusterMonitor", userURI(srv, "app", "app-Secret-3"), "app-Secret-3", source.ErrPermission, []string{"not authorised", "clusterMonitor", `"app@admin"`}},
		{"no credentials", "mongodb://" + srv.Addr() + "/", "", source.ErrAuth, []string{"requires authentication", "clusterMonitor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), Config{URI: tt.uri, Timeout: 30 * time.Second}) // answered at once
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, c := range tt.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("error %q does not say %q", err, c)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error leaks the password: %q", err)
			}
			if k := source.KindOf(err); k != tt.kind {
				t.Errorf("kind %v, want %v", k, tt.kind)
			}
		})
	}

	t.Run("monitor may not kill", func(t *testing.T) {
		s := openSource(t, userURI(srv, "mon", "mon-Secret-1"))
		admin := rawClient(t, userURI(srv, "admin", "admin-Secret-2"), "victim-app")
		done := holdFind(t, admin, "victim", 10*time.Minute) // ended by DropConnections below
		target := waitSession(t, s, source.Query{}, "of the victim", func(ss *source.Session) bool { return ss.NS == "test.victim" })
		if target.User != "admin@admin" {
			t.Errorf("user = %q", target.User)
		}
		res := s.Kill(context.Background(), []source.Session{target})
		if res[0].Outcome != source.KillNotPermitted || source.KindOf(res[0].Err) != source.ErrPermission || !strings.Contains(res[0].Err.Error(), "hostManager") ||
			strings.Contains(res[0].Err.Error(), "mon-Secret-1") {
			t.Errorf("kill without killop: %+v", res[0])
		}
		select {
		case err := <-done:
			t.Errorf("the op ended: %v", err)
		default:
		}
		srv.DropConnections() // end the held find now rather than at cleanup
		<-done
	})
}

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name    string
		uri     func(t *testing.T) string
		timeout time.Duration
	}{
		{"closed port", func(*testing.T) string { return "mongodb://app:Pa55-word@127.0.0.1:1/" }, 700 * time.Millisecond},
		{"refusing server", func(t *testing.T) string {
			srv := startSim(t, mongod.Options{})
			srv.RefuseConnections(true)
			return srv.URI()
		}, 700 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := tt.uri(t)
			start := time.Now()
			s, err := Open(context.Background(), Config{URI: uri, Timeout: tt.timeout})
			elapsed := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, "cannot reach") || !strings.Contains(msg, "within "+tt.timeout.String()) ||
				!strings.Contains(msg, "check host/port") || strings.Contains(msg, "Pa55-word") {
				t.Errorf("error: %s", msg)
			}
			var se *source.Error
			if !errors.As(err, &se) || se.Kind != source.ErrUnreachable || !strings.Contains(se.Hint, "check host/port") {
				t.Errorf("not an unreachable error with a hint: %#v", err)
			}
			t.Logf("%s", msg)
			// Liveness, generous for a loaded machine: the timeout bounds the whole Open (the
			// driver alone would try for 30 s).
			if elapsed > tt.timeout+20*time.Second {
				t.Errorf("Open took %s with timeout %s", elapsed, tt.timeout)
			}
		})
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	srv := startSim(t, mongod.Options{})
	const timeout = 5 * time.Second // long enough for Open on a loaded machine
	s, err := Open(context.Background(), Config{URI: srv.URI(), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The server answers only after a minute: the snapshot can end sooner only by the timeout.
	srv.SetReplyDelay(time.Minute)
	start := time.Now()
	_, err = s.Snapshot(context.Background(), source.Query{})
	if err == nil {
		t.Fatal("snapshot succeeded against a server slower than the timeout")
	}
	if took := time.Since(start); took > timeout+20*time.Second {
		t.Errorf("snapshot took %s with a %s timeout", took, timeout)
	}
	if msg := err.Error(); !strings.Contains(msg, "did not answer within 5s") || strings.Contains(msg, "cannot reach") {
		t.Errorf("a server that is there but slow: %s", msg)
	}
	srv.SetReplyDelay(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Snapshot(ctx, source.Query{}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled snapshot: %v", err)
	}
}

// A server older than 4.4 answers the handshake and is then refused by the driver: the error
// says so and points to the cloud sources.
func TestServerOlderThan44(t *testing.T) {
	srv := startSim(t, mongod.Options{Profile: mongod.Profile42})
	start := time.Now()
	// The driver refuses the server as soon as it has seen its handshake: the timeout is
	// never reached.
	const timeout = 30 * time.Second
	_, err := Open(context.Background(), Config{URI: srv.URI(), Timeout: timeout})
	if err == nil {
		t.Fatal("a 4.2 server was accepted")
	}
	for _, want := range []string{"MongoDB < 4.4", "--source tencent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if took := time.Since(start); took >= timeout {
		t.Errorf("took %s: waited for the %s timeout instead of failing at once", took, timeout)
	}
}

// Classification of the driver's errors, including ones the simulator cannot produce: the
// kind and hint a UI shows, and the whole message a one-shot run prints.
func TestErrorsAreExplained(t *testing.T) {
	const uri = "mongodb://mon:pw-Secret@db1:27017/"
	s := &Source{target: MaskURI(uri), timeout: 5 * time.Second, creds: true}
	s.user, s.secrets = uriSecrets(uri)
	anon := &Source{target: "mongodb://db1:27017/", timeout: 5 * time.Second}
	tests := []struct {
		name     string
		src      *Source
		err      error
		kind     source.ErrKind
		hint     string
		contains []string
	}{
		{"old server", s, fmt.Errorf("server selection error: %w", errors.New("server at db1:27017 reports wire version 8, but this version of the Go driver requires at least 9 (MongoDB 4.4)")),
			source.ErrUnsupported, "--source tencent",
			[]string{"MongoDB < 4.4", "this driver needs 4.4+", "--source tencent", "mongodb://mon:***@db1:27017/"}},
		{"auth", s, fmt.Errorf("handshake: %w", mongo.CommandError{Code: 18, Name: "AuthenticationFailed", Message: "Authentication failed."}),
			source.ErrAuth, "authSource",
			[]string{"authentication to mongodb://mon:***@db1:27017/ failed", `user "mon"`, "authSource"}},
		{"auth via pool clearing", s, errors.New("connection pool for db1:27017 was cleared because another operation failed with: auth error: unable to authenticate using mechanism \"SCRAM-SHA-256\": (AuthenticationFailed) Authentication failed. pw-Secret"),
			source.ErrAuth, "authSource",
			[]string{"authentication to mongodb://mon:***@db1:27017/ failed", `user "mon"`, "authSource"}},
		{"unauthorised", s, mongo.CommandError{Code: 13, Message: "not authorized on admin to execute command { aggregate: 1 }"},
			source.ErrPermission, "grant role clusterMonitor",
			[]string{`user "mon" is not authorised`, "grant role clusterMonitor"}},
		{"unauthenticated", anon, mongo.CommandError{Code: 13, Message: "Command aggregate requires authentication"},
			source.ErrAuth, "requires authentication",
			[]string{"requires authentication", "clusterMonitor"}},
		{"deadline", s, context.DeadlineExceeded, source.ErrUnreachable, "check host/port",
			[]string{"cannot reach mongodb://mon:***@db1:27017/ within 5s", "check host/port"}},
		{"no reply", s, mongo.CommandError{Message: "connection(db1:27017[-5]) incomplete read of message header: context deadline exceeded: client timed out waiting for server response: read tcp 10.0.0.1:47760->10.0.0.2:27017: i/o timeout", Wrapped: context.DeadlineExceeded},
			source.ErrTimeout, "raise --timeout",
			[]string{"cannot run $currentOp on mongodb://mon:***@db1:27017/: the server was reached but did not answer within 5s", "raise --timeout"}},
		{"cancelled", s, context.Canceled, source.ErrOther, "", []string{"cancelled"}},
		{"other", s, mongo.CommandError{Code: 2, Message: "BadValue pw-Secret"}, source.ErrOther, "cannot run $currentOp on the server: ",
			[]string{"cannot run $currentOp on mongodb://mon:***@db1:27017/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.src.explain(tt.err, "run $currentOp on")
			for _, c := range tt.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("%q does not say %q", err, c)
				}
			}
			if strings.Contains(err.Error(), "pw-Secret") {
				t.Errorf("password leaked: %q", err)
			}
			if !errors.Is(err, tt.err) {
				if _, isCmd := tt.err.(mongo.CommandError); !isCmd {
					t.Errorf("%v does not wrap %v", err, tt.err)
				}
			}
			var se *source.Error
			switch {
			case tt.hint == "":
				if errors.As(err, &se) {
					t.Errorf("cancellation typed %v", se.Kind)
				}
			case !errors.As(err, &se) || se.Kind != tt.kind:
				t.Errorf("kind of %q = %v, want %v", err, source.KindOf(err), tt.kind)
			case !strings.Contains(se.Hint, tt.hint) || strings.Contains(se.Hint, "db1") || strings.Contains(se.Hint, "pw-Secret"):
				t.Errorf("hint %q: want %q, without the target or a secret", se.Hint, tt.hint)
			}
		})
	}
}

func TestMongosNormalisation(t *testing.T) {
	srv := startSim(t, mongod.Options{Mongos: true})
	startWorkload(t, srv.URI())
	s := openSource(t, srv.URI())
	scan := waitSession(t, s, source.Query{}, "of orders-api through mongos", func(ss *source.Session) bool {
		return ss.App == "orders-api" && ss.PlanSummary == "COLLSCAN"
	})
	shard, opid, ok := strings.Cut(scan.ID, ":")
	if !ok || shard != scan.Shard || !strings.HasPrefix(shard, "shard0") {
		t.Errorf("mongos ID %q shard %q", scan.ID, scan.Shard)
	}
	if _, err := strconv.Atoi(opid); err != nil {
		t.Errorf("mongos ID %q", scan.ID)
	}
	if h, _, err := net.SplitHostPort(scan.Client); err != nil || h != "127.0.0.1" {
		t.Errorf("client %q is not the application's address at the mongos", scan.Client)
	}
	snap := snapshot(t, s, source.Query{IdleConnections: true})
	idle, local := 0, 0
	for _, ss := range snap.Sessions {
		if ss.Type == source.TypeIdle {
			idle++
			if ss.Shard == "" {
				local++
			}
		}
	}
	if idle == 0 || local != idle {
		t.Errorf("idle connections through mongos: %d, %d of them the mongos's own", idle, local)
	}
	clientsAddUp(t, s, srv)
	res := s.Kill(context.Background(), []source.Session{scan})
	if res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending {
		t.Errorf("kill through mongos: %+v", res[0])
	}
}

func TestReplicaSetClientsInternal(t *testing.T) {
	srv := startSim(t, mongod.Options{ReplicaSet: "rs0"})
	s := openSource(t, srv.URI())
	snap := snapshot(t, s, source.Query{})
	internal := 0
	for _, c := range snap.Clients {
		if c.Internal {
			internal++
		}
		if c.IP == "127.0.0.1" && c.Internal {
			t.Errorf("loopback client marked internal: %+v", c)
		}
	}
	if internal == 0 {
		t.Errorf("no internal clients on a replica-set primary: %+v", snap.Clients)
	}
}

func TestLegacyShellIsAPerson(t *testing.T) {
	raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: "10.0.0.1"}, {Key: "n", Value: 1}, {Key: "a", Value: 0},
		{Key: "p", Value: bson.A{"MongoDB Shell"}},
		{Key: "d", Value: bson.A{bson.D{{Key: "name", Value: "MongoDB Internal Client"}, {Key: "version", Value: "4.4.0"}}}}})
	if c := decodeClients([]bson.Raw{raw}); len(c) != 1 || c[0].Internal {
		t.Errorf("legacy shell: %+v", c)
	}
}

func TestWorkloadWithUsers(t *testing.T) {
	users := append(slices.Clone(testUsers), mongod.User{Name: "ordersApp", DB: "admin", Password: "orders-Secret-4", Roles: []string{"readWrite"}})
	srv := startSim(t, mongod.Options{Users: users})
	startWorkload(t, srv.URI(), workload.User{Name: "ordersApp", DB: "admin", Password: "orders-Secret-4"}, workload.User{Name: "app", DB: "admin", Password: "app-Secret-3"})
	s := openSource(t, userURI(srv, "mon", "mon-Secret-1"))
	got := waitSession(t, s, source.Query{}, "of ordersApp", func(ss *source.Session) bool { return ss.User == "ordersApp@admin" })
	if got.App == "" {
		t.Errorf("session %+v", got)
	}
	snap := snapshot(t, s, source.Query{})
	for _, c := range snap.Clients {
		if c.IP == "127.0.0.1" && (!slices.Contains(c.Users, "ordersApp@admin") || !slices.Contains(c.Users, "app@admin")) {
			t.Errorf("users of the loopback client: %v", c.Users)
		}
	}
}
