package agg

import "testing"

// Expected results follow the MongoDB manual's aggregation stage and accumulator pages
// (https://www.mongodb.com/docs/manual/reference/operator/aggregation-pipeline/).
func TestGroup(t *testing.T) {
	conns := `[
		{"client": "10.0.0.1:5000", "appName": "orders-api", "active": true, "secs": 3, "user": "app"},
		{"client": "10.0.0.1:5001", "appName": "orders-api", "active": false, "user": "app"},
		{"client": "10.0.0.2:6000", "appName": "mongosh", "active": true, "secs": {"$numberLong": "5"}, "user": "dba"},
		{"client": "[::1]:7000", "active": false, "secs": 1.5},
		{"client": "10.0.0.1:5002", "appName": "reports", "active": true, "secs": 2, "user": "app"}
	]`
	runCases(t, []runCase{
		{"count per client ip", conns, `[
			{"$group": {"_id": {"$arrayElemAt": [{"$split": ["$client", ":"]}, 0]}, "count": {"$sum": 1}}}
		]`, `[{"_id":"10.0.0.1","count":3},{"_id":"10.0.0.2","count":1},{"_id":"[","count":1}]`},
		{"conditional sum, addToSet, push", conns, `[
			{"$group": {"_id": "$user", "n": {"$sum": 1},
				"active": {"$sum": {"$cond": [{"$eq": ["$active", true]}, 1, 0]}},
				"apps": {"$addToSet": "$appName"}, "all": {"$push": "$appName"}}}
		]`, `[{"_id":"app","n":3,"active":2,"apps":["orders-api","reports"],"all":["orders-api","orders-api","reports"]},
			{"_id":"dba","n":1,"active":1,"apps":["mongosh"],"all":["mongosh"]},
			{"_id":null,"n":1,"active":0,"apps":[],"all":[]}]`},
		{"sum widens int to long to double", conns, `[
			{"$group": {"_id": null, "ints": {"$sum": {"$cond": [{"$eq": [{"$type": "$secs"}, "int"]}, "$secs", 0]}},
				"withLong": {"$sum": {"$cond": [{"$eq": [{"$type": "$secs"}, "double"]}, 0, "$secs"]}},
				"all": {"$sum": "$secs"}, "none": {"$sum": "$nothing"}}}
		]`, `[{"_id":null,"ints":5,"withLong":{"$numberLong":"10"},"all":11.5,"none":0}]`},
		{"avg min max first last count", conns, `[
			{"$group": {"_id": 1, "avg": {"$avg": "$secs"}, "min": {"$min": "$secs"}, "max": {"$max": "$secs"},
				"first": {"$first": "$appName"}, "last": {"$last": "$appName"}, "c": {"$count": {}},
				"minApp": {"$min": "$appName"}, "avgNone": {"$avg": "$nothing"}, "maxNone": {"$max": "$nothing"}}}
		]`, `[{"_id":1,"avg":2.875,"min":1.5,"max":{"$numberLong":"5"},"first":"orders-api","last":"reports","c":5,
			"minApp":"mongosh","avgNone":null,"maxNone":null}]`},
		{"first of missing is null", conns, `[{"$sort": {"appName": 1}}, {"$group": {"_id": null, "f": {"$first": "$appName"}}}]`,
			`[{"_id":null,"f":null}]`},
		{"compound _id", conns, `[{"$match": {"user": "app"}}, {"$group": {"_id": {"u": "$user", "a": "$active"}, "n": {"$sum": 1}}}]`,
			`[{"_id":{"u":"app","a":true},"n":2},{"_id":{"u":"app","a":false},"n":1}]`},
		{"numeric keys group together", `[{"k":1},{"k":1.0},{"k":{"$numberLong":"1"}},{"k":2}]`,
			`[{"$group": {"_id": "$k", "n": {"$sum": 1}}}]`, `[{"_id":1,"n":3},{"_id":2,"n":1}]`},
		{"missing and null group together", `[{"k":null},{},{"k":"x"}]`,
			`[{"$group": {"_id": "$k", "n": {"$sum": 1}}}]`, `[{"_id":null,"n":2},{"_id":"x","n":1}]`},
		{"currentOp command shape", `[{"opid":1},{"opid":2}]`,
			`[{"$group": {"_id": 0, "inprog": {"$push": "$$ROOT"}}}]`, `[{"_id":0,"inprog":[{"opid":1},{"opid":2}]}]`},
		{"empty input gives no groups", `[]`, `[{"$group": {"_id": null, "n": {"$sum": 1}}}]`, `[]`},
		{"addToSet dedups numerically equal values", `[{"v":1},{"v":1.0},{"v":[1]},{"v":[1]}]`,
			`[{"$group": {"_id": null, "s": {"$addToSet": "$v"}}}]`, `[{"_id":null,"s":[1,[1]]}]`},
		{"mergeObjects accumulator", `[{"d":{"a":1}},{"d":{"b":2,"a":3}},{"d":null}]`,
			`[{"$group": {"_id": null, "m": {"$mergeObjects": "$d"}}}]`, `[{"_id":null,"m":{"a":3,"b":2}}]`},
		{"client IP with IPv6 brackets and awaitable hellos not busy", `[
			{"client": "[2001:db8::5]:443", "active": true, "command": {"hello": 1, "topologyVersion": {"counter": 0}}, "effectiveUsers": [{"user": "a", "db": "admin"}]},
			{"client": "[2001:db8::5]:444", "active": true, "command": {"find": "x"}, "effectiveUsers": [{"user": "a", "db": "admin"}]},
			{"client": "10.0.0.7:5123", "active": false, "clientMetadata": {"driver": {"name": "nodejs", "version": "6"}}},
			{"active": true}
		]`, `[
			{"$match": {"$and": [{"client": {"$type": "string"}}, {"command.comment": {"$ne": "currentop"}}]}},
			{"$group": {"_id": {"$cond": [
					{"$eq": [{"$substrCP": ["$client", 0, 1]}, "["]},
					{"$substrCP": [{"$arrayElemAt": [{"$split": ["$client", "]"]}, 0]}, 1, 255]},
					{"$arrayElemAt": [{"$split": ["$client", ":"]}, 0]}]},
				"count": {"$sum": 1},
				"active": {"$sum": {"$cond": [{"$and": [{"$eq": ["$active", true]}, {"$eq": [{"$type": "$command.topologyVersion"}, "missing"]}]}, 1, 0]}},
				"users": {"$addToSet": "$effectiveUsers"},
				"drivers": {"$addToSet": "$clientMetadata.driver"}}}
		]`, `[{"_id": "2001:db8::5", "count": 2, "active": 1, "users": [[{"user": "a", "db": "admin"}]], "drivers": []},
			{"_id": "10.0.0.7", "count": 1, "active": 0, "users": [], "drivers": [{"name": "nodejs", "version": "6"}]}]`},
		{"sortByCount", conns, `[{"$sortByCount": "$user"}]`,
			`[{"_id":"app","count":3},{"_id":"dba","count":1},{"_id":null,"count":1}]`},
	})
}

func TestProject(t *testing.T) {
	in := `[{"_id": 7, "a": 1, "b": {"c": 2, "d": 3}, "arr": [{"c": 1, "d": 2}, {"d": 4}, 5], "s": "10.1.2.3:4455", "active": true}]`
	runCases(t, []runCase{
		{"inclusion keeps _id and document order", in, `[{"$project": {"s": 1, "a": 1}}]`, `[{"_id":7,"a":1,"s":"10.1.2.3:4455"}]`},
		{"exclude _id", in, `[{"$project": {"_id": 0, "a": 1}}]`, `[{"a":1}]`},
		{"only _id excluded is an exclusion", in, `[{"$project": {"_id": 0}}, {"$project": {"arr": 0, "b": 0, "s": 0}}]`, `[{"a":1,"active":true}]`},
		{"exclusion", in, `[{"$project": {"b": 0, "arr": 0, "s": 0}}]`, `[{"_id":7,"a":1,"active":true}]`},
		{"dotted inclusion", in, `[{"$project": {"b.c": 1, "_id": 0}}]`, `[{"b":{"c":2}}]`},
		{"nested inclusion", in, `[{"$project": {"b": {"d": 1}, "_id": 0}}]`, `[{"b":{"d":3}}]`},
		{"inclusion through array drops scalars", in, `[{"$project": {"arr.d": 1, "_id": 0}}]`, `[{"arr":[{"d":2},{"d":4}]}]`},
		{"dotted exclusion through array", in, `[{"$project": {"arr.d": 0, "_id": 0, "a": 0, "b": 0, "s": 0, "active": 0}}]`, `[{"arr":[{"c":1},{},5]}]`},
		{"rename and computed", in, `[{"$project": {"_id": 0, "ip": "$s", "c": "$b.c", "lit": {"$literal": "$x"}, "n": {"$literal": 1}}}]`,
			`[{"ip":"10.1.2.3:4455","c":2,"lit":"$x","n":1}]`},
		{"missing field path omitted", in, `[{"$project": {"_id": 0, "x": "$nope", "a": 1}}]`, `[{"a":1}]`},
		{"array field path", in, `[{"$project": {"_id": 0, "ds": "$arr.d"}}]`, `[{"ds":[2,4]}]`},
		{"$$REMOVE", in, `[{"$project": {"_id": 0, "a": 1, "x": {"$cond": [false, 1, "$$REMOVE"]}}}]`, `[{"a":1}]`},
		{"nested computed creates sub-document", in, `[{"$project": {"_id": 0, "info": {"ip": "$s", "on": "$active"}}}]`, `[{"info":{"ip":"10.1.2.3:4455","on":true}}]`},
		{"addFields replaces in place and appends", in, `[{"$addFields": {"a": "$b.c", "z": 1}}, {"$project": {"arr": 0, "b": 0}}]`,
			`[{"_id":7,"a":2,"s":"10.1.2.3:4455","active":true,"z":1}]`},
		{"set alias and nested merge", in, `[{"$set": {"b": {"e": 5}, "b.f": "$a"}}, {"$project": {"b": 1, "_id": 0}}]`,
			`[{"b":{"c":2,"d":3,"e":5,"f":1}}]`},
		{"addFields $$REMOVE removes", in, `[{"$addFields": {"a": "$$REMOVE"}}, {"$project": {"a": 1}}]`, `[{"_id":7}]`},
		{"unset", in, `[{"$unset": ["arr", "b", "s"]}]`, `[{"_id":7,"a":1,"active":true}]`},
		{"replaceRoot", in, `[{"$replaceRoot": {"newRoot": "$b"}}]`, `[{"c":2,"d":3}]`},
		{"replaceWith", in, `[{"$replaceWith": {"x": "$a"}}]`, `[{"x":1}]`},
	})
}

func TestSortLimitSkipCount(t *testing.T) {
	in := `[
		{"_id": 1, "k": 2, "s": "b"},
		{"_id": 2, "k": 1.5, "s": "a"},
		{"_id": 3, "s": "a"},
		{"_id": 4, "k": "x", "s": "c"},
		{"_id": 5, "k": null, "s": "b"},
		{"_id": 6, "k": {"$numberLong": "2"}, "s": "a"},
		{"_id": 7, "k": [0, 9], "s": "d"},
		{"_id": 8, "k": true, "s": "d"},
		{"_id": 9, "k": {"a": 1}, "s": "d"}
	]`
	runCases(t, []runCase{
		{"type brackets ascending, stable ties", in, `[{"$sort": {"k": 1}}, {"$project": {"_id": 1}}]`,
			`[{"_id":3},{"_id":5},{"_id":7},{"_id":2},{"_id":1},{"_id":6},{"_id":4},{"_id":9},{"_id":8}]`},
		{"descending uses the array max", in, `[{"$sort": {"k": -1}}, {"$project": {"_id": 1}}]`,
			`[{"_id":8},{"_id":9},{"_id":4},{"_id":7},{"_id":1},{"_id":6},{"_id":2},{"_id":3},{"_id":5}]`},
		{"multiple keys", in, `[{"$sort": {"s": 1, "_id": -1}}, {"$project": {"_id": 1}}]`,
			`[{"_id":6},{"_id":3},{"_id":2},{"_id":5},{"_id":1},{"_id":4},{"_id":9},{"_id":8},{"_id":7}]`},
		{"skip and limit", in, `[{"$sort": {"_id": 1}}, {"$skip": 2}, {"$limit": 3}, {"$project": {"_id": 1}}]`,
			`[{"_id":3},{"_id":4},{"_id":5}]`},
		{"limit as double and long", in, `[{"$limit": 2.0}, {"$limit": {"$numberLong": "1"}}, {"$project": {"_id": 1}}]`, `[{"_id":1}]`},
		{"skip past the end", in, `[{"$skip": 100}]`, `[]`},
		{"count", in, `[{"$match": {"s": "a"}}, {"$count": "n"}]`, `[{"n":3}]`},
		{"count of nothing is no document", in, `[{"$match": {"s": "zz"}}, {"$count": "n"}]`, `[]`},
	})
}

func TestUnwindFacet(t *testing.T) {
	in := `[
		{"_id": 1, "tags": ["a", "b"]},
		{"_id": 2, "tags": []},
		{"_id": 3, "tags": null},
		{"_id": 4},
		{"_id": 5, "tags": "solo"},
		{"_id": 6, "d": {"tags": ["x"]}}
	]`
	runCases(t, []runCase{
		{"string form", in, `[{"$unwind": "$tags"}]`, `[{"_id":1,"tags":"a"},{"_id":1,"tags":"b"},{"_id":5,"tags":"solo"}]`},
		{"preserve null and empty", in, `[{"$unwind": {"path": "$tags", "preserveNullAndEmptyArrays": true}}]`,
			`[{"_id":1,"tags":"a"},{"_id":1,"tags":"b"},{"_id":2},{"_id":3,"tags":null},{"_id":4},{"_id":5,"tags":"solo"},{"_id":6,"d":{"tags":["x"]}}]`},
		{"includeArrayIndex", in, `[{"$unwind": {"path": "$tags", "includeArrayIndex": "i"}}]`,
			`[{"_id":1,"tags":"a","i":{"$numberLong":"0"}},{"_id":1,"tags":"b","i":{"$numberLong":"1"}},{"_id":5,"tags":"solo","i":null}]`},
		{"dotted path", in, `[{"$unwind": "$d.tags"}]`, `[{"_id":6,"d":{"tags":"x"}}]`},
		{"unwind then group", in, `[{"$unwind": "$tags"}, {"$group": {"_id": "$tags", "n": {"$sum": 1}}}]`,
			`[{"_id":"a","n":1},{"_id":"b","n":1},{"_id":"solo","n":1}]`},
		{"facet", in, `[{"$facet": {"count": [{"$count": "n"}], "ids": [{"$match": {"_id": {"$lte": 2}}}, {"$project": {"_id": 1}}]}}]`,
			`[{"count":[{"n":6}],"ids":[{"_id":1},{"_id":2}]}]`},
	})
}

func TestStageErrors(t *testing.T) {
	errCases(t, []errCase{
		{name: "unknown stage", pipeline: `[{"$foo": {}}]`, code: 40324, msg: "Unrecognized pipeline stage name: '$foo'"},
		{name: "two fields in a stage", pipeline: `[{"$match": {}, "$limit": 1}]`, code: 40323, msg: "exactly one field"},
		{name: "empty stage", pipeline: `[{}]`, code: 40323, msg: "exactly one field"},
		{name: "currentOp not first", pipeline: `[{"$currentOp": {}}]`, code: 40602, msg: "first stage"},
		{name: "group without _id", pipeline: `[{"$group": {"n": {"$sum": 1}}}]`, code: 15955, msg: "must include an _id"},
		{name: "unknown accumulator", pipeline: `[{"$group": {"_id": null, "n": {"$foo": 1}}}]`, code: 15952, msg: "unknown group operator '$foo'"},
		{name: "accumulator not an object", pipeline: `[{"$group": {"_id": null, "n": 1}}]`, code: 40234, msg: "must be an accumulator object"},
		{name: "two accumulators", pipeline: `[{"$group": {"_id": null, "n": {"$sum": 1, "$max": 1}}}]`, code: 40238, msg: "must specify one accumulator"},
		{name: "dotted group field", pipeline: `[{"$group": {"_id": null, "a.b": {"$sum": 1}}}]`, code: 40235, msg: "cannot contain '.'"},
		{name: "mixed projection", pipeline: `[{"$project": {"a": 1, "b": 0}}]`, code: 31254, msg: "Cannot do exclusion on field b in inclusion projection"},
		{name: "mixed projection other way", pipeline: `[{"$project": {"b": 0, "a": 1}}]`, code: 31253, msg: "Cannot do inclusion on field a in exclusion projection"},
		{name: "empty projection", pipeline: `[{"$project": {}}]`, code: 51272, msg: "at least one field"},
		{name: "path collision", pipeline: `[{"$project": {"a": 1, "a.b": 1}}]`, code: 31250, msg: "Path collision"},
		{name: "sort value", pipeline: `[{"$sort": {"a": 2}}]`, code: 15975, msg: "must be 1"},
		{name: "sort empty", pipeline: `[{"$sort": {}}]`, code: 15976, msg: "at least one sort key"},
		{name: "limit zero", pipeline: `[{"$limit": 0}]`, code: 15958, msg: "positive"},
		{name: "limit string", pipeline: `[{"$limit": "1"}]`, code: 15957, msg: "number"},
		{name: "skip negative", pipeline: `[{"$skip": -1}]`, code: 15956, msg: "cannot be negative"},
		{name: "count $ name", pipeline: `[{"$count": "$n"}]`, code: 40158, msg: "$-prefixed"},
		{name: "count dotted", pipeline: `[{"$count": "a.b"}]`, code: 40160, msg: "'.'"},
		{name: "unwind without $", pipeline: `[{"$unwind": "tags"}]`, code: 28818, msg: "should be prefixed with a '$': tags"},
		{name: "unwind bad option", pipeline: `[{"$unwind": {"path": "$a", "x": 1}}]`, code: 28811, msg: "unrecognized option"},
		{name: "unwind no path", pipeline: `[{"$unwind": {"preserveNullAndEmptyArrays": true}}]`, code: 28812, msg: "no path"},
		{name: "facet nested", pipeline: `[{"$facet": {"a": [{"$facet": {}}]}}]`, code: 40600, msg: "not allowed"},
		{name: "facet error inside", pipeline: `[{"$facet": {"a": [{"$bogus": 1}]}}]`, code: 40324, msg: "$bogus"},
		{name: "replaceRoot non-object", pipeline: `[{"$replaceRoot": {"newRoot": "$a"}}]`, code: 40228, msg: "must evaluate to an object"},
	})
}
