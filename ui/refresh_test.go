package ui

import (
	"errors"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// loopRig drives a refresher alone: commands run inline, timers are recorded.
type loopRig struct {
	t     *testing.T
	r     refresher
	src   *fakeSource
	clock *testClock
	ticks []scheduled
}

func newLoopRig(t *testing.T, src source.Source) *loopRig {
	fs, _ := src.(*fakeSource)
	g := &loopRig{t: t, src: fs, clock: newClock()}
	g.r = newRefresher(src, 2*time.Second, g.clock.now, make(chan struct{}))
	g.r.schedule = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return scheduled{d, msg} }
	}
	return g
}

// run runs cmd: a fetch's answer is returned, an armed timer recorded.
func (g *loopRig) run(cmd tea.Cmd) (snapshotMsg, bool) {
	g.t.Helper()
	if cmd == nil {
		return snapshotMsg{}, false
	}
	switch msg := cmd().(type) {
	case snapshotMsg:
		return msg, true
	case scheduled:
		g.ticks = append(g.ticks, msg)
	default:
		g.t.Fatalf("unexpected %T", msg)
	}
	return snapshotMsg{}, false
}

func (g *loopRig) lastTick() scheduled {
	g.t.Helper()
	if len(g.ticks) == 0 {
		g.t.Fatal("no tick armed")
	}
	return g.ticks[len(g.ticks)-1]
}

func TestRefresherOneFetchAtATime(t *testing.T) {
	src := &fakeSource{}
	src.set(smallSnapshot())
	g := newLoopRig(t, src)
	msg, ok := g.run(g.r.fetch(source.Query{}))
	if !ok || !g.r.inFlight {
		t.Fatal("fetch did not go out")
	}
	armed := g.r.tickSeq
	if cmd := g.r.onTick(tickMsg{seq: armed}, source.Query{}); cmd != nil {
		t.Fatal("a tick while a fetch is in flight started another")
	}
	res, cmd := g.r.onSnapshot(msg, source.Query{})
	if res != answerGood || g.r.latest == nil || g.r.inFlight {
		t.Fatalf("answer %v latest %v inFlight %v", res, g.r.latest != nil, g.r.inFlight)
	}
	g.run(cmd)
	if tk := g.lastTick(); tk.d != 2*time.Second || tk.msg.(tickMsg).seq != g.r.tickSeq {
		t.Fatalf("next tick %+v, want after the interval with seq %d", tk, g.r.tickSeq)
	}
	if cmd := g.r.onTick(tickMsg{seq: g.r.tickSeq - 1}, source.Query{}); cmd != nil {
		t.Fatal("an older tick started a fetch")
	}
	if _, ok := g.run(g.r.onTick(g.lastTick().msg.(tickMsg), source.Query{})); !ok {
		t.Fatal("the armed tick did not fetch")
	}
}

func TestRefresherDropsOlderGenerations(t *testing.T) {
	src := &fakeSource{}
	src.set(smallSnapshot())
	g := newLoopRig(t, src)
	old, _ := g.run(g.r.fetch(source.Query{}))
	idle := source.Query{IdleConnections: true}
	if cmd := g.r.queryChanged(idle); cmd != nil {
		t.Fatal("a query change while a fetch is out must wait for it")
	}
	res, cmd := g.r.onSnapshot(old, idle)
	if res != answerDropped || g.r.latest != nil {
		t.Fatalf("an answer from before the change was taken: %v", res)
	}
	again, ok := g.run(cmd)
	if !ok || !src.queries[len(src.queries)-1].IdleConnections {
		t.Fatalf("the dropped answer was not asked again under the new query: %+v", src.queries)
	}
	if res, _ := g.r.onSnapshot(again, idle); res != answerGood {
		t.Fatalf("the new generation's answer: %v", res)
	}
}

func TestRefresherBacksOffAndRecovers(t *testing.T) {
	src := &fakeSource{}
	src.fail(errors.New("connection refused"))
	g := newLoopRig(t, src)
	var delays []time.Duration
	for range 6 {
		msg, _ := g.run(g.r.fetch(source.Query{}))
		res, cmd := g.r.onSnapshot(msg, source.Query{})
		if res != answerFailed {
			t.Fatalf("answer %v, want failed", res)
		}
		g.run(cmd)
		delays = append(delays, g.lastTick().d)
		g.clock.advance(time.Second)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	if !slices.Equal(delays, want) {
		t.Fatalf("retry delays %v, want %v", delays, want)
	}
	if g.r.failures != 6 || !g.r.errSince.Equal(baseTime) || g.r.lastErr == nil {
		t.Fatalf("failures %d since %v err %v", g.r.failures, g.r.errSince, g.r.lastErr)
	}
	if changed, cmd := g.r.setInterval(5 * time.Second); !changed || cmd != nil {
		t.Fatal("while failing, a new interval waits for the armed retry")
	}
	src.set(smallSnapshot())
	msg, _ := g.run(g.r.fetch(source.Query{}))
	res, cmd := g.r.onSnapshot(msg, source.Query{})
	g.run(cmd)
	// After a failure streak the next fetch comes at once, not one interval later.
	if res != answerRecovered || g.r.lastErr != nil || g.r.failures != 0 || g.lastTick().d != 0 || g.r.recoveredAfter != 6*time.Second {
		t.Fatalf("recovery: %v err %v failures %d next %v", res, g.r.lastErr, g.r.failures, g.lastTick().d)
	}
}

// A source that caps what it sends gets the filter from then on; an answer that was not
// filtered although a filter is set is asked again.
func TestRefresherPushesTheFilterToCappedSources(t *testing.T) {
	capped := smallSnapshot()
	capped.TotalSessions = 5000
	src := &fakeSource{}
	src.set(capped)
	g := newLoopRig(t, src)
	f, err := source.ParseFilter("op:query")
	if err != nil {
		t.Fatal(err)
	}
	f.Text = "op:query"
	q := source.Query{Filter: f}
	msg, _ := g.run(g.r.fetch(q))
	if !src.queries[0].Filter.Empty() {
		t.Fatal("the filter went to a source not known to cap")
	}
	if res, cmd := g.r.onSnapshot(msg, q); res != answerCapped || cmd != nil || !g.r.pushFilter {
		t.Fatalf("answer %v pushFilter %v", res, g.r.pushFilter)
	}
	g.run(g.r.queryChanged(q))
	if f := src.queries[len(src.queries)-1].Filter; f.Text != "op:query" {
		t.Fatalf("the capped source was asked with filter %q", f.Text)
	}
}

func TestRefresherAbandonsAHungFetch(t *testing.T) {
	src := &fakeSource{}
	src.set(smallSnapshot())
	g := newLoopRig(t, src)
	late, _ := g.run(g.r.fetch(source.Query{}))
	g.clock.advance(fetchTimeout + hungGrace - time.Second)
	if _, ok := g.r.hung(); ok {
		t.Fatal("a fetch within its timeout was abandoned")
	}
	g.clock.advance(time.Second)
	failed, ok := g.r.hung()
	if !ok {
		t.Fatal("a hung fetch was not abandoned")
	}
	if res, _ := g.r.onSnapshot(failed, source.Query{}); res != answerFailed || g.r.inFlight {
		t.Fatalf("answer %v inFlight %v", res, g.r.inFlight)
	}
	if res, cmd := g.r.onSnapshot(late, source.Query{}); res != answerDropped || cmd != nil {
		t.Fatal("the abandoned fetch's late answer was taken")
	}
}

func TestRefresherWaitsForTheConnect(t *testing.T) {
	g := newLoopRig(t, nil)
	g.r.connectStarted()
	if cmd := g.r.fetch(source.Query{}); cmd != nil || g.r.inFlight {
		t.Fatal("a fetch went out before the connect ended")
	}
	g.clock.advance(4 * time.Second)
	if d := g.r.waited(g.clock.now()); d != 4*time.Second {
		t.Fatalf("waited %v", d)
	}
	src := &fakeDetailer{}
	src.set(smallSnapshot())
	g.r.connected(src)
	g.run(g.r.fetch(source.Query{}))
	if len(src.queries) != 1 || !src.queries[0].Lean {
		t.Fatalf("queries %+v: a Detailer's refresh is lean", src.queries)
	}
}

func TestIntervalSteps(t *testing.T) {
	tests := []struct {
		cur  time.Duration
		dir  int
		want time.Duration
	}{
		{2 * time.Second, -1, time.Second},
		{2 * time.Second, 1, 3 * time.Second},
		{minInterval, -1, minInterval},
		{maxInterval, 1, maxInterval},
		{2500 * time.Millisecond, 1, 3 * time.Second},
	}
	for _, tc := range tests {
		if got := nextInterval(tc.cur, tc.dir); got != tc.want {
			t.Errorf("nextInterval(%v, %d) = %v, want %v", tc.cur, tc.dir, got, tc.want)
		}
	}
}
