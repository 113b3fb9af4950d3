package tencent

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

// fakeBackend is the deployment behind the emulator: a fixed list of clients and sessions.
// Kill removes sessions, like an operation that ends at once.
type fakeBackend struct {
	mu       sync.Mutex
	server   source.Server
	clients  []source.Client
	sessions []source.Session
	killed   []string
	noEnd    bool      // killed operations stay listed
	start    time.Time // when set, operations' running times grow from it, as live ones do
}

func (f *fakeBackend) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sessions := slices.Clone(f.sessions)
	if !f.start.IsZero() {
		grown := int64(time.Since(f.start) / time.Microsecond)
		for i := range sessions {
			if sessions[i].Type == source.TypeOp {
				sessions[i].RunningUS += grown
			}
		}
	}
	return &source.Snapshot{Source: "fake", Server: f.server, TakenAt: time.Now(),
		Clients: slices.Clone(f.clients), Sessions: sessions}, nil
}

func (f *fakeBackend) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []source.KillResult
	for _, t := range targets {
		f.killed = append(f.killed, t.ID)
		if !f.noEnd {
			f.sessions = slices.DeleteFunc(f.sessions, func(s source.Session) bool { return s.ID == t.ID })
		}
		out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillGone})
	}
	return out
}

func (f *fakeBackend) set(fn func(f *fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeBackend) killedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.killed)
}

func op(id, kind, ns string, running time.Duration) source.Session {
	return source.Session{ID: id, Type: source.TypeOp, Active: true, Op: kind, NS: ns,
		RunningUS: int64(running / time.Microsecond), Host: "10.0.0.21:27017",
		Command: json.RawMessage(`{"find":"orders","filter":{"status":"A"}}`)}
}

func demoBackend() *fakeBackend {
	return &fakeBackend{
		server: source.Server{Host: "rs0-a:27017", Version: "8.0.4", Kind: "mongod"},
		clients: []source.Client{
			{IP: "10.1.0.5", Count: 40},
			{IP: "10.1.0.6", Count: 3},
			{IP: "127.0.0.1", Count: 2, Internal: true},
		},
		sessions: []source.Session{
			op("101", "query", "shop.orders", 5*time.Second),
			op("102", "update", "shop.users", 1500*time.Millisecond),
			op("9007199254740993", "command", "shop.orders", 2500*time.Millisecond),
			{ID: "103", Type: source.TypeIdle, Host: "10.0.0.21:27017"},
		},
	}
}

// env is an emulator serving backend and a Source pointed at it.
type env struct {
	emu *tencentapi.Emulator
	src *Source
	url string
}

func newEnv(t *testing.T, backend source.Source, opts tencentapi.Options) *env {
	t.Helper()
	if opts.SecretID == "" {
		opts.SecretID, opts.SecretKey = tencentapi.DemoSecretID, tencentapi.DemoSecretKey
	}
	emu := tencentapi.New(fromsource.Deployment(backend), opts)
	url, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	src := newSource(t, url, Credentials{SecretID: opts.SecretID, SecretKey: opts.SecretKey, Token: opts.Token})
	return &env{emu: emu, src: src, url: url}
}

func newSource(t *testing.T, url string, cred Credentials) *Source {
	t.Helper()
	src, err := New(Config{InstanceID: tencentapi.DemoInstance, Region: tencentapi.DemoRegion, Endpoint: url,
		Credentials: cred, Timeout: 30 * time.Second}) // a guard: loopback answers at once
	if err != nil {
		t.Fatal(err)
	}
	// Tests do not wait for real backoff.
	src.backoff = func(int) time.Duration { return 5 * time.Millisecond }
	src.killWait = time.Second
	t.Cleanup(func() { src.Close() })
	return src
}

func findSession(snap *source.Snapshot, suffix string) *source.Session {
	for i := range snap.Sessions {
		s := &snap.Sessions[i]
		if len(s.ID) >= len(suffix) && s.ID[len(s.ID)-len(suffix):] == suffix {
			return s
		}
	}
	return nil
}
