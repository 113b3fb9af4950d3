package tencent

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

// replicaBackend is a replica set of three behind the emulator: the emulator reports each
// operation's node (NodeName) and the node's role (State) from it.
type replicaBackend struct {
	*fakeBackend
	members []source.Member
}

func (b *replicaBackend) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	snap, err := b.fakeBackend.Snapshot(ctx, q)
	if err == nil {
		snap.Members = b.members
	}
	return snap, err
}

func newReplicaBackend() *replicaBackend {
	f := demoBackend()
	on := func(s source.Session, host string) source.Session { s.Host = host; return s }
	f.sessions = []source.Session{
		on(op("201", "query", "shop.orders", 3*time.Second), "10.0.0.22:27017"),
		on(op("202", "query", "shop.orders", 2*time.Second), "10.0.0.22:27017"),
		on(op("301", "query", "reports.daily", 9*time.Second), "10.0.0.23:27017"),
		op("101", "update", "shop.orders", time.Second),
		{ID: "103", Type: source.TypeIdle, Host: "10.0.0.21:27017"},
	}
	return &replicaBackend{fakeBackend: f, members: []source.Member{
		{Host: "10.0.0.21:27017", State: "PRIMARY"},
		{Host: "10.0.0.22:27017", State: "SECONDARY"},
		{Host: "10.0.0.23:27017", State: "SECONDARY"},
	}}
}

func TestNodesAreMembers(t *testing.T) {
	e := newEnv(t, newReplicaBackend(), tencentapi.Options{})
	snap, err := e.src.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		host, state string
		conns, ops  int
	}
	var got []want
	for _, m := range snap.Members {
		if !m.OK || m.Kind != "cloud" || m.Set != "cmgo-demo0001_0" || m.Version != "8.0" {
			t.Errorf("member %+v", m)
		}
		got = append(got, want{m.Host, m.State, m.Connections, m.Ops})
	}
	exp := []want{
		{"10.0.0.21:27017", "PRIMARY", 2, 1}, // an update and an idle connection
		{"10.0.0.22:27017", "SECONDARY", 2, 2},
		{"10.0.0.23:27017", "SECONDARY", 1, 1},
	}
	if !slices.Equal(got, exp) {
		t.Errorf("members = %+v, want %+v", got, exp)
	}
	for _, s := range snap.Sessions {
		if !strings.Contains(s.ID, "/"+s.Host+"/") {
			t.Errorf("session %s: host %q is not its node", s.ID, s.Host)
		}
	}
}

func TestMembersScope(t *testing.T) {
	e := newEnv(t, newReplicaBackend(), tencentapi.Options{})
	cases := []struct {
		scope string
		ids   []string
	}{
		{source.MembersPrimary, []string{"101"}},
		{"10.0.0.23:27017", []string{"301"}},
		{"10.0.0.22:27017, 10.0.0.23:27017", []string{"301", "201", "202"}},
		{source.MembersAll, []string{"301", "201", "202", "101"}},
	}
	for _, c := range cases {
		snap, err := e.src.Snapshot(context.Background(), source.Query{Members: c.scope})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range snap.Sessions {
			got = append(got, s.ID[strings.LastIndexByte(s.ID, '/')+1:])
		}
		if !slices.Equal(got, c.ids) {
			t.Errorf("scope %q lists %v, want %v", c.scope, got, c.ids)
		}
	}
	// Primaries only reach the API as State=primary; a state the filter names stays.
	p := pushdown(source.Filter{}, nil)
	p.scope(source.MembersPrimary)
	if p.state == nil || *p.state != "primary" {
		t.Errorf("primary scope not pushed down: %v", p.state)
	}
	sec := "secondary"
	p = pushed{state: &sec}
	p.scope(source.MembersPrimary)
	if *p.state != "secondary" {
		t.Errorf("the filter's State was replaced by the scope's")
	}
}
