package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// fakeSource returns the snapshots it is given, one per call (the last one repeats), or err.
type fakeSource struct {
	mu      sync.Mutex
	snaps   []*source.Snapshot
	err     error
	queries []source.Query
}

func (f *fakeSource) Snapshot(_ context.Context, q source.Query) (*source.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	if len(f.snaps) == 0 {
		return nil, errors.New("fake: no snapshot")
	}
	s := f.snaps[0]
	if len(f.snaps) > 1 {
		f.snaps = f.snaps[1:]
	}
	return s, nil
}

func (f *fakeSource) set(snaps ...*source.Snapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snaps, f.err = snaps, nil
}

func (f *fakeSource) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// fakeKiller is a fakeSource that can kill; it records what it was asked.
type fakeKiller struct {
	fakeSource
	killed  [][]source.Session
	outcome source.KillOutcome
}

func (f *fakeKiller) Kill(_ context.Context, targets []source.Session) []source.KillResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, targets)
	out := make([]source.KillResult, len(targets))
	for i, t := range targets {
		out[i] = source.KillResult{ID: t.ID, Outcome: f.outcome}
		if f.outcome == source.KillRefused {
			out[i].Err = errors.New("the opid now belongs to another operation")
		}
	}
	return out
}

// fakeDetailer is a fakeKiller that reads sessions whole: the session with its Command and
// Raw from whole, or err.
type fakeDetailer struct {
	fakeKiller
	whole map[string]source.Session
	err   error
	asked []string
}

func (f *fakeDetailer) Detail(_ context.Context, s source.Session) (*source.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, s.ID)
	if f.err != nil {
		return nil, f.err
	}
	w, ok := f.whole[s.ID]
	if !ok {
		return nil, fmt.Errorf("session %s: %w", s.ID, source.ErrEnded)
	}
	return &w, nil
}

// scheduled is what the test schedule hands back instead of sleeping.
type scheduled struct {
	d   time.Duration
	msg tea.Msg
}

// testClock is a settable clock.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *testClock                   { return &testClock{t: baseTime} }

var baseTime = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// harness drives a Model synchronously: fetches and kills run inline, timers are recorded.
type harness struct {
	t         *testing.T
	m         *Model
	clock     *testClock
	timers    []scheduled
	other     []tea.Msg // messages the model sent to the runtime (clipboard, quit…)
	pending   []tea.Msg // fetch results held back by hold()
	holding   bool
	details   []detailMsg // Detail answers held back while holdDetails
	holdDet   bool
	releasing bool
	started   bool // Init has run: the refresh loop must be alive from here on
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock()}
	if opts.Now == nil {
		opts.Now = h.clock.now
	}
	h.m = New(opts)
	h.m.loop.schedule = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return scheduled{d, msg} }
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.run(h.m.Init())
	h.started = true
	return h
}

// send delivers msg and runs the resulting commands, then checks that the refresh loop is
// alive: with no fetch held back, either one is in flight or the newest armed tick is the
// one the model waits for.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
	h.checkLoop(msg)
}

func (h *harness) checkLoop(msg tea.Msg) {
	h.t.Helper()
	if !h.started || h.holding || h.releasing || h.quitting() {
		return
	}
	if h.m.loop.inFlight {
		h.t.Fatalf("after %T: a fetch is marked in flight but none was started", msg)
	}
	if tk, ok := h.lastTick(); !ok || tk.msg.(tickMsg).seq != h.m.loop.tickSeq {
		h.t.Fatalf("after %T: the refresh loop has stopped: no tick armed for seq %d", msg, h.m.loop.tickSeq)
	}
}

func (h *harness) quitting() bool {
	for _, m := range h.other {
		if _, ok := m.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case scheduled:
		h.timers = append(h.timers, msg)
	case snapshotMsg:
		if h.holding {
			h.pending = append(h.pending, msg)
			return
		}
		h.send(msg)
	case killDoneMsg, connectedMsg:
		h.send(msg)
	case detailMsg:
		if h.holdDet {
			h.details = append(h.details, msg)
			return
		}
		h.send(msg)
	default:
		h.other = append(h.other, msg)
	}
}

// hold keeps fetch results back (a fetch "in flight") until release.
func (h *harness) hold() { h.holding = true }

func (h *harness) release() {
	h.t.Helper()
	h.holding, h.releasing = false, true
	p := h.pending
	h.pending = nil
	for _, msg := range p {
		h.send(msg)
	}
	h.releasing = false
	h.checkLoop("release")
}

// lastTimer returns the most recent timer carrying a tickMsg.
func (h *harness) lastTick() (scheduled, bool) {
	for i := len(h.timers) - 1; i >= 0; i-- {
		if _, ok := h.timers[i].msg.(tickMsg); ok {
			return h.timers[i], true
		}
	}
	return scheduled{}, false
}

// fireTick delivers the newest armed tick, as its timer would.
func (h *harness) fireTick() {
	h.t.Helper()
	tk, ok := h.lastTick()
	if !ok {
		h.t.Fatal("no tick armed")
	}
	h.send(tk.msg)
}

func (h *harness) keys(ks ...string) {
	h.t.Helper()
	for _, k := range ks {
		h.send(keyMsg(k))
	}
}

func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		if r == ' ' {
			h.send(keyMsg("space"))
			continue
		}
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// sessionIDs lists the session IDs in the order the pane shows them.
func (h *harness) sessionIDs() []string {
	var ids []string
	for _, i := range h.m.panes.sess.rows {
		ids = append(ids, h.m.panes.sess.data[i].s.ID)
	}
	return ids
}

func (h *harness) clientIPs() []string {
	var ips []string
	for _, i := range h.m.panes.cli.rows {
		ips = append(ips, h.m.panes.cli.data[i].c.IP)
	}
	return ips
}

func (h *harness) selectSession(id string) {
	h.t.Helper()
	for i, ri := range h.m.panes.sess.rows {
		if h.m.panes.sess.data[ri].s.ID == id {
			h.m.panes.sess.selectIndex(i)
			return
		}
	}
	h.t.Fatalf("session %s is not listed; listed: %v", id, h.sessionIDs())
}

// sess builds a session; fields not given are plausible defaults.
func sess(id, op, ns string, running time.Duration, client string) source.Session {
	cmd, _ := json.Marshal(map[string]any{op: "coll", "$db": "shop"})
	return source.Session{
		ID: id, Type: source.TypeOp, Active: true, Op: op, NS: ns, RunningUS: running.Microseconds(),
		Client: client, App: "orders-api", User: "app@admin", Driver: "mongo-go-driver 2.9.3",
		Desc: "conn" + id, Command: cmd,
	}
}

// smallSnapshot is a hand-made deployment used by the Update tests and the goldens.
func smallSnapshot() *source.Snapshot {
	s := []source.Session{
		sess("101", "query", "shop.orders", 7391*time.Millisecond, "10.20.3.17:53422"),
		sess("102", "update", "shop.customers", 1200*time.Millisecond, "10.20.3.17:53430"),
		sess("103", "query", "shop.orders", 95*time.Second, "10.20.3.18:40001"),
		sess("104", "insert", "logs.events", 40*time.Millisecond, "10.20.3.19:41234"),
		sess("105", "getmore", "shop.orders", 7391*time.Millisecond, "10.20.3.18:40002"),
	}
	s[0].PlanSummary = "COLLSCAN"
	s[2].PlanSummary = "IXSCAN { status: 1 }"
	s[2].WaitingForLock = true
	s[3].App = "billing-worker"
	s[3].User = "billing@admin"
	idle := source.Session{ID: "106", Type: source.TypeIdle, Client: "10.20.3.19:41299", App: "billing-worker", Desc: "conn106"}
	internal := source.Session{ID: "107", Type: source.TypeOp, Active: true, Op: "command", NS: "local.oplog.rs",
		Client: "10.20.1.1:27017", Desc: "ReplBatcher", Internal: true, RunningUS: 3_000_000}
	s = append(s, idle, internal)
	return &source.Snapshot{
		Source: "mongodb", Target: "mongodb://app:***@db1:27017/", TakenAt: baseTime,
		Server: source.Server{Host: "db1:27017", Version: "8.0.4", Kind: "mongod", UptimeS: 273812,
			Connections: source.Connections{Current: 412, Available: 838448, Active: 17, TotalCreated: 9120}},
		Clients: []source.Client{
			{IP: "10.20.3.17", Count: 40, Active: 2, Apps: []string{"orders-api"}, Users: []string{"app@admin"}, Drivers: []string{"mongo-go-driver 2.9.3"}},
			{IP: "10.20.3.18", Count: 12, Active: 2, Apps: []string{"orders-api"}, Users: []string{"app@admin"}, Drivers: []string{"mongo-go-driver 2.9.3"}},
			{IP: "10.20.3.19", Count: 12, Active: 1, Apps: []string{"billing-worker"}, Users: []string{"billing@admin"}, Drivers: []string{"pymongo 4.8.0"}},
			{IP: "10.20.1.1", Count: 3, Active: 1, Internal: true},
		},
		Sessions: s,
	}
}

// synthSnapshot generates n sessions over n/20 clients, deterministic for a seed.
func synthSnapshot(n int, seed uint64) *source.Snapshot {
	ops := []string{"query", "update", "insert", "getmore", "command", "remove"}
	nss := []string{"shop.orders", "shop.customers", "inventory.items", "analytics.events_2026", "admin.$cmd"}
	apps := []string{"orders-api", "billing-worker", "reporting", "mongosh 2.3.1", ""}
	plans := []string{"COLLSCAN", "IXSCAN { customerId: 1 }", "IDHACK", ""}
	x := seed | 1
	rnd := func(k int) int { // xorshift: fast and deterministic
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return int(x % uint64(k))
	}
	nc := max(1, n/20)
	snap := &source.Snapshot{Source: "mongodb", Target: "mongodb://bench/", TakenAt: baseTime,
		Server: source.Server{Host: "bench:27017", Version: "8.0.4", Kind: "mongod", Connections: source.Connections{Current: int64(n)}}}
	snap.Sessions = make([]source.Session, n)
	for i := range snap.Sessions {
		c := rnd(nc)
		snap.Sessions[i] = source.Session{
			ID: fmt.Sprint(1_000_000 + i), Type: source.TypeOp, Active: true, Op: ops[rnd(len(ops))],
			NS: nss[rnd(len(nss))], RunningUS: int64(rnd(600_000_000)), PlanSummary: plans[rnd(len(plans))],
			Client: fmt.Sprintf("10.%d.%d.%d:%d", c/65536%256, c/256%256, c%256, 30000+rnd(30000)),
			App:    apps[rnd(len(apps))], User: "app@admin", Driver: "mongo-go-driver 2.9.3",
			Desc: fmt.Sprint("conn", i), ConnectionID: int64(i), WaitingForLock: rnd(20) == 0,
		}
	}
	snap.Clients = make([]source.Client, nc)
	for c := range snap.Clients {
		snap.Clients[c] = source.Client{IP: fmt.Sprintf("10.%d.%d.%d", c/65536%256, c/256%256, c%256),
			Count: 20 + rnd(20), Active: rnd(20), Apps: []string{apps[rnd(len(apps))]}, Users: []string{"app@admin"}}
	}
	return snap
}
