package huawei

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/source"
)

// Compile-time checks of the capabilities the lead relies on.
var (
	_ source.Source = (*Source)(nil)
	_ source.Killer = (*Source)(nil)
	_ source.Lister = (*Source)(nil)
	_ source.Pacer  = (*Source)(nil)
)

func TestSnapshotMapsSessionsAndClients(t *testing.T) {
	fake := &fakeBackend{version: "4.4.29"}
	fake.sessions = []source.Session{
		activeOp(101, "10.0.0.5:51234"),
		activeOp(102, "10.0.0.5:51235"),
		activeOp(103, "10.0.0.6:40000"),
		idleConn(201, "10.0.0.5:51236"),
		idleConn(202, "10.0.0.7:1000"),
		{ID: "301", Type: source.TypeOp, Active: true, Op: "none", Desc: "ReplWriterWorker-1", Internal: true, RunningUS: 5},
	}
	fake.clients = []source.Client{
		{IP: "10.0.0.5", Count: 3}, {IP: "10.0.0.6", Count: 1}, {IP: "10.0.0.7", Count: 1},
		{IP: "192.168.0.12", Count: 4, Internal: true},
	}
	e := newEnv(t, fake)

	snap := mustSnapshot(t, e.src, source.Query{})
	if snap.Source != "huawei" || snap.Target != "huawei:cn-north-4/abcdef0123456789abcdef0123456789in02" || snap.Server.Kind != "cloud" {
		t.Errorf("source %q target %q kind %q", snap.Source, snap.Target, snap.Server.Kind)
	}
	if snap.Server.Version != "4.4" {
		t.Errorf("version = %q, want 4.4 (ListInstances datastore.version)", snap.Server.Version)
	}
	if got := ids(snap.Sessions); got != "101,102,103" {
		t.Errorf("default view sessions = %s, want the three active user operations", got)
	}
	if snap.Server.Connections.Current != 9 || snap.Server.Connections.Active != 3 {
		t.Errorf("connections = %+v, want current 9 (conn-statistics) active 3", snap.Server.Connections)
	}
	var s source.Session
	for _, x := range snap.Sessions {
		if x.ID == "102" {
			s = x
		}
	}
	want := activeOp(102, "10.0.0.5:51235")
	if s.Op != "query" || s.NS != want.NS || s.RunningUS != want.RunningUS || s.PlanSummary != "COLLSCAN" ||
		s.Client != want.Client || s.Host != "rs0-a:27017" || s.Desc != "conn102" || s.ConnectionID != 102 ||
		s.App != "orders-api" || s.Driver != "mongo-go-driver 2.9.3" || s.User != "app" || s.Type != source.TypeOp {
		t.Errorf("session 102 = %+v", s)
	}
	var cmd map[string]any
	if err := json.Unmarshal(s.Command, &cmd); err != nil || cmd["find"] != "orders" {
		t.Errorf("command = %s (%v)", s.Command, err)
	}

	clients := map[string]source.Client{}
	for _, c := range snap.Clients {
		clients[c.IP] = c
	}
	if c := clients["10.0.0.5"]; c.Count != 3 || c.Internal || c.Active != 2 || len(c.Apps) != 1 || c.Apps[0] != "orders-api" {
		t.Errorf("client 10.0.0.5 = %+v", c)
	}
	if c := clients["192.168.0.12"]; !c.Internal || c.Count != 4 {
		t.Errorf("inner client = %+v, want internal with 4 connections", c)
	}

	all := mustSnapshot(t, e.src, source.Query{IdleConnections: true, System: true})
	if got := ids(all.Sessions); got != "101,102,103,201,202,301" {
		t.Errorf("with idle and system: %s", got)
	}
	for _, x := range all.Sessions {
		if x.ID == "201" && (x.Type != source.TypeIdle || x.Active || x.RunningUS != 0) {
			t.Errorf("idle session = %+v", x)
		}
		if x.ID == "301" && !x.Internal {
			t.Errorf("internal thread not marked internal: %+v", x)
		}
	}
}

func TestPagination(t *testing.T) {
	tests := []struct {
		name      string
		active    int
		idle      int
		limit     int
		wantCalls int64
		wantRead  int
		wantTotal int
		partial   bool
	}{
		{"one page", 7, 0, 0, 1, 7, 0, false},
		{"exactly one full page", 20, 0, 0, 1, 20, 0, false},
		{"five pages", 95, 0, 0, 5, 95, 0, false},
		{"limit stops early", 95, 0, 30, 2, 40, 95, false},
		{"idle sessions do not count toward the limit", 10, 85, 15, 5, 95, 0, false},
		{"cap", 600, 0, 0, maxPagesPerNode, maxPagesPerNode * PageLimit, 600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeBackend{version: "8.0.4"}
			for i := range tt.active {
				fake.sessions = append(fake.sessions, activeOp(1000+i, "10.1.0.1:1"))
			}
			for i := range tt.idle {
				fake.sessions = append(fake.sessions, idleConn(5000+i, "10.1.0.2:1"))
			}
			e := newEnv(t, fake)
			before := e.emu.Calls("ListSessions")
			snap := mustSnapshot(t, e.src, source.Query{Limit: tt.limit, IdleConnections: false})
			calls := e.emu.Calls("ListSessions") - before
			if calls != tt.wantCalls {
				t.Errorf("ListSessions calls = %d, want %d", calls, tt.wantCalls)
			}
			if len(snap.Sessions) != min(tt.wantRead, tt.active) {
				t.Errorf("sessions = %d, want %d", len(snap.Sessions), min(tt.wantRead, tt.active))
			}
			if snap.TotalSessions != tt.wantTotal || snap.Partial != tt.partial {
				t.Errorf("TotalSessions %d Partial %v, want %d %v (warnings %q)", snap.TotalSessions, snap.Partial, tt.wantTotal, tt.partial, snap.Warnings)
			}
			seen := map[string]bool{}
			for _, s := range snap.Sessions {
				if seen[s.ID] {
					t.Fatalf("session %s read twice", s.ID)
				}
				seen[s.ID] = true
			}
			for _, q := range e.recorded() {
				if strings.Contains(q, "/sessions?") && !strings.Contains(q, "limit=20") {
					t.Errorf("page size not 20: %s", q)
				}
			}
		})
	}
}

func TestFilterPushdownReachesTheAPI(t *testing.T) {
	fake := &fakeBackend{version: "8.0.4"}
	for i := range 30 {
		s := activeOp(100+i, "10.0.0.1:1") // running 100..129 ms
		if i%2 == 0 {
			s.Op = "update"
		}
		fake.sessions = append(fake.sessions, s)
	}
	e := newEnv(t, fake)
	f := source.Filter{Terms: []source.Term{
		{Field: "op", Kind: source.Contains, Value: "query"},
		{Field: "running", Kind: source.Compare, Cmp: ">", Dur: 120 * time.Millisecond},
		{Field: "ns", Kind: source.Regex, Re: regexp.MustCompile(`^shop\.orders$`)},
	}}
	snap := mustSnapshot(t, e.src, source.Query{Filter: f})
	// odd i with 100+i > 120: 121,123,…,129 → 5 sessions, all from the API's own filtering.
	if got := ids(snap.Sessions); got != "121,123,125,127,129" {
		t.Errorf("sessions = %s", got)
	}
	var sawFilter bool
	for _, q := range e.recorded() {
		if strings.Contains(q, "cost_time=120000") && strings.Contains(q, "type=query") && strings.Contains(q, "namespace=shop.orders") {
			sawFilter = true
		}
	}
	if !sawFilter {
		t.Errorf("filters not pushed down; requests: %q", e.recorded())
	}
}

func TestAuthenticationErrors(t *testing.T) {
	tests := []struct {
		name      string
		creds     Credentials
		wantToken bool
		wantText  string
	}{
		{"wrong secret key", Credentials{AK: "TESTAK0123456789ABCD", SK: "wrong-secret-key-0000000000000000"}, false, EnvAK},
		{"unknown access key", Credentials{AK: "OTHERAK0123456789ABC", SK: "test-secret-key-value-0123456789"}, false, EnvSK},
		{"wrong token", Credentials{Token: "expired-token-value-00000000000000"}, true, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) { c.Credentials = tt.creds })
			_, err := e.src.Snapshot(context.Background(), source.Query{})
			var auth *AuthError
			if !errors.As(err, &auth) || source.KindOf(err) != source.ErrAuth {
				t.Fatalf("err = %v, want an *AuthError of kind %v", err, source.ErrAuth)
			}
			var api *APIError
			if !errors.As(err, &api) || api.Code != "APIGW.0301" || api.HTTPStatus != 401 {
				t.Errorf("APIError = %+v", api)
			}
			if auth.Token != tt.wantToken || !strings.Contains(err.Error(), tt.wantText) || strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("message %q: want one line mentioning %q", err, tt.wantText)
			}
			for _, sec := range tt.creds.secrets() {
				if strings.Contains(err.Error(), sec) {
					t.Errorf("error reveals a secret: %v", err)
				}
			}
		})
	}

	e := newEnv(t, &fakeBackend{sessions: []source.Session{activeOp(1, "10.0.0.1:1")}},
		func(o *huaweiapi.Options, c *Config) { c.Credentials = Credentials{Token: o.Token} })
	if snap := mustSnapshot(t, e.src, source.Query{}); len(snap.Sessions) != 1 {
		t.Errorf("token authentication: %d sessions", len(snap.Sessions))
	}
}

func TestAPIErrors(t *testing.T) {
	t.Run("unknown instance", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) { c.InstanceID = "ffff0123456789abcdef0123456789ffin02" })
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		if err == nil || !strings.Contains(err.Error(), "not found") || !strings.Contains(err.Error(), "--list") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown node DBS.200002", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) { c.NodeID = "nosuchnode0000no02" })
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		var api *APIError
		if !errors.As(err, &api) || api.Code != "DBS.200002" || !strings.Contains(err.Error(), "--node") || source.KindOf(err) != source.ErrNotFound {
			t.Errorf("err = %v", err)
		}
		if api != nil && api.RequestID == "" {
			t.Error("request id not kept")
		}
	})
	t.Run("node that serves no sessions DBS.200001", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) {
			o.Mode = "Sharding"
			o.Nodes = []huaweiapi.Node{{ID: "shardnode0001no02", Role: "Primary", Group: "shard"}}
			c.NodeID = "shardnode0001no02"
		})
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		var api *APIError
		if !errors.As(err, &api) || api.Code != "DBS.200001" || !strings.Contains(err.Error(), "mongos") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong project DBS.200010", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) { c.ProjectID = "ffffffffffffffffffffffffffffffff" })
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		var api *APIError
		if !errors.As(err, &api) || api.Code != "DBS.200010" || !strings.Contains(err.Error(), "--project-id") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("wrong endpoint APIGW.0101", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) {})
		src, err := New(Config{Region: "cn-north-4", ProjectID: e.src.cfg.ProjectID, InstanceID: e.src.cfg.InstanceID,
			Endpoint: e.url + "/wrong", Credentials: e.src.cfg.Credentials})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Snapshot(context.Background(), source.Query{})
		var api *APIError
		if !errors.As(err, &api) || api.Code != "APIGW.0101" || !strings.Contains(err.Error(), "--endpoint") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no eligible node", func(t *testing.T) {
		e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) {
			o.Nodes = []huaweiapi.Node{{ID: "hiddennode001no02", Role: "Hidden", Group: "replica"}}
		})
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		if err == nil || !strings.Contains(err.Error(), "--node") {
			t.Errorf("err = %v", err)
		}
	})

	// Answers the emulator does not produce: a fake API.
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
		is     func(error) bool
	}{
		{"permission denied", 403, `{"error_code":"DBS.280001","error_msg":"Policy doesn't allow dds:instance:list to be performed."}`,
			[]string{"dds:instance:list", "DBS.280001"}, func(err error) bool {
				var se *source.Error
				return errors.As(err, &se) && se.Kind == source.ErrPermission && strings.Contains(se.Hint, "dds:instance:list")
			}},
		{"other DBS code", 400, `{"error_code":"DBS.201014","error_msg":"Instance frozen"}`, []string{"DBS.201014", "Instance frozen"}, nil},
		{"nested error shape", 400, `{"error":{"code":"DBS.200001","message":"bad limit"}}`, []string{"DBS.200001", "bad limit"}, nil},
		{"code/message shape", 401, `{"code":"APIGW.0303","message":"Incorrect app authentication information"}`, []string{"authentication failed"},
			func(err error) bool { var a *AuthError; return errors.As(err, &a) }},
		{"proxy HTML", 502, `<html><body>Bad Gateway</body></html>`, []string{"HTTP 502", "Bad Gateway", "retries on the next refresh"}, nil},
		{"garbage success", 200, `not json`, []string{"not the DDS API", "--endpoint"}, nil},
		{"hostile message", 400, "{\"error_code\":\"DBS.1\",\"error_msg\":\"\\u001b]0;owned\\u0007bad\"}", []string{"bad"},
			func(err error) bool { return !strings.ContainsRune(err.Error(), 0x1b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-123")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer hs.Close()
			src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL,
				Credentials: Credentials{AK: "AK", SK: "SK-secret-value"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Snapshot(context.Background(), source.Query{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.is != nil && !tt.is(err) {
				t.Errorf("error %v has the wrong type", err)
			}
			if tt.status >= 400 && !strings.Contains(err.Error(), "req-123") {
				t.Errorf("request id missing: %v", err)
			}
		})
	}
}

func TestThrottling(t *testing.T) {
	t.Run("backs off and succeeds", func(t *testing.T) {
		fake := &fakeBackend{}
		for i := range 60 {
			fake.sessions = append(fake.sessions, activeOp(100+i, "10.0.0.1:1"))
		}
		// The gateway allows one call per action every 20 ms on its clock, and that clock moves
		// 8 ms per request: two calls in a row are throttled whatever the machine's speed.
		api := newFakeClock()
		e := newEnv(t, fake, func(o *huaweiapi.Options, c *Config) { o.Rate, o.Burst, o.Now = 50, 1, api.Now })
		e.everyRequest(func() { api.Advance(8 * time.Millisecond) })
		e.src.c.retries = 10
		snap := mustSnapshot(t, e.src, source.Query{})
		if len(snap.Sessions) != 60 {
			t.Errorf("sessions = %d, want 60", len(snap.Sessions))
		}
		var said bool
		for _, w := range snap.Warnings {
			said = said || strings.Contains(w, "throttled")
		}
		if !said {
			t.Errorf("no throttling warning: %q", snap.Warnings)
		}
		if e.src.c.limiters[actionListSessions].lim.Limit() >= 1000 {
			t.Error("the client did not slow down after 429s")
		}
	})
	t.Run("gives up with a ThrottledError", func(t *testing.T) {
		e := newEnv(t, &fakeBackend{}, func(o *huaweiapi.Options, c *Config) { o.Rate, o.Burst = 0.001, 1 })
		// The first snapshot uses each action's burst of one; then every call is throttled.
		mustSnapshot(t, e.src, source.Query{})
		before := e.emu.Calls("ListSessions")
		_, err := e.src.Snapshot(context.Background(), source.Query{})
		var th *ThrottledError
		if !errors.As(err, &th) {
			t.Fatalf("err = %v, want a *ThrottledError", err)
		}
		// Retries are bounded: the first attempt and e.src.c.retries more, then it gives up.
		if th.Attempts != e.src.c.retries+1 || th.API.HTTPStatus != 429 || th.API.Code != "APIGW.0308" {
			t.Errorf("throttled error = %+v", th)
		}
		if calls := e.emu.Calls("ListSessions") - before; calls != int64(e.src.c.retries+1) {
			t.Errorf("ListSessions called %d times, want %d", calls, e.src.c.retries+1)
		}
		if !strings.Contains(err.Error(), "throttled") || !strings.Contains(err.Error(), "--interval") {
			t.Errorf("message %q", err)
		}
		var se *source.Error
		if !errors.As(err, &se) || se.Kind != source.ErrRateLimited || !strings.Contains(se.Hint, "--interval") {
			t.Errorf("as a source.Error: %+v", se)
		}
	})
	t.Run("never waits past the caller's deadline", func(t *testing.T) {
		e := newEnv(t, &fakeBackend{}, func(o *huaweiapi.Options, c *Config) { o.Rate, o.Burst = 0.001, 1 })
		mustSnapshot(t, e.src, source.Query{})
		e.src.c.backoff, e.src.c.maxBackoff = time.Minute, time.Minute
		// The backoff (1 min) is longer than the deadline (30 s): the client must give up at
		// once rather than sleep until the deadline passes.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := e.src.Snapshot(ctx, source.Query{})
		var th *ThrottledError
		if !errors.As(err, &th) || th.Attempts != 1 {
			t.Errorf("err = %v, want a *ThrottledError after one attempt", err)
		}
		if ctx.Err() != nil {
			t.Errorf("returned only when the deadline had passed: %v", err)
		}
	})
	t.Run("Retry-After is honoured and capped", func(t *testing.T) {
		c := &client{backoff: time.Second, maxBackoff: 4 * time.Second}
		h := http.Header{}
		h.Set("Retry-After", "2")
		if d := c.backoffFor(1, h); d != 2*time.Second {
			t.Errorf("Retry-After 2 → %v", d)
		}
		h.Set("Retry-After", "3600")
		if d := c.backoffFor(1, h); d != 4*time.Second {
			t.Errorf("Retry-After 3600 → %v, want the 4s cap", d)
		}
		for attempt := 1; attempt <= 5; attempt++ {
			d := c.backoffFor(attempt, http.Header{})
			base := min(time.Second<<(attempt-1), 4*time.Second)
			if d < base*8/10 || d > base*12/10 {
				t.Errorf("attempt %d: %v not within ±20%% of %v", attempt, d, base)
			}
		}
	})
}

func TestTimeoutsAndCancellation(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	arrived := make(chan struct{}, 10)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hs.Close()
	src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL,
		Credentials: Credentials{Token: "tok"}, Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The caller's deadline is far longer than the request timeout: "no answer" (rather than
	// "timed out") says that the request timeout ended the call.
	guard, cancelGuard := context.WithTimeout(context.Background(), time.Minute)
	defer cancelGuard()
	_, err = src.Snapshot(guard, source.Query{})
	if err == nil || !strings.Contains(err.Error(), "no answer") || !strings.Contains(err.Error(), "--timeout") || source.KindOf(err) != source.ErrTimeout {
		t.Errorf("err = %v", err)
	}
	if guard.Err() != nil {
		t.Errorf("the request timeout of 150ms did not end the call: %v", err)
	}

	// Cancelled while the request is in flight; the request timeout (1 min) would not end it.
	<-arrived
	src, err = New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL,
		Credentials: Credentials{Token: "tok"}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	_, err = src.Snapshot(ctx, source.Query{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}

	// Nothing listening: fails at once with advice.
	ln := httptest.NewServer(http.NotFoundHandler())
	url := ln.URL
	ln.Close()
	src, _ = New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: url, Credentials: Credentials{Token: "tok"}})
	_, err = src.Snapshot(context.Background(), source.Query{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach") || source.KindOf(err) != source.ErrUnreachable {
		t.Errorf("unreachable: %v", err)
	}
}

func TestOddAnswersFromTheAPI(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-ListSessions.json")
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"instances": `{"instances":[{"id":"i1","name":"prod","mode":"ReplicaSet","port":8635,"datastore":{"version":4.0},
			"groups":[{"type":"replica","nodes":[{"id":"n1","role":"Primary","private_ip":"192.168.1.2"},{"id":"n2","role":"Hidden"},{"id":7},"junk"]}]}],"total_count":"1"}`,
		"conn-statistics": `{"total_connections":"12","inner_connections":null,"outer_connections":[{"client_ip":"172.16.41.233","count":"12"}]}`,
	}
	var sessionsCalls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/sessions"):
			sessionsCalls.Add(1)
			// The seed's session, plus elements that are not sessions.
			var resp map[string]any
			_ = json.Unmarshal(seed, &resp)
			resp["sessions"] = append(resp["sessions"].([]any), "junk", 42, map[string]any{"active": true})
			resp["total_count"] = 4
			_ = json.NewEncoder(w).Encode(resp)
		case strings.HasSuffix(r.URL.Path, "/instances"):
			fmt.Fprint(w, pages["instances"])
		case strings.HasSuffix(r.URL.Path, "/conn-statistics"):
			fmt.Fprint(w, pages["conn-statistics"])
		default:
			w.WriteHeader(404)
		}
	}))
	defer hs.Close()
	src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL, Credentials: Credentials{Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	snap := mustSnapshot(t, src, source.Query{})
	if len(snap.Sessions) != 1 || snap.Sessions[0].ID != "shard_1:7201646" || !snap.Partial {
		t.Fatalf("sessions %+v partial %v warnings %q", snap.Sessions, snap.Partial, snap.Warnings)
	}
	if sessionsCalls.Load() != 1 {
		t.Errorf("ListSessions called %d times for one page", sessionsCalls.Load())
	}
	if snap.Server.Version != "4.0" || snap.Server.Host != "192.168.1.2:8635" || snap.Server.Connections.Current != 12 {
		t.Errorf("server = %+v", snap.Server)
	}
	if len(snap.Clients) != 1 || snap.Clients[0].Active != 1 || snap.Clients[0].Drivers[0] != "PyMongo 3.6.1" {
		t.Errorf("clients = %+v", snap.Clients)
	}
	insts, err := src.List(context.Background())
	if err != nil || len(insts) != 1 || len(insts[0].Nodes) != 3 {
		t.Fatalf("List = %+v, %v", insts, err)
	}
}

func TestMultiNodeCluster(t *testing.T) {
	mongosA := &fakeBackend{version: "4.0.3"}
	mongosB := &fakeBackend{version: "4.0.3"}
	shared := source.Session{ID: "shard_1:7201646", Active: true, Op: "getmore", NS: "admin.$cmd.aggregate", RunningUS: 25,
		Client: "172.16.41.233:50700", Host: "host-172-16-27-182:8635", Desc: "conn20", Command: []byte(`{"getMore":1}`)}
	mongosA.sessions = []source.Session{shared, activeOp(11, "10.0.0.1:1")}
	mongosB.sessions = []source.Session{shared, activeOp(11, "10.0.0.2:2"), activeOp(12, "10.0.0.2:3")}
	mongosB.sessions[1].Host = "mongos-b:8635"
	var e *env
	e = newEnv(t, mongosA, func(o *huaweiapi.Options, c *Config) {
		o.Mode = "Sharding"
		o.Nodes = []huaweiapi.Node{
			{ID: "mongosA000000no02", Name: "mongos-a", Role: "master", Group: "mongos", PrivateIP: "192.168.0.1", Backend: fromsource.Deployment(mongosA)},
			{ID: "mongosB000000no02", Name: "mongos-b", Role: "master", Group: "mongos", PrivateIP: "192.168.0.2", Backend: fromsource.Deployment(mongosB)},
			{ID: "shard1p000000no02", Name: "shard-1", Role: "Primary", Group: "shard", PrivateIP: "192.168.0.3"},
			{ID: "config0000000no02", Name: "config", Role: "Primary", Group: "config", PrivateIP: "192.168.0.4"},
		}
	})
	snap := mustSnapshot(t, e.src, source.Query{})
	if got := ids(snap.Sessions); got != "11,11@mongosB000000no02,12,shard_1:7201646" {
		t.Fatalf("merged sessions = %s", got)
	}
	if snap.TotalSessions != 0 || snap.Partial {
		t.Errorf("complete merge reported TotalSessions %d Partial %v", snap.TotalSessions, snap.Partial)
	}
	for _, s := range snap.Sessions {
		if s.ID == "shard_1:7201646" && (s.Shard != "shard_1" || s.Host != "host-172-16-27-182:8635") {
			t.Errorf("shard op = %+v", s)
		}
	}

	// Kill the colliding one: it must reach mongos B only.
	var target source.Session
	for _, s := range snap.Sessions {
		if s.ID == "11@mongosB000000no02" {
			target = s
		}
	}
	res := e.src.Kill(context.Background(), []source.Session{target})
	if res[0].Outcome != source.KillGone || res[0].ID != target.ID {
		t.Fatalf("kill = %+v", res[0])
	}
	if len(mongosA.killed) != 0 || len(mongosB.killed) != 1 || mongosB.killed[0] != "11" {
		t.Errorf("killed on A %v, on B %v", mongosA.killed, mongosB.killed)
	}

	insts, err := e.src.List(context.Background())
	if err != nil || len(insts) != 1 {
		t.Fatalf("List: %v %v", insts, err)
	}
	in := insts[0]
	if in.Type != "sharded cluster" || in.Version != "4.0" || len(in.Nodes) != 4 {
		t.Errorf("instance = %+v", in)
	}
	serving := 0
	for _, n := range in.Nodes {
		if strings.Contains(n, "(serves sessions)") {
			serving++
			if !strings.Contains(n, "mongos") {
				t.Errorf("non-mongos node marked serving: %s", n)
			}
		}
	}
	if serving != 2 {
		t.Errorf("%d nodes marked as serving sessions, want the 2 mongos: %q", serving, in.Nodes)
	}
}

func TestKill(t *testing.T) {
	setup := func(t *testing.T) (*env, *source.Snapshot) {
		fake := &fakeBackend{}
		fake.sessions = []source.Session{activeOp(1, "10.0.0.1:1"), activeOp(2, "10.0.0.1:2"), activeOp(3, "10.0.0.1:3"), idleConn(4, "10.0.0.1:4")}
		e := newEnv(t, fake)
		return e, mustSnapshot(t, e.src, source.Query{IdleConnections: true})
	}
	find := func(snap *source.Snapshot, id string) source.Session {
		for _, s := range snap.Sessions {
			if s.ID == id {
				return s
			}
		}
		t.Fatalf("no session %s", id)
		return source.Session{}
	}

	t.Run("active sessions are killed, idle ones are not killable", func(t *testing.T) {
		e, snap := setup(t)
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "1"), find(snap, "4"), find(snap, "2")})
		if res[0].Outcome != source.KillGone || res[2].Outcome != source.KillGone {
			t.Errorf("results %+v", res)
		}
		if res[1].Outcome != source.KillNotKillable || !errors.Is(res[1].Err, ErrIdleNotKillable) || !strings.Contains(res[1].Err.Error(), "idle") {
			t.Errorf("idle: %+v", res[1])
		}
		if strings.Join(e.fake.killed, ",") != "1,2" {
			t.Errorf("backend killed %v", e.fake.killed)
		}
		after := mustSnapshot(t, e.src, source.Query{IdleConnections: true})
		if got := ids(after.Sessions); got != "3,4" {
			t.Errorf("after the kill: %s", got)
		}
	})
	t.Run("refused when the ID now belongs to another operation", func(t *testing.T) {
		e, snap := setup(t)
		e.fake.set(func(f *fakeBackend) {
			f.sessions[0] = activeOp(1, "10.9.9.9:9") // same opid, another connection
			f.sessions[0].Desc = "conn999"
		})
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "1")})
		if res[0].Outcome != source.KillRefused || !strings.Contains(res[0].Err.Error(), "another operation") {
			t.Errorf("result %+v", res[0])
		}
		if len(e.fake.killed) != 0 {
			t.Errorf("killed %v", e.fake.killed)
		}
	})
	t.Run("refused when the ID now runs another type of operation", func(t *testing.T) {
		e, snap := setup(t)
		e.fake.set(func(f *fakeBackend) { f.sessions[0].Op = "update" })
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "1")})
		if res[0].Outcome != source.KillRefused || !strings.Contains(res[0].Err.Error(), "op update, was query") {
			t.Errorf("result %+v", res[0])
		}
	})
	t.Run("many at once", func(t *testing.T) {
		fake := &fakeBackend{}
		for i := range 45 {
			fake.sessions = append(fake.sessions, activeOp(100+i, "10.0.0.1:1"))
		}
		e := newEnv(t, fake)
		snap := mustSnapshot(t, e.src, source.Query{})
		targets := snap.Sessions[10:16]
		gone := targets[5]
		e.fake.set(func(f *fakeBackend) {
			f.sessions = slices.DeleteFunc(f.sessions, func(s source.Session) bool { return s.ID == gone.ID })
		})
		res := e.src.Kill(context.Background(), targets)
		for i, r := range res {
			want := source.KillGone
			if i == 5 {
				want = source.KillAlreadyGone
			}
			if r.Outcome != want || r.ID != targets[i].ID {
				t.Errorf("result %d = %+v, want %s", i, r, want)
			}
		}
		if len(e.fake.killed) != 5 {
			t.Errorf("killed %v", e.fake.killed)
		}
	})
	t.Run("refused when the operation restarted", func(t *testing.T) {
		e, snap := setup(t)
		target := find(snap, "3")
		target.RunningUS = int64(10 * time.Minute / time.Microsecond) // the user saw it running 10 min
		res := e.src.Kill(context.Background(), []source.Session{target})
		if res[0].Outcome != source.KillRefused {
			t.Errorf("result %+v", res[0])
		}
	})
	t.Run("already gone", func(t *testing.T) {
		e, snap := setup(t)
		e.fake.set(func(f *fakeBackend) { f.sessions = f.sessions[1:] })
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "1")})
		if res[0].Outcome != source.KillAlreadyGone || len(e.fake.killed) != 0 {
			t.Errorf("result %+v, killed %v", res[0], e.fake.killed)
		}
	})
	t.Run("became idle since", func(t *testing.T) {
		e, snap := setup(t)
		e.fake.set(func(f *fakeBackend) { f.sessions[1] = idleConn(2, "10.0.0.1:2") })
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "2")})
		if res[0].Outcome != source.KillAlreadyGone || len(e.fake.killed) != 0 {
			t.Errorf("result %+v", res[0])
		}
	})
	t.Run("the API refuses", func(t *testing.T) {
		e, snap := setup(t)
		e.fake.set(func(f *fakeBackend) { f.refuse = true })
		res := e.src.Kill(context.Background(), []source.Session{find(snap, "1")})
		var api *APIError
		if res[0].Outcome != source.KillNotKillable || !errors.As(res[0].Err, &api) || api.Code != "DBS.200004" {
			t.Errorf("result %+v", res[0])
		}
	})
	t.Run("kill before any snapshot", func(t *testing.T) {
		e, snap := setup(t)
		fresh, err := New(e.src.cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := fresh.Kill(context.Background(), []source.Session{find(snap, "3")})
		if res[0].Outcome != source.KillGone {
			t.Errorf("result %+v", res[0])
		}
	})
}

func TestNodeGivenListingIsBestEffort(t *testing.T) {
	fake := &fakeBackend{sessions: []source.Session{activeOp(1, "10.0.0.1:1")}}
	e := newEnv(t, fake, func(o *huaweiapi.Options, c *Config) {
		c.NodeID = huaweiapi.DemoNode
		o.InstanceID = huaweiapi.DemoInstance
		c.InstanceID = o.InstanceID
	})
	snap := mustSnapshot(t, e.src, source.Query{})
	if len(snap.Sessions) != 1 || !strings.HasSuffix(snap.Target, "/"+huaweiapi.DemoNode) || snap.Server.Host != "192.168.0.11:8635" {
		t.Errorf("sessions %d target %q host %q", len(snap.Sessions), snap.Target, snap.Server.Host)
	}
	for _, q := range e.recorded() {
		if strings.Contains(q, "node_id=") && !strings.Contains(q, "node_id="+huaweiapi.DemoNode) {
			t.Errorf("conn-statistics not scoped to the node: %s", q)
		}
	}
}

// TestPushdownKeepsResultsCorrect compares, for filters the UI can produce, the sessions a
// snapshot with push-down returns after local filtering with those of a snapshot without any
// filter filtered locally: pushing down must never lose a session.
func TestPushdownKeepsResultsCorrect(t *testing.T) {
	fake := &fakeBackend{}
	ops := []string{"query", "getmore", "update", "command", "insert"}
	plans := []string{"COLLSCAN", "IXSCAN { a: 1 }", "", "IXSCAN"}
	nss := []string{"shop.orders", "shop.Orders", "shop.orders_archive", "admin.$cmd"}
	for i := range 120 {
		s := activeOp(1000+i, fmt.Sprintf("10.0.%d.1:%d", i%3, i))
		s.Op, s.PlanSummary, s.NS = ops[i%len(ops)], plans[i%len(plans)], nss[i%len(nss)]
		s.RunningUS = int64(i) * 25_000 // 0 … 2.975 s
		fake.sessions = append(fake.sessions, s)
	}
	e := newEnv(t, fake)
	for _, text := range []string{
		"op:query", "op=getmore", "op:get", "plan=collscan", "plan:ixscan", "ns=shop.orders",
		`ns:/(?-i)^shop\.orders$/`, "running>1s", "running>=1.5s", "running>2.975s", "op:e running>0.5s",
		"-op:query running<1s", "op:query plan=ixscan ns:orders",
	} {
		f, err := source.ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		pushed := mustSnapshot(t, e.src, source.Query{Filter: f})
		source.Apply(pushed, source.Query{Filter: f})
		local := mustSnapshot(t, e.src, source.Query{})
		source.Apply(local, source.Query{Filter: f})
		if got, want := ids(pushed.Sessions), ids(local.Sessions); got != want {
			t.Errorf("%s: with push-down %s\nwithout %s", text, got, want)
		}
	}
}

func TestSlowAPIShortensTheRefresh(t *testing.T) {
	// Each page takes 20 s on the client's clock; requests time out after 1 min, so one
	// refresh may page for 3 min.
	clock := newFakeClock()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/sessions"):
			clock.Advance(20 * time.Second)
			off := int(parseInt(r.URL.Query().Get("offset")))
			var ss []string
			for i := off; i < off+20 && i < 400; i++ {
				ss = append(ss, fmt.Sprintf(`{"id":"%d","active":true,"cost_time":"5","client":"10.0.0.1:1","description":"conn%d"}`, i, i))
			}
			fmt.Fprintf(w, `{"total_count":400,"sessions":[%s]}`, strings.Join(ss, ","))
		case strings.HasSuffix(r.URL.Path, "/instances"):
			fmt.Fprint(w, `{"instances":[{"id":"i1","mode":"Single","groups":[{"type":"single","nodes":[{"id":"n1"}]}]}],"total_count":1}`)
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	defer hs.Close()
	src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL,
		Credentials: Credentials{Token: "tok"}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	src.c.now = clock.Now
	start := clock.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // longer than the budget
	defer cancel()
	snap, err := src.Snapshot(ctx, source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	took := clock.Now().Sub(start)
	// 400 sessions are 20 pages, 400 s: paging stops within the budget with what it read.
	if !snap.Partial || snap.TotalSessions != 400 || len(snap.Sessions) <= PageLimit || len(snap.Sessions) >= 400 {
		t.Errorf("partial %v total %d read %d", snap.Partial, snap.TotalSessions, len(snap.Sessions))
	}
	if took > src.budget() {
		t.Errorf("refresh took %v, budget %v", took, src.budget())
	}
}

// Several busy nodes share the refresh: each is read, within the caller's deadline, rather
// than the first one taking all the time and the others failing.
func TestBusyNodesShareTheDeadline(t *testing.T) {
	var pages sync.Map // node → pages read
	// Each page takes 3 s on the client's clock; the caller gives the refresh 60 s (less than
	// the budget of 3 × 30 s) and the API has 150 pages per node.
	clock := newFakeClock()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/sessions"):
			node := strings.Split(r.URL.Path, "/")[4]
			n, _ := pages.LoadOrStore(node, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			clock.Advance(3 * time.Second)
			off := int(parseInt(r.URL.Query().Get("offset")))
			var ss []string
			for i := off; i < off+20 && i < 3000; i++ {
				ss = append(ss, fmt.Sprintf(`{"id":"%s-%d","active":true,"cost_time":"5","client":"10.0.0.1:1","description":"conn%d"}`, node, i, i))
			}
			fmt.Fprintf(w, `{"total_count":3000,"sessions":[%s]}`, strings.Join(ss, ","))
		case strings.HasSuffix(r.URL.Path, "/instances"):
			fmt.Fprint(w, `{"instances":[{"id":"i1","mode":"Sharding","groups":[{"type":"mongos","nodes":[`+
				`{"id":"m1","role":"master","status":"normal"},{"id":"m2","role":"master","status":"normal"},{"id":"m3","role":"master","status":"normal"}]}]}],"total_count":1}`)
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	defer hs.Close()
	src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Endpoint: hs.URL,
		Credentials: Credentials{Token: "tok"}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for k := range src.c.limiters {
		src.c.limiters[k] = newAdaptiveLimiter(1000, 1000)
	}
	src.c.now = clock.Now
	start := clock.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	snap, err := src.Snapshot(ctx, source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	// Had the first node used the whole deadline, the others would have had one page at most
	// (the first page of a node is always read) and the refresh would overrun the deadline.
	for _, node := range []string{"m1", "m2", "m3"} {
		var read int32
		if n, ok := pages.Load(node); ok {
			read = n.(*atomic.Int32).Load()
		}
		if read < 2 {
			t.Errorf("node %s: %d pages read, want a share of the deadline", node, read)
		}
	}
	if took := clock.Now().Sub(start); took > time.Minute {
		t.Errorf("the refresh took %v of the caller's 1m0s", took)
	}
	if strings.Contains(strings.Join(snap.Warnings, " "), "unavailable") {
		t.Errorf("a node failed: %v", snap.Warnings)
	}
}

func TestPagingWithoutTotalCount(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/sessions") {
			fmt.Fprint(w, `{}`)
			return
		}
		calls.Add(1)
		off := int(parseInt(r.URL.Query().Get("offset")))
		var ss []string
		for i := off; i < off+20 && i < 45; i++ {
			ss = append(ss, fmt.Sprintf(`{"id":"%d","active":true,"client":"10.0.0.1:1","description":"conn%d"}`, i, i))
		}
		fmt.Fprintf(w, `{"sessions":[%s]}`, strings.Join(ss, ","))
	}))
	defer hs.Close()
	src, err := New(Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", NodeID: "n1", Endpoint: hs.URL, Credentials: Credentials{Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	snap := mustSnapshot(t, src, source.Query{})
	if len(snap.Sessions) != 45 || calls.Load() != 3 {
		t.Errorf("%d sessions in %d calls, want 45 in 3", len(snap.Sessions), calls.Load())
	}
}
