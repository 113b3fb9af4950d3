package tencent

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

func snapshotOf(t *testing.T, src *Source, q source.Query) *source.Snapshot {
	t.Helper()
	snap, err := src.Snapshot(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestKill(t *testing.T) {
	ctx := context.Background()
	t.Run("killed", func(t *testing.T) {
		b := demoBackend()
		e := newEnv(t, b, tencentapi.Options{})
		s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
		res := e.src.Kill(ctx, []source.Session{*s})
		if len(res) != 1 || res[0].ID != s.ID || res[0].Outcome != source.KillGone || res[0].Err != nil {
			t.Fatalf("results = %+v", res)
		}
		if got := b.killedIDs(); len(got) != 1 || got[0] != "101" {
			t.Errorf("backend killed %v", got)
		}
		if findSession(snapshotOf(t, e.src, source.Query{}), "/101") != nil {
			t.Error("still listed after the kill")
		}
	})
	t.Run("in a pile-up of longer operations", func(t *testing.T) {
		// More longer-running operations than one re-read returns: the target must still be
		// found, not reported gone.
		b := demoBackend()
		for i := range defaultMaxOps + 100 {
			b.sessions = append(b.sessions, op(strconv.Itoa(1000+i), "update", "shop.users", time.Hour+time.Duration(i)*time.Second))
		}
		e := newEnv(t, b, tencentapi.Options{RateLimits: map[string]int{tencentapi.ActionDescribeCurrentOp: -1}})
		target := source.Session{}
		for _, s := range snapshotOf(t, e.src, source.Query{Limit: 50000}).Sessions {
			if strings.HasSuffix(s.ID, "/102") {
				target = s
			}
		}
		if target.ID == "" {
			t.Fatal("no session 102 in the snapshot")
		}
		res := e.src.Kill(ctx, []source.Session{target})
		if res[0].Outcome != source.KillGone || len(b.killedIDs()) != 1 {
			t.Fatalf("results = %+v, killed %v", res, b.killedIDs())
		}
	})
	t.Run("pending", func(t *testing.T) {
		b := demoBackend()
		b.noEnd = true
		e := newEnv(t, b, tencentapi.Options{})
		s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
		e.src.killWait = 600 * time.Millisecond
		res := e.src.Kill(ctx, []source.Session{*s})
		if res[0].Outcome != source.KillPending || len(b.killedIDs()) != 1 {
			t.Fatalf("results = %+v, killed %v", res, b.killedIDs())
		}
	})
	t.Run("already gone", func(t *testing.T) {
		b := demoBackend()
		e := newEnv(t, b, tencentapi.Options{})
		s := findSession(snapshotOf(t, e.src, source.Query{}), "/102")
		b.set(func(f *fakeBackend) { f.sessions = f.sessions[:1] })
		res := e.src.Kill(ctx, []source.Session{*s})
		if res[0].Outcome != source.KillAlreadyGone || len(b.killedIDs()) != 0 {
			t.Fatalf("results = %+v, killed %v", res, b.killedIDs())
		}
	})
	t.Run("id reused", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			replace source.Session
			want    source.KillOutcome
		}{
			// The re-read is narrowed to the namespace and to a running time at most a
			// millisecond (source.RestartSlack) shorter, so these are gone.
			{"other namespace", op("101", "query", "shop.carts", 9*time.Second), source.KillAlreadyGone},
			{"started later", op("101", "query", "shop.orders", 100*time.Millisecond), source.KillAlreadyGone},
			{"shorter beyond the slack", op("101", "query", "shop.orders", 4998*time.Millisecond), source.KillAlreadyGone},
			{"other type", op("101", "insert", "shop.orders", 9*time.Second), source.KillRefused},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := demoBackend()
				e := newEnv(t, b, tencentapi.Options{})
				s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
				b.set(func(f *fakeBackend) { f.sessions[0] = tc.replace })
				res := e.src.Kill(ctx, []source.Session{*s})
				if res[0].Outcome != tc.want {
					t.Fatalf("results = %+v, want %s", res, tc.want)
				}
				if tc.want == source.KillRefused && !strings.Contains(res[0].Err.Error(), "refresh") {
					t.Errorf("refusal does not say what to do: %v", res[0].Err)
				}
				if got := b.killedIDs(); len(got) != 0 {
					t.Errorf("killed %v: a different operation was killed", got)
				}
			})
		}
	})
	t.Run("running time within the slack", func(t *testing.T) {
		// A reading half a millisecond shorter is the same operation (source.RestartSlack).
		b := demoBackend()
		e := newEnv(t, b, tencentapi.Options{})
		s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
		b.set(func(f *fakeBackend) { f.sessions[0].RunningUS -= 500 })
		res := e.src.Kill(ctx, []source.Session{*s})
		if res[0].Outcome != source.KillGone || len(b.killedIDs()) != 1 {
			t.Fatalf("results = %+v, killed %v", res, b.killedIDs())
		}
	})
	t.Run("mixed batch", func(t *testing.T) {
		b := demoBackend()
		e := newEnv(t, b, tencentapi.Options{})
		snap := snapshotOf(t, e.src, source.Query{IdleConnections: true})
		bogus := source.Session{ID: "not-a-tencent-id", Type: source.TypeOp, Op: "query"}
		res := e.src.Kill(ctx, []source.Session{*findSession(snap, "/101"), *findSession(snap, "/103"), bogus, *findSession(snap, "/102")})
		want := []source.KillOutcome{source.KillGone, source.KillNotKillable, source.KillFailed, source.KillGone}
		for i, r := range res {
			if r.Outcome != want[i] {
				t.Errorf("result %d = %+v, want %s", i, r, want[i])
			}
		}
		if n := e.emu.Requests(tencentapi.ActionKillOps); n != 1 {
			t.Errorf("%d KillOps calls, want one batch", n)
		}
	})
	t.Run("api errors", func(t *testing.T) {
		for code, want := range map[string]source.KillOutcome{
			"InvalidParameter.PermissionDenied":           source.KillNotPermitted,
			"AuthFailure.UnauthorizedOperation":           source.KillNotPermitted,
			"FailedOperation":                             source.KillFailed,
			"InvalidParameterValue.NodeNotFoundInReplica": source.KillFailed,
		} {
			b := demoBackend()
			e := newEnv(t, b, tencentapi.Options{})
			s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
			e.emu.InjectError(tencentapi.ActionKillOps, code, "no", -1)
			res := e.src.Kill(ctx, []source.Session{*s})
			var ae *APIError
			if res[0].Outcome != want || !errors.As(res[0].Err, &ae) || ae.Code != code {
				t.Errorf("%s: result %+v, want %s", code, res[0], want)
			}
			if len(b.killedIDs()) != 0 {
				t.Errorf("%s: backend killed %v", code, b.killedIDs())
			}
		}
	})
	t.Run("closed", func(t *testing.T) {
		e := newEnv(t, demoBackend(), tencentapi.Options{})
		s := findSession(snapshotOf(t, e.src, source.Query{}), "/101")
		e.src.Close()
		if res := e.src.Kill(ctx, []source.Session{*s}); res[0].Outcome != source.KillFailed || res[0].Err == nil {
			t.Errorf("kill after close = %+v", res)
		}
	})
}

func TestParseSessionID(t *testing.T) {
	for _, tc := range []struct {
		id  string
		key opKey
		ok  bool
	}{
		{"cmgo-p8vnipr5_0/10.108.93.135:7017:39920912/61", opKey{"cmgo-p8vnipr5_0", "10.108.93.135:7017:39920912", 61}, true},
		{"rs/node/9007199254740993", opKey{"rs", "node", 9007199254740993}, true},
		{"rs//-5", opKey{"rs", "", -5}, true},
		{"61", opKey{}, false},
		{"rs/61", opKey{}, false},
		{"rs/node/x61", opKey{}, false},
		{"rs/node/99999999999999999999", opKey{}, false},
	} {
		k, err := parseSessionID(tc.id)
		if (err == nil) != tc.ok || (tc.ok && k != tc.key) {
			t.Errorf("parseSessionID(%q) = %+v, %v", tc.id, k, err)
		}
	}
}
