package agg

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ctx is the evaluation context of an expression: $$ROOT, $$CURRENT and bound variables.
type ctx struct {
	root    any
	current any
	vars    []binding
	now     bson.DateTime
}

type binding struct {
	name string
	val  any
}

func newCtx(d bson.D) *ctx {
	return &ctx{root: d, current: d, now: bson.NewDateTimeFromTime(time.Now())}
}

func (c *ctx) reset(d bson.D) {
	c.root, c.current, c.vars = d, d, c.vars[:0]
}

func (c *ctx) lookupVar(name string) any {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].val
		}
	}
	switch name {
	case "ROOT":
		return c.root
	case "CURRENT":
		return c.current
	case "NOW":
		return c.now
	}
	return missing
}

// expr is a compiled aggregation expression. Evaluation errors (a $size of a string, …) fail
// the whole pipeline, as on a real server.
type expr interface {
	eval(c *ctx) (any, error)
}

type fnExpr func(c *ctx) (any, error)

func (f fnExpr) eval(c *ctx) (any, error) { return f(c) }

type litExpr struct{ v any }

func (e litExpr) eval(*ctx) (any, error) { return e.v, nil }

type fieldExpr struct{ parts []string }

func (e fieldExpr) eval(c *ctx) (any, error) {
	if d, ok := c.current.(bson.D); ok && len(e.parts) == 1 {
		return lookup(d, e.parts[0]), nil // fast path
	}
	return getPath(c.current, e.parts), nil
}

type varExpr struct {
	name  string
	parts []string
}

func (e varExpr) eval(c *ctx) (any, error) {
	if e.name == "REMOVE" {
		return missing, nil
	}
	return getPath(c.lookupVar(e.name), e.parts), nil
}

type objExpr struct {
	keys  []string
	exprs []expr
}

func (e objExpr) eval(c *ctx) (any, error) {
	out := make(bson.D, 0, len(e.keys))
	for i, x := range e.exprs {
		v, err := x.eval(c)
		if err != nil {
			return nil, err
		}
		if !isMissing(v) {
			out = append(out, bson.E{Key: e.keys[i], Value: v})
		}
	}
	return out, nil
}

type arrExpr []expr

func (e arrExpr) eval(c *ctx) (any, error) {
	out := make(bson.A, len(e))
	for i, x := range e {
		v, err := x.eval(c)
		if err != nil {
			return nil, err
		}
		if isMissing(v) {
			v = nil
		}
		out[i] = v
	}
	return out, nil
}

// scope tracks the variables defined where an expression is parsed.
type scope struct {
	vars []string
}

func newScope() *scope { return &scope{} }

func (s *scope) with(names ...string) *scope {
	v := append(append([]string(nil), s.vars...), names...)
	return &scope{vars: v}
}

func (s *scope) defined(name string) bool {
	switch name {
	case "ROOT", "CURRENT", "REMOVE", "NOW", "CLUSTER_TIME":
		return true
	}
	for _, v := range s.vars {
		if v == name {
			return true
		}
	}
	return false
}

// parseFieldPath parses "$a.b" (without the leading "$").
func parseFieldPath(p string) ([]string, error) {
	if p == "" {
		return nil, errf(16872, "'$' by itself is not a valid FieldPath")
	}
	parts := strings.Split(p, ".")
	for _, s := range parts {
		if s == "" {
			return nil, errf(15998, "FieldPath field names may not be empty strings.")
		}
		if strings.HasPrefix(s, "$") {
			return nil, errf(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
		}
	}
	return parts, nil
}

// parseExpr compiles an aggregation expression.
func parseExpr(v any, sc *scope, depth int) (expr, error) {
	if depth > maxDepth {
		return nil, errf(codeOverflow, "expression nesting exceeds the maximum depth of %d", maxDepth)
	}
	v = norm(v)
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "$$") {
			name, rest, _ := strings.Cut(x[2:], ".")
			if name == "" {
				return nil, errf(codeFailedToParse, "empty variable name")
			}
			if !sc.defined(name) {
				return nil, errf(17276, "Use of undefined variable: %s", name)
			}
			var parts []string
			if rest != "" || strings.Contains(x[2:], ".") {
				p, err := parseFieldPath(rest)
				if err != nil {
					return nil, err
				}
				parts = p
			}
			return varExpr{name, parts}, nil
		}
		if strings.HasPrefix(x, "$") {
			parts, err := parseFieldPath(x[1:])
			if err != nil {
				return nil, err
			}
			return fieldExpr{parts}, nil
		}
		return litExpr{x}, nil
	case bson.D:
		if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
			if len(x) != 1 {
				return nil, errf(15983, "an expression specification must contain exactly one field, the name of the expression. Found %d fields in %s", len(x), show(x))
			}
			return parseOperator(x[0].Key, norm(x[0].Value), sc, depth)
		}
		oe := objExpr{}
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") {
				return nil, errf(16404, "field path references must be prefixed with a '$' ('%s')", e.Key)
			}
			if strings.Contains(e.Key, ".") {
				return nil, errf(16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField.")
			}
			if e.Key == "" {
				return nil, errf(16412, "FieldPath field names may not be empty strings.")
			}
			sub, err := parseExpr(e.Value, sc, depth+1)
			if err != nil {
				return nil, err
			}
			oe.keys = append(oe.keys, e.Key)
			oe.exprs = append(oe.exprs, sub)
		}
		return oe, nil
	case bson.A:
		ae := make(arrExpr, 0, len(x))
		for _, e := range x {
			sub, err := parseExpr(e, sc, depth+1)
			if err != nil {
				return nil, err
			}
			ae = append(ae, sub)
		}
		return ae, nil
	}
	return litExpr{v}, nil
}

// show renders a value in a short JSON-like form for error messages.
func show(v any) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSuffix(strings.TrimPrefix(string(b), `{"v":`), "}")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

type opParser func(op string, arg any, sc *scope, depth int) (expr, error)

var operators map[string]opParser

func init() {
	operators = map[string]opParser{
		"$literal": func(_ string, arg any, _ *scope, _ int) (expr, error) { return litExpr{arg}, nil },
		"$and":     parseAndOr,
		"$or":      parseAndOr,
		"$not":     parseNot,
		"$eq":      parseCmp,
		"$ne":      parseCmp,
		"$gt":      parseCmp,
		"$gte":     parseCmp,
		"$lt":      parseCmp,
		"$lte":     parseCmp,
		"$cmp":     parseCmp,
		"$cond":    parseCond,
		"$ifNull":  parseIfNull,
		"$switch":  parseSwitch,
		"$let":     parseLet,

		"$type":     parseUnary(func(v any) (any, error) { return typeName(v), nil }),
		"$isArray":  parseUnary(func(v any) (any, error) { _, ok := v.(bson.A); return ok, nil }),
		"$isNumber": parseUnary(func(v any) (any, error) { return isNumber(v), nil }),
		"$toString": parseUnary(convString),
		"$toInt":    parseUnary(func(v any) (any, error) { return convInt(v, "int") }),
		"$toLong":   parseUnary(func(v any) (any, error) { return convInt(v, "long") }),
		"$toDouble": parseUnary(convDouble),
		"$toBool": parseUnary(func(v any) (any, error) {
			if isNullish(v) {
				return nil, nil
			}
			return truthy(v), nil
		}),

		"$concat":       parseConcat,
		"$split":        parseSplit,
		"$substrCP":     parseSubstr,
		"$substr":       parseSubstr,
		"$substrBytes":  parseSubstr,
		"$indexOfCP":    parseIndexOf,
		"$indexOfBytes": parseIndexOf,
		"$toLower":      parseCase,
		"$toUpper":      parseCase,
		"$strLenCP":     parseStrLen,
		"$strLenBytes":  parseStrLen,
		"$trim":         parseTrim,
		"$ltrim":        parseTrim,
		"$rtrim":        parseTrim,
		"$strcasecmp":   parseStrcasecmp,
		"$regexMatch":   parseRegexOp,
		"$regexFind":    parseRegexOp,
		"$replaceAll":   parseReplace,
		"$replaceOne":   parseReplace,

		"$arrayElemAt":  parseArrayElemAt,
		"$size":         parseSize,
		"$first":        parseFirstLast,
		"$last":         parseFirstLast,
		"$in":           parseIn,
		"$concatArrays": parseConcatArrays,
		"$filter":       parseFilter,
		"$map":          parseMap,
		"$reduce":       parseReduce,
		"$slice":        parseSlice,
		"$reverseArray": parseUnary(reverseArray),
		"$mergeObjects": parseMergeObjects,

		"$objectToArray": parseUnary(objectToArray),
		"$bsonSize":      parseUnary(bsonSize),

		"$add":      parseArith,
		"$subtract": parseArith,
		"$multiply": parseArith,
		"$divide":   parseArith,
		"$mod":      parseArith,
		"$abs":      parseMath,
		"$floor":    parseMath,
		"$ceil":     parseMath,
		"$sum":      parseAccExpr,
		"$avg":      parseAccExpr,
		"$min":      parseAccExpr,
		"$max":      parseAccExpr,
	}
}

func parseOperator(op string, arg any, sc *scope, depth int) (expr, error) {
	p, ok := operators[op]
	if !ok {
		return nil, errf(codeInvalidPipelineOperator, "Unrecognized expression '%s'", op)
	}
	return p(op, arg, sc, depth+1)
}

// parseArgs parses an operator's argument list: an array, or one bare argument.
func parseArgs(op string, arg any, sc *scope, depth, minN, maxN int) ([]expr, error) {
	var raw []any
	if a, ok := arg.(bson.A); ok {
		raw = a
	} else {
		raw = []any{arg}
	}
	if len(raw) < minN || (maxN >= 0 && len(raw) > maxN) {
		switch {
		case minN == maxN:
			return nil, errf(16020, "Expression %s takes exactly %d arguments. %d were passed in.", op, minN, len(raw))
		case maxN < 0:
			return nil, errf(16020, "Expression %s takes at least %d arguments, but %d were passed in.", op, minN, len(raw))
		}
		return nil, errf(16020, "Expression %s takes at least %d arguments, and at most %d, but %d were passed in.", op, minN, maxN, len(raw))
	}
	out := make([]expr, len(raw))
	for i, r := range raw {
		e, err := parseExpr(r, sc, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// evalInto evaluates args in order, appending to buf (a caller's small array, so the common
// fixed-arity operators do not allocate a slice per document).
func evalInto(c *ctx, args []expr, buf []any) ([]any, error) {
	for _, a := range args {
		v, err := a.eval(c)
		if err != nil {
			return nil, err
		}
		buf = append(buf, v)
	}
	return buf, nil
}

func parseUnary(f func(v any) (any, error)) opParser {
	return func(op string, arg any, sc *scope, depth int) (expr, error) {
		args, err := parseArgs(op, arg, sc, depth, 1, 1)
		if err != nil {
			return nil, err
		}
		return fnExpr(func(c *ctx) (any, error) {
			v, err := args[0].eval(c)
			if err != nil {
				return nil, err
			}
			return f(v)
		}), nil
	}
}

func parseAndOr(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 0, -1)
	if err != nil {
		return nil, err
	}
	isAnd := op == "$and"
	return fnExpr(func(c *ctx) (any, error) {
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return nil, err
			}
			if truthy(v) != isAnd {
				return !isAnd, nil
			}
		}
		return isAnd, nil
	}), nil
}

func parseNot(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 1, 1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	}), nil
}

func parseCmp(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, 2)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		a, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		b, err := args[1].eval(c)
		if err != nil {
			return nil, err
		}
		r := compare(a, b)
		switch op {
		case "$eq":
			return r == 0, nil
		case "$ne":
			return r != 0, nil
		case "$gt":
			return r > 0, nil
		case "$gte":
			return r >= 0, nil
		case "$lt":
			return r < 0, nil
		case "$lte":
			return r <= 0, nil
		}
		return int32(r), nil
	}), nil
}

func parseCond(op string, arg any, sc *scope, depth int) (expr, error) {
	var ifE, thenE, elseE expr
	if d, ok := arg.(bson.D); ok {
		for _, e := range d {
			x, err := parseExpr(e.Value, sc, depth+1)
			if err != nil {
				return nil, err
			}
			switch e.Key {
			case "if":
				ifE = x
			case "then":
				thenE = x
			case "else":
				elseE = x
			default:
				return nil, errf(17083, "Unrecognized parameter to $cond: %s", e.Key)
			}
		}
		switch {
		case ifE == nil:
			return nil, errf(17080, "Missing 'if' parameter to $cond")
		case thenE == nil:
			return nil, errf(17081, "Missing 'then' parameter to $cond")
		case elseE == nil:
			return nil, errf(17082, "Missing 'else' parameter to $cond")
		}
	} else {
		args, err := parseArgs(op, arg, sc, depth, 3, 3)
		if err != nil {
			return nil, err
		}
		ifE, thenE, elseE = args[0], args[1], args[2]
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := ifE.eval(c)
		if err != nil {
			return nil, err
		}
		if truthy(v) {
			return thenE.eval(c)
		}
		return elseE.eval(c)
	}), nil
}

func parseIfNull(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, -1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		for i, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return nil, err
			}
			if !isNullish(v) || i == len(args)-1 {
				return v, nil
			}
		}
		return nil, nil
	}), nil
}

func parseSwitch(_ string, arg any, sc *scope, depth int) (expr, error) {
	d, ok := arg.(bson.D)
	if !ok {
		return nil, errf(40060, "$switch requires an object as an argument, found: %s", typeName(arg))
	}
	type branch struct{ cond, then expr }
	var branches []branch
	var def expr
	for _, e := range d {
		switch e.Key {
		case "branches":
			arr, ok := asArray(e.Value)
			if !ok {
				return nil, errf(40061, "$switch expected an array for 'branches', found: %s", typeName(norm(e.Value)))
			}
			for _, b := range arr {
				bd, ok := asDoc(b)
				if !ok {
					return nil, errf(40062, "$switch expected each branch to be an object, found: %s", typeName(norm(b)))
				}
				var br branch
				for _, f := range bd {
					x, err := parseExpr(f.Value, sc, depth+1)
					if err != nil {
						return nil, err
					}
					switch f.Key {
					case "case":
						br.cond = x
					case "then":
						br.then = x
					default:
						return nil, errf(40063, "$switch found an unknown argument to a branch: %s", f.Key)
					}
				}
				if br.cond == nil {
					return nil, errf(40064, "$switch requires each branch have a 'case' expression")
				}
				if br.then == nil {
					return nil, errf(40065, "$switch requires each branch have a 'then' expression.")
				}
				branches = append(branches, br)
			}
		case "default":
			x, err := parseExpr(e.Value, sc, depth+1)
			if err != nil {
				return nil, err
			}
			def = x
		default:
			return nil, errf(40067, "$switch found an unknown argument: %s", e.Key)
		}
	}
	if len(branches) == 0 {
		return nil, errf(40068, "$switch requires at least one branch.")
	}
	return fnExpr(func(c *ctx) (any, error) {
		for _, b := range branches {
			v, err := b.cond.eval(c)
			if err != nil {
				return nil, err
			}
			if truthy(v) {
				return b.then.eval(c)
			}
		}
		if def == nil {
			return nil, errf(40066, "$switch could not find a matching branch for an input, and no default was specified.")
		}
		return def.eval(c)
	}), nil
}

func parseLet(_ string, arg any, sc *scope, depth int) (expr, error) {
	d, ok := arg.(bson.D)
	if !ok {
		return nil, errf(16874, "$let only supports an object as its argument")
	}
	var varsD bson.D
	var inRaw any
	hasVars, hasIn := false, false
	for _, e := range d {
		switch e.Key {
		case "vars":
			vd, ok := asDoc(e.Value)
			if !ok {
				return nil, errf(10065, "invalid parameter: expected an object (vars)")
			}
			varsD, hasVars = vd, true
		case "in":
			inRaw, hasIn = e.Value, true
		default:
			return nil, errf(16875, "Unrecognized parameter to $let: %s", e.Key)
		}
	}
	if !hasVars {
		return nil, errf(16876, "Missing 'vars' parameter to $let")
	}
	if !hasIn {
		return nil, errf(16877, "Missing 'in' parameter to $let")
	}
	names := make([]string, len(varsD))
	vals := make([]expr, len(varsD))
	for i, e := range varsD {
		if err := checkVarName(e.Key); err != nil {
			return nil, err
		}
		x, err := parseExpr(e.Value, sc, depth+1)
		if err != nil {
			return nil, err
		}
		names[i], vals[i] = e.Key, x
	}
	in, err := parseExpr(inRaw, sc.with(names...), depth+1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		n := len(c.vars)
		for i, x := range vals {
			v, err := x.eval(c)
			if err != nil {
				return nil, err
			}
			c.vars = append(c.vars, binding{names[i], v})
		}
		v, err := in.eval(c)
		c.vars = c.vars[:n]
		return v, err
	}), nil
}

func checkVarName(n string) error {
	if n == "" {
		return errf(16866, "empty variable names are not allowed")
	}
	if !(n[0] >= 'a' && n[0] <= 'z') && n[0] < 0x80 {
		return errf(16867, "'%s' starts with an invalid character for a user variable name", n)
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r >= 0x80) {
			return errf(16868, "'%s' contains an invalid character for a variable name: '%c'", n, r)
		}
	}
	return nil
}

// parseNamedArgs parses an object argument with known keys; required keys must be present.
func parseNamedArgs(op string, arg any, sc *scope, depth int, known []string, required ...string) (map[string]expr, error) {
	d, ok := arg.(bson.D)
	if !ok {
		return nil, errf(codeFailedToParse, "%s expects an object of named arguments but found: %s", op, typeName(arg))
	}
	out := map[string]expr{}
	for _, e := range d {
		okKey := false
		for _, k := range known {
			if k == e.Key {
				okKey = true
			}
		}
		if !okKey {
			return nil, errf(codeFailedToParse, "%s found an unknown argument: %s", op, e.Key)
		}
		x, err := parseExpr(e.Value, sc, depth+1)
		if err != nil {
			return nil, err
		}
		out[e.Key] = x
	}
	for _, r := range required {
		if out[r] == nil {
			return nil, errf(codeFailedToParse, "%s requires '%s' to be specified", op, r)
		}
	}
	return out, nil
}

// ---- numbers ----

// numAcc sums numbers with MongoDB's type widening: int32 → int64 → double.
type numAcc struct {
	kind int // 0 int32, 1 int64, 2 double
	i    int64
	f    float64
	n    int
}

func (a *numAcc) add(v any) {
	switch x := v.(type) {
	case int32:
		a.addInt(int64(x), 0)
	case int64:
		a.addInt(x, 1)
	case float64:
		a.toDouble()
		a.f += x
	case bson.Decimal128:
		a.toDouble()
		a.f += decToFloat(x)
	default:
		return
	}
	a.n++
}

func (a *numAcc) addInt(x int64, kind int) {
	if a.kind == 2 {
		a.f += float64(x)
		return
	}
	s := a.i + x
	if (x > 0 && s < a.i) || (x < 0 && s > a.i) {
		a.toDouble()
		a.f += float64(x)
		return
	}
	a.i = s
	a.kind = max(a.kind, kind)
	if a.kind == 0 && (s > math.MaxInt32 || s < math.MinInt32) {
		a.kind = 1
	}
}

func (a *numAcc) toDouble() {
	if a.kind != 2 {
		a.f = float64(a.i)
		a.kind = 2
	}
}

func (a *numAcc) value() any {
	switch a.kind {
	case 0:
		return int32(a.i)
	case 1:
		return a.i
	}
	return a.f
}

func parseArith(op string, arg any, sc *scope, depth int) (expr, error) {
	minN, maxN := 2, 2
	if op == "$add" || op == "$multiply" {
		minN, maxN = 0, -1
	}
	args, err := parseArgs(op, arg, sc, depth, minN, maxN)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if isNullish(v) {
				return nil, nil
			}
		}
		switch op {
		case "$add":
			return arithAdd(vals)
		case "$multiply":
			return arithMultiply(vals)
		case "$subtract":
			return arithSubtract(vals[0], vals[1])
		case "$divide":
			a, ok1 := num(vals[0])
			b, ok2 := num(vals[1])
			if !ok1 || !ok2 {
				return nil, errf(16609, "$divide only supports numeric types, not %s and %s", typeName(vals[0]), typeName(vals[1]))
			}
			if b == 0 {
				return nil, errf(codeBadValue, "can't $divide by zero")
			}
			return a / b, nil
		}
		// $mod
		if !isNumber(vals[0]) || !isNumber(vals[1]) {
			return nil, errf(16611, "$mod only supports numeric types, not %s and %s", typeName(vals[0]), typeName(vals[1]))
		}
		ai, aInt := intOf(vals[0])
		bi, bInt := intOf(vals[1])
		if aInt && bInt {
			if bi == 0 {
				return nil, errf(16610, "can't $mod by zero")
			}
			r := ai % bi
			if _, a32 := vals[0].(int32); a32 {
				if _, b32 := vals[1].(int32); b32 {
					return int32(r), nil
				}
			}
			return r, nil
		}
		b := floatOf(vals[1])
		if b == 0 {
			return nil, errf(16610, "can't $mod by zero")
		}
		return math.Mod(floatOf(vals[0]), b), nil
	}), nil
}

func arithAdd(vals []any) (any, error) {
	var acc numAcc
	var date *int64
	for _, v := range vals {
		if d, ok := v.(bson.DateTime); ok {
			if date != nil {
				return nil, errf(16612, "only one date allowed in an $add expression")
			}
			ms := int64(d)
			date = &ms
			continue
		}
		if !isNumber(v) {
			return nil, errf(16554, "$add only supports numeric or date types, not %s", typeName(v))
		}
		acc.add(v)
	}
	if date != nil {
		f, _ := num(acc.value())
		return bson.DateTime(*date + int64(math.Round(f))), nil
	}
	return acc.value(), nil
}

func arithMultiply(vals []any) (any, error) {
	kind := 0
	prodI := int64(1)
	prodF := 1.0
	for _, v := range vals {
		if !isNumber(v) {
			return nil, errf(16555, "$multiply only supports numeric types, not %s", typeName(v))
		}
		switch x := v.(type) {
		case int32, int64:
			i, _ := intOf(x)
			if kind < 2 {
				r := prodI * i
				if i != 0 && (r/i != prodI || (prodI == -1 && i == math.MinInt64) || (i == -1 && prodI == math.MinInt64)) {
					kind = 2
					prodF = float64(prodI) * float64(i)
					continue
				}
				prodI = r
				if _, is64 := x.(int64); is64 {
					kind = max(kind, 1)
				}
				if kind == 0 && (r > math.MaxInt32 || r < math.MinInt32) {
					kind = 1
				}
			} else {
				prodF *= float64(i)
			}
		default:
			if kind < 2 {
				prodF = float64(prodI)
				kind = 2
			}
			prodF *= floatOf(x)
		}
	}
	switch kind {
	case 0:
		return int32(prodI), nil
	case 1:
		return prodI, nil
	}
	return prodF, nil
}

func arithSubtract(a, b any) (any, error) {
	if da, ok := a.(bson.DateTime); ok {
		if db, ok := b.(bson.DateTime); ok {
			return int64(da) - int64(db), nil
		}
		if f, ok := num(b); ok {
			return bson.DateTime(int64(da) - int64(math.Round(f))), nil
		}
	}
	if !isNumber(a) || !isNumber(b) {
		return nil, errf(16556, "can't $subtract %s from %s", typeName(b), typeName(a))
	}
	ai, aInt := intOf(a)
	bi, bInt := intOf(b)
	if aInt && bInt {
		r := ai - bi
		if (bi > 0 && r > ai) || (bi < 0 && r < ai) {
			return float64(ai) - float64(bi), nil
		}
		_, a32 := a.(int32)
		_, b32 := b.(int32)
		if a32 && b32 && r >= math.MinInt32 && r <= math.MaxInt32 {
			return int32(r), nil
		}
		return r, nil
	}
	return floatOf(a) - floatOf(b), nil
}

func parseMath(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 1, 1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		if !isNumber(v) {
			return nil, errf(28765, "%s only supports numeric types, not %s", op, typeName(v))
		}
		if i, ok := intOf(v); ok {
			if op == "$abs" {
				if i == math.MinInt64 {
					return nil, errf(28680, "can't take $abs of long long min")
				}
				if i < 0 {
					i = -i
				}
				if _, is32 := v.(int32); is32 && i <= math.MaxInt32 {
					return int32(i), nil
				}
				return i, nil
			}
			return v, nil
		}
		f := floatOf(v)
		switch op {
		case "$abs":
			return math.Abs(f), nil
		case "$floor":
			return math.Floor(f), nil
		}
		return math.Ceil(f), nil
	}), nil
}

// parseAccExpr is $sum/$avg/$min/$max used as an expression: one array argument is reduced
// over its elements, several arguments over themselves.
func parseAccExpr(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 0, -1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		if len(vals) == 1 {
			if a, ok := vals[0].(bson.A); ok {
				vals = make([]any, len(a))
				for i, x := range a {
					vals[i] = norm(x)
				}
			}
		}
		switch op {
		case "$sum", "$avg":
			var acc numAcc
			for _, v := range vals {
				acc.add(v)
			}
			if op == "$sum" {
				return acc.value(), nil
			}
			if acc.n == 0 {
				return nil, nil
			}
			f, _ := num(acc.value())
			return f / float64(acc.n), nil
		}
		var best any = missing
		for _, v := range vals {
			if isNullish(v) {
				continue
			}
			if isMissing(best) || (op == "$max") == (compare(v, best) > 0) && compare(v, best) != 0 {
				best = v
			}
		}
		if isMissing(best) {
			return nil, nil
		}
		return best, nil
	}), nil
}
