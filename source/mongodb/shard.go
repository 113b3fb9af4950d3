package mongodb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/currentop/currentop/source"
)

// sharded reads a sharded cluster: every shard member directly, and the mongos itself for
// what only it knows (the applications' connections: the clients pane and idle
// connections). When no shard member can be reached from here, the mongos's own fan-out
// stands in: $currentOp {targetAllNodes: true} on 7.1+, else each shard's primary only, and
// the snapshot says what is not covered.
func (f *fanout) sharded(outer, ctx context.Context, q source.Query, poll, list []memberInfo, warnings []string) (*source.Snapshot, error) {
	p := f.parent
	var got []polled
	f.mu.Lock()
	reached := f.reached
	f.mu.Unlock()
	if !reached && len(poll) > 0 {
		// Until a shard member has answered, find out first whether any can be reached.
		if got = f.pollAll(ctx, poll, q); !anyOK(got) {
			if cancelled(ctx) {
				return nil, fmt.Errorf("snapshot of %s: %w", p.target, context.Cause(ctx))
			}
			return f.throughMongos(outer, q, got, warnings)
		}
		f.mu.Lock()
		f.reached = true
		f.mu.Unlock()
	}
	var (
		local *source.Snapshot
		lerr  error
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		local, lerr = p.snapshot(ctx, q, false)
	}()
	if got == nil {
		got = f.pollAll(ctx, poll, q)
	}
	<-done
	if cancelled(ctx) {
		return nil, fmt.Errorf("snapshot of %s: %w", p.target, context.Cause(ctx))
	}
	if lerr != nil {
		return nil, lerr
	}
	sets := map[string]replStatus{}
	for _, g := range got {
		if _, ok := sets[g.info.Set]; g.status != nil && (!ok || g.member.State == "PRIMARY") {
			sets[g.info.Set] = *g.status // the primary's view first
		}
	}
	snap := f.merge(q, got, list, sets)
	snap.Server = local.Server
	snap.Members = append([]source.Member{mongosMember(local)}, snap.Members...)
	// The mongos's own part: idle application connections (asked with the idle toggle).
	snap.Sessions = append(snap.Sessions, local.Sessions...)
	snap.Clients = mergeClients(local.Clients, snap.Clients)
	snap.Warnings = append(append(warnings, local.Warnings...), snap.Warnings...)
	snap.Partial = snap.Partial || local.Partial || len(warnings) > 0
	return snap, nil
}

// mongosMember is the mongos as a member of its cluster.
func mongosMember(local *source.Snapshot) source.Member {
	m := source.Member{
		Host: local.Server.Host, State: "MONGOS", Kind: "mongos", OK: true,
		Version:     local.Server.Version,
		Connections: int(local.Server.Connections.Current),
		Sample:      local.Server.Sample,
	}
	for i := range local.Sessions {
		if s := &local.Sessions[i]; s.Type == source.TypeOp && s.Active && !s.Internal {
			m.Ops++
		}
	}
	return m
}

// throughMongos reads the cluster through its mongos alone, the shards' members being out of
// reach: every member's operations with targetAllNodes (7.1+), else each shard's primary.
func (f *fanout) throughMongos(outer context.Context, q source.Query, got []polled, warnings []string) (*source.Snapshot, error) {
	p := f.parent
	p.allNodes.Store(versionAtLeast(p.version, 7, 1))
	ctx, cancel := context.WithTimeout(outer, p.timeout)
	defer cancel()
	snap, err := p.snapshot(ctx, q, true)
	if err != nil {
		return nil, err
	}
	why := firstError(got)
	covered := "each shard's primary only: secondaries are not covered"
	if p.allNodes.Load() {
		covered = "every shard member's operations as the mongos relays them ($currentOp targetAllNodes)"
	}
	snap.Warnings = append(append(warnings, fmt.Sprintf("the shards' members cannot be reached directly from here (%s): showing %s", why, covered)), snap.Warnings...)
	snap.Partial = true
	snap.Members = []source.Member{mongosMember(snap)}
	for _, g := range got {
		m := g.member
		m.Stale = false
		snap.Members = append(snap.Members, m)
	}
	return snap, nil
}

// versionAtLeast compares a "major.minor.patch" version with major.minor.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
