package source

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSameOperation(t *testing.T) {
	saw := Session{ID: "7", ConnectionID: 12, Client: "10.0.0.1:5000", Desc: "conn12", Op: "query", NS: "shop.orders", RunningUS: 5_000_000}
	for _, tc := range []struct {
		name string
		now  func(s *Session)
		why  string // "" = the same operation
	}{
		{"unchanged", func(s *Session) {}, ""},
		{"running longer", func(s *Session) { s.RunningUS += 3_000_000 }, ""},
		{"op in another case", func(s *Session) { s.Op = "QUERY" }, ""},
		{"fields the provider left empty", func(s *Session) { s.ConnectionID, s.Client, s.Desc, s.Op, s.NS = 0, "", "", "", "" }, ""},
		{"running shorter within the slack", func(s *Session) { s.RunningUS -= 999 }, ""},
		{"running shorter beyond the slack", func(s *Session) { s.RunningUS -= 1_001 }, "it restarted"},
		{"restarted", func(s *Session) { s.RunningUS = 20_000 }, "it restarted"},
		{"other connection", func(s *Session) { s.ConnectionID = 13 }, "connection 13, was 12"},
		{"other client", func(s *Session) { s.Client = "10.0.0.2:6000" }, "client 10.0.0.2:6000, was 10.0.0.1:5000"},
		{"other connection description", func(s *Session) { s.Desc = "conn99" }, "connection conn99, was conn12"},
		{"other op", func(s *Session) { s.Op = "update" }, "op update, was query"},
		{"other namespace", func(s *Session) { s.NS = "shop.carts" }, "namespace shop.carts, was shop.orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := saw
			tc.now(&now)
			why := SameOperation(saw, now)
			if (why == "") != (tc.why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("SameOperation = %q, want %q", why, tc.why)
			}
		})
	}
	// What the user saw may lack fields too.
	if why := SameOperation(Session{ID: "7", Op: "query"}, saw); why != "" {
		t.Errorf("a sparse target: %q", why)
	}
}

// fakeSteps is a server whose operations end a number of reads after their kill.
type fakeSteps struct {
	ops        map[string]Session // what holds each ID now
	endAfter   map[string]int     // reads after the kill until the op ends; absent: never
	checkFail  map[string]KillOutcome
	readErr    map[string]error
	watchErr   error // every read after the kill fails with it
	killErr    map[string]error
	killed     []string
	rereads    int
	afterKills int
}

func (f *fakeSteps) Check(t Session) (KillOutcome, error) {
	if o, ok := f.checkFail[t.ID]; ok {
		return o, errors.New("cannot")
	}
	return "", nil
}

func (f *fakeSteps) Reread(ctx context.Context, targets []Session) []Current {
	f.rereads++
	if len(f.killed) > 0 {
		f.afterKills++
	}
	out := make([]Current, len(targets))
	for i, t := range targets {
		if err := f.readErr[t.ID]; err != nil {
			out[i].Err = err
			continue
		}
		if f.watchErr != nil && len(f.killed) > 0 {
			out[i].Err = f.watchErr
			continue
		}
		if n, ok := f.endAfter[t.ID]; ok && len(f.killed) > 0 {
			if n <= 0 {
				delete(f.ops, t.ID)
			}
			f.endAfter[t.ID] = n - 1
		}
		s, ok := f.ops[t.ID]
		out[i] = Current{Session: s, Found: ok}
	}
	return out
}

func (f *fakeSteps) Kill(ctx context.Context, targets []Session) []error {
	errs := make([]error, len(targets))
	for i, t := range targets {
		if err := f.killErr[t.ID]; err != nil {
			errs[i] = err
			continue
		}
		f.killed = append(f.killed, t.ID)
		if s, ok := f.ops[t.ID]; ok {
			s.KillPending = true
			f.ops[t.ID] = s
		}
	}
	return errs
}

// fakeClock moves only when KillSafely waits.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func op(id string, conn int64, ns string, running time.Duration) Session {
	return Session{ID: id, Type: TypeOp, Active: true, Op: "query", NS: ns, ConnectionID: conn, RunningUS: running.Microseconds()}
}

func TestKillSafely(t *testing.T) {
	targets := []Session{
		op("idle", 1, "a.b", 0),
		op("gone", 2, "a.b", time.Second),
		op("reused", 3, "a.b", time.Second),
		op("unreadable", 4, "a.b", time.Second),
		op("forbidden", 5, "a.b", time.Second),
		op("quick", 6, "a.b", time.Second),
		op("slow", 7, "a.b", time.Second),
		op("stuck", 8, "a.b", time.Second),
	}
	f := &fakeSteps{
		ops: map[string]Session{
			"reused":     op("reused", 3, "a.c", 2*time.Second),
			"unreadable": targets[3], "forbidden": targets[4], "quick": targets[5], "slow": targets[6],
			"stuck": targets[7],
		},
		endAfter:  map[string]int{"quick": 0, "slow": 3},
		checkFail: map[string]KillOutcome{"idle": KillNotKillable},
		readErr:   map[string]error{"unreadable": &Error{Kind: ErrPermission, Hint: "grant it", Err: errors.New("no inprog")}},
		killErr:   map[string]error{"forbidden": &Error{Kind: ErrUnsupported, Hint: "not here", Err: errors.New("DeleteSession refused")}},
	}
	clock := &fakeClock{now: time.Unix(0, 0)}
	res := KillSafely(context.Background(), f, targets, KillWatch{Settle: time.Second, Poll: 100 * time.Millisecond, Now: clock.Now, After: clock.After})
	want := map[string]KillOutcome{
		"idle": KillNotKillable, "gone": KillAlreadyGone, "reused": KillRefused, "unreadable": KillNotPermitted,
		"forbidden": KillNotKillable, "quick": KillGone, "slow": KillGone, "stuck": KillPending,
	}
	for i, r := range res {
		if r.ID != targets[i].ID || r.Outcome != want[r.ID] {
			t.Errorf("result %d = %+v, want %s", i, r, want[targets[i].ID])
		}
	}
	if got := strings.Join(f.killed, ","); got != "quick,slow,stuck" {
		t.Errorf("killed %s: only confirmed targets may be killed", got)
	}
	if !strings.Contains(res[2].Err.Error(), "namespace a.c, was a.b") || !strings.Contains(res[2].Err.Error(), "refresh") {
		t.Errorf("refusal says %v", res[2].Err)
	}
	if res[7].Err != nil {
		t.Errorf("pending without a mark check: %v", res[7].Err)
	}
	// Watched for the settle time, one read per poll: ten polls.
	if f.afterKills != 10 || clock.now != time.Unix(1, 0) {
		t.Errorf("%d reads after the kill, clock at %v", f.afterKills, clock.now.Sub(time.Unix(0, 0)))
	}
}

func TestKillSafelyWatch(t *testing.T) {
	target := op("1", 1, "a.b", time.Second)
	run := func(f *fakeSteps, w KillWatch, ctx context.Context) KillResult {
		t.Helper()
		clock := &fakeClock{now: time.Unix(0, 0)}
		w.Now, w.After = clock.Now, clock.After
		res := KillSafely(ctx, f, []Session{target}, w)
		if len(res) != 1 || len(f.killed) != 1 {
			t.Fatalf("results %+v, killed %v", res, f.killed)
		}
		return res[0]
	}
	newSteps := func() *fakeSteps { return &fakeSteps{ops: map[string]Session{"1": target}} }

	t.Run("marked but running is pending", func(t *testing.T) {
		r := run(newSteps(), KillWatch{Settle: time.Second, Poll: 250 * time.Millisecond, Marks: true}, context.Background())
		if r.Outcome != KillPending || r.Err != nil {
			t.Errorf("%+v", r)
		}
	})
	t.Run("unmarked and running is still running", func(t *testing.T) {
		f := newSteps()
		clock := &fakeClock{now: time.Unix(0, 0)}
		r := KillSafely(context.Background(), &unmarking{f}, []Session{target}, KillWatch{Settle: time.Second, Poll: 250 * time.Millisecond, Marks: true,
			Now: clock.Now, After: clock.After})
		if r[0].Outcome != KillStillRunning || r[0].Err == nil || !strings.Contains(r[0].Err.Error(), "still running") {
			t.Errorf("%+v", r[0])
		}
	})
	t.Run("settle 0 reads once", func(t *testing.T) {
		f := newSteps()
		r := run(f, KillWatch{}, context.Background())
		if r.Outcome != KillPending || f.afterKills != 1 {
			t.Errorf("%+v after %d reads", r, f.afterKills)
		}
	})
	t.Run("ended at the only read", func(t *testing.T) {
		f := newSteps()
		f.endAfter = map[string]int{"1": 0}
		if r := run(f, KillWatch{}, context.Background()); r.Outcome != KillGone {
			t.Errorf("%+v", r)
		}
	})
	t.Run("another operation took the ID", func(t *testing.T) {
		f := newSteps()
		r := KillSafely(context.Background(), &replacing{f}, []Session{target}, KillWatch{})
		if r[0].Outcome != KillGone {
			t.Errorf("%+v", r[0])
		}
	})
	t.Run("the outcome cannot be read", func(t *testing.T) {
		f := newSteps()
		f.watchErr = errors.New("throttled")
		r := run(f, KillWatch{Settle: time.Second, Poll: 100 * time.Millisecond}, context.Background())
		if r.Outcome != KillPending || r.Err == nil || !strings.Contains(r.Err.Error(), "throttled") || f.afterKills != 1 {
			t.Errorf("%+v after %d reads", r, f.afterKills)
		}
	})
	t.Run("cancelled while watching", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f := newSteps()
		r := KillSafely(ctx, f, []Session{target}, KillWatch{Settle: time.Second, Poll: time.Hour})
		if r[0].Outcome != KillPending || !errors.Is(r[0].Err, context.Canceled) {
			t.Errorf("%+v", r[0])
		}
	})
	t.Run("the caller's deadline shortens the watch", func(t *testing.T) {
		clock := &fakeClock{now: time.Now()}
		ctx, cancel := context.WithDeadline(context.Background(), clock.now.Add(500*time.Millisecond))
		defer cancel()
		f := newSteps()
		r := KillSafely(ctx, f, []Session{target}, KillWatch{Settle: time.Hour, Poll: 100 * time.Millisecond, Now: clock.Now, After: clock.After})
		if r[0].Outcome != KillPending || f.afterKills != 4 {
			t.Errorf("%+v after %d reads", r[0], f.afterKills)
		}
	})
}

// unmarking is a server that accepts kills but never marks the operation.
type unmarking struct{ *fakeSteps }

func (u *unmarking) Kill(ctx context.Context, targets []Session) []error {
	errs := u.fakeSteps.Kill(ctx, targets)
	for _, t := range targets {
		s := u.ops[t.ID]
		s.KillPending = false
		u.ops[t.ID] = s
	}
	return errs
}

// replacing is a server where another operation takes the ID as soon as the kill lands.
type replacing struct{ *fakeSteps }

func (r *replacing) Kill(ctx context.Context, targets []Session) []error {
	errs := r.fakeSteps.Kill(ctx, targets)
	for _, t := range targets {
		r.ops[t.ID] = op(t.ID, t.ConnectionID, t.NS, time.Millisecond)
	}
	return errs
}
