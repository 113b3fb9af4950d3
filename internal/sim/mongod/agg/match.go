package agg

import (
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// matcher is a compiled $match query.
type matcher interface {
	match(d bson.D) bool
}

type andMatcher []matcher

func (m andMatcher) match(d bson.D) bool {
	for _, x := range m {
		if !x.match(d) {
			return false
		}
	}
	return true
}

type orMatcher []matcher

func (m orMatcher) match(d bson.D) bool {
	for _, x := range m {
		if x.match(d) {
			return true
		}
	}
	return false
}

type notMatcher struct{ m matcher }

func (m notMatcher) match(d bson.D) bool { return !m.m.match(d) }

// exprMatcher is {$expr: …}.
type exprMatcher struct{ e expr }

func (m exprMatcher) match(d bson.D) bool {
	c := newCtx(d)
	v, err := m.e.eval(c)
	return err == nil && truthy(v)
}

// fieldMatcher matches when any candidate value on the path satisfies pred.
type fieldMatcher struct {
	parts []string
	pred  pred
}

func (m fieldMatcher) match(d bson.D) bool {
	return visitPath(d, m.parts, m.pred.test)
}

// pred tests one candidate value of a path (see visitFn).
type pred interface {
	test(v any, elem bool) bool
}

type eqPred struct{ val any }

func (p eqPred) test(v any, _ bool) bool {
	if isNullish(p.val) {
		return v == nil || isMissing(v)
	}
	return canon(v) == canon(p.val) && compare(v, p.val) == 0
}

type cmpPred struct {
	op  string
	val any
}

func (p cmpPred) test(v any, _ bool) bool {
	if p.val == nil {
		// {$gte: null} and {$lte: null} match null and missing; $gt/$lt match nothing.
		return (p.op == "$gte" || p.op == "$lte") && (v == nil || isMissing(v))
	}
	cv := canon(p.val)
	if cv != canonMinKey && cv != canonMaxKey && canon(v) != cv {
		return false // type bracketing
	}
	if isMissing(v) {
		return false
	}
	c := compare(v, p.val)
	switch p.op {
	case "$gt":
		return c > 0
	case "$gte":
		return c >= 0
	case "$lt":
		return c < 0
	}
	return c <= 0
}

type regexPred struct {
	re  *regexp.Regexp
	raw bson.Regex
}

func (p regexPred) test(v any, _ bool) bool {
	switch x := v.(type) {
	case string:
		return p.re.MatchString(x)
	case bson.Symbol:
		return p.re.MatchString(string(x))
	case bson.Regex:
		return x.Pattern == p.raw.Pattern && x.Options == p.raw.Options
	}
	return false
}

type inPred struct {
	vals []eqPred
	res  []regexPred
}

func (p inPred) test(v any, elem bool) bool {
	for _, e := range p.vals {
		if e.test(v, elem) {
			return true
		}
	}
	for _, r := range p.res {
		if r.test(v, elem) {
			return true
		}
	}
	return false
}

type existsPred struct{}

func (existsPred) test(v any, _ bool) bool { return !isMissing(v) }

type typePred struct {
	codes  []int
	number bool
}

func (p typePred) test(v any, _ bool) bool {
	if isMissing(v) {
		return false
	}
	if p.number && isNumber(v) {
		return true
	}
	c := typeCode(v)
	for _, x := range p.codes {
		if x == c {
			return true
		}
	}
	return false
}

type sizePred struct{ n int }

func (p sizePred) test(v any, elem bool) bool {
	a, ok := v.(bson.A)
	return ok && !elem && len(a) == p.n
}

type modPred struct{ div, rem int64 }

func (p modPred) test(v any, _ bool) bool {
	f, ok := num(v)
	if !ok || f != f {
		return false
	}
	i, ok := asInt64(truncNum(f))
	return ok && i%p.div == p.rem
}

// elemMatchPred matches an array with at least one element satisfying a sub-query (doc form)
// or the operators in val (value form, on the element wrapped as {"e": element}).
type elemMatchPred struct {
	doc matcher
	val matcher
}

func (p elemMatchPred) test(v any, elem bool) bool {
	a, ok := v.(bson.A)
	if !ok || elem {
		return false
	}
	for _, e := range a {
		e = norm(e)
		if p.doc != nil {
			if d, ok := e.(bson.D); ok && p.doc.match(d) {
				return true
			}
			continue
		}
		if p.val.match(bson.D{{Key: elemPath[0], Value: e}}) {
			return true
		}
	}
	return false
}

// compileMatch compiles a $match query document.
func compileMatch(q bson.D, depth int) (matcher, error) {
	if depth > maxDepth {
		return nil, errf(codeOverflow, "query nesting exceeds the maximum depth of %d", maxDepth)
	}
	var ms andMatcher
	for _, e := range q {
		if strings.HasPrefix(e.Key, "$") {
			m, err := compileTopOperator(e.Key, norm(e.Value), depth)
			if err != nil {
				return nil, err
			}
			if m != nil {
				ms = append(ms, m)
			}
			continue
		}
		fm, err := compileField(e.Key, norm(e.Value), depth)
		if err != nil {
			return nil, err
		}
		ms = append(ms, fm...)
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ms, nil
}

func compileTopOperator(op string, v any, depth int) (matcher, error) {
	switch op {
	case "$and", "$or", "$nor":
		arr, ok := v.(bson.A)
		if !ok || len(arr) == 0 {
			return nil, errf(codeBadValue, "$and/$or/$nor must be a nonempty array")
		}
		subs := make([]matcher, 0, len(arr))
		for _, x := range arr {
			d, ok := asDoc(x)
			if !ok {
				return nil, errf(codeBadValue, "$or/$and/$nor entries need to be full objects")
			}
			m, err := compileMatch(d, depth+1)
			if err != nil {
				return nil, err
			}
			subs = append(subs, m)
		}
		switch op {
		case "$and":
			return andMatcher(subs), nil
		case "$or":
			return orMatcher(subs), nil
		}
		return notMatcher{orMatcher(subs)}, nil
	case "$expr":
		e, err := parseExpr(v, newScope(), depth+1)
		if err != nil {
			return nil, err
		}
		return exprMatcher{e}, nil
	case "$comment":
		return nil, nil
	case "$where":
		return nil, errf(codeBadValue, "$where is not allowed in this context")
	case "$text":
		return nil, errf(27, "text index required for $text query")
	}
	return nil, errf(codeBadValue, "unknown top level operator: %s. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.", op)
}

func isOperatorDoc(v any) (bson.D, bool) {
	d, ok := v.(bson.D)
	if !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return nil, false
	}
	return d, true
}

func compileField(path string, v any, depth int) ([]matcher, error) {
	parts, ok := splitPath(path)
	if !ok {
		return nil, errf(codeBadValue, "FieldPath field names may not be empty strings.")
	}
	if rx, ok := v.(bson.Regex); ok {
		p, err := newRegexPred(rx.Pattern, rx.Options)
		if err != nil {
			return nil, err
		}
		return []matcher{fieldMatcher{parts, p}}, nil
	}
	ops, ok := isOperatorDoc(v)
	if !ok {
		return []matcher{fieldMatcher{parts, eqPred{v}}}, nil
	}
	return compileOperators(parts, ops, depth)
}

func newRegexPred(pattern, options string) (regexPred, error) {
	re, err := compileRegex(pattern, options)
	if err != nil {
		return regexPred{}, err
	}
	return regexPred{re: re, raw: bson.Regex{Pattern: pattern, Options: options}}, nil
}

// compileOperators compiles an operator document ({$gt: 1, $ne: 2, …}) on a path: each
// operator is its own matcher (any candidate satisfies it), negated ones ($ne, $nin,
// $exists:false, $not) match when no candidate satisfies the positive form.
func compileOperators(parts []string, ops bson.D, depth int) ([]matcher, error) {
	preds, negs, err := compilePreds(parts, ops, depth)
	if err != nil {
		return nil, err
	}
	out := make([]matcher, 0, len(preds)+len(negs))
	for _, p := range preds {
		out = append(out, fieldMatcher{parts, p})
	}
	return append(out, negs...), nil
}

func compilePreds(parts []string, ops bson.D, depth int) (preds []pred, negs []matcher, err error) {
	if depth > maxDepth {
		return nil, nil, errf(codeOverflow, "query nesting exceeds the maximum depth of %d", maxDepth)
	}
	var regex, options *string
	var regexVal bson.Regex
	for _, e := range ops {
		v := norm(e.Value)
		switch e.Key {
		case "$eq":
			preds = append(preds, eqPred{v})
		case "$ne":
			negs = append(negs, notMatcher{fieldMatcher{parts, eqPred{v}}})
		case "$gt", "$gte", "$lt", "$lte":
			preds = append(preds, cmpPred{e.Key, v})
		case "$in", "$nin":
			p, err := compileIn(e.Key, v)
			if err != nil {
				return nil, nil, err
			}
			if e.Key == "$in" {
				preds = append(preds, p)
			} else {
				negs = append(negs, notMatcher{fieldMatcher{parts, p}})
			}
		case "$exists":
			if truthy(v) {
				preds = append(preds, existsPred{})
			} else {
				negs = append(negs, notMatcher{fieldMatcher{parts, existsPred{}}})
			}
		case "$regex":
			switch x := v.(type) {
			case string:
				regex = &x
			case bson.Regex:
				regexVal = x
				p := x.Pattern
				regex = &p
			default:
				return nil, nil, errf(codeBadValue, "$regex has to be a string")
			}
		case "$options":
			s, ok := v.(string)
			if !ok {
				return nil, nil, errf(codeBadValue, "$options has to be a string")
			}
			options = &s
		case "$not":
			inner, err := compileNot(parts, v, depth)
			if err != nil {
				return nil, nil, err
			}
			negs = append(negs, notMatcher{inner})
		case "$type":
			p, err := compileType(v)
			if err != nil {
				return nil, nil, err
			}
			preds = append(preds, p)
		case "$size":
			n, ok := asInt64(v)
			if !ok {
				if isNumber(v) {
					return nil, nil, errf(codeBadValue, "$size must be a whole number")
				}
				return nil, nil, errf(codeBadValue, "$size needs a number")
			}
			if n < 0 {
				return nil, nil, errf(codeBadValue, "$size may not be negative")
			}
			preds = append(preds, sizePred{int(min(n, 1<<31))})
		case "$all":
			arr, ok := v.(bson.A)
			if !ok {
				return nil, nil, errf(codeBadValue, "$all needs an array")
			}
			if len(arr) == 0 {
				preds = append(preds, inPred{}) // matches nothing
			}
			for _, x := range arr {
				x = norm(x)
				if rx, ok := x.(bson.Regex); ok {
					p, err := newRegexPred(rx.Pattern, rx.Options)
					if err != nil {
						return nil, nil, err
					}
					preds = append(preds, p)
					continue
				}
				preds = append(preds, eqPred{x})
			}
		case "$elemMatch":
			d, ok := v.(bson.D)
			if !ok {
				return nil, nil, errf(codeBadValue, "$elemMatch needs an Object")
			}
			p, err := compileElemMatch(d, depth)
			if err != nil {
				return nil, nil, err
			}
			preds = append(preds, p)
		case "$mod":
			arr, ok := v.(bson.A)
			if !ok || len(arr) != 2 {
				return nil, nil, errf(codeBadValue, "malformed mod, needs to be an array")
			}
			div, ok1 := num(norm(arr[0]))
			rem, ok2 := num(norm(arr[1]))
			if !ok1 || !ok2 {
				return nil, nil, errf(codeBadValue, "malformed mod, divisor and remainder not a number")
			}
			d, _ := asInt64(truncNum(div))
			r, _ := asInt64(truncNum(rem))
			if d == 0 {
				return nil, nil, errf(codeBadValue, "divisor cannot be 0")
			}
			preds = append(preds, modPred{d, r})
		case "$comment":
		default:
			return nil, nil, errf(codeBadValue, "unknown operator: %s", e.Key)
		}
	}
	if options != nil && regex == nil {
		return nil, nil, errf(codeBadValue, "$options needs a $regex")
	}
	if regex != nil {
		opts := regexVal.Options
		if options != nil {
			if opts != "" {
				return nil, nil, errf(51075, "options set in both $regex and $options")
			}
			opts = *options
		}
		p, err := newRegexPred(*regex, opts)
		if err != nil {
			return nil, nil, err
		}
		preds = append(preds, p)
	}
	return preds, negs, nil
}

func truncNum(f float64) float64 {
	if f != f {
		return 0
	}
	if f > 9.2e18 {
		return 9.2e18
	}
	if f < -9.2e18 {
		return -9.2e18
	}
	return float64(int64(f))
}

func compileIn(op string, v any) (inPred, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return inPred{}, errf(codeBadValue, "%s needs an array", op)
	}
	var p inPred
	for _, x := range arr {
		x = norm(x)
		switch y := x.(type) {
		case bson.Regex:
			r, err := newRegexPred(y.Pattern, y.Options)
			if err != nil {
				return inPred{}, err
			}
			p.res = append(p.res, r)
			continue
		case bson.D:
			if len(y) > 0 && strings.HasPrefix(y[0].Key, "$") {
				return inPred{}, errf(codeBadValue, "cannot nest $ under %s", op)
			}
		}
		p.vals = append(p.vals, eqPred{x})
	}
	return p, nil
}

func compileNot(parts []string, v any, depth int) (matcher, error) {
	switch x := v.(type) {
	case bson.Regex:
		p, err := newRegexPred(x.Pattern, x.Options)
		if err != nil {
			return nil, err
		}
		return fieldMatcher{parts, p}, nil
	case bson.D:
		if len(x) == 0 {
			return nil, errf(codeBadValue, "$not cannot be empty")
		}
		if _, ok := isOperatorDoc(x); !ok {
			return nil, errf(codeBadValue, "unknown operator: %s", x[0].Key)
		}
		ms, err := compileOperators(parts, x, depth+1)
		if err != nil {
			return nil, err
		}
		return andMatcher(ms), nil
	}
	return nil, errf(codeBadValue, "$not needs a regex or a document")
}

func compileType(v any) (typePred, error) {
	var p typePred
	add := func(x any) error {
		switch y := x.(type) {
		case string:
			if y == "number" {
				p.number = true
				return nil
			}
			c, ok := typeCodes[y]
			if !ok {
				return errf(codeBadValue, "Unknown type name alias: %s", y)
			}
			p.codes = append(p.codes, c)
			return nil
		}
		if isNumber(x) {
			n, ok := asInt64(x)
			if ok {
				for _, c := range typeCodes {
					if int64(c) == n {
						p.codes = append(p.codes, c)
						return nil
					}
				}
			}
			return errf(codeBadValue, "Invalid numerical type code: %v", x)
		}
		return errf(codeTypeMismatch, "type must be represented as a number or a string")
	}
	if arr, ok := v.(bson.A); ok {
		for _, x := range arr {
			if err := add(norm(x)); err != nil {
				return typePred{}, err
			}
		}
		return p, nil
	}
	return p, add(v)
}

func compileElemMatch(d bson.D, depth int) (pred, error) {
	if ops, ok := isOperatorDoc(d); ok {
		switch ops[0].Key {
		case "$and", "$or", "$nor", "$expr", "$where":
		default:
			ms, err := compileOperators(elemPath, ops, depth+1)
			if err != nil {
				return nil, err
			}
			return elemMatchPred{val: andMatcher(ms)}, nil
		}
	}
	m, err := compileMatch(d, depth+1)
	if err != nil {
		return nil, err
	}
	return elemMatchPred{doc: m}, nil
}

// elemPath is the path value-form $elemMatch operators are compiled on: each element is
// wrapped as {"e": element}.
var elemPath = []string{"e"}
