package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/source"
)

// fake is an in-memory source; bug makes it break one rule on purpose.
type fake struct {
	bug      string
	mu       sync.Mutex
	sessions []source.Session
	killed   map[string]bool
	lostOnce bool // "loses an idle connection once" has lost it
}

func newFake(bug string) *fake {
	f := &fake{bug: bug, killed: map[string]bool{}}
	apps := []string{"orders-api", "billing-worker", "reporting"}
	for i := range 6 {
		f.sessions = append(f.sessions, source.Session{
			ID: fmt.Sprint(100 + i), Type: source.TypeOp, Active: true, Op: "query", NS: "shop.orders",
			RunningUS: int64(i+1) * 900_000, PlanSummary: "COLLSCAN", Client: fmt.Sprintf("10.0.0.%d:5000", i%2+1),
			App: apps[i%3], User: "app@admin", Driver: "mongo-go-driver 2.9.3", Host: "db1:27017",
			Desc: fmt.Sprint("conn", i), ConnectionID: int64(i), Command: []byte(`{"find":"orders"}`),
			CommandName: "find", Summary: fmt.Sprintf("{customerId: %d}", i),
		})
	}
	f.sessions = append(f.sessions,
		source.Session{ID: "conn9", Type: source.TypeIdle, Client: "10.0.0.1:5009", App: "orders-api", ConnectionID: 9},
		source.Session{ID: "7", Type: source.TypeOp, Active: true, Op: "none", Desc: "JournalFlusher", Internal: true},
	)
	return f
}

func (f *fake) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		if f.bug == "leaky error" {
			return nil, fmt.Errorf("fake with password hunter22: %w", err)
		}
		return nil, fmt.Errorf("fake: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	snap := &source.Snapshot{
		Source: "fake", Target: "fake://db1", TakenAt: time.Now(),
		Server:  source.Server{Host: "db1", Kind: "cloud"},
		Clients: []source.Client{{IP: "10.0.0.1", Count: 4, Active: 3}, {IP: "10.0.0.2", Count: 3, Active: 3}},
	}
	for _, s := range f.sessions {
		if !f.killed[s.ID] {
			snap.Sessions = append(snap.Sessions, s)
		}
	}
	switch f.bug {
	case "duplicate IDs":
		snap.Sessions = append(snap.Sessions, snap.Sessions[0])
	case "dirty text":
		snap.Sessions[0].App = "\x1b[31morders"
	case "secret in target":
		snap.Target = "fake://admin:hunter22@db1"
	case "port in client IP":
		snap.Clients[0].IP = "10.0.0.1:5000"
	case "lossy pushdown":
		if !q.Filter.Empty() {
			snap.Sessions = snap.Sessions[1:]
		}
	case "phantom pushdown":
		if !q.Filter.Empty() {
			ghost := snap.Sessions[5]
			ghost.ID, ghost.RunningUS = "999", int64(time.Hour/time.Microsecond)
			snap.Sessions = append(snap.Sessions, ghost)
		}
	case "summary on two lines":
		snap.Sessions[0].Summary = "{a: 1,\n b: 2}"
	case "lean summary differs":
		if q.Lean {
			snap.Sessions[1].Summary = "{}"
		}
	case "idle session active":
		snap.Sessions[6].Active = true
	case "loses an idle connection once": // as a mongos connection in transit to a shard is
		if q.IdleConnections && !q.IdleSessions && !f.lostOnce {
			f.lostOnce = true
			snap.Sessions = slices.DeleteFunc(snap.Sessions, func(s source.Session) bool { return s.ID == "conn9" })
		}
	case "lossy literal pushdown":
		for _, t := range q.Filter.Terms {
			if v, _, ok := t.Literal(); ok && t.Field == "op" && !t.Not {
				snap.Sessions = slices.DeleteFunc(snap.Sessions, func(s source.Session) bool { return s.Op != v })
			}
		}
	}
	toggles := source.Query{IdleConnections: q.IdleConnections, IdleSessions: q.IdleSessions, IdleCursors: q.IdleCursors, System: q.System}
	if f.bug == "own visibility rule" {
		toggles.IdleConnections = q.IdleSessions // idle connections shown by the wrong toggle
	}
	source.Apply(snap, toggles)
	return snap, nil
}

func (f *fake) Kill(_ context.Context, targets []source.Session) []source.KillResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []source.KillResult
	for _, t := range targets {
		i := slices.IndexFunc(f.sessions, func(s source.Session) bool { return s.ID == t.ID && !f.killed[s.ID] })
		switch {
		case i < 0:
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillAlreadyGone})
		case f.bug == "strict identity" && (t.Op != f.sessions[i].Op || t.ConnectionID != f.sessions[i].ConnectionID):
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillRefused, Err: errors.New("opid reused")})
		case f.bug == "kills anything":
		case f.bug == "sees connections only" && f.sessions[i].ConnectionID != t.ConnectionID:
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillRefused, Err: errors.New("opid reused")})
		case f.bug != "sees connections only" && source.SameOperation(t, f.sessions[i]) != "":
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillRefused, Err: errors.New("opid reused")})
		}
		if len(out) == 0 || out[len(out)-1].ID != t.ID {
			f.killed[t.ID] = true
			out = append(out, source.KillResult{ID: t.ID, Outcome: source.KillGone})
		}
	}
	return out
}

const bugEnv = "SOURCETEST_FAKE_BUG"

func TestFakeConforms(t *testing.T) {
	bug := os.Getenv(bugEnv)
	Run(t, Config{
		Open:      func(*testing.T) source.Source { return newFake(bug) },
		Secrets:   []string{"hunter22"},
		MinActive: 5,
		CanKill:   true,
	})
}

// A stable session missed once, as a race between reads would, is not a broken rule.
func TestFakeLosesAnIdleConnectionOnce(t *testing.T) {
	f := newFake("loses an idle connection once")
	Run(t, Config{
		Open:      func(*testing.T) source.Source { return f },
		Secrets:   []string{"hunter22"},
		MinActive: 5,
		CanKill:   true,
	})
	if !f.lostOnce {
		t.Error("the fake never lost its idle connection: this test tests nothing")
	}
}

// The suite must fail a source that breaks a rule: each bug runs the suite in a child
// process and expects a failure that names the problem.
func TestSuiteCatchesBrokenSources(t *testing.T) {
	if os.Getenv(bugEnv) != "" {
		t.Skip("child process")
	}
	tests := []struct{ bug, want string }{
		{"duplicate IDs", "duplicate ID"},
		{"dirty text", "not clean"},
		{"secret in target", "appears in the snapshot"},
		{"leaky error", "appears in error"},
		{"port in client IP", "carries a port"},
		{"lossy pushdown", "the filtered snapshot lost it"},
		{"phantom pushdown", "is not in the unfiltered snapshots around it"},
		{"idle session active", "is marked active"},
		{"summary on two lines", "is not one line"},
		{"lean summary differs", "lean snapshot says"},
		{"kills anything", "want refused"},
		{"sees connections only", "with another client: killed"},
		{"strict identity", "as reported: refused"},
		{"own visibility rule", "is shown by the rule but not returned"},
		{"lossy literal pushdown", "the filtered snapshot lost it"},
	}
	for _, tt := range tests {
		t.Run(tt.bug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFakeConforms$", "-test.count=1")
			cmd.Env = append(os.Environ(), bugEnv+"="+tt.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a source with bug %q", tt.bug)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("failure does not mention %q:\n%s", tt.want, out)
			}
			if strings.Contains(string(out), "hunter22") {
				t.Errorf("the suite itself printed the secret:\n%s", out)
			}
		})
	}
}
