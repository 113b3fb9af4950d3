package mongodb

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// TestServerConnectionsAbsentAreUnknown: a counter serverStatus does not report (active
// before 4.0.7, or a section cut) is unknown, not 0; the ones it reports are known.
func TestServerConnectionsAbsentAreUnknown(t *testing.T) {
	for _, c := range []struct {
		name    string
		conns   bson.D
		unknown source.ConnCounters
	}{
		{"all four", bson.D{{Key: "current", Value: int32(5)}, {Key: "available", Value: int32(95)},
			{Key: "totalCreated", Value: int64(40)}, {Key: "active", Value: int32(2)}}, 0},
		{"no active", bson.D{{Key: "current", Value: int32(5)}, {Key: "available", Value: int32(95)},
			{Key: "totalCreated", Value: int64(40)}}, source.ConnActive},
		{"no section", nil, source.ConnAll},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := bson.D{{Key: "host", Value: "db1:27017"}, {Key: "version", Value: "4.4.2"}}
			if c.conns != nil {
				doc = append(doc, bson.E{Key: "connections", Value: c.conns})
			}
			raw, err := bson.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeServer(raw).Connections
			if got.Unknown != c.unknown {
				t.Errorf("unknown %04b, want %04b (%+v)", got.Unknown, c.unknown, got)
			}
			if got.Known(source.ConnCurrent) && got.Current != 5 {
				t.Errorf("current %d, want 5", got.Current)
			}
		})
	}
}
