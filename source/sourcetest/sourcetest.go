// Package sourcetest is the conformance suite every source (mongodb, tencent, huawei) runs:
//
//	func TestConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Config{
//			Open:      func(t *testing.T) source.Source { ... },
//			Secrets:   []string{"the-password"},
//			MinActive: 5,
//			CanKill:   true,
//		})
//	}
//
// It checks what the UI and the one-shot printer rely on: snapshots are well-formed (IDs
// unique, types valid, every text field clean), no secret leaks into anything shown, a
// cancelled context returns promptly, pushed-down filters return exactly what local
// filtering would, idle toggles give supersets, client counts are sane, and kills are safe.
//
// Three of its checks are the rules every source shares, run against each one:
// visibility (source.Query.Shows decides what each toggle shows), literal extraction
// (field=value and anchored patterns, which sources push down through source.Term.Literal,
// lose nothing) and kill identity (source.SameOperation decides what may be killed).
package sourcetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/currentop/currentop/source"
)

// Config describes the source under test.
type Config struct {
	// Open returns a ready source on a deployment with activity. Run closes it (io.Closer)
	// when done; Close must tolerate being called twice if Open also registers a cleanup.
	Open func(t *testing.T) source.Source
	// Secrets must never appear in a snapshot, a warning or an error (passwords, keys).
	Secrets []string
	// MinActive is how many active, non-internal operations the deployment keeps running.
	MinActive int
	// CanKill runs the kill checks: the source must be a source.Killer, and killing one of
	// the deployment's operations must be acceptable.
	CanKill bool
}

// promptly bounds how long a source may take to notice a cancelled context: liveness, not
// speed (the machine running the suite may be loaded).
const promptly = 30 * time.Second

// Run runs the conformance suite.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Open == nil {
		t.Fatal("sourcetest: Config.Open is nil")
	}
	src := cfg.Open(t)
	if src == nil {
		t.Fatal("sourcetest: Open returned nil")
	}
	if c, ok := src.(io.Closer); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
	r := &runner{cfg: cfg, src: src}

	t.Run("snapshot basics", r.basics)
	t.Run("IDs unique", r.ids)
	t.Run("types valid", r.types)
	t.Run("text clean", r.clean)
	t.Run("what each operation is", r.describes)
	t.Run("no secrets", r.secrets)
	t.Run("cancelled context", r.cancelled)
	t.Run("filter pushdown", r.filters)
	t.Run("idle toggle superset", r.idleSuperset)
	t.Run("rule: visibility", r.visibility)
	t.Run("rule: literal extraction", r.literals)
	t.Run("clients sane", r.clients)
	if cfg.CanKill {
		t.Run("rule: kill identity", r.kill)
	}
	// Last, so it sees every error the other checks ran into.
	t.Run("no secrets in errors", r.secretsInErrors)
}

type runner struct {
	cfg  Config
	src  source.Source
	errs []error // every error the suite saw, checked for secrets
}

var allQuery = source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}

func (r *runner) snapshot(t *testing.T, q source.Query) *source.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := r.src.Snapshot(ctx, q)
	if err != nil {
		r.errs = append(r.errs, err)
		t.Fatalf("Snapshot(%+v): %v", q, err)
	}
	if snap == nil {
		t.Fatalf("Snapshot(%+v) returned nil without an error", q)
	}
	return snap
}

// visible applies the query locally, as every caller does.
func visible(snap *source.Snapshot, q source.Query) *source.Snapshot {
	cp := *snap
	cp.Sessions = slices.Clone(snap.Sessions)
	cp.Clients = slices.Clone(snap.Clients)
	source.Apply(&cp, q)
	return &cp
}

// shown reports whether the query (toggles and filter) lets s through.
func shown(q source.Query, s *source.Session) bool {
	one := &source.Snapshot{Sessions: []source.Session{*s}}
	source.Apply(one, q)
	return len(one.Sessions) == 1
}

func userActive(s *source.Session) bool {
	return s.Type == source.TypeOp && s.Active && !s.Internal
}

func (r *runner) basics(t *testing.T) {
	before := time.Now()
	snap := r.snapshot(t, source.Query{})
	after := time.Now()
	if snap.Source == "" || snap.Target == "" {
		t.Errorf("Source %q / Target %q must be set", snap.Source, snap.Target)
	}
	// Providers stamp snapshots with their own clock; allow for skew, not for a stale cache.
	if snap.TakenAt.Before(before.Add(-time.Minute)) || snap.TakenAt.After(after.Add(time.Minute)) {
		t.Errorf("TakenAt %v is not recent (now %v)", snap.TakenAt, after)
	}
	switch snap.Server.Kind {
	case "mongod", "mongos", "cloud":
	default:
		t.Errorf("Server.Kind = %q, want mongod, mongos or cloud", snap.Server.Kind)
	}
	c := snap.Server.Connections
	if c.Current < 0 || c.Available < 0 || c.Active < 0 || c.TotalCreated < 0 {
		t.Errorf("negative connection counters: %+v", c)
	}
	active := 0
	for i := range snap.Sessions {
		if userActive(&snap.Sessions[i]) {
			active++
		}
	}
	if active < r.cfg.MinActive {
		t.Errorf("%d active operations, want at least %d", active, r.cfg.MinActive)
	}
	// The default query hides what it says it hides.
	for _, s := range visible(snap, source.Query{}).Sessions {
		if s.Type != source.TypeOp {
			t.Errorf("default query returned a %s session", s.Type)
		}
	}
}

// describes: operations are named (CommandName) and summarised on one short line, progress is
// sane, and a lean snapshot (the live view's) says the same as a whole one.
func (r *runner) describes(t *testing.T) {
	whole := r.snapshot(t, source.Query{})
	named := 0
	for i := range whole.Sessions {
		s := &whole.Sessions[i]
		if userActive(s) && s.CommandName != "" {
			named++
		}
		if n := utf8.RuneCountInString(s.Summary); n > source.SummaryMax || strings.ContainsAny(s.Summary, "\n\r\t") {
			t.Errorf("session %s: summary %q is not one line of at most %d characters", s.ID, s.Summary, source.SummaryMax)
		}
		if p := s.Progress; p != nil && (p.Total <= 0 || p.Done < 0) {
			t.Errorf("session %s: progress %+v", s.ID, *p)
		}
	}
	if r.cfg.MinActive > 0 && named == 0 {
		t.Errorf("no active operation names its command (%d sessions)", len(whole.Sessions))
	}
	lean := r.snapshot(t, source.Query{Lean: true})
	byID := map[string]*source.Session{}
	for i := range whole.Sessions {
		byID[whole.Sessions[i].ID] = &whole.Sessions[i]
	}
	for i := range lean.Sessions {
		l := &lean.Sessions[i]
		w := byID[l.ID]
		if w == nil || w.Op != l.Op || w.NS != l.NS || w.Client != l.Client || w.Desc != l.Desc {
			continue // ended between the two snapshots, or another operation under a reused ID
		}
		if w.CommandName != l.CommandName || w.Summary != l.Summary {
			t.Errorf("session %s: lean snapshot says %q %q, whole one %q %q", l.ID, l.CommandName, l.Summary, w.CommandName, w.Summary)
		}
	}
}

func (r *runner) ids(t *testing.T) {
	for _, q := range []source.Query{{}, allQuery} {
		snap := r.snapshot(t, q)
		seen := map[string]bool{}
		for _, s := range snap.Sessions {
			if s.ID == "" {
				t.Errorf("session without ID: %+v", s)
			}
			if seen[s.ID] {
				t.Errorf("duplicate ID %q", s.ID)
			}
			seen[s.ID] = true
		}
	}
}

func (r *runner) types(t *testing.T) {
	snap := r.snapshot(t, allQuery)
	for _, s := range snap.Sessions {
		switch s.Type {
		case source.TypeOp:
		case source.TypeIdle, source.TypeIdleSession, source.TypeIdleCursor:
			if s.Active {
				t.Errorf("%s session %q is marked active", s.Type, s.ID)
			}
		default:
			t.Errorf("session %q has type %q", s.ID, s.Type)
		}
		if s.RunningUS < 0 || s.NumYields < 0 {
			t.Errorf("session %q has negative counters: %+v", s.ID, s)
		}
		for name, raw := range map[string]json.RawMessage{"Command": s.Command, "Raw": s.Raw} {
			if raw != nil && !json.Valid(raw) {
				t.Errorf("session %q: %s is not valid JSON: %.200s", s.ID, name, raw)
			}
		}
	}
}

func (r *runner) clean(t *testing.T) {
	snap := r.snapshot(t, allQuery)
	for _, path := range dirtyStrings(reflect.ValueOf(snap).Elem(), "snapshot") {
		t.Errorf("not clean: %s", path)
	}
}

// dirtyStrings lists every string reachable from v that source.Clean would change.
func dirtyStrings(v reflect.Value, path string) []string {
	var out []string
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); source.Clean(s) != s {
			out = append(out, fmt.Sprintf("%s = %q", path, s))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, dirtyStrings(v.Field(i), path+"."+f.Name)...)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // JSON documents: rendered by the detail view, which cleans them
		}
		for i := range v.Len() {
			out = append(out, dirtyStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = append(out, dirtyStrings(v.Elem(), path)...)
		}
	}
	return out
}

func (r *runner) secrets(t *testing.T) {
	if len(r.cfg.Secrets) == 0 {
		t.Skip("no Config.Secrets given")
	}
	snap := r.snapshot(t, allQuery)
	whole, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	// Fields outside the stable JSON are checked too.
	var extra strings.Builder
	extra.WriteString(snap.Target)
	for _, w := range snap.Warnings {
		extra.WriteString("\n" + w)
	}
	for _, s := range snap.Sessions {
		extra.WriteString("\n" + s.Msg)
		extra.Write(s.Raw)
	}
	for _, sec := range r.cfg.Secrets {
		if sec == "" {
			continue
		}
		if strings.Contains(string(whole), sec) || strings.Contains(extra.String(), sec) {
			t.Errorf("secret %q appears in the snapshot", mask(sec))
		}
	}
}

func mask(s string) string {
	if len(s) <= 2 {
		return "**"
	}
	return s[:1] + strings.Repeat("*", len(s)-2) + s[len(s)-1:]
}

func (r *runner) secretsInErrors(t *testing.T) {
	if len(r.cfg.Secrets) == 0 {
		t.Skip("no Config.Secrets given")
	}
	for _, err := range r.errs {
		for _, sec := range r.cfg.Secrets {
			if sec != "" && strings.Contains(err.Error(), sec) {
				t.Errorf("secret %q appears in error %q", mask(sec), strings.ReplaceAll(err.Error(), sec, mask(sec)))
			}
		}
	}
}

func (r *runner) cancelled(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"already cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"deadline passed", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			type result struct {
				snap *source.Snapshot
				err  error
			}
			done := make(chan result, 1)
			go func() {
				snap, err := r.src.Snapshot(ctx, source.Query{})
				done <- result{snap, err}
			}()
			select {
			case res := <-done:
				if res.err == nil {
					t.Error("Snapshot with a cancelled context returned no error")
				} else {
					r.errs = append(r.errs, res.err)
					if !errors.Is(res.err, context.Canceled) && !errors.Is(res.err, context.DeadlineExceeded) {
						t.Errorf("error %q does not wrap the context's error", res.err)
					}
				}
			case <-time.After(promptly):
				t.Fatalf("Snapshot with a cancelled context did not return within %s", promptly)
			}
		})
	}
}

var wordRe = regexp.MustCompile(`[A-Za-z0-9._]{2,}`)

// filterCases derives filters from what the deployment shows, so every source is tested on
// its own data: per field a word of a real value, its negation and a case-changed infix.
func filterCases(snap *source.Snapshot) []string {
	cases := []string{"running>1s", "running<1s", "-running>=2s", "running>0s"}
	seen := map[string]bool{}
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			cases = append(cases, c)
		}
	}
	for _, s := range snap.Sessions {
		if !userActive(&s) {
			continue
		}
		for _, f := range []struct{ field, value string }{
			{"op", s.Op}, {"ns", s.NS}, {"app", s.App}, {"plan", s.PlanSummary},
			{"host", s.Host}, {"desc", s.Desc}, {"user", s.User}, {"shard", s.Shard}, {"driver", s.Driver},
		} {
			w := strings.ToLower(wordRe.FindString(f.value))
			if w == "" || seen[f.field+":"+w] {
				continue
			}
			add(f.field + ":" + w)
			add("-" + f.field + ":" + w)
			if len(w) > 3 {
				add(f.field + ":" + strings.ToUpper(w[1:len(w)-1]))
			}
		}
		if w := strings.ToLower(wordRe.FindString(s.App)); w != "" {
			add(w + " running>0s")
			add("app:" + w + " -op:zzz")
		}
		if len(cases) > 40 {
			break
		}
	}
	return cases
}

// filters checks pushed-down filters: what a filtered snapshot returns (after local
// filtering) matches the filter and is drawn from the unfiltered deployment, and nothing
// that matched before and after is lost.
func (r *runner) filters(t *testing.T) {
	r.checkFilters(t, filterCases(r.snapshot(t, source.Query{})))
}

// literals checks the filters sources push down as literals (source.Term.Literal): field=value
// in the value's own case and in another, its negation, and anchored patterns that ignore case
// or do not, on the fields the deployment shows.
func (r *runner) literals(t *testing.T) {
	r.checkFilters(t, literalCases(r.snapshot(t, source.Query{})))
}

// literalCases derives literal filters from the first user operation that has each field.
func literalCases(snap *source.Snapshot) []string {
	var cases []string
	for _, field := range []string{"op", "ns", "desc", "shard", "plan", "app"} {
		for i := range snap.Sessions {
			s := &snap.Sessions[i]
			v := fieldValue(s, field)
			if !userActive(s) || v == "" {
				continue
			}
			quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
			pattern := strings.ReplaceAll(regexp.QuoteMeta(v), "/", `\/`)
			otherCase := strings.ToUpper(quoted)
			if otherCase == quoted {
				otherCase = strings.ToLower(quoted)
			}
			cases = append(cases,
				field+"="+quoted,
				field+"="+otherCase,
				"-"+field+"="+quoted,
				field+":/^"+pattern+"$/",
				field+":/(?-i)^"+pattern+"$/",
			)
			break
		}
	}
	return cases
}

func fieldValue(s *source.Session, field string) string {
	switch field {
	case "op":
		return s.Op
	case "ns":
		return s.NS
	case "desc":
		return s.Desc
	case "shard":
		return s.Shard
	case "plan":
		return s.PlanSummary
	case "app":
		return s.App
	}
	return ""
}

// checkFilters checks each filter: what a filtered snapshot returns (after local filtering)
// matches the filter and is drawn from the unfiltered deployment, and nothing that matched
// before and after is lost.
//
// Each case's snapshot after is the next one's before (nothing is read between them), so a
// case costs two snapshots, not three: the suite stays quick on a loaded machine.
func (r *runner) checkFilters(t *testing.T, texts []string) {
	var (
		prev      *source.Snapshot // the last case's after
		prevStart time.Time        // when it began
	)
	for _, text := range texts {
		t.Run(text, func(t *testing.T) {
			f, err := source.ParseFilter(text)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", text, err)
			}
			plain := source.Query{}
			q := source.Query{Filter: f}
			before, start := prev, prevStart
			if before == nil {
				start = time.Now()
				before = r.snapshot(t, plain)
			}
			prev = nil
			filtered := visible(r.snapshot(t, q), q)
			// An operation older than this was already running when before was read.
			span := time.Since(start)
			prevStart = time.Now()
			after := r.snapshot(t, plain)
			prev = after

			known := map[string]bool{}
			for _, s := range before.Sessions {
				known[s.ID] = true
			}
			for _, s := range after.Sessions {
				known[s.ID] = true
			}
			got := map[string]bool{}
			for i := range filtered.Sessions {
				s := &filtered.Sessions[i]
				got[s.ID] = true
				if !f.Match(s) {
					t.Errorf("session %q does not match %q: %+v", s.ID, text, *s)
				}
				// A short operation may live only between the snapshots around it; one that
				// was already running when before was read must be in before.
				if !known[s.ID] && s.Running() > span {
					t.Errorf("session %q is not in the unfiltered snapshots around it although it ran for %v", s.ID, s.Running())
				}
			}
			// Stable sessions that match before and after must not be lost by a pushdown.
			// Only monotonic filters are checked: running time grows between snapshots.
			if strings.Contains(text, "running<") || strings.Contains(text, "-running") {
				return
			}
			inAfter := map[string]source.Session{}
			for _, s := range after.Sessions {
				inAfter[s.ID] = s
			}
			for i := range before.Sessions {
				s := &before.Sessions[i]
				a, ok := inAfter[s.ID]
				if !ok || !f.Match(s) || !f.Match(&a) || !shown(plain, s) {
					continue
				}
				if !got[s.ID] {
					t.Errorf("session %q matches %q before and after, but the filtered snapshot lost it", s.ID, text)
				}
			}
		})
	}
}

func (r *runner) idleSuperset(t *testing.T) {
	before := r.snapshot(t, source.Query{})
	idle := r.snapshot(t, source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true})
	after := r.snapshot(t, source.Query{})
	inIdle := map[string]bool{}
	for _, s := range idle.Sessions {
		inIdle[s.ID] = true
	}
	inAfter := map[string]bool{}
	for _, s := range after.Sessions {
		inAfter[s.ID] = true
	}
	for _, s := range before.Sessions {
		if inAfter[s.ID] && !inIdle[s.ID] {
			t.Errorf("session %q (%s %s) is shown without idle connections but not with them", s.ID, s.Op, s.NS)
		}
	}
	if len(idle.Sessions) < len(before.Sessions)/2 {
		t.Errorf("with idle connections %d sessions, without %d", len(idle.Sessions), len(before.Sessions))
	}
}

// visibility checks the one visibility rule: for each toggle, a snapshot holds every session
// that source.Query.Shows lets through among those a snapshot with every toggle on holds,
// unchanged, just before and after it. (It may hold more: callers apply the rule anyway.)
//
// A connection idle before and after can have been busy in between where no read sees it: a
// mongos's connection whose request is on its way to a shard is active on the mongos and not
// yet on any shard member. So a miss is asked again, up to visibilityTries times, and fails
// only when the same session is missed every time: a source that loses a stable session loses
// it each time, while that race does not come back three times in a row.
func (r *runner) visibility(t *testing.T) {
	var before *source.Snapshot
	for _, q := range []source.Query{
		{}, {IdleConnections: true}, {IdleSessions: true}, {IdleCursors: true}, {System: true},
		{IdleConnections: true, IdleSessions: true, IdleCursors: true},
	} {
		var missed map[string]string
		for try := 1; try <= visibilityTries; try++ {
			// The last read's after is this one's before: nothing is read between them.
			if before == nil {
				before = r.snapshot(t, allQuery)
			}
			got := r.snapshot(t, q)
			after := r.snapshot(t, allQuery)
			now := visibilityMisses(q, before, got, after)
			before = after
			if missed != nil {
				for id := range missed {
					if _, again := now[id]; !again {
						delete(missed, id)
					}
				}
			} else {
				missed = now
			}
			if len(missed) == 0 {
				break
			}
			if try < visibilityTries {
				t.Logf("try %d of %d: %s", try, visibilityTries, strings.Join(slices.Sorted(maps.Values(missed)), "; "))
			}
		}
		for _, id := range slices.Sorted(maps.Keys(missed)) {
			t.Errorf("%s (in each of %d tries)", missed[id], visibilityTries)
		}
	}
}

const visibilityTries = 3

// visibilityMisses lists the sessions of before, unchanged in after, that q shows but got lacks.
//
// A connection idle before and after may have been busy in between, and then got returned it
// as what it was at that moment: an operation listed under its own ID, on the same host and
// connection, or, through a mongos, under a shard member's address and that member's
// connection, known then only by the application's address (its Client, ip:port, one TCP
// connection's own).
func visibilityMisses(q source.Query, before, got, after *source.Snapshot) map[string]string {
	kind := func(s *source.Session) string { return fmt.Sprintf("%s/%v", s.Type, s.Internal) }
	stable := map[string]string{}
	for i := range after.Sessions {
		stable[after.Sessions[i].ID] = kind(&after.Sessions[i])
	}
	in, conns, clients := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range got.Sessions {
		in[s.ID] = true
		if s.Desc != "" {
			conns[s.Host+"|"+s.Desc] = true
		}
		if s.Type == source.TypeOp && s.Client != "" {
			clients[s.Client] = true
		}
	}
	out := map[string]string{}
	for i := range before.Sessions {
		s := &before.Sessions[i]
		busy := s.Type == source.TypeIdle &&
			((s.Desc != "" && conns[s.Host+"|"+s.Desc]) || (s.Client != "" && clients[s.Client]))
		if stable[s.ID] == kind(s) && q.Shows(s) && !in[s.ID] && !busy {
			out[s.ID] = fmt.Sprintf("query %+v: session %q (%s, internal %v, app %q, client %s) is shown by the rule but not returned", q, s.ID, s.Type, s.Internal, s.App, s.Client)
		}
	}
	return out
}

func (r *runner) clients(t *testing.T) {
	snap := r.snapshot(t, source.Query{})
	seen := map[string]bool{}
	for _, c := range snap.Clients {
		if c.IP == "" {
			t.Errorf("client without IP: %+v", c)
		}
		if seen[c.IP] {
			t.Errorf("client IP %q listed twice", c.IP)
		}
		seen[c.IP] = true
		if hasPort(c.IP) {
			t.Errorf("client IP %q carries a port", c.IP)
		}
		if c.Count < c.Active || c.Active < 0 || c.Count < 0 {
			t.Errorf("client %q: count %d, active %d", c.IP, c.Count, c.Active)
		}
	}
}

// hasPort reports "10.0.0.1:5000", "[::1]:5000" and "host:5000"; a bare IPv6 has several colons.
func hasPort(ip string) bool {
	if strings.HasPrefix(ip, "[") {
		return true
	}
	return strings.Count(ip, ":") == 1
}

var trailingDigits = regexp.MustCompile(`[0-9]+$`)

type imposter struct {
	field string
	s     source.Session
}

// imposters are the victim's ID with one field of its identity (source.SameOperation)
// changed: only fields it has, since a field one reading lacks proves nothing.
func imposters(v source.Session) []imposter {
	var out []imposter
	add := func(field string, known bool, change func(s *source.Session)) {
		if known {
			s := v
			change(&s)
			out = append(out, imposter{field, s})
		}
	}
	add("connection", v.ConnectionID != 0, func(s *source.Session) { s.ConnectionID += 1_000_000 })
	add("client", v.Client != "", func(s *source.Session) { s.Client = "192.0.2.99:1" })
	add("connection description", v.Desc != "", func(s *source.Session) { s.Desc = "conformance-not-this-one" })
	add("op", v.Op != "", func(s *source.Session) {
		s.Op = "killcursors"
		if strings.EqualFold(v.Op, s.Op) {
			s.Op = "insert"
		}
	})
	add("namespace", v.NS != "", func(s *source.Session) { s.NS = "conformance.not_this_one" })
	add("start (it restarted)", true, func(s *source.Session) { s.RunningUS += int64(time.Hour / time.Microsecond) })
	return out
}

func (r *runner) kill(t *testing.T) {
	k, ok := r.src.(source.Killer)
	if !ok {
		t.Fatal("CanKill is set but the source is not a source.Killer")
	}
	snap := r.snapshot(t, source.Query{})
	var victim *source.Session
	for i := range snap.Sessions {
		s := &snap.Sessions[i]
		if userActive(s) && s.NotKillable == "" && trailingDigits.MatchString(s.ID) && (victim == nil || s.RunningUS > victim.RunningUS) {
			victim = s
		}
	}
	if victim == nil {
		t.Skip("no active operation to kill")
	}
	killOne := func(s source.Session) source.KillResult {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res := k.Kill(ctx, []source.Session{s})
		if len(res) != 1 {
			t.Fatalf("Kill of one session returned %d results", len(res))
		}
		if res[0].Err != nil {
			r.errs = append(r.errs, res[0].Err)
		}
		if res[0].ID != s.ID {
			t.Errorf("result ID %q, want %q", res[0].ID, s.ID)
		}
		return res[0]
	}

	// An ID nobody has: already gone (or refused), never a panic.
	unknown := *victim
	unknown.ID = trailingDigits.ReplaceAllString(victim.ID, "2147480001")
	if res := killOne(unknown); res.Outcome != source.KillAlreadyGone && res.Outcome != source.KillRefused {
		t.Errorf("kill of unknown %q: %s (%v)", unknown.ID, res.Outcome, res.Err)
	}
	// The victim's ID under another identity, one field at a time: refused (or gone, when
	// the source reads it back by that field), never killed.
	for _, imp := range imposters(*victim) {
		res := killOne(imp.s)
		if res.Outcome != source.KillRefused && res.Outcome != source.KillAlreadyGone {
			t.Errorf("kill of %q with another %s: %s (%v), want refused", imp.s.ID, imp.field, res.Outcome, res.Err)
		} else if res.Outcome == source.KillRefused && res.Err == nil {
			t.Errorf("refusal without an explanation (another %s)", imp.field)
		}
	}
	// The real thing, as a source may have reported it: op in another case, without the
	// fields a provider may leave out, and half the slack (source.RestartSlack) longer.
	seen := *victim
	seen.Op = strings.ToUpper(seen.Op)
	seen.Client, seen.Desc, seen.ConnectionID = "", "", 0
	seen.RunningUS += int64(source.RestartSlack/time.Microsecond) / 2
	res := killOne(seen)
	switch res.Outcome {
	case source.KillGone, source.KillPending:
	case source.KillAlreadyGone:
		t.Logf("victim %q ended on its own before the kill", victim.ID)
		return
	default:
		t.Fatalf("kill of %q as reported: %s (%v)", victim.ID, res.Outcome, res.Err)
	}
	deadline := time.Now().Add(time.Minute) // only a guard: the kill ends the operation
	for {
		after := r.snapshot(t, source.Query{})
		i := slices.IndexFunc(after.Sessions, func(s source.Session) bool { return s.ID == victim.ID })
		if i < 0 || after.Sessions[i].KillPending {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed operation %q still running and not kill-pending: %+v", victim.ID, after.Sessions[i])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
