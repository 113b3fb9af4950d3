package agg

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

func parseArrayElemAt(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, 2)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		if isNullish(vals[0]) || isNullish(vals[1]) {
			return nil, nil
		}
		a, ok := vals[0].(bson.A)
		if !ok {
			return nil, errf(28689, "$arrayElemAt's first argument must be an array, but is %s", typeName(vals[0]))
		}
		if !isNumber(vals[1]) {
			return nil, errf(28690, "$arrayElemAt's second argument must be a numeric value, but is %s", typeName(vals[1]))
		}
		i, ok := intArg(vals[1])
		if !ok {
			return nil, errf(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: %s", show(vals[1]))
		}
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return missing, nil
		}
		return norm(a[i]), nil
	}), nil
}

func parseSize(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 1, 1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, errf(17124, "The argument to $size must be an array. Type of argument: %s", typeName(v))
		}
		return int32(len(a)), nil
	}), nil
}

func parseFirstLast(op string, arg any, sc *scope, depth int) (expr, error) {
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
		a, ok := v.(bson.A)
		if !ok {
			return nil, errf(28689, "%s's argument must be an array, but is %s", op, typeName(v))
		}
		if len(a) == 0 {
			return missing, nil
		}
		if op == "$first" {
			return norm(a[0]), nil
		}
		return norm(a[len(a)-1]), nil
	}), nil
}

func parseIn(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, 2)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		a, ok := vals[1].(bson.A)
		if !ok {
			return nil, errf(40081, "$in requires an array as a second argument, found: %s", typeName(vals[1]))
		}
		for _, x := range a {
			if equal(vals[0], norm(x)) {
				return true, nil
			}
		}
		return false, nil
	}), nil
}

func parseConcatArrays(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 0, -1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		out := bson.A{}
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return nil, err
			}
			if isNullish(v) {
				return nil, nil
			}
			arr, ok := v.(bson.A)
			if !ok {
				return nil, errf(28664, "$concatArrays only supports arrays, not %s", typeName(v))
			}
			out = append(out, arr...)
		}
		return out, nil
	}), nil
}

// iterArgs parses the {input, as, <body>} shape of $filter and $map.
func iterArgs(op string, arg any, sc *scope, depth int, body string, extra ...string) (input expr, as string, bodyE expr, rest map[string]expr, err error) {
	d, ok := arg.(bson.D)
	if !ok {
		return nil, "", nil, nil, errf(28646, "%s only supports an object as its argument", op)
	}
	as = "this"
	var bodyRaw any
	hasBody := false
	rest = map[string]expr{}
	for _, e := range d {
		switch e.Key {
		case "input":
			if input, err = parseExpr(e.Value, sc, depth+1); err != nil {
				return
			}
		case "as":
			s, ok := norm(e.Value).(string)
			if !ok {
				return nil, "", nil, nil, errf(codeFailedToParse, "%s 'as' must be a string", op)
			}
			if err = checkVarName(s); err != nil {
				return
			}
			as = s
		case body:
			bodyRaw, hasBody = e.Value, true
		default:
			known := false
			for _, x := range extra {
				if x == e.Key {
					known = true
				}
			}
			if !known {
				return nil, "", nil, nil, errf(28647, "Unrecognized parameter to %s: %s", op, e.Key)
			}
			var x expr
			if x, err = parseExpr(e.Value, sc, depth+1); err != nil {
				return
			}
			rest[e.Key] = x
		}
	}
	if input == nil {
		return nil, "", nil, nil, errf(28648, "Missing 'input' parameter to %s", op)
	}
	if !hasBody {
		return nil, "", nil, nil, errf(28650, "Missing '%s' parameter to %s", body, op)
	}
	bodyE, err = parseExpr(bodyRaw, sc.with(as), depth+1)
	return
}

func parseFilter(op string, arg any, sc *scope, depth int) (expr, error) {
	input, as, cond, rest, err := iterArgs(op, arg, sc, depth, "cond", "limit")
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := input.eval(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, errf(28651, "input to $filter must be an array not %s", typeName(v))
		}
		limit := len(a)
		if l := rest["limit"]; l != nil {
			lv, err := l.eval(c)
			if err != nil {
				return nil, err
			}
			if !isNullish(lv) {
				n, ok := intArg(lv)
				if !ok || n <= 0 {
					return nil, errf(327, "$filter: limit must be greater than 0: %s", show(lv))
				}
				limit = n
			}
		}
		out := bson.A{}
		n := len(c.vars)
		for _, x := range a {
			if len(out) >= limit {
				break
			}
			c.vars = append(c.vars[:n], binding{as, norm(x)})
			keep, err := cond.eval(c)
			if err != nil {
				c.vars = c.vars[:n]
				return nil, err
			}
			if truthy(keep) {
				out = append(out, x)
			}
		}
		c.vars = c.vars[:n]
		return out, nil
	}), nil
}

func parseMap(op string, arg any, sc *scope, depth int) (expr, error) {
	input, as, in, _, err := iterArgs(op, arg, sc, depth, "in")
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := input.eval(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, errf(16883, "input to $map must be an array not %s", typeName(v))
		}
		out := make(bson.A, 0, len(a))
		n := len(c.vars)
		for _, x := range a {
			c.vars = append(c.vars[:n], binding{as, norm(x)})
			r, err := in.eval(c)
			if err != nil {
				c.vars = c.vars[:n]
				return nil, err
			}
			if isMissing(r) {
				r = nil
			}
			out = append(out, r)
		}
		c.vars = c.vars[:n]
		return out, nil
	}), nil
}

func parseReduce(op string, arg any, sc *scope, depth int) (expr, error) {
	named := map[string]any{}
	d, ok := arg.(bson.D)
	if !ok {
		return nil, errf(40075, "$reduce requires an object as an argument, found: %s", typeName(arg))
	}
	for _, e := range d {
		switch e.Key {
		case "input", "initialValue", "in":
			named[e.Key] = e.Value
		default:
			return nil, errf(40076, "$reduce found an unknown argument: %s", e.Key)
		}
	}
	for i, k := range []string{"input", "initialValue", "in"} {
		if _, ok := named[k]; !ok {
			return nil, errf(40077+int32(i), "$reduce requires '%s' to be specified", k)
		}
	}
	input, err := parseExpr(named["input"], sc, depth+1)
	if err != nil {
		return nil, err
	}
	init, err := parseExpr(named["initialValue"], sc, depth+1)
	if err != nil {
		return nil, err
	}
	in, err := parseExpr(named["in"], sc.with("this", "value"), depth+1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := input.eval(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		a, ok := v.(bson.A)
		if !ok {
			return nil, errf(40080, "$reduce requires that 'input' be an array, found: %s", show(v))
		}
		acc, err := init.eval(c)
		if err != nil {
			return nil, err
		}
		n := len(c.vars)
		for _, x := range a {
			c.vars = append(c.vars[:n], binding{"this", norm(x)}, binding{"value", acc})
			acc, err = in.eval(c)
			if err != nil {
				c.vars = c.vars[:n]
				return nil, err
			}
		}
		c.vars = c.vars[:n]
		return acc, nil
	}), nil
}

func parseSlice(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, 3)
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
		a, ok := vals[0].(bson.A)
		if !ok {
			return nil, errf(28724, "First argument to $slice must be an array, but is of type: %s", typeName(vals[0]))
		}
		p, ok := intArg(vals[1])
		if !ok {
			return nil, errf(28725, "Second argument to $slice must be a numeric value, but is of type: %s", typeName(vals[1]))
		}
		start, end := 0, len(a)
		if len(vals) == 2 {
			if p >= 0 {
				end = min(p, len(a))
			} else {
				start = max(0, len(a)+p)
			}
		} else {
			n, ok := intArg(vals[2])
			if !ok {
				return nil, errf(28727, "Third argument to $slice must be numeric, but is of type: %s", typeName(vals[2]))
			}
			if n <= 0 {
				return nil, errf(28729, "Third argument to $slice must be positive: %d", n)
			}
			if p < 0 {
				p = max(0, len(a)+p)
			}
			start = min(p, len(a))
			end = min(len(a), start+n)
		}
		return append(bson.A{}, a[start:end]...), nil
	}), nil
}

func reverseArray(v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	a, ok := v.(bson.A)
	if !ok {
		return nil, errf(34435, "The argument to $reverseArray must be an array, but was of type: %s", typeName(v))
	}
	out := make(bson.A, len(a))
	for i, x := range a {
		out[len(a)-1-i] = x
	}
	return out, nil
}

func parseMergeObjects(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 0, -1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		out := bson.D{}
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return nil, err
			}
			if out, err = mergeInto(out, v); err != nil {
				return nil, err
			}
		}
		return out, nil
	}), nil
}

// objectToArray is $objectToArray (MongoDB 3.4.4+): a document becomes [{k, v}, ...] in
// field order, one level deep; null and missing give null; anything else is error 40390.
func objectToArray(v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(40390, "$objectToArray requires a document input, found: %s", typeName(v))
	}
	out := make(bson.A, 0, len(d))
	for _, e := range d {
		out = append(out, bson.D{{Key: "k", Value: e.Key}, {Key: "v", Value: e.Value}})
	}
	return out, nil
}

// bsonSize is $bsonSize (4.4): a document's size in bytes as BSON; null for null or missing,
// an error for anything else.
func bsonSize(v any) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(31393, "$bsonSize requires a document input, found: %s", typeName(v))
	}
	b, err := bson.Marshal(d)
	if err != nil {
		return nil, errf(31393, "$bsonSize: %v", err)
	}
	return int32(len(b)), nil
}

// mergeInto merges document v into out ($mergeObjects); null and missing are skipped.
func mergeInto(out bson.D, v any) (bson.D, error) {
	if isNullish(v) {
		return out, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(40400, "$mergeObjects requires object inputs, but input %s is of type %s", show(v), typeName(v))
	}
	for _, e := range d {
		out = setField(out, e.Key, e.Value)
	}
	return out, nil
}

// setField sets key in d in place (replacing an existing field, else appending).
func setField(d bson.D, key string, v any) bson.D {
	for i := range d {
		if d[i].Key == key {
			d[i].Value = v
			return d
		}
	}
	return append(d, bson.E{Key: key, Value: v})
}
