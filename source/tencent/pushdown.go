package tencent

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode"

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

// The API's vocabularies for Op and State (DescribeCurrentOp request parameters).
var (
	opVocabulary    = []string{"none", "update", "insert", "query", "command", "getmore", "remove", "killcursors"}
	stateVocabulary = []string{"primary", "secondary"}
)

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
				p.op = exactValue(t, opVocabulary)
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
			if lit, fold, ok := exactLiteral(t); ok && !fold && lit != "" {
				p.ns = &lit
			}
		}
	}
	return p
}

// exactValue returns the one value of universe that the anchored literal term t (field=value)
// matches, or nil. The local match ignores case, so the term is pushed only when no other
// value of the universe differs from it in case alone.
func exactValue(t source.Term, universe []string) *string {
	if _, _, ok := exactLiteral(t); !ok {
		return nil
	}
	return onlyMatch(t, universe)
}

// onlyMatch returns the one value of universe that t matches, or nil.
func onlyMatch(t source.Term, universe []string) *string {
	var hit *string
	for i := range universe {
		v := universe[i]
		var ok bool
		switch t.Kind {
		case source.Contains:
			ok = t.Value != "" && strings.Contains(strings.ToLower(v), t.Value)
		case source.Regex:
			ok = t.Re != nil && t.Re.MatchString(v)
		}
		if !ok {
			continue
		}
		if hit != nil {
			return nil
		}
		hit = &v
	}
	return hit
}

// exactLiteral reports whether t is an anchored literal regex (^literal$, as ParseFilter
// makes of field=value) and returns the literal. fold is set when the match ignores the case
// of letters in it, i.e. it matches more than the literal itself.
func exactLiteral(t source.Term) (lit string, fold, ok bool) {
	if t.Kind != source.Regex || t.Re == nil {
		return "", false, false
	}
	return regexLiteral(t.Re)
}

func regexLiteral(re *regexp.Regexp) (lit string, fold, ok bool) {
	full, ok := anchoredLiteral(re.String())
	if !ok {
		return "", false, false
	}
	if full.Flags&syntax.FoldCase == 0 {
		return string(full.Rune), false, true
	}
	// The parser canonicalises case-folded literals to upper case; parse the pattern without
	// the leading (?i) that ParseFilter adds, to keep the text as the user typed it.
	typed, ok := anchoredLiteral(strings.TrimPrefix(re.String(), "(?i)"))
	if !ok || typed.Flags&syntax.FoldCase != 0 {
		return "", false, false // a (?i) elsewhere: the literal's case is lost
	}
	for _, r := range typed.Rune {
		if unicode.SimpleFold(r) != r {
			fold = true // case-insensitive letters: more than one string matches
		}
	}
	return string(typed.Rune), fold, true
}

// anchoredLiteral returns the literal node of a ^literal$ pattern.
func anchoredLiteral(pattern string) (*syntax.Regexp, bool) {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	tree = tree.Simplify()
	if tree.Op != syntax.OpConcat || len(tree.Sub) != 3 ||
		tree.Sub[0].Op != syntax.OpBeginText || tree.Sub[2].Op != syntax.OpEndText ||
		tree.Sub[1].Op != syntax.OpLiteral {
		return nil, false
	}
	return tree.Sub[1], true
}
