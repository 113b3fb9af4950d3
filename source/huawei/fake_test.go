package huawei

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/source"
)

// fakeBackend is a deployment for the emulator: a fixed list of sessions and clients; Kill
// removes sessions (the way a killed operation disappears from $currentOp).
type fakeBackend struct {
	mu       sync.Mutex
	sessions []source.Session
	clients  []source.Client
	version  string
	killed   []string
	refuse   bool // Kill answers KillNotPermitted
}

func (f *fakeBackend) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &source.Snapshot{Source: "fake", Server: source.Server{Version: f.version, Kind: "mongod"},
		Sessions: slices.Clone(f.sessions), Clients: slices.Clone(f.clients), TakenAt: time.Now()}, nil
}

func (f *fakeBackend) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []source.KillResult
	for _, t := range targets {
		if f.refuse {
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillNotPermitted, Err: fmt.Errorf("not authorized")})
			continue
		}
		f.killed = append(f.killed, t.ID)
		f.sessions = slices.DeleteFunc(f.sessions, func(s source.Session) bool { return s.ID == t.ID })
		out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillGone})
	}
	return out
}

func (f *fakeBackend) set(fn func(*fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// activeOp is a typical in-flight operation of the backend (the direct source's shape).
func activeOp(id int, client string) source.Session {
	return source.Session{
		ID: fmt.Sprint(id), Type: source.TypeOp, Active: true, Op: "query", NS: "shop.orders",
		RunningUS: int64(id) * 1000, PlanSummary: "COLLSCAN", Client: client, Host: "rs0-a:27017",
		Desc: fmt.Sprintf("conn%d", id), User: "app@admin",
		Command: []byte(fmt.Sprintf(`{"find":"orders","filter":{"n":{"$gt":%d}},"$db":"shop","$client":{"application":{"name":"orders-api"},"driver":{"name":"mongo-go-driver","version":"2.9.3"}}}`, id)),
	}
}

func idleConn(id int, client string) source.Session {
	return source.Session{ID: fmt.Sprint(id), Type: source.TypeIdle, Op: "none", Client: client,
		Host: "rs0-a:27017", Desc: fmt.Sprintf("conn%d", id)}
}

// fakeClock is a clock that moves only when told to, so that paging budgets and rate limits
// do not depend on how fast the machine runs the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock starts at the real time, so that request signatures stay within the API's skew.
func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Source talking to an emulator over loopback HTTP.
type env struct {
	fake  *fakeBackend
	emu   *huaweiapi.Emulator
	src   *Source
	url   string
	clock *fakeClock // the Source's clock: stands still unless a test moves it

	mu        sync.Mutex
	queries   []string // path?query of each request the emulator received
	onRequest func()   // called as each request arrives, before the emulator sees it
}

// everyRequest calls f as each following request arrives at the emulator.
func (e *env) everyRequest(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onRequest = f
}

func (e *env) recorded() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.queries)
}

type envOpt func(*huaweiapi.Options, *Config)

func newEnv(t *testing.T, fake *fakeBackend, opts ...envOpt) *env {
	t.Helper()
	if fake == nil {
		fake = &fakeBackend{version: "8.0.4"}
	}
	// No gateway rate limit unless a test asks for one: a throttled retry would change the
	// number of calls the tests count.
	eo := huaweiapi.Options{AK: "TESTAK0123456789ABCD", SK: "test-secret-key-value-0123456789", Token: "test-iam-token-value-0123456789",
		ProjectID: "0123456789abcdef0123456789abcdef", InstanceID: "abcdef0123456789abcdef0123456789in02", Rate: -1}
	cfg := Config{Region: "cn-north-4", ProjectID: eo.ProjectID, InstanceID: eo.InstanceID,
		Credentials: Credentials{AK: eo.AK, SK: eo.SK}, Timeout: 30 * time.Second} // a guard: loopback answers at once
	for _, o := range opts {
		o(&eo, &cfg)
	}
	e := &env{fake: fake}
	e.emu = huaweiapi.New(fromsource.Deployment(fake), eo)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.queries = append(e.queries, r.URL.Path+"?"+r.URL.RawQuery)
		hook := e.onRequest
		e.mu.Unlock()
		if hook != nil {
			hook()
		}
		for k, v := range r.URL.Query() {
			if len(v) == 0 || v[0] == "" {
				t.Errorf("request %s sent the empty parameter %q", r.URL.Path, k)
			}
		}
		e.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	if cfg.Endpoint == "" {
		cfg.Endpoint = hs.URL
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	// Tests must not wait on production rate limits and backoffs.
	for k := range src.c.limiters {
		src.c.limiters[k] = newAdaptiveLimiter(1000, 1000)
	}
	src.c.backoff, src.c.maxBackoff = 5*time.Millisecond, 20*time.Millisecond
	// The paging budget follows a clock that stands still: a slow machine reads every page.
	e.clock = newFakeClock()
	src.c.now = e.clock.Now
	e.src = src
	return e
}

func mustSnapshot(t *testing.T, s source.Source, q source.Query) *source.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // only a guard against a hang
	defer cancel()
	snap, err := s.Snapshot(ctx, q)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap
}

func ids(sessions []source.Session) string {
	var out []string
	for _, s := range sessions {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
