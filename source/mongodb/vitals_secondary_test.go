package mongodb

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// TestSecondaryOpcounters: a secondary's writes are those it applies (opcountersRepl), its
// reads and commands its own clients' (opcounters); a primary's all come from opcounters.
// The values are illustrative; the layout is serverStatus's (repl.setName, repl.secondary).
func TestSecondaryOpcounters(t *testing.T) {
	doc := func(secondary bool) bson.Raw {
		ops := func(base int64) bson.D {
			return bson.D{{Key: "insert", Value: base + 1}, {Key: "query", Value: base + 2}, {Key: "update", Value: base + 3},
				{Key: "delete", Value: base + 4}, {Key: "getmore", Value: base + 5}, {Key: "command", Value: base + 6}}
		}
		b, err := bson.Marshal(bson.D{
			{Key: "repl", Value: bson.D{{Key: "setName", Value: "rs0"}, {Key: "isWritablePrimary", Value: !secondary}, {Key: "secondary", Value: secondary}}},
			{Key: "opcounters", Value: ops(100)},
			{Key: "opcountersRepl", Value: ops(900)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name      string
		secondary bool
		want      map[string]int64
	}{
		{"primary", false, map[string]int64{source.CounterInsert: 101, source.CounterQuery: 102, source.CounterUpdate: 103,
			source.CounterDelete: 104, source.CounterGetmore: 105, source.CounterCommand: 106}},
		{"secondary", true, map[string]int64{source.CounterInsert: 901, source.CounterQuery: 102, source.CounterUpdate: 903,
			source.CounterDelete: 904, source.CounterGetmore: 105, source.CounterCommand: 106}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sm := decodeSample(doc(c.secondary), time.Unix(0, 0))
			for k, want := range c.want {
				if got, ok := sm.Counters[k]; !ok || got != want {
					t.Errorf("%s = %d (present %v), want %d", k, got, ok, want)
				}
			}
		})
	}
}
