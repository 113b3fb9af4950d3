package agg

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var fuzzDocs = `[
	{"_id": 1, "a": 1, "s": "10.0.0.1:5000", "arr": [1, "x", [2], {"b": 3}], "d": {"b": {"c": null}}, "f": 1.5,
	 "l": {"$numberLong": "-9223372036854775808"}, "nan": {"$numberDouble": "NaN"}, "dt": {"$date": 0},
	 "re": {"$regularExpression": {"pattern": "a", "options": "i"}}, "bin": {"$binary": {"base64": "AQI=", "subType": "00"}},
	 "oid": {"$oid": "000000000000000000000001"}, "ts": {"$timestamp": {"t": 1, "i": 2}}, "dec": {"$numberDecimal": "1.5"},
	 "min": {"$minKey": 1}, "max": {"$maxKey": 1}, "u": {"$undefined": true}},
	{"_id": 2, "a": "1", "arr": [], "d": [{"b": 1}, {"b": [4, 5]}]},
	{"_id": 3}
]`

// FuzzRun feeds arbitrary bytes as one pipeline stage (and as a $match filter and a $group
// _id): Run must return documents or an *Error, never panic.
func FuzzRun(f *testing.F) {
	seeds := []string{
		`[{"$match": {"a": {"$gt": 0}, "arr.b": {"$exists": true}}}]`,
		`[{"$match": {"$or": [{"s": {"$regex": "^10", "$options": "i"}}, {"d.b.c": null}]}}]`,
		`[{"$group": {"_id": {"$arrayElemAt": [{"$split": ["$s", ":"]}, 0]}, "n": {"$sum": 1}, "s": {"$addToSet": "$arr"}}}]`,
		`[{"$project": {"_id": 0, "x": {"$cond": [{"$eq": ["$a", 1]}, "$f", "$$REMOVE"]}, "arr.b": 1}}]`,
		`[{"$addFields": {"d.e": {"$substrCP": ["$s", 0, {"$indexOfCP": ["$s", ":"]}]}}}]`,
		`[{"$sort": {"arr": -1, "_id": 1}}]`,
		`[{"$unwind": {"path": "$arr", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}]`,
		`[{"$facet": {"a": [{"$count": "n"}], "b": [{"$limit": 1}]}}]`,
		`[{"$project": {"r": {"$filter": {"input": "$arr", "cond": {"$gt": ["$$this", 0]}}}}}]`,
		`[{"$project": {"r": {"$reduce": {"input": "$arr", "initialValue": [], "in": {"$concatArrays": ["$$value", ["$$this"]]}}}}}]`,
	}
	for _, s := range seeds {
		for _, raw := range pipe(f, s) {
			f.Add([]byte(raw))
		}
	}
	in := docs(f, fuzzDocs)
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(stages []bson.Raw) {
			out, err := Run(in, stages)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code == 0 || e.Name == "" || e.Msg == "" {
					t.Fatalf("error is not a complete *Error: %#v", err)
				}
				return
			}
			for _, d := range out {
				for _, e := range d {
					if isMissing(e.Value) {
						t.Fatalf("missing value leaked into output field %q", e.Key)
					}
				}
				if _, err := bson.Marshal(d); err != nil {
					t.Fatalf("output does not marshal: %v", err)
				}
			}
		}
		raw := bson.Raw(data)
		check([]bson.Raw{raw})
		if raw.Validate() == nil {
			wrap := func(name string, v any) bson.Raw {
				b, err := bson.Marshal(bson.D{{Key: name, Value: v}})
				if err != nil {
					t.Skip()
				}
				return b
			}
			check([]bson.Raw{wrap("$match", raw)})
			check([]bson.Raw{wrap("$group", bson.D{{Key: "_id", Value: raw}})})
			check([]bson.Raw{wrap("$project", bson.D{{Key: "r", Value: raw}})})
		}
	})
}
