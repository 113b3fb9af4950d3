package source

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RestartSlack is how much shorter a re-read running time may be than the one the user saw
// and still belong to the same operation.
//
// One operation's running time only grows, and a server measures it afresh at each read, so
// two readings of it differ only by how they were taken: a cloud API may answer each call from
// another machine of its fleet, measuring on that machine's clock, and may report whole
// milliseconds (Tencent documents MicrosecsRunning in ms). On synchronised clocks that is less
// than a millisecond. More than that is an operation that started later under the same ID: a
// server reuses operation IDs, and a restarted operation often runs on the same connection and
// namespace, so the running time is what tells it apart.
const RestartSlack = time.Millisecond

// SameOperation says why now, the operation that holds an ID today, is not the operation the
// user saw under it, or returns "" when nothing says so. It is the one rule every Killer uses
// before sending a kill:
//
//   - the connection (ConnectionID, client address and connection description) and what it
//     runs (op, namespace) must not have changed; op is compared ignoring case, as providers
//     spell it differently;
//   - only what both sides know is compared: a provider that leaves a field empty in one
//     reading proves nothing by it;
//   - the running time must not have gone backwards by more than RestartSlack.
func SameOperation(saw, now Session) (why string) {
	switch {
	case saw.ConnectionID != 0 && now.ConnectionID != 0 && saw.ConnectionID != now.ConnectionID:
		return fmt.Sprintf("connection %d, was %d", now.ConnectionID, saw.ConnectionID)
	case differs(saw.Client, now.Client):
		return fmt.Sprintf("client %s, was %s", now.Client, saw.Client)
	case differs(saw.Desc, now.Desc):
		return fmt.Sprintf("connection %s, was %s", now.Desc, saw.Desc)
	case saw.Op != "" && now.Op != "" && !strings.EqualFold(saw.Op, now.Op):
		return fmt.Sprintf("op %s, was %s", now.Op, saw.Op)
	case differs(saw.NS, now.NS):
		return fmt.Sprintf("namespace %s, was %s", now.NS, saw.NS)
	case now.Running()+RestartSlack < saw.Running():
		return fmt.Sprintf("running %v, was %v: it restarted", now.Running(), saw.Running())
	}
	return ""
}

func differs(saw, now string) bool { return saw != "" && now != "" && saw != now }

// KillSteps are what a source does to kill safely; KillSafely runs them in order. A source
// makes a fresh KillSteps per Kill call, so it may keep what Reread found (an API's own ID
// values, a node) for Kill.
type KillSteps interface {
	// Check says why a target cannot be killed at all, before anything is read (an idle
	// session, an ID this source never gives out), or returns "" and nil.
	Check(t Session) (KillOutcome, error)
	// Reread reads what holds the targets' IDs now: one Current per target, in order.
	Reread(ctx context.Context, targets []Session) []Current
	// Kill asks the server to end the targets, which the last Reread found unchanged: one
	// error per target, in order, nil when that kill was accepted.
	Kill(ctx context.Context, targets []Session) []error
}

// Current is what holds a target's ID now.
type Current struct {
	Session Session
	// Found: an active operation holds the ID. When false, it ended (or went idle).
	Found bool
	// Err: the ID could not be read; Session and Found mean nothing.
	Err error
}

// KillWatch says how KillSafely watches killed operations end. killOp and the cloud APIs only
// mark an operation; it stops at its next interrupt point.
type KillWatch struct {
	// Settle is how long to watch before calling a killed operation pending (or still
	// running); 0 reads once, right after the kill.
	Settle time.Duration
	// Poll is the pause between reads.
	Poll time.Duration
	// Marks: the server marks killed operations (killPending), so one still running without
	// the mark after Settle did not take the kill (KillStillRunning).
	Marks bool
	// Now and After are the clock (time.Now and time.After when nil); tests inject theirs.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// KillSafely kills targets, as the user saw them, in the one safe way: each target is checked,
// its ID re-read and compared with SameOperation (refused when another operation holds it,
// already gone when none does), the rest are killed, and the killed ones are watched until
// they end or w.Settle passes. It returns one result per target, in order.
//
// Errors are classified by kind (see Error): a permission error is KillNotPermitted, an
// unsupported kill KillNotKillable, anything else KillFailed.
func KillSafely(ctx context.Context, steps KillSteps, targets []Session, w KillWatch) []KillResult {
	res := make([]KillResult, len(targets))
	var live []int
	for i, t := range targets {
		res[i].ID = t.ID
		if o, err := steps.Check(t); o != "" {
			res[i].Outcome, res[i].Err = o, err
			continue
		}
		live = append(live, i)
	}
	kill := confirm(ctx, steps, targets, live, res)
	if len(kill) == 0 {
		return res
	}
	var sent []int
	for j, err := range steps.Kill(ctx, pick(targets, kill)) {
		i := kill[j]
		if err != nil {
			res[i].Outcome, res[i].Err = killOutcome(err), err
			continue
		}
		res[i].Outcome = KillPending
		sent = append(sent, i)
	}
	if len(sent) > 0 {
		watch(ctx, steps, targets, sent, res, w)
	}
	return res
}

// confirm re-reads the live targets and returns those that may be killed; the others get
// their result.
func confirm(ctx context.Context, steps KillSteps, targets []Session, live []int, res []KillResult) []int {
	if len(live) == 0 {
		return nil
	}
	var kill []int
	for j, cur := range steps.Reread(ctx, pick(targets, live)) {
		i, t := live[j], targets[live[j]]
		switch {
		case cur.Err != nil:
			res[i].Outcome = killOutcome(cur.Err)
			res[i].Err = fmt.Errorf("%s could not be read again before the kill, nothing was killed: %w", t.ID, cur.Err)
		case !cur.Found:
			res[i].Outcome = KillAlreadyGone
		default:
			if why := SameOperation(t, cur.Session); why != "" {
				res[i].Outcome = KillRefused
				res[i].Err = fmt.Errorf("%s now belongs to another operation (%s): nothing was killed — refresh and check it again", t.ID, why)
				continue
			}
			kill = append(kill, i)
		}
	}
	return kill
}

// watch re-reads the killed targets until each has ended or w.Settle has passed.
func watch(ctx context.Context, steps KillSteps, targets []Session, sent []int, res []KillResult, w KillWatch) {
	now, after := w.Now, w.After
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	deadline := now().Add(w.Settle)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-w.Poll).Before(deadline) {
		deadline = dl.Add(-w.Poll) // leave time to answer
	}
	poll := w.Poll
	if poll <= 0 {
		poll = max(w.Settle, time.Millisecond)
	}
	// The watch ends at the deadline, or after as many reads as fit in Settle, whichever comes
	// first: a clock that does not move cannot make it endless.
	reads := int(w.Settle/poll) + 1
	for n := 1; len(sent) > 0; n++ {
		if n > 1 || w.Settle > 0 {
			select {
			case <-ctx.Done():
				for _, i := range sent {
					res[i].Err = fmt.Errorf("the kill of %s was sent; stopped watching it: %w", targets[i].ID, ctx.Err())
				}
				return
			case <-after(poll):
			}
		}
		var still []int
		last := n >= reads || !now().Before(deadline)
		for j, cur := range steps.Reread(ctx, pick(targets, sent)) {
			i, t := sent[j], targets[sent[j]]
			switch {
			case cur.Err != nil:
				res[i].Err = fmt.Errorf("the kill of %s was accepted but its outcome could not be checked: %w", t.ID, cur.Err)
			case !cur.Found || SameOperation(t, cur.Session) != "":
				res[i].Outcome = KillGone
			case !last:
				still = append(still, i)
			case w.Marks && !cur.Session.KillPending:
				res[i].Outcome = KillStillRunning
				res[i].Err = fmt.Errorf("the server accepted the kill but %s is still running; it may not check for interrupts — try again or kill its session", t.ID)
			}
		}
		sent = still
	}
}

// killOutcome is what a failed re-read or kill means for its target.
func killOutcome(err error) KillOutcome {
	switch KindOf(err) {
	case ErrPermission:
		return KillNotPermitted
	case ErrUnsupported:
		return KillNotKillable
	}
	return KillFailed
}

func pick(targets []Session, idx []int) []Session {
	out := make([]Session, len(idx))
	for j, i := range idx {
		out[j] = targets[i]
	}
	return out
}
