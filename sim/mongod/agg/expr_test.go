package agg

import (
	"testing"
)

// TestExpressions evaluates one expression per case in $project over a fixed document and
// compares with the result the MongoDB manual documents for the operator.
func TestExpressions(t *testing.T) {
	in := `[{"_id": 0, "client": "10.20.3.17:53422", "v6": "[2001:db8::1]:27017", "app": "Orders-API", "n": 5, "l": {"$numberLong": "7"},
		"d": 2.5, "t": true, "f": false, "z": 0, "nul": null, "arr": [3, 1, 2], "empty": [], "docs": [{"k": "a"}, {"k": "b"}],
		"s": "héllo wörld", "date": {"$date": "2024-01-02T03:04:05.006Z"}, "sub": {"x": 1}}]`
	cases := []struct{ name, expr, want string }{
		{"field path", `"$client"`, `"10.20.3.17:53422"`},
		{"nested field path", `"$sub.x"`, `1`},
		{"root var", `"$$ROOT.sub.x"`, `1`},
		{"current var", `"$$CURRENT.n"`, `5`},
		{"literal", `{"$literal": {"$add": 1}}`, `{"$add": 1}`},
		{"cond array", `{"$cond": [{"$eq": ["$t", true]}, 1, 0]}`, `1`},
		{"cond object", `{"$cond": {"if": {"$gt": ["$n", 10]}, "then": "big", "else": "small"}}`, `"small"`},
		{"cond on null is false", `{"$cond": ["$nul", 1, 0]}`, `0`},
		{"cond on zero is false", `{"$cond": ["$z", 1, 0]}`, `0`},
		{"cond on empty array is true", `{"$cond": ["$empty", 1, 0]}`, `1`},
		{"eq numbers across types", `{"$eq": ["$l", 7.0]}`, `true`},
		{"eq missing vs null is false", `{"$eq": ["$nope", null]}`, `false`},
		{"lt missing below null", `{"$lt": ["$nope", null]}`, `true`},
		{"gt string above number", `{"$gt": ["$app", 1000]}`, `true`},
		{"ne", `{"$ne": ["$n", 5]}`, `false`},
		{"gte", `{"$gte": ["$n", 5]}`, `true`},
		{"lte", `{"$lte": ["$d", 2]}`, `false`},
		{"cmp", `{"$cmp": ["$n", 7]}`, `-1`},
		{"and", `{"$and": ["$t", {"$gt": ["$n", 1]}]}`, `true`},
		{"and with zero", `{"$and": ["$t", 0]}`, `false`},
		{"or", `{"$or": ["$f", "$nul", 1]}`, `true`},
		{"not", `{"$not": ["$f"]}`, `true`},
		{"ifNull null", `{"$ifNull": ["$nul", "dflt"]}`, `"dflt"`},
		{"ifNull missing", `{"$ifNull": ["$nope", "dflt"]}`, `"dflt"`},
		{"ifNull present", `{"$ifNull": ["$app", "dflt"]}`, `"Orders-API"`},
		{"ifNull several", `{"$ifNull": ["$nope", "$nul", "$n"]}`, `5`},
		{"arrayElemAt", `{"$arrayElemAt": ["$arr", 1]}`, `1`},
		{"arrayElemAt negative", `{"$arrayElemAt": ["$arr", -1]}`, `2`},
		{"arrayElemAt split ip", `{"$arrayElemAt": [{"$split": ["$client", ":"]}, 0]}`, `"10.20.3.17"`},
		{"split", `{"$split": ["a,b,,c", ","]}`, `["a","b","","c"]`},
		{"split null", `{"$split": ["$nul", ","]}`, `null`},
		{"substrCP", `{"$substrCP": ["$s", 1, 4]}`, `"éllo"`},
		{"substrCP past end", `{"$substrCP": ["$s", 6, 100]}`, `"wörld"`},
		{"substrBytes", `{"$substrBytes": ["$client", 0, 5]}`, `"10.20"`},
		{"indexOfCP", `{"$indexOfCP": ["$s", "w"]}`, `6`},
		{"indexOfCP not found", `{"$indexOfCP": ["$client", "x"]}`, `-1`},
		{"indexOfCP with start", `{"$indexOfCP": ["$client", ".", 3]}`, `5`},
		{"indexOfCP null", `{"$indexOfCP": ["$nope", "x"]}`, `null`},
		{"indexOfBytes", `{"$indexOfBytes": ["$s", "w"]}`, `7`},
		{"strip port by lastIndex-free substr", `{"$substrCP": ["$client", 0, {"$indexOfCP": ["$client", ":"]}]}`, `"10.20.3.17"`},
		{"concat", `{"$concat": ["$app", "/", "$client"]}`, `"Orders-API/10.20.3.17:53422"`},
		{"concat null", `{"$concat": ["$app", "$nul"]}`, `null`},
		{"toLower", `{"$toLower": "$app"}`, `"orders-api"`},
		{"toLower number", `{"$toLower": "$n"}`, `"5"`},
		{"toLower null", `{"$toLower": "$nul"}`, `""`},
		{"toUpper", `{"$toUpper": "$app"}`, `"ORDERS-API"`},
		{"size", `{"$size": "$arr"}`, `3`},
		{"first", `{"$first": "$arr"}`, `3`},
		{"last", `{"$last": "$arr"}`, `2`},
		{"first of null", `{"$first": "$nul"}`, `null`},
		{"in", `{"$in": [2, "$arr"]}`, `true`},
		{"in numeric types", `{"$in": [{"$numberLong": "1"}, "$arr"]}`, `true`},
		{"in absent", `{"$in": ["x", "$arr"]}`, `false`},
		{"type int", `{"$type": "$n"}`, `"int"`},
		{"type long", `{"$type": "$l"}`, `"long"`},
		{"type missing", `{"$type": "$nope"}`, `"missing"`},
		{"type array", `{"$type": "$arr"}`, `"array"`},
		{"type date", `{"$type": "$date"}`, `"date"`},
		{"regexMatch", `{"$regexMatch": {"input": "$app", "regex": "^orders", "options": "i"}}`, `true`},
		{"regexMatch bson regex", `{"$regexMatch": {"input": "$app", "regex": {"$regularExpression": {"pattern": "API$", "options": ""}}}}`, `true`},
		{"regexMatch null input", `{"$regexMatch": {"input": "$nope", "regex": "x"}}`, `false`},
		{"regexFind ipv6 host", `{"$regexFind": {"input": "$v6", "regex": "^\\[(.*)\\]:\\d+$"}}`,
			`{"match":"[2001:db8::1]:27017","idx":0,"captures":["2001:db8::1"]}`},
		{"filter", `{"$filter": {"input": "$arr", "as": "x", "cond": {"$gte": ["$$x", 2]}}}`, `[3,2]`},
		{"filter default this", `{"$filter": {"input": "$docs", "cond": {"$eq": ["$$this.k", "b"]}}}`, `[{"k":"b"}]`},
		{"map", `{"$map": {"input": "$arr", "in": {"$multiply": ["$$this", 2]}}}`, `[6,2,4]`},
		{"reduce", `{"$reduce": {"input": "$arr", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}}`, `6`},
		{"let", `{"$let": {"vars": {"x": "$n"}, "in": {"$add": ["$$x", 1]}}}`, `6`},
		{"switch", `{"$switch": {"branches": [{"case": {"$gt": ["$n", 9]}, "then": "a"}, {"case": {"$gt": ["$n", 4]}, "then": "b"}], "default": "c"}}`, `"b"`},
		{"add int overflow to long", `{"$add": [2147483647, 1]}`, `{"$numberLong": "2147483648"}`},
		{"add int long double", `{"$add": ["$n", "$l", "$d"]}`, `14.5`},
		{"add to date", `{"$add": ["$date", 1000]}`, `{"$date": "2024-01-02T03:04:06.006Z"}`},
		{"subtract dates", `{"$subtract": [{"$add": ["$date", 5]}, "$date"]}`, `{"$numberLong": "5"}`},
		{"subtract", `{"$subtract": ["$n", 2]}`, `3`},
		{"multiply", `{"$multiply": ["$n", "$l"]}`, `{"$numberLong": "35"}`},
		{"divide", `{"$divide": ["$n", 2]}`, `2.5`},
		{"mod", `{"$mod": ["$n", 3]}`, `2`},
		{"abs", `{"$abs": -3}`, `3`},
		{"floor", `{"$floor": "$d"}`, `2.0`},
		{"sum of array", `{"$sum": "$arr"}`, `6`},
		{"sum of args", `{"$sum": ["$n", "$d", "x"]}`, `7.5`},
		{"avg of array", `{"$avg": "$arr"}`, `2.0`},
		{"max of array", `{"$max": "$arr"}`, `3`},
		{"min args", `{"$min": ["$n", "$d", "$nul"]}`, `2.5`},
		{"toString", `{"$toString": "$d"}`, `"2.5"`},
		{"toString date", `{"$toString": "$date"}`, `"2024-01-02T03:04:05.006Z"`},
		{"toInt", `{"$toInt": "42"}`, `42`},
		{"toLong", `{"$toLong": "$d"}`, `{"$numberLong": "2"}`},
		{"toDouble", `{"$toDouble": "$n"}`, `5.0`},
		{"toBool", `{"$toBool": "$z"}`, `false`},
		{"strLenCP", `{"$strLenCP": "$s"}`, `11`},
		{"strLenBytes", `{"$strLenBytes": "$s"}`, `13`},
		{"trim", `{"$trim": {"input": "  x y  "}}`, `"x y"`},
		{"ltrim chars", `{"$ltrim": {"input": "xxay", "chars": "x"}}`, `"ay"`},
		{"strcasecmp", `{"$strcasecmp": ["$app", "orders-api"]}`, `0`},
		{"replaceAll", `{"$replaceAll": {"input": "a.b.c", "find": ".", "replacement": "/"}}`, `"a/b/c"`},
		{"concatArrays", `{"$concatArrays": ["$arr", [9]]}`, `[3,1,2,9]`},
		{"isArray", `{"$isArray": ["$arr"]}`, `true`},
		{"slice", `{"$slice": ["$arr", -2]}`, `[1,2]`},
		{"reverseArray", `{"$reverseArray": "$arr"}`, `[2,1,3]`},
		{"mergeObjects", `{"$mergeObjects": ["$sub", {"y": 2}]}`, `{"x":1,"y":2}`},
		{"object expression", `{"ip": "$client", "none": "$nope"}`, `{"ip":"10.20.3.17:53422"}`},
		{"array expression keeps missing as null", `["$n", "$nope"]`, `[5,null]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pipe(t, `[{"$project": {"_id": 0, "r": `+tc.expr+`}}]`)
			got, err := Run(docs(t, in), p)
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			want := docs(t, `[{"r": `+tc.want+`}]`)
			if g, w := canonical(t, got), canonical(t, want); g != w {
				t.Errorf("%s\n got: %s\nwant: %s", tc.expr, g, w)
			}
		})
	}
}

func TestExpressionErrors(t *testing.T) {
	proj := func(e string) string { return `[{"$project": {"r": ` + e + `}}]` }
	errCases(t, []errCase{
		{name: "unknown expression", pipeline: proj(`{"$bogus": 1}`), code: 168, msg: "Unrecognized expression '$bogus'"},
		{name: "two operators", pipeline: proj(`{"$eq": [1, 1], "$ne": [1, 2]}`), code: 15983, msg: "exactly one field"},
		{name: "eq arity", pipeline: proj(`{"$eq": [1]}`), code: 16020, msg: "Expression $eq takes exactly 2 arguments. 1 were passed in."},
		{name: "cond arity", pipeline: proj(`{"$cond": [1, 2]}`), code: 16020, msg: "$cond takes exactly 3 arguments"},
		{name: "cond missing if", pipeline: proj(`{"$cond": {"then": 1, "else": 2}}`), code: 17080, msg: "Missing 'if'"},
		{name: "cond unknown param", pipeline: proj(`{"$cond": {"if": 1, "then": 1, "else": 2, "x": 1}}`), code: 17083, msg: "Unrecognized parameter to $cond: x"},
		{name: "undefined variable", pipeline: proj(`"$$nope"`), code: 17276, msg: "Use of undefined variable: nope"},
		{name: "lone $", pipeline: proj(`"$"`), code: 16872, msg: "'$' by itself"},
		{name: "empty path component", pipeline: proj(`"$a..b"`), code: 15998, msg: "may not be empty"},
		{name: "size of non-array", pipeline: proj(`{"$size": "$s"}`), code: 17124, msg: "must be an array. Type of argument: string"},
		{name: "size of missing", pipeline: proj(`{"$size": "$nope"}`), code: 17124, msg: "Type of argument: missing"},
		{name: "arrayElemAt non-array", pipeline: proj(`{"$arrayElemAt": ["$s", 0]}`), code: 28689, msg: "must be an array, but is string"},
		{name: "arrayElemAt fractional", pipeline: proj(`{"$arrayElemAt": ["$arr", 0.5]}`), code: 28691, msg: "32-bit integer"},
		{name: "split non-string", pipeline: proj(`{"$split": ["$a", ","]}`), code: 40085, msg: "found: int"},
		{name: "split empty separator", pipeline: proj(`{"$split": ["$s", ""]}`), code: 40087, msg: "non-empty separator"},
		{name: "concat non-string", pipeline: proj(`{"$concat": ["$s", "$a"]}`), code: 16702, msg: "$concat only supports strings, not int"},
		{name: "in non-array", pipeline: proj(`{"$in": [1, "$s"]}`), code: 40081, msg: "found: string"},
		{name: "substrCP negative length", pipeline: proj(`{"$substrCP": ["$s", 0, -1]}`), code: 34454, msg: "nonnegative"},
		{name: "indexOfCP non-string", pipeline: proj(`{"$indexOfCP": ["$a", "x"]}`), code: 40091, msg: "first argument"},
		{name: "toLower array", pipeline: proj(`{"$toLower": ["$arr"]}`), code: 16007, msg: "can't convert from BSON type array to String"},
		{name: "divide by zero", pipeline: proj(`{"$divide": [1, 0]}`), code: 2, msg: "can't $divide by zero"},
		{name: "first non-array", pipeline: proj(`{"$first": "$s"}`), code: 28689, msg: "must be an array"},
		{name: "regex invalid", pipeline: proj(`{"$regexMatch": {"input": "$s", "regex": "("}}`), code: 51091, msg: "invalid"},
		{name: "switch no match", pipeline: proj(`{"$switch": {"branches": [{"case": false, "then": 1}]}}`), code: 40066, msg: "no default"},
		{name: "toInt overflow", pipeline: proj(`{"$toInt": 1e12}`), code: 241, msg: "overflow"},
	})
}
