package huawei

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/currentop/currentop/source"
)

// planSummaries is the documented vocabulary of plan_summary values.
var planSummaries = []string{"COLLSCAN", "IXSCAN", "FETCH", "SORT", "LIMIT", "SKIP", "COUNT", "COUNT_SCAN", "TEXT", "PROJECTION"}

// pushdown translates the terms of f that the API can apply exactly into ListSessions query
// parameters. Only terms whose server-side result is a superset of what the term matches
// locally are pushed, so the caller's local filtering stays correct whatever the API's string
// matching is (equality is assumed at most):
//
//   - running>D / running>=D → cost_time (µs; the API returns sessions running longer).
//   - op:X → type, when exactly one type of source.Ops contains X (Contains is a substring
//     match), or op=x or op:/^x$/ names one (source.Term.LiteralIn).
//   - plan=X or plan:/^X$/ → plan_summary when X is a documented plan.
//   - ns:/(?-i)^db.coll$/ → namespace: only an exact, case-sensitive anchored literal is an
//     exact namespace (a substring or case-folded match is not).
//
// Negated terms and free-text terms are never pushed, and no parameter is ever sent empty: the
// API reads an empty value as "match sessions where the field is empty".
func pushdown(f source.Filter) url.Values {
	q := url.Values{}
	var minUS int64 = -1
	for _, t := range f.Terms {
		if t.Not {
			continue
		}
		switch {
		case t.Kind == source.Compare && t.Field == "running":
			if us, ok := lowerBoundUS(t.Cmp, t.Dur); ok && us > minUS {
				minUS = us
			}
		case t.Field == "op" && q.Get("type") == "":
			if v := vocabularyMatch(t, source.Ops); v != "" {
				q.Set("type", v)
			}
		case t.Field == "plan" && q.Get("plan_summary") == "":
			if t.Kind != source.Contains {
				if v := vocabularyMatch(t, planSummaries); v != "" {
					q.Set("plan_summary", v)
				}
			}
		case t.Field == "ns" && q.Get("namespace") == "":
			if lit, anyCase, ok := t.Literal(); ok && lit != "" && !anyCase {
				q.Set("namespace", lit)
			}
		}
	}
	if minUS >= 0 {
		q.Set("cost_time", strconv.FormatInt(min(minUS, math.MaxInt32), 10))
	}
	return q
}

// lowerBoundUS turns running>D or running>=D into the X of "cost_time > X µs". Clamping X to
// int32 (the API's type) only widens the result.
func lowerBoundUS(cmp string, d time.Duration) (int64, bool) {
	switch cmp {
	case ">":
		if d < 0 {
			return 0, false
		}
		return int64(d / time.Microsecond), true // RunningUS > d/1µs ⟺ RunningUS > floor(d/1µs)
	case ">=":
		ceil := int64((d + time.Microsecond - 1) / time.Microsecond)
		if ceil <= 0 {
			return 0, false // matches everything
		}
		return ceil - 1, true
	}
	return 0, false
}

// vocabularyMatch returns the one vocabulary word term t matches, or "".
func vocabularyMatch(t source.Term, vocab []string) string {
	switch t.Kind {
	case source.Contains:
		if t.Value == "" {
			return ""
		}
		var hit string
		for _, w := range vocab {
			if strings.Contains(strings.ToLower(w), strings.ToLower(t.Value)) {
				if hit != "" {
					return ""
				}
				hit = w
			}
		}
		return hit
	}
	w, _ := t.LiteralIn(vocab)
	return w
}
