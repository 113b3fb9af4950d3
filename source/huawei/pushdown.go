package huawei

import (
	"math"
	"net/url"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/currentop/currentop/source"
)

// opTypes is the documented vocabulary of ListSessions' type (MongoDB's currentOp "op").
var opTypes = []string{"none", "update", "insert", "query", "command", "getmore", "remove", "killcursors"}

// planSummaries is the documented vocabulary of plan_summary values.
var planSummaries = []string{"COLLSCAN", "IXSCAN", "FETCH", "SORT", "LIMIT", "SKIP", "COUNT", "COUNT_SCAN", "TEXT", "PROJECTION"}

// pushdown translates the terms of f that the API can apply exactly into ListSessions query
// parameters. Only terms whose server-side result is a superset of what the term matches
// locally are pushed, so the caller's local filtering stays correct whatever the API's string
// matching is (equality is assumed at most):
//
//   - running>D / running>=D → cost_time (µs; the API returns sessions running longer).
//   - op:X → type, when exactly one documented type contains X (Contains is a substring match),
//     or op:/^x$/ names one.
//   - plan:/^X$/ → plan_summary when X is a documented plan (matched case-insensitively).
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
			if v := vocabularyMatch(t, opTypes); v != "" {
				q.Set("type", v)
			}
		case t.Field == "plan" && q.Get("plan_summary") == "":
			if t.Kind == source.Regex {
				if v := vocabularyMatch(t, planSummaries); v != "" {
					q.Set("plan_summary", v)
				}
			}
		case t.Field == "ns" && q.Get("namespace") == "":
			if lit, fold, ok := anchoredLiteral(t); ok && lit != "" && (!fold || caseless(lit)) {
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
	case source.Regex:
		lit, _, ok := anchoredLiteral(t)
		if !ok || lit == "" {
			return ""
		}
		for _, w := range vocab {
			if strings.EqualFold(w, lit) {
				return w
			}
		}
	}
	return ""
}

// anchoredLiteral recognises a regular expression that matches exactly one string: ^literal$.
// fold reports case-insensitive matching.
func anchoredLiteral(t source.Term) (lit string, fold, ok bool) {
	if t.Kind != source.Regex || t.Re == nil {
		return "", false, false
	}
	re, err := syntax.Parse(t.Re.String(), syntax.Perl)
	if err != nil {
		return "", false, false
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) != 3 {
		return "", false, false
	}
	begin, mid, end := re.Sub[0], re.Sub[1], re.Sub[2]
	if begin.Op != syntax.OpBeginText || end.Op != syntax.OpEndText || mid.Op != syntax.OpLiteral {
		return "", false, false
	}
	return string(mid.Rune), mid.Flags&syntax.FoldCase != 0, true
}

// caseless reports whether s has no letter that changes under case folding.
func caseless(s string) bool {
	for _, r := range s {
		if unicode.SimpleFold(r) != r {
			return false
		}
	}
	return true
}
