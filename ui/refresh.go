package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// refresher is the refresh loop. It is self-pacing: the next tick is armed when an answer
// arrives, never while a fetch is in flight, so at most one request is ever outstanding. Each
// fetch carries the generation it was asked under; answers from before a change of the query
// are dropped and asked again. A failed fetch keeps the last good snapshot (latest) and
// retries after a backoff.
type refresher struct {
	src source.Source
	// lean: the panes need only the sessions' fields; the detail view reads one whole
	// (the source is a Detailer).
	lean bool
	now  func() time.Time
	// schedule returns a command delivering msg after d; tests replace it to observe delays.
	schedule func(d time.Duration, msg tea.Msg) tea.Cmd
	quit     <-chan struct{} // closed when the program ends: cancels the fetch in flight

	interval   time.Duration
	connecting bool   // Options.Connect is running; no fetch before it ends
	gen        uint64 // bumped when the query changes; older answers are dropped
	inFlight   bool
	// pushFilter is set once the source could not send every session (cloud APIs page and
	// cap): from then on the filter goes to the source too, so that what it sends is what
	// matches, not an arbitrary first part.
	pushFilter bool
	fetchID    uint64    // the fetch in flight; answers to abandoned fetches are ignored
	fetchedAt  time.Time // when the fetch in flight (or the connect) started
	tickSeq    uint64    // only the newest armed tick counts

	failures  int
	lastErr   error
	errSince  time.Time // first failure of the current streak
	nextRetry time.Time
	// recoveredAfter is how long the last failure streak lasted (set when it ends).
	recoveredAfter time.Duration

	latest   *source.Snapshot // newest good snapshot
	latestAt time.Time
}

// answer is what one fetch's answer means for the screen.
type answer int

const (
	answerDropped   answer = iota // abandoned, or asked under an older query (asked again)
	answerFailed                  // the error is recorded and a retry armed
	answerGood                    // latest is new; the next tick is armed
	answerRecovered               // latest is new after failures (recoveredAfter); the next fetch is armed at once
	// answerCapped: latest is new, and the source turned out to cap what it sends while a
	// filter is set: the filter must now go to the source, so the query is asked again.
	answerCapped
)

func newRefresher(src source.Source, interval time.Duration, now func() time.Time, quit <-chan struct{}) refresher {
	_, lean := src.(source.Detailer)
	return refresher{
		src: src, lean: lean, now: now, quit: quit, interval: clampInterval(interval),
		schedule: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
	}
}

// connectStarted holds fetches back until connected is called.
func (r *refresher) connectStarted() {
	r.connecting = true
	r.fetchedAt = r.now()
}

// connected starts refreshing src, which Options.Connect has opened (nil when it failed).
func (r *refresher) connected(src source.Source) {
	r.connecting = false
	r.src = src
	_, r.lean = src.(source.Detailer)
}

// fetch starts one snapshot request under q. It is the only place that sets inFlight; it
// also invalidates any armed tick.
func (r *refresher) fetch(q source.Query) tea.Cmd {
	if r.connecting {
		return nil // the first fetch starts when the connect ends, with the query as it is then
	}
	r.inFlight = true
	r.tickSeq++
	r.fetchID++
	r.fetchedAt = r.now()
	// The filter is applied by the UI, not pushed down: the panes need the unfiltered count
	// for "N of M", and a filter edit then needs no round trip. Only a source that cannot
	// send everything gets it (pushFilter); the UI still applies it to what it sends.
	if !r.pushFilter {
		q.Filter = source.Filter{}
	}
	q.Lean = r.lean
	src, gen, id, quit := r.src, r.gen, r.fetchID, r.quit
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		ctx, stop := withQuit(ctx, quit)
		defer stop()
		snap, err := snapshotOf(ctx, src, q)
		return snapshotMsg{id: id, gen: gen, snap: snap, err: err}
	}
}

// snapshotOf calls the source and turns its misbehaviour (nil result, panic) into errors.
func snapshotOf(ctx context.Context, src source.Source, q source.Query) (snap *source.Snapshot, err error) {
	if src == nil {
		return nil, errors.New("no source configured")
	}
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("source failed: %v", r)
		}
	}()
	snap, err = src.Snapshot(ctx, q)
	if err == nil && snap == nil {
		err = errors.New("source returned no snapshot")
	}
	return snap, err
}

// onTick fetches when msg is the armed tick and nothing is in flight.
func (r *refresher) onTick(msg tickMsg, q source.Query) tea.Cmd {
	if msg.seq != r.tickSeq || r.inFlight {
		return nil
	}
	return r.fetch(q)
}

// arm schedules the next fetch after d; any earlier armed tick is ignored when it fires.
func (r *refresher) arm(d time.Duration) tea.Cmd {
	r.tickSeq++
	return r.schedule(d, tickMsg{seq: r.tickSeq})
}

// backoff is the delay before retry number n (1-based): the interval doubled per failure,
// capped at maxBackoff.
func backoff(interval time.Duration, n int) time.Duration {
	return source.Backoff{Base: interval, Max: maxBackoff}.Delay(n - 1)
}

// onSnapshot takes one answer under q and says what it means; the command is the loop's next
// step (nil with answerCapped: the caller asks again through queryChanged).
func (r *refresher) onSnapshot(msg snapshotMsg, q source.Query) (answer, tea.Cmd) {
	if msg.id != r.fetchID || !r.inFlight {
		return answerDropped, nil // an abandoned fetch
	}
	r.inFlight = false
	if msg.gen != r.gen {
		// Asked under settings that have changed since: drop it and ask again now.
		return answerDropped, r.fetch(q)
	}
	now := r.now()
	if msg.err != nil {
		if r.lastErr == nil {
			r.errSince = now
		}
		r.failures++
		r.lastErr = msg.err
		d := backoff(r.interval, r.failures)
		r.nextRetry = now.Add(d)
		return answerFailed, r.arm(d)
	}
	recovered := r.lastErr != nil
	if recovered {
		r.recoveredAfter = now.Sub(r.errSince)
	}
	r.failures, r.lastErr = 0, nil
	r.latest, r.latestAt = msg.snap, now
	if msg.snap.TotalSessions > len(msg.snap.Sessions) && !r.pushFilter {
		r.pushFilter = true
		if !q.Filter.Empty() {
			return answerCapped, nil // this answer was not filtered by the source
		}
	}
	if recovered {
		// The source is back: refresh again at once rather than one interval later, so the
		// screen catches up with what happened during the outage without a wait.
		return answerRecovered, r.arm(0)
	}
	return answerGood, r.arm(r.interval)
}

// hung gives up on a fetch that outlived its timeout by a wide margin (a source that ignores
// its context): it returns the failure to deliver in its place, and its answer, should it
// come, is ignored.
func (r *refresher) hung() (snapshotMsg, bool) {
	if !r.inFlight || r.now().Sub(r.fetchedAt) < fetchTimeout+hungGrace {
		return snapshotMsg{}, false
	}
	r.fetchID++
	return snapshotMsg{id: r.fetchID, gen: r.gen,
		err: fmt.Errorf("the source did not answer within %s; check the network and the server", fetchTimeout)}, true
}

// queryChanged starts a new generation: an answer in flight is dropped when it lands (and
// asked again then); otherwise the fetch goes out now.
func (r *refresher) queryChanged(q source.Query) tea.Cmd {
	r.gen++
	if r.inFlight {
		return nil
	}
	return r.fetch(q)
}

// setInterval changes the refresh interval and reports whether it did; a waiting tick is
// re-armed with it.
func (r *refresher) setInterval(d time.Duration) (bool, tea.Cmd) {
	d = clampInterval(d)
	if d == r.interval {
		return false, nil
	}
	r.interval = d
	if r.inFlight || r.lastErr != nil {
		return true, nil // the pending answer or retry re-arms with the new interval
	}
	return true, r.arm(d)
}

// waited is how long the fetch in flight (or the connect) has been waiting, 0 when none is.
func (r *refresher) waited(now time.Time) time.Duration {
	if !r.inFlight && !r.connecting {
		return 0
	}
	return now.Sub(r.fetchedAt)
}

func clampInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultInterval
	}
	return max(minInterval, min(d, maxInterval))
}

func nextInterval(cur time.Duration, dir int) time.Duration {
	if dir > 0 {
		for _, s := range intervalSteps {
			if s > cur {
				return s
			}
		}
		return maxInterval
	}
	for i := len(intervalSteps) - 1; i >= 0; i-- {
		if intervalSteps[i] < cur {
			return intervalSteps[i]
		}
	}
	return minInterval
}
