package huawei

import (
	"strings"

	"github.com/currentop/currentop/source"
)

// The nodes polled are the deployment's members as currentop shows them: one per node that
// serves sessions, with whether its sessions could be read this refresh.

// memberHost is how a node is named as a member: its address, else its name, else its ID.
func (n node) memberHost() string { return firstNonEmpty(n.Host, n.Name, n.ID) }

// memberState is the node's role in the words of $currentOp's members: PRIMARY, SECONDARY,
// MONGOS; "" when the API does not say.
func (n node) memberState() string {
	if strings.EqualFold(n.Group, "mongos") {
		return "MONGOS"
	}
	return strings.ToUpper(n.Role)
}

// scopeNodes keeps the nodes scope names (source.Query.Members): the primaries (and the
// mongos of a cluster, which route to them), or the nodes listed by address, name or ID. A
// scope that matches none polls them all: a superset is correct, an empty screen is not.
func scopeNodes(nodes []node, scope string) []node {
	if scope == "" || scope == source.MembersAll {
		return nodes
	}
	var out []node
	for _, n := range nodes {
		if inScope(n, scope) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nodes
	}
	return out
}

func inScope(n node, scope string) bool {
	if scope == source.MembersPrimary {
		st := n.memberState()
		return st == "PRIMARY" || st == "MONGOS"
	}
	for _, h := range strings.Split(scope, ",") {
		h = strings.TrimSpace(h)
		if h != "" && (h == n.memberHost() || h == n.ID || h == n.Name) {
			return true
		}
	}
	return false
}

// members are the nodes polled, each with its sessions read this refresh (all of them, idle
// ones included, before the toggles) and its operations in flight, or why it failed.
func (r *nodesRead) members(nodes []node, version string) []source.Member {
	type counts struct{ sessions, ops int }
	by := make(map[string]*counts, len(nodes))
	for _, n := range nodes {
		by[n.ID] = &counts{}
	}
	for i := range r.all {
		s := &r.all[i]
		c := by[r.nodeOf[s.ID]]
		if c == nil {
			continue
		}
		c.sessions++
		if s.Active && !s.Internal {
			c.ops++
		}
	}
	out := make([]source.Member, 0, len(nodes))
	for _, n := range nodes {
		m := source.Member{Host: n.memberHost(), State: n.memberState(), Version: version, Kind: "cloud", OK: true,
			Connections: by[n.ID].sessions, Ops: by[n.ID].ops}
		if strings.EqualFold(n.Group, "shard") {
			m.Set = n.Name
		}
		if err := r.errOf[n.ID]; err != nil {
			m.OK, m.Error, m.Connections, m.Ops = false, source.Clean(err.Error()), 0, 0
		}
		out = append(out, m)
	}
	return out
}
