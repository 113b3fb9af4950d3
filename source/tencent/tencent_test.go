package tencent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

func TestSnapshotThroughEmulator(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	snap, err := e.src.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Source != "tencent" || snap.Target != "tencent:ap-guangzhou/cmgo-demo0001" {
		t.Errorf("source/target = %q %q", snap.Source, snap.Target)
	}
	if snap.Server.Kind != "cloud" || snap.Server.Version != "8.0" || snap.Server.Host != "10.0.0.10:27017" {
		t.Errorf("server = %+v", snap.Server)
	}
	if snap.Server.Connections.Current != 45 {
		t.Errorf("connections = %d, want 45 (sum of counts)", snap.Server.Connections.Current)
	}
	// Clients: sorted by count, internal flag kept.
	if len(snap.Clients) != 3 || snap.Clients[0].IP != "10.1.0.5" || snap.Clients[0].Count != 40 {
		t.Fatalf("clients = %+v", snap.Clients)
	}
	if c := snap.Clients[2]; c.IP != "127.0.0.1" || !c.Internal || snap.Clients[0].Internal {
		t.Errorf("internal flags wrong: %+v", snap.Clients)
	}
	// Sessions: longest first, idle hidden without IdleConnections.
	if len(snap.Sessions) != 3 {
		t.Fatalf("got %d sessions, want 3 (idle hidden): %+v", len(snap.Sessions), snap.Sessions)
	}
	s := snap.Sessions[0]
	if s.ID != "cmgo-demo0001_0/10.0.0.21:27017/101" || s.Op != "query" || s.NS != "shop.orders" ||
		s.RunningUS != 5e6 || s.Shard != "cmgo-demo0001_0" || s.Host != "10.0.0.21:27017" || s.Desc != "primary" || !s.Active {
		t.Errorf("first session = %+v", s)
	}
	if string(s.Command) != `{"find":"orders","filter":{"status":"A"}}` {
		t.Errorf("command = %s", s.Command)
	}
	var raw map[string]any
	if err := json.Unmarshal(s.Raw, &raw); err != nil || raw["OpId"] == nil || raw["Query"] == nil {
		t.Errorf("raw = %s (%v)", s.Raw, err)
	}

	snap, err = e.src.Snapshot(context.Background(), source.Query{IdleConnections: true})
	if err != nil {
		t.Fatal(err)
	}
	idle := findSession(snap, "/103")
	if idle == nil || idle.Type != source.TypeIdle || idle.Active || idle.Op != "none" {
		t.Errorf("idle session = %+v", idle)
	}
}

func TestOpIDsKeep64Bits(t *testing.T) {
	b := demoBackend()
	e := newEnv(t, b, tencentapi.Options{})
	snap, err := e.src.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	// 2^53+1 is the first integer a float64 cannot hold.
	s := findSession(snap, "/9007199254740993")
	if s == nil {
		t.Fatalf("no session with OpId 9007199254740993 in %v", ids(snap))
	}
	if !strings.Contains(string(s.Raw), `"OpId":9007199254740993`) {
		t.Errorf("raw lost the OpId: %s", s.Raw)
	}
	// Kill sends it back exactly: the emulator only finds the backend op by the exact value.
	res := e.src.Kill(context.Background(), []source.Session{*s})
	if res[0].Outcome != source.KillGone || res[0].Err != nil {
		t.Fatalf("kill = %+v", res)
	}
	if got := b.killedIDs(); len(got) != 1 || got[0] != "9007199254740993" {
		t.Errorf("backend killed %v", got)
	}
}

func ids(snap *source.Snapshot) []string {
	var out []string
	for _, s := range snap.Sessions {
		out = append(out, s.ID)
	}
	return out
}

// The seed document's example response (testdata) decodes into its clients.
func TestSeedExampleResponseDecodes(t *testing.T) {
	body, err := os.ReadFile("testdata/describe-client-connections.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-TC-Action") != actionClients {
			t.Errorf("unexpected action %q", r.Header.Get("X-TC-Action"))
		}
		w.Write(body)
	}))
	defer srv.Close()
	src := newSource(t, srv.URL, Credentials{SecretID: "AKIDseed", SecretKey: "seed-key"})
	clients, err := src.clients(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Two rows for the same (redacted) IP "xx", one connection each, both internal.
	want := []source.Client{{IP: "xx", Count: 2, Internal: true, Apps: []string{}, Users: []string{}, Drivers: []string{}}}
	if fmt.Sprint(clients) != fmt.Sprint(want) {
		t.Errorf("clients = %+v, want %+v", clients, want)
	}
}

func TestClientsPaginationUnderRateLimit(t *testing.T) {
	b := demoBackend()
	b.clients = nil
	for i := range 4200 {
		b.clients = append(b.clients, source.Client{IP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), Count: 1 + i%3, Internal: i%10 == 0})
	}
	e := newEnv(t, b, tencentapi.Options{}) // published limits: 5/s for DescribeClientConnections
	start := time.Now()
	clients, err := e.src.clients(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != 4200 {
		t.Fatalf("got %d clients, want 4200", len(clients))
	}
	sum, internal := 0, 0
	for _, c := range clients {
		sum += c.Count
		if c.Internal {
			internal++
		}
	}
	if sum != 4200/3*6 || internal != 420 {
		t.Errorf("sum=%d internal=%d", sum, internal)
	}
	if n := e.emu.Requests(tencentapi.ActionDescribeClientConnections); n != 5 {
		t.Errorf("%d requests, want 5 pages of 1000", n)
	}
	if n := e.emu.Throttled(tencentapi.ActionDescribeClientConnections); n != 0 {
		t.Errorf("the emulator throttled %d requests: the client exceeded 5/s", n)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("5 pages took %v: the client-side bucket (4/s) is not pacing", d)
	}
}

// fakeClock is the emulator's clock; the test's backoff advances it, so throttling and
// recovery are deterministic.
type fakeClock struct {
	mu  chan struct{}
	now time.Time
}

func newFakeClock() *fakeClock {
	c := &fakeClock{mu: make(chan struct{}, 1), now: time.Now()}
	return c
}
func (c *fakeClock) Now() time.Time {
	c.mu <- struct{}{}
	defer func() { <-c.mu }()
	return c.now
}
func (c *fakeClock) Advance(d time.Duration) {
	c.mu <- struct{}{}
	c.now = c.now.Add(d)
	<-c.mu
}

func TestRateLimitBackoff(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, demoBackend(), tencentapi.Options{Now: clock.Now,
		RateLimits: map[string]int{tencentapi.ActionDescribeCurrentOp: 1}})
	var backoffs int
	e.src.backoff = func(n int) time.Duration {
		backoffs++
		clock.Advance(time.Second) // the emulator's window slides while we wait
		return time.Millisecond
	}
	ctx := context.Background()
	if _, err := e.src.Snapshot(ctx, source.Query{}); err != nil {
		t.Fatal(err)
	}
	// Same emulator second: the next DescribeCurrentOp is throttled once, then succeeds.
	snap, err := e.src.Snapshot(ctx, source.Query{})
	if err != nil {
		t.Fatalf("snapshot after throttling: %v", err)
	}
	if backoffs != 1 || e.emu.Throttled(tencentapi.ActionDescribeCurrentOp) != 1 {
		t.Errorf("backoffs=%d throttled=%d, want 1 and 1", backoffs, e.emu.Throttled(tencentapi.ActionDescribeCurrentOp))
	}
	if !snap.Partial || !strings.Contains(strings.Join(snap.Warnings, "\n"), "throttled DescribeCurrentOp") {
		t.Errorf("the snapshot does not say it was throttled: %q", snap.Warnings)
	}

	// Throttled beyond the retries: a clear error.
	e.src.backoff = func(int) time.Duration { backoffs++; return time.Millisecond }
	backoffs = 0
	_, err = e.src.Snapshot(ctx, source.Query{})
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrRateLimited) || ae.Code != "RequestLimitExceeded" || ae.Retries != 3 {
		t.Fatalf("err = %v (%#v), want RequestLimitExceeded after 3 retries", err, ae)
	}
	if backoffs != 3 || !strings.Contains(err.Error(), "--interval") {
		t.Errorf("backoffs = %d; message %q", backoffs, err)
	}
}

func TestRateLimitBackoffHonoursDeadline(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	e.emu.InjectError(tencentapi.ActionDescribeCurrentOp, "RequestLimitExceeded", "slow down", -1)
	e.src.backoff = func(int) time.Duration { return time.Minute } // more than the deadline leaves
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := e.src.Snapshot(ctx, source.Query{})
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	if ctx.Err() != nil {
		t.Errorf("gave up only when the deadline had passed (%v), want at once: the backoff is beyond it", err)
	}
}
