package sourcetest

import (
	"testing"

	"github.com/currentop/currentop/source"
)

// TestVisibilityMisses runs the visibility check on hand-made snapshots: a connection idle
// before and after, busy in between, is not a miss however its operation is listed; a
// connection the source simply lost is.
func TestVisibilityMisses(t *testing.T) {
	idle := source.Session{ID: "conn7", Type: source.TypeIdle, Host: "mongos:27017", Desc: "conn7", ConnectionID: 7, Client: "10.0.0.5:50007"}
	snap := func(ss ...source.Session) *source.Snapshot { return &source.Snapshot{Sessions: ss} }
	op := func(id, host, desc, client string) source.Session {
		return source.Session{ID: id, Type: source.TypeOp, Active: true, Op: "query", NS: "shop.orders", Host: host, Desc: desc, Client: client}
	}
	q := source.Query{IdleConnections: true}
	tests := []struct {
		name string
		got  *source.Snapshot
		miss bool
	}{
		{"returned idle", snap(idle), false},
		{"busy on its own host", snap(op("4711", "mongos:27017", "conn7", "10.0.0.5:50007")), false},
		// Through a mongos the operation is the shard member's: its host, its connection; only
		// the application's address (clientMetadata.mongos.client) is the connection's own.
		{"busy through a mongos, listed under a shard", snap(op("shard01:1007", "shard01:27018", "conn1007", "10.0.0.5:50007")), false},
		{"lost", snap(), true},
		{"lost, another connection of the same app busy", snap(op("shard01:1008", "shard01:27018", "conn1008", "10.0.0.5:50008")), true},
		{"lost, another connection of the same number busy on a shard", snap(op("shard01:7", "shard01:27018", "conn7", "10.0.0.9:1")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			misses := visibilityMisses(q, snap(idle), tt.got, snap(idle))
			if got := len(misses) > 0; got != tt.miss {
				t.Errorf("miss = %v, want %v: %v", got, tt.miss, misses)
			}
		})
	}
}
