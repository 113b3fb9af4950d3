package agg

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Documents built in Go by the simulator may hold native Go types; they must match, group and
// sort like the BSON values they marshal to.
func TestGoNativeValues(t *testing.T) {
	type meta struct {
		Name string `bson:"name"`
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	in := []bson.D{
		{{Key: "n", Value: 5}, {Key: "tags", Value: []string{"a", "b"}}, {Key: "m", Value: bson.M{"driver": meta{Name: "go"}}}, {Key: "at", Value: now}, {Key: "u", Value: uint32(7)}},
		{{Key: "n", Value: int64(3)}, {Key: "tags", Value: []any{"c"}}, {Key: "m", Value: map[string]any{"driver": &meta{Name: "py"}}}, {Key: "at", Value: now.Add(time.Hour)}, {Key: "u", Value: 7.0}},
	}
	cases := []struct {
		name, pipeline string
		want           int
	}{
		{"int equality", `[{"$match": {"n": 5}}]`, 1},
		{"[]string contains", `[{"$match": {"tags": "b"}}]`, 1},
		{"bson.M and struct path", `[{"$match": {"m.driver.name": "py"}}]`, 1},
		{"time.Time compares as date", `[{"$match": {"at": {"$gt": {"$date": "2026-11-22T10:30:00Z"}}}}]`, 1},
		{"uint32 equals double", `[{"$match": {"u": 7}}]`, 2},
		{"group over native values", `[{"$group": {"_id": "$u", "n": {"$sum": 1}}}]`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Run(in, pipe(t, tc.pipeline))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("got %d documents %v, want %d", len(got), got, tc.want)
			}
		})
	}
}

func TestRunDoesNotModifyInput(t *testing.T) {
	in := docs(t, `[{"a": {"b": 1}, "arr": [1, 2]}]`)
	before := canonical(t, in)
	_, err := Run(in, pipe(t, `[{"$addFields": {"a.c": 2, "x": 1}}, {"$unwind": "$arr"}, {"$set": {"a.b": 9}}, {"$sort": {"arr": -1}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if after := canonical(t, in); after != before {
		t.Errorf("input modified:\n%s\n%s", before, after)
	}
}

func TestInvalidBSONStage(t *testing.T) {
	for _, raw := range []bson.Raw{nil, {1, 2}, {5, 0, 0, 0, 1}, {16, 0, 0, 0, 3, 'a', 0, 200, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := Run(nil, []bson.Raw{raw}); err == nil {
			t.Errorf("stage % x: no error", []byte(raw))
		}
	}
}
