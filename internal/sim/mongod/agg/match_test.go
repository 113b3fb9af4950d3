package agg

import "testing"

// Expected results follow the MongoDB manual's query operator pages
// (https://www.mongodb.com/docs/manual/reference/operator/query/).
func TestMatch(t *testing.T) {
	ops := `[
		{"_id": 1, "op": "query", "ns": "shop.orders", "secs": 7, "active": true, "client": "10.0.0.1:5000", "tags": ["a", "b"], "sub": {"x": 1, "y": "Hello"}},
		{"_id": 2, "op": "getmore", "ns": "local.oplog.rs", "secs": {"$numberLong": "3"}, "active": true, "client": "10.0.0.2:5000", "tags": [], "sub": {"x": 2.5}},
		{"_id": 3, "op": "none", "active": false, "client": "10.0.0.1:5001", "secs": 1.5, "tags": ["b"], "sub": [{"x": 3}, {"x": 9}]},
		{"_id": 4, "op": "command", "ns": null, "active": false, "secs": "7", "tags": [["a"]], "sub": null}
	]`
	cases := []runCase{
		{"equality", ops, `[{"$match": {"op": "query"}}]`, `[{"_id":1}]`},
		{"equality int against long and double", ops, `[{"$match": {"secs": {"$numberLong": "7"}}}]`, `[{"_id":1}]`},
		{"equality 3 matches long 3", ops, `[{"$match": {"secs": 3.0}}]`, `[{"_id":2}]`},
		{"array contains", ops, `[{"$match": {"tags": "b"}}]`, `[{"_id":1},{"_id":3}]`},
		{"array equals whole array", ops, `[{"$match": {"tags": ["a", "b"]}}]`, `[{"_id":1}]`},
		{"nested array element", ops, `[{"$match": {"tags": ["a"]}}]`, `[{"_id":4}]`},
		{"empty array equality", ops, `[{"$match": {"tags": []}}]`, `[{"_id":2}]`},
		{"null matches null and missing", ops, `[{"$match": {"ns": null}}]`, `[{"_id":3},{"_id":4}]`},
		{"$ne null", ops, `[{"$match": {"ns": {"$ne": null}}}]`, `[{"_id":1},{"_id":2}]`},
		{"$exists true", ops, `[{"$match": {"ns": {"$exists": true}}}]`, `[{"_id":1},{"_id":2},{"_id":4}]`},
		{"$exists false", ops, `[{"$match": {"ns": {"$exists": false}}}]`, `[{"_id":3}]`},
		{"$exists 0 is false", ops, `[{"$match": {"ns": {"$exists": 0}}}]`, `[{"_id":3}]`},
		{"$gt across numeric types, strings bracketed out", ops, `[{"$match": {"secs": {"$gt": 2}}}]`, `[{"_id":1},{"_id":2}]`},
		{"$gte double", ops, `[{"$match": {"secs": {"$gte": 1.5}}}]`, `[{"_id":1},{"_id":2},{"_id":3}]`},
		{"$lt", ops, `[{"$match": {"secs": {"$lt": 3}}}]`, `[{"_id":3}]`},
		{"$lte", ops, `[{"$match": {"secs": {"$lte": 3}}}]`, `[{"_id":2},{"_id":3}]`},
		{"range", ops, `[{"$match": {"secs": {"$gt": 1, "$lt": 5}}}]`, `[{"_id":2},{"_id":3}]`},
		{"string comparison only strings", ops, `[{"$match": {"secs": {"$gte": ""}}}]`, `[{"_id":4}]`},
		{"$gte null matches null and missing", ops, `[{"$match": {"ns": {"$gte": null}}}]`, `[{"_id":3},{"_id":4}]`},
		{"$gt null matches nothing", ops, `[{"$match": {"ns": {"$gt": null}}}]`, `[]`},
		{"$in", ops, `[{"$match": {"op": {"$in": ["query", "command"]}}}]`, `[{"_id":1},{"_id":4}]`},
		{"$in with null", ops, `[{"$match": {"ns": {"$in": [null, "shop.orders"]}}}]`, `[{"_id":1},{"_id":3},{"_id":4}]`},
		{"$in with regex", ops, `[{"$match": {"ns": {"$in": [{"$regularExpression": {"pattern": "^local\\.", "options": ""}}]}}}]`, `[{"_id":2}]`},
		{"$in on array field", ops, `[{"$match": {"tags": {"$in": ["a"]}}}]`, `[{"_id":1}]`},
		{"$nin", ops, `[{"$match": {"op": {"$nin": ["query", "command"]}}}]`, `[{"_id":2},{"_id":3}]`},
		{"$nin on arrays excludes any element", ops, `[{"$match": {"tags": {"$nin": ["b"]}}}]`, `[{"_id":2},{"_id":4}]`},
		{"$ne on arrays", ops, `[{"$match": {"tags": {"$ne": "a"}}}]`, `[{"_id":2},{"_id":3},{"_id":4}]`},
		{"$eq", ops, `[{"$match": {"active": {"$eq": false}}}]`, `[{"_id":3},{"_id":4}]`},
		{"$regex string", ops, `[{"$match": {"ns": {"$regex": "^shop"}}}]`, `[{"_id":1}]`},
		{"$regex with $options i", ops, `[{"$match": {"sub.y": {"$regex": "^hello$", "$options": "i"}}}]`, `[{"_id":1}]`},
		{"$regex case sensitive", ops, `[{"$match": {"sub.y": {"$regex": "^hello$"}}}]`, `[]`},
		{"bson regex value", ops, `[{"$match": {"ns": {"$regularExpression": {"pattern": "OPLOG", "options": "i"}}}}]`, `[{"_id":2}]`},
		{"$regex as bson regex", ops, `[{"$match": {"ns": {"$regex": {"$regularExpression": {"pattern": "ORDERS", "options": "i"}}}}}]`, `[{"_id":1}]`},
		{"$regex on array elements", ops, `[{"$match": {"tags": {"$regex": "^b"}}}]`, `[{"_id":1},{"_id":3}]`},
		{"$regex x option", ops, `[{"$match": {"op": {"$regex": "get more # comment", "$options": "x"}}}]`, `[{"_id":2}]`},
		{"$not regex", ops, `[{"$match": {"ns": {"$not": {"$regularExpression": {"pattern": "^shop", "options": ""}}}}}]`, `[{"_id":2},{"_id":3},{"_id":4}]`},
		{"$not operator doc includes missing", ops, `[{"$match": {"secs": {"$not": {"$gt": 2}}}}]`, `[{"_id":3},{"_id":4}]`},
		{"$and", ops, `[{"$match": {"$and": [{"active": true}, {"secs": {"$gt": 5}}]}}]`, `[{"_id":1}]`},
		{"$or", ops, `[{"$match": {"$or": [{"op": "none"}, {"ns": "local.oplog.rs"}]}}]`, `[{"_id":2},{"_id":3}]`},
		{"$nor", ops, `[{"$match": {"$nor": [{"op": "none"}, {"ns": "local.oplog.rs"}]}}]`, `[{"_id":1},{"_id":4}]`},
		{"dotted path into sub-document", ops, `[{"$match": {"sub.x": 1}}]`, `[{"_id":1}]`},
		{"dotted path through array of documents", ops, `[{"$match": {"sub.x": 9}}]`, `[{"_id":3}]`},
		{"dotted path with array index", ops, `[{"$match": {"sub.1.x": 9}}]`, `[{"_id":3}]`},
		{"array index then leaf array expansion", ops, `[{"$match": {"tags.0": "a"}}]`, `[{"_id":1},{"_id":4}]`},
		{"dotted comparison through array", ops, `[{"$match": {"sub.x": {"$gt": 5}}}]`, `[{"_id":3}]`},
		{"$type string", ops, `[{"$match": {"secs": {"$type": "string"}}}]`, `[{"_id":4}]`},
		{"$type number", ops, `[{"$match": {"secs": {"$type": "number"}}}]`, `[{"_id":1},{"_id":2},{"_id":3}]`},
		{"$type numeric code long", ops, `[{"$match": {"secs": {"$type": 18}}}]`, `[{"_id":2}]`},
		{"$type list", ops, `[{"$match": {"secs": {"$type": ["double", "string"]}}}]`, `[{"_id":3},{"_id":4}]`},
		{"$type array", ops, `[{"$match": {"tags": {"$type": "array"}}}]`, `[{"_id":1},{"_id":2},{"_id":3},{"_id":4}]`},
		{"$type null", ops, `[{"$match": {"ns": {"$type": "null"}}}]`, `[{"_id":4}]`},
		{"$size", ops, `[{"$match": {"tags": {"$size": 1}}}]`, `[{"_id":3},{"_id":4}]`},
		{"$all", ops, `[{"$match": {"tags": {"$all": ["b", "a"]}}}]`, `[{"_id":1}]`},
		{"$elemMatch doc form", ops, `[{"$match": {"sub": {"$elemMatch": {"x": {"$gt": 5}}}}}]`, `[{"_id":3}]`},
		{"$elemMatch value form", ops, `[{"$match": {"tags": {"$elemMatch": {"$eq": "b"}}}}]`, `[{"_id":1},{"_id":3}]`},
		{"$expr", ops, `[{"$match": {"$expr": {"$eq": ["$op", "query"]}}}]`, `[{"_id":1}]`},
		{"$comment ignored", ops, `[{"$match": {"$comment": "x", "op": "none"}}]`, `[{"_id":3}]`},
		{"equality to embedded document is exact", ops, `[{"$match": {"sub": {"x": 2.5}}}]`, `[{"_id":2}]`},
		{"embedded document field order matters", `[{"_id":1,"d":{"a":1,"b":2}}]`, `[{"$match": {"d": {"b": 2, "a": 1}}}]`, `[]`},
		{"$mod", ops, `[{"$match": {"secs": {"$mod": [4, 3]}}}]`, `[{"_id":1},{"_id":2}]`},
		{"empty match keeps all", ops, `[{"$match": {}}]`, `[{"_id":1},{"_id":2},{"_id":3},{"_id":4}]`},
		{"currentOp-style filter", `[
			{"_id":1,"active":true,"op":"query","appName":"orders-api","command":{"find":"orders","comment":{"sim":{}}}},
			{"_id":2,"active":true,"op":"command","appName":"currentop","command":{"aggregate":1}},
			{"_id":3,"active":false,"appName":"orders-api"}
		]`, `[{"$match": {"active": true, "appName": {"$ne": "currentop"}, "command.hello": {"$exists": false}}}]`, `[{"_id":1}]`},
	}
	for i := range cases {
		cases[i].pipeline = cases[i].pipeline[:len(cases[i].pipeline)-1] + `, {"$project": {"_id": 1}}]`
	}
	runCases(t, cases)
}

func TestMatchErrors(t *testing.T) {
	errCases(t, []errCase{
		{name: "unknown operator", pipeline: `[{"$match": {"a": {"$foo": 1}}}]`, code: 2, msg: "unknown operator: $foo"},
		{name: "unknown top level operator", pipeline: `[{"$match": {"$foo": 1}}]`, code: 2, msg: "unknown top level operator: $foo"},
		{name: "$in needs an array", pipeline: `[{"$match": {"a": {"$in": 1}}}]`, code: 2, msg: "$in needs an array"},
		{name: "$nin needs an array", pipeline: `[{"$match": {"a": {"$nin": "x"}}}]`, code: 2, msg: "$nin needs an array"},
		{name: "$and needs a nonempty array", pipeline: `[{"$match": {"$and": []}}]`, code: 2, msg: "nonempty array"},
		{name: "$or entries must be objects", pipeline: `[{"$match": {"$or": [1]}}]`, code: 2, msg: "full objects"},
		{name: "$regex must be a string", pipeline: `[{"$match": {"a": {"$regex": 1}}}]`, code: 2, msg: "$regex has to be a string"},
		{name: "$options without $regex", pipeline: `[{"$match": {"a": {"$options": "i"}}}]`, code: 2, msg: "$options needs a $regex"},
		{name: "invalid regex", pipeline: `[{"$match": {"a": {"$regex": "("}}}]`, code: 51091, msg: "Regular expression is invalid"},
		{name: "bad regex option", pipeline: `[{"$match": {"a": {"$regex": "a", "$options": "z"}}}]`, code: 51108, msg: "invalid flag"},
		{name: "$not needs regex or doc", pipeline: `[{"$match": {"a": {"$not": 1}}}]`, code: 2, msg: "$not needs a regex or a document"},
		{name: "$type unknown alias", pipeline: `[{"$match": {"a": {"$type": "strin"}}}]`, code: 2, msg: "Unknown type name alias: strin"},
		{name: "$size not a number", pipeline: `[{"$match": {"a": {"$size": "1"}}}]`, code: 2, msg: "$size needs a number"},
		{name: "match not an object", pipeline: `[{"$match": 1}]`, code: 15959, msg: "the match filter must be an expression in an object"},
		{name: "$where", pipeline: `[{"$match": {"$where": "1"}}]`, code: 2, msg: "$where is not allowed"},
	})
}
