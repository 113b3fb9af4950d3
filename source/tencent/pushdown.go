package tencent

import (
	"time"

	"github.com/currentop/currentop/source"
)

// pushed holds the DescribeCurrentOp filters derived from the user's filter. Each is pushed
// only when the API's filter returns a superset of what the term matches locally, so the
// caller's local filtering (source.Apply) gives the same answer as with nothing pushed down.
type pushed struct {
	ns, op, rs, state *string
	ms                *uint64
	// shortestFirst orders by running time ascending (kill's re-read: the targets are the
	// shortest-running of what a running-time bound selects).
	shortestFirst bool
}

func (p pushed) apply(r *describeCurrentOpRequest) {
	r.Ns, r.Op, r.ReplicaSetName, r.State, r.MillisecondRunning = p.ns, p.op, p.rs, p.state, p.ms
}

// stateVocabulary is the API's vocabulary for State (a DescribeCurrentOp request parameter);
// its Op vocabulary is source.Ops.
var stateVocabulary = []string{"primary", "secondary"}

// pushdown maps filter terms onto DescribeCurrentOp's parameters. The API's filters are exact
// and case-sensitive, and its vocabularies are documented but not guaranteed closed, so only
// terms that name one value exactly are pushed:
//
//   - running>D, running>=D, running=D → MillisecondRunning (ops running longer than D−1ms);
//   - op=V → Op, when V is a value of the API's Op vocabulary (op:in stays local: the API may
//     report command names such as findAndModify that a substring would match);
//   - desc=V → State (the node role, shown in the Desc column), likewise;
//   - shard=V → ReplicaSetName, when V is one of the instance's replica sets as
//     DescribeDBInstances lists them (never a name the API could answer ReplicaNotFound to);
//   - ns:/(?-i)^db\.coll$/ → Ns: only a case-exact namespace. ns=… ignores case on screen,
//     and collection names may differ only in case, so pushing it could hide rows.
//
// Negated terms and terms on other fields stay local.
func pushdown(f source.Filter, info *instanceInfo) pushed {
	var p pushed
	for _, t := range f.Terms {
		if t.Not {
			continue
		}
		switch t.Field {
		case "running":
			if t.Kind != source.Compare || (t.Cmp != ">" && t.Cmp != ">=" && t.Cmp != "=") {
				continue
			}
			// One millisecond of slack keeps the pushed filter a superset whatever the API's
			// rounding; the local filter applies the exact bound.
			ms := t.Dur/time.Millisecond - 1
			if ms <= 0 {
				continue
			}
			v := uint64(min(ms, maxMillisecondRun))
			if p.ms == nil || v > *p.ms {
				p.ms = &v
			}
		case "op":
			if p.op == nil {
				p.op = exactValue(t, source.Ops)
			}
		case "desc":
			if p.state == nil {
				p.state = exactValue(t, stateVocabulary)
			}
		case "shard":
			if p.rs == nil && info != nil {
				p.rs = exactValue(t, info.ReplicaSets)
			}
		case "ns":
			if p.ns != nil {
				continue
			}
			if lit, anyCase, ok := t.Literal(); ok && !anyCase && lit != "" {
				p.ns = &lit
			}
		}
	}
	return p
}

// exactValue returns the one value of universe that the literal term t (field=value)
// matches, or nil. The local match ignores case, so the term is pushed only when no other
// value of the universe differs from it in case alone.
func exactValue(t source.Term, universe []string) *string {
	if v, ok := t.LiteralIn(universe); ok {
		return &v
	}
	return nil
}
