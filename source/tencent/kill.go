package tencent

import (
	"context"
	"errors"
	"strings"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/currentop/currentop/source"
)

// killPoll is how often Kill re-reads operations while waiting for killed ones to end.
const killPoll = 250 * time.Millisecond

// Kill ends operations through KillOps, safely (source.KillSafely). Operation IDs are reused,
// so each target is first re-read: it is refused when the ID now belongs to another operation,
// and reported already gone when it is no longer listed. The rest are killed in one call, then
// watched for up to a few seconds.
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	k := &killing{s: s, ops: map[string]*currentOp{}}
	return source.KillSafely(ctx, k, targets, source.KillWatch{Settle: s.killWait, Poll: killPoll})
}

// killing is one Kill's steps; ops keeps each target's operation as the API sent it.
type killing struct {
	s   *Source
	ops map[string]*currentOp
}

func (k *killing) Check(t source.Session) (source.KillOutcome, error) {
	if err := k.s.checkOpen(true); err != nil {
		return source.KillFailed, err
	}
	if _, err := parseSessionID(t.ID); err != nil {
		return source.KillFailed, err
	}
	if t.Type == source.TypeIdle || strings.EqualFold(t.Op, "none") {
		return source.KillNotKillable, errors.New("tencent: an idle connection has no operation to kill")
	}
	return "", nil
}

// Reread reads the targets' operations in one narrowed call (see reread).
func (k *killing) Reread(ctx context.Context, targets []source.Session) []source.Current {
	out := make([]source.Current, len(targets))
	fresh, err := k.s.reread(ctx, targets)
	for i, t := range targets {
		if err != nil {
			out[i].Err = err
			continue
		}
		if op := fresh[t.ID]; op != nil {
			k.ops[t.ID] = op
			out[i] = source.Current{Session: toSession(op), Found: true}
		}
	}
	return out
}

// Kill sends one KillOps with the API's own values, not the cleaned ones shown to the user.
func (k *killing) Kill(ctx context.Context, targets []source.Session) []error {
	ops := make([]*killOperation, len(targets))
	for i, t := range targets {
		op := k.ops[t.ID]
		ops[i] = &killOperation{ReplicaSetName: op.ReplicaSetName, NodeName: op.NodeName, OpId: op.OpId}
	}
	resp := &killOpsResponse{}
	err := k.s.call(ctx, nil, actionKillOps, func() tchttp.Request {
		return &killOpsRequest{BaseRequest: newBase(actionKillOps), InstanceId: str(k.s.instance), Operations: ops}
	}, resp)
	errs := make([]error, len(targets))
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// reread fetches the current state of the targets, keyed by session ID. It narrows the read
// to operations running at least as long as the shortest target, shortest first (the targets
// have only grown older, so they lead the list even in a pile-up of longer ones), to the
// replica set and to the namespace when all targets share them.
func (s *Source) reread(ctx context.Context, targets []source.Session) (map[string]*currentOp, error) {
	p := pushed{shortestFirst: true}
	minUS := int64(-1)
	ns := targets[0].NS
	rs := ""
	if k, err := parseSessionID(targets[0].ID); err == nil {
		rs = k.rs
	}
	for _, t := range targets {
		if minUS < 0 || t.RunningUS < minUS {
			minUS = t.RunningUS
		}
		if t.NS != ns {
			ns = ""
		}
		if k, err := parseSessionID(t.ID); err != nil || k.rs != rs {
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
	for _, t := range targets {
		want[t.ID] = true
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

// isPlain reports whether s is printable ASCII, i.e. source.Clean left it unchanged.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return len(s) <= source.MaxField
}
