package huawei

import (
	"context"
	"errors"
	"testing"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/source"
)

// downBackend is a node whose deployment does not answer.
type downBackend struct{}

func (downBackend) Snapshot(context.Context, source.Query) (*source.Snapshot, error) {
	return nil, errors.New("node unreachable")
}

// replicaNodes is a replica set of three through the emulator: a primary with two
// operations and an idle connection, a secondary with one operation, and a secondary whose
// sessions cannot be read.
func replicaNodes(t *testing.T) *env {
	t.Helper()
	primary := &fakeBackend{version: "7.0", sessions: []source.Session{activeOp(11, "10.0.0.1:1"), activeOp(12, "10.0.0.1:2"), idleConn(13, "10.0.0.1:3")}}
	secondary := &fakeBackend{version: "7.0", sessions: []source.Session{activeOp(21, "10.0.0.2:1")}}
	return newEnv(t, primary, func(o *huaweiapi.Options, c *Config) {
		o.Nodes = []huaweiapi.Node{
			{ID: "node0p000000no02", Name: "rs_node_1", Role: "Primary", Group: "replica", PrivateIP: "192.168.0.1", Backend: fromsource.Deployment(primary)},
			{ID: "node1s000000no02", Name: "rs_node_2", Role: "Secondary", Group: "replica", PrivateIP: "192.168.0.2", Backend: fromsource.Deployment(secondary)},
			{ID: "node2s000000no02", Name: "rs_node_3", Role: "Secondary", Group: "replica", PrivateIP: "192.168.0.3", Backend: fromsource.Deployment(downBackend{})},
			{ID: "node3h000000no02", Name: "rs_node_4", Role: "Hidden", Group: "replica", PrivateIP: "192.168.0.4"},
		}
	})
}

func TestNodesAreMembers(t *testing.T) {
	e := replicaNodes(t)
	snap := mustSnapshot(t, e.src, source.Query{})
	if len(snap.Members) != 3 {
		t.Fatalf("members = %+v, want the 3 nodes that serve sessions", snap.Members)
	}
	want := []struct {
		host, state string
		ok          bool
		conns, ops  int
	}{
		{"192.168.0.1:8635", "PRIMARY", true, 3, 2},
		{"192.168.0.2:8635", "SECONDARY", true, 1, 1},
		{"192.168.0.3:8635", "SECONDARY", false, 0, 0},
	}
	for i, w := range want {
		m := snap.Members[i]
		if m.Host != w.host || m.State != w.state || m.OK != w.ok || m.Connections != w.conns || m.Ops != w.ops || m.Kind != "cloud" {
			t.Errorf("member %d = %+v, want %+v", i, m, w)
		}
	}
	if m := snap.Members[2]; m.Error == "" {
		t.Errorf("the node that failed says nothing of why: %+v", m)
	}
	if !snap.Partial {
		t.Errorf("a node failed but the snapshot is not partial")
	}
}

func TestMembersScopeNodes(t *testing.T) {
	e := replicaNodes(t)
	snap := mustSnapshot(t, e.src, source.Query{Members: source.MembersPrimary})
	if got := ids(snap.Sessions); got != "11,12" {
		t.Errorf("primary scope lists %s, want the primary's 11,12", got)
	}
	if len(snap.Members) != 1 || snap.Members[0].State != "PRIMARY" {
		t.Errorf("primary scope members = %+v", snap.Members)
	}
	snap = mustSnapshot(t, e.src, source.Query{Members: "192.168.0.2:8635"})
	if got := ids(snap.Sessions); got != "21" {
		t.Errorf("one-node scope lists %s, want 21", got)
	}
	// A scope naming no node reads them all rather than nothing.
	snap = mustSnapshot(t, e.src, source.Query{Members: "nosuch:1"})
	if len(snap.Members) != 3 {
		t.Errorf("unknown scope polled %d nodes, want all 3", len(snap.Members))
	}
}
