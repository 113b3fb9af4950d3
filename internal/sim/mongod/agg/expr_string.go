package agg

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// formatDouble renders a double the way MongoDB's $toString does (integral values without
// a fraction, no exponent in the everyday range).
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func formatDate(d bson.DateTime) string {
	return time.UnixMilli(int64(d)).UTC().Format("2006-01-02T15:04:05.000Z")
}

// coerceToString is the coercion $toLower, $toUpper, $substr… apply (null becomes "").
func coerceToString(op string, v any) (string, error) {
	switch x := v.(type) {
	case nil, missingT, bson.Undefined, bson.Null:
		return "", nil
	case string:
		return x, nil
	case bson.Symbol:
		return string(x), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return formatDouble(x), nil
	case bson.Decimal128:
		return x.String(), nil
	case bson.DateTime:
		return formatDate(x), nil
	case bson.Timestamp:
		return formatDate(bson.DateTime(int64(x.T) * 1000)), nil
	case bson.JavaScript:
		return string(x), nil
	}
	return "", errf(16007, "can't convert from BSON type %s to String", typeName(v))
}

func convString(v any) (any, error) {
	switch x := v.(type) {
	case nil, missingT, bson.Undefined, bson.Null:
		return nil, nil
	case bool:
		return strconv.FormatBool(x), nil
	case bson.ObjectID:
		return x.Hex(), nil
	case string, bson.Symbol, int32, int64, float64, bson.Decimal128, bson.DateTime:
		return coerceToString("$toString", v)
	}
	return nil, errf(241, "Unsupported conversion from %s to string in $convert with no onError value", typeName(v))
}

func convInt(v any, target string) (any, error) {
	fit := func(i int64) (any, error) {
		if target == "int" {
			if i > math.MaxInt32 || i < math.MinInt32 {
				return nil, errf(241, "Conversion would overflow target type in $convert with no onError value: %d", i)
			}
			return int32(i), nil
		}
		return i, nil
	}
	switch x := v.(type) {
	case nil, missingT, bson.Undefined, bson.Null:
		return nil, nil
	case bool:
		if x {
			return fit(1)
		}
		return fit(0)
	case int32:
		return fit(int64(x))
	case int64:
		return fit(x)
	case float64, bson.Decimal128:
		f, _ := num(x)
		if math.IsNaN(f) || math.IsInf(f, 0) || f >= 9.223372036854775807e18 || f < -9.223372036854775807e18 {
			return nil, errf(241, "Attempt to convert %s value to integer type in $convert with no onError value", formatDouble(f))
		}
		return fit(int64(f))
	case bson.DateTime:
		if target == "long" {
			return int64(x), nil
		}
	case string:
		i, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, errf(241, "Failed to parse number '%s' in $convert with no onError value: Did not consume whole string.", x)
		}
		return fit(i)
	}
	return nil, errf(241, "Unsupported conversion from %s to %s in $convert with no onError value", typeName(v), target)
}

func convDouble(v any) (any, error) {
	switch x := v.(type) {
	case nil, missingT, bson.Undefined, bson.Null:
		return nil, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case int32, int64, float64, bson.Decimal128:
		f, _ := num(x)
		return f, nil
	case bson.DateTime:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil, errf(241, "Failed to parse number '%s' in $convert with no onError value: Did not consume whole string.", x)
		}
		return f, nil
	}
	return nil, errf(241, "Unsupported conversion from %s to double in $convert with no onError value", typeName(v))
}

func parseConcat(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 0, -1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var b strings.Builder
		for _, a := range args {
			v, err := a.eval(c)
			if err != nil {
				return nil, err
			}
			switch x := v.(type) {
			case string:
				b.WriteString(x)
			case bson.Symbol:
				b.WriteString(string(x))
			default:
				if isNullish(v) {
					return nil, nil
				}
				return nil, errf(16702, "$concat only supports strings, not %s", typeName(v))
			}
		}
		return b.String(), nil
	}), nil
}

func parseSplit(op string, arg any, sc *scope, depth int) (expr, error) {
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
		if isNullish(vals[0]) {
			return nil, nil
		}
		s, ok := vals[0].(string)
		if !ok {
			return nil, errf(40085, "$split requires an expression that evaluates to a string as a first argument, found: %s", typeName(vals[0]))
		}
		sep, ok := vals[1].(string)
		if !ok {
			return nil, errf(40086, "$split requires an expression that evaluates to a string as a second argument, found: %s", typeName(vals[1]))
		}
		if sep == "" {
			return nil, errf(40087, "$split requires a non-empty separator")
		}
		parts := strings.Split(s, sep)
		out := make(bson.A, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}), nil
}

// intArg returns an integral numeric argument as int (doubles must be integral).
func intArg(v any) (int, bool) {
	if !isNumber(v) {
		return 0, false
	}
	i, ok := asInt64(v)
	if !ok || i > math.MaxInt32 || i < math.MinInt32 {
		return 0, false
	}
	return int(i), true
}

func parseSubstr(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 3, 3)
	if err != nil {
		return nil, err
	}
	cp := op == "$substrCP"
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		s, err := coerceToString(op, vals[0])
		if err != nil {
			return nil, err
		}
		if cp {
			if !isNumber(vals[1]) {
				return nil, errf(34450, "$substrCP: starting index must be a numeric type (is BSON type %s)", typeName(vals[1]))
			}
			start, ok := intArg(vals[1])
			if !ok {
				return nil, errf(34451, "$substrCP: starting index cannot be represented as a 32-bit integral value")
			}
			if !isNumber(vals[2]) {
				return nil, errf(34452, "$substrCP: length must be a numeric type (is BSON type %s)", typeName(vals[2]))
			}
			n, ok := intArg(vals[2])
			if !ok {
				return nil, errf(34453, "$substrCP: length cannot be represented as a 32-bit integral value")
			}
			if start < 0 {
				return nil, errf(34455, "$substrCP: the starting index must be nonnegative integer.")
			}
			if n < 0 {
				return nil, errf(34454, "$substrCP: length must be a nonnegative integer.")
			}
			return substrCP(s, start, n), nil
		}
		// $substrBytes: negative start gives "", negative length means the rest.
		start, ok1 := num(vals[1])
		n, ok2 := num(vals[2])
		if !ok1 {
			return nil, errf(16034, "%s: starting index must be a numeric type (is BSON type %s)", op, typeName(vals[1]))
		}
		if !ok2 {
			return nil, errf(16035, "%s: length must be a numeric type (is BSON type %s)", op, typeName(vals[2]))
		}
		if start < 0 || start >= float64(len(s)) {
			return "", nil
		}
		b := int(start)
		e := len(s)
		if n >= 0 && float64(b)+n < float64(len(s)) {
			e = b + int(n)
		}
		if b < len(s) && !utf8.RuneStart(s[b]) {
			return nil, errf(28656, "%s: Invalid range, starting index is a UTF-8 continuation byte.", op)
		}
		if e < len(s) && !utf8.RuneStart(s[e]) {
			return nil, errf(28657, "%s: Invalid range, ending index is in the middle of a UTF-8 character.", op)
		}
		return s[b:e], nil
	}), nil
}

func substrCP(s string, start, n int) string {
	i, cps := 0, 0
	for i < len(s) && cps < start {
		_, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
		cps++
	}
	j, got := i, 0
	for j < len(s) && got < n {
		_, sz := utf8.DecodeRuneInString(s[j:])
		j += sz
		got++
	}
	return s[i:j]
}

func parseIndexOf(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 2, 4)
	if err != nil {
		return nil, err
	}
	cp := op == "$indexOfCP"
	return fnExpr(func(c *ctx) (any, error) {
		var buf [4]any
		vals, err := evalInto(c, args, buf[:0])
		if err != nil {
			return nil, err
		}
		if isNullish(vals[0]) {
			return nil, nil
		}
		s, ok := vals[0].(string)
		if !ok {
			return nil, errf(40091, "%s requires a string as the first argument, found: %s", op, typeName(vals[0]))
		}
		sub, ok := vals[1].(string)
		if !ok {
			return nil, errf(40092, "%s requires a string as the second argument, found: %s", op, typeName(vals[1]))
		}
		// Work in code points for $indexOfCP, bytes for $indexOfBytes.
		var units []int // byte offset of each unit
		length := len(s)
		if cp {
			for i := range s {
				units = append(units, i)
			}
			length = len(units)
		}
		start, end := 0, length
		if len(vals) > 2 {
			st, ok := intArg(vals[2])
			if !ok {
				return nil, errf(40096, "%s requires an integral starting index, found a value of type: %s, with value: %s", op, typeName(vals[2]), show(vals[2]))
			}
			if st < 0 {
				return nil, errf(40097, "%s requires a nonnegative start index, found: %d", op, st)
			}
			start = st
		}
		if len(vals) > 3 {
			en, ok := intArg(vals[3])
			if !ok {
				return nil, errf(40096, "%s requires an integral ending index, found a value of type: %s, with value: %s", op, typeName(vals[3]), show(vals[3]))
			}
			if en < 0 {
				return nil, errf(40097, "%s requires a nonnegative ending index, found: %d", op, en)
			}
			end = min(en, length)
		}
		if start > length || start > end {
			return int32(-1), nil
		}
		off := func(u int) int {
			if !cp {
				return u
			}
			if u >= len(units) {
				return len(s)
			}
			return units[u]
		}
		bStart, bEnd := off(start), off(end)
		idx := strings.Index(s[bStart:], sub)
		if idx < 0 || bStart+idx+len(sub) > bEnd && !(sub == "" && bStart+idx <= bEnd) {
			return int32(-1), nil
		}
		pos := bStart + idx
		if cp {
			return int32(utf8.RuneCountInString(s[:pos])), nil
		}
		return int32(pos), nil
	}), nil
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func asciiUpper(s string) string {
	b := []byte(s)
	for j := range b {
		if b[j] >= 'a' && b[j] <= 'z' {
			b[j] -= 'a' - 'A'
		}
	}
	return string(b)
}

func parseCase(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 1, 1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		s, err := coerceToString(op, v)
		if err != nil {
			return nil, err
		}
		if op == "$toLower" {
			return asciiLower(s), nil
		}
		return asciiUpper(s), nil
	}), nil
}

func parseStrLen(op string, arg any, sc *scope, depth int) (expr, error) {
	args, err := parseArgs(op, arg, sc, depth, 1, 1)
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := args[0].eval(c)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			if op == "$strLenCP" {
				return nil, errf(34471, "$strLenCP requires a string argument, found: %s", typeName(v))
			}
			return nil, errf(34473, "$strLenBytes requires a string argument, found: %s", typeName(v))
		}
		if op == "$strLenCP" {
			return int32(utf8.RuneCountInString(s)), nil
		}
		return int32(len(s)), nil
	}), nil
}

func parseTrim(op string, arg any, sc *scope, depth int) (expr, error) {
	named, err := parseNamedArgs(op, arg, sc, depth, []string{"input", "chars"}, "input")
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		v, err := named["input"].eval(c)
		if err != nil {
			return nil, err
		}
		if isNullish(v) {
			return nil, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, errf(50699, "%s requires its input to be a string, got %s (of type %s) instead.", op, show(v), typeName(v))
		}
		cut := func(r rune) bool { return unicode.IsSpace(r) || r == 0 }
		if ch := named["chars"]; ch != nil {
			cv, err := ch.eval(c)
			if err != nil {
				return nil, err
			}
			if isNullish(cv) {
				return nil, nil
			}
			cs, ok := cv.(string)
			if !ok {
				return nil, errf(50700, "%s requires 'chars' to be a string, got %s (of type %s) instead.", op, show(cv), typeName(cv))
			}
			cut = func(r rune) bool { return strings.ContainsRune(cs, r) }
		}
		switch op {
		case "$ltrim":
			return strings.TrimLeftFunc(s, cut), nil
		case "$rtrim":
			return strings.TrimRightFunc(s, cut), nil
		}
		return strings.TrimFunc(s, cut), nil
	}), nil
}

func parseStrcasecmp(op string, arg any, sc *scope, depth int) (expr, error) {
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
		a, err := coerceToString(op, vals[0])
		if err != nil {
			return nil, err
		}
		b, err := coerceToString(op, vals[1])
		if err != nil {
			return nil, err
		}
		return int32(cmpString(asciiUpper(a), asciiUpper(b))), nil
	}), nil
}

func parseRegexOp(op string, arg any, sc *scope, depth int) (expr, error) {
	named, err := parseNamedArgs(op, arg, sc, depth, []string{"input", "regex", "options"}, "input", "regex")
	if err != nil {
		return nil, err
	}
	var cachedKey string
	var cached *regexp.Regexp
	return fnExpr(func(c *ctx) (any, error) {
		in, err := named["input"].eval(c)
		if err != nil {
			return nil, err
		}
		rv, err := named["regex"].eval(c)
		if err != nil {
			return nil, err
		}
		var pattern, opts string
		switch x := rv.(type) {
		case string:
			pattern = x
		case bson.Regex:
			pattern, opts = x.Pattern, x.Options
		default:
			if !isNullish(rv) {
				return nil, errf(51105, "%s needs 'regex' to be of type string or regex", op)
			}
		}
		if o := named["options"]; o != nil {
			ov, err := o.eval(c)
			if err != nil {
				return nil, err
			}
			if !isNullish(ov) {
				s, ok := ov.(string)
				if !ok {
					return nil, errf(51106, "%s needs 'options' to be of type string", op)
				}
				if opts != "" && s != "" {
					return nil, errf(51107, "%s found regex option(s) specified in both 'regex' and 'option' fields", op)
				}
				opts += s
			}
		}
		noMatch := func() (any, error) {
			if op == "$regexMatch" {
				return false, nil
			}
			return nil, nil
		}
		if isNullish(rv) {
			return noMatch()
		}
		if isNullish(in) {
			return noMatch()
		}
		s, ok := in.(string)
		if !ok {
			return nil, errf(51104, "%s needs 'input' to be of type string", op)
		}
		key := opts + "/" + pattern
		if cached == nil || key != cachedKey {
			re, err := compileRegex(pattern, opts)
			if err != nil {
				return nil, err
			}
			cached, cachedKey = re, key
		}
		if op == "$regexMatch" {
			return cached.MatchString(s), nil
		}
		loc := cached.FindStringSubmatchIndex(s)
		if loc == nil {
			return nil, nil
		}
		caps := bson.A{}
		for g := 1; g*2 < len(loc); g++ {
			if loc[2*g] < 0 {
				caps = append(caps, nil)
			} else {
				caps = append(caps, s[loc[2*g]:loc[2*g+1]])
			}
		}
		return bson.D{
			{Key: "match", Value: s[loc[0]:loc[1]]},
			{Key: "idx", Value: int32(utf8.RuneCountInString(s[:loc[0]]))},
			{Key: "captures", Value: caps},
		}, nil
	}), nil
}

func parseReplace(op string, arg any, sc *scope, depth int) (expr, error) {
	named, err := parseNamedArgs(op, arg, sc, depth, []string{"input", "find", "replacement"}, "input", "find", "replacement")
	if err != nil {
		return nil, err
	}
	return fnExpr(func(c *ctx) (any, error) {
		var vals [3]string
		for i, k := range []string{"input", "find", "replacement"} {
			v, err := named[k].eval(c)
			if err != nil {
				return nil, err
			}
			if isNullish(v) {
				return nil, nil
			}
			s, ok := v.(string)
			if !ok {
				return nil, errf(51746, "%s requires that '%s' be a string, found: %s", op, k, show(v))
			}
			vals[i] = s
		}
		if op == "$replaceOne" {
			return strings.Replace(vals[0], vals[1], vals[2], 1), nil
		}
		return strings.ReplaceAll(vals[0], vals[1], vals[2]), nil
	}), nil
}
