package tencent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/currentop/currentop/source"
)

// killPoll is how often Kill re-reads operations while waiting for killed ones to end.
const killPoll = 250 * time.Millisecond

// Kill ends operations through KillOps. Operation IDs are reused, so each target is first
// re-read: it is refused when the ID now belongs to another operation (different namespace
// or type, or a running time shorter than the caller saw), and reported already gone when it
// is no longer listed. The rest are killed in one call, then watched for up to a few seconds.
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	results := make([]source.KillResult, len(targets))
	for i, t := range targets {
		results[i].ID = t.ID
	}
	fail := func(i int, o source.KillOutcome, err error) {
		results[i].Outcome, results[i].Err = o, err
	}
	if err := s.checkOpen(true); err != nil {
		for i := range targets {
			fail(i, source.KillFailed, err)
		}
		return results
	}

	// Targets that may be killed, by index.
	var live []int
	for i, t := range targets {
		if _, err := parseSessionID(t.ID); err != nil {
			fail(i, source.KillFailed, err)
			continue
		}
		if t.Type == source.TypeIdle || strings.EqualFold(t.Op, "none") {
			fail(i, source.KillNotKillable, errors.New("tencent: an idle connection has no operation to kill"))
			continue
		}
		live = append(live, i)
	}
	if len(live) == 0 {
		return results
	}

	fresh, err := s.reread(ctx, targets, live)
	if err != nil {
		for _, i := range live {
			fail(i, outcomeOf(err), fmt.Errorf("re-reading the operation before the kill: %w", err))
		}
		return results
	}
	var kill []int
	var ops []*killOperation
	for _, i := range live {
		t := targets[i]
		op := fresh[t.ID]
		if op == nil {
			fail(i, source.KillAlreadyGone, nil)
			continue
		}
		if why := changed(t, op); why != "" {
			fail(i, source.KillRefused, fmt.Errorf("tencent: operation %s now belongs to another operation (%s): refresh and select it again", t.ID, why))
			continue
		}
		kill = append(kill, i)
		// Echo the API's own values, not the cleaned ones shown to the user.
		ops = append(ops, &killOperation{ReplicaSetName: op.ReplicaSetName, NodeName: op.NodeName, OpId: op.OpId})
	}
	if len(ops) == 0 {
		return results
	}

	resp := &killOpsResponse{}
	err = s.call(ctx, nil, actionKillOps, func() tchttp.Request {
		return &killOpsRequest{BaseRequest: newBase(actionKillOps), InstanceId: str(s.instance), Operations: ops}
	}, resp)
	if err != nil {
		for _, i := range kill {
			fail(i, outcomeOf(err), err)
		}
		return results
	}

	// KillOps only says the kill was accepted; killOp is cooperative. Watch for the
	// operations to disappear.
	for _, i := range kill {
		results[i].Outcome = source.KillPending
	}
	deadline := time.Now().Add(s.killWait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl.Add(-killPoll)
	}
	for remaining := kill; len(remaining) > 0 && time.Now().Before(deadline); {
		t := time.NewTimer(killPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return results
		case <-t.C:
		}
		now, err := s.reread(ctx, targets, remaining)
		if err != nil {
			return results // still pending: the next refresh tells
		}
		var still []int
		for _, i := range remaining {
			if now[targets[i].ID] == nil {
				results[i].Outcome = source.KillGone
			} else {
				still = append(still, i)
			}
		}
		remaining = still
	}
	return results
}

// reread fetches the current state of the targets at idx, keyed by session ID. It narrows the
// read to operations running at least as long as the shortest target, shortest first (the
// targets have only grown older, so they lead the list even in a pile-up of longer ones), to
// the replica set and to the namespace when all targets share them.
func (s *Source) reread(ctx context.Context, targets []source.Session, idx []int) (map[string]*currentOp, error) {
	p := pushed{shortestFirst: true}
	minUS := int64(-1)
	ns := targets[idx[0]].NS
	rs := ""
	if k, err := parseSessionID(targets[idx[0]].ID); err == nil {
		rs = k.rs
	}
	for _, i := range idx {
		if t := targets[i]; minUS < 0 || t.RunningUS < minUS {
			minUS = t.RunningUS
		}
		if targets[i].NS != ns {
			ns = ""
		}
		if k, err := parseSessionID(targets[i].ID); err != nil || k.rs != rs {
			rs = ""
		}
	}
	if rs != "" && isPlain(rs) {
		p.rs = &rs
	}
	if ms := minUS/1000 - 1; ms > 0 {
		v := uint64(min(ms, maxMillisecondRun))
		p.ms = &v
	}
	if ns != "" && isPlain(ns) {
		p.ns = &ns
	}
	ops, _, err := s.currentOps(ctx, nil, p, defaultMaxOps)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, i := range idx {
		want[targets[i].ID] = true
	}
	out := map[string]*currentOp{}
	for _, op := range ops {
		id := sessionID(source.Clean(deref(op.ReplicaSetName)), source.Clean(deref(op.NodeName)), deref(op.OpId))
		if want[id] {
			out[id] = op
		}
	}
	return out, nil
}

// changed says why op is not the operation t was, or "".
func changed(t source.Session, op *currentOp) string {
	if ns := source.Clean(deref(op.Ns)); ns != t.NS {
		return fmt.Sprintf("namespace %q, was %q", ns, t.NS)
	}
	if kind := source.Clean(deref(op.Op)); !strings.EqualFold(kind, t.Op) {
		return fmt.Sprintf("type %q, was %q", kind, t.Op)
	}
	now := toSession(op)
	if t.ConnectionID != 0 && now.ConnectionID != 0 && t.ConnectionID != now.ConnectionID {
		return fmt.Sprintf("connection %d, was %d", now.ConnectionID, t.ConnectionID)
	}
	if t.Client != "" && now.Client != "" && t.Client != now.Client {
		return fmt.Sprintf("client %s, was %s", now.Client, t.Client)
	}
	if us := runningUS(deref(op.MicrosecsRunning)); us < t.RunningUS {
		return fmt.Sprintf("running for %v, less than the %v seen before", time.Duration(us)*time.Microsecond, t.Running())
	}
	return ""
}

// outcomeOf is the kill outcome an API error means.
func outcomeOf(err error) source.KillOutcome {
	if errors.Is(err, ErrPermission) {
		return source.KillNotPermitted
	}
	return source.KillFailed
}

// isPlain reports whether s is printable ASCII, i.e. source.Clean left it unchanged.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return len(s) <= source.MaxField
}
