package tencent

import (
	"cmp"
	"slices"
	"strings"

	"github.com/currentop/currentop/source"
)

// DescribeCurrentOp spans the instance's replica sets and their nodes: each operation names
// its ReplicaSetName, NodeName and the node's role (State). The nodes that report operations
// are the snapshot's members.

// members are the nodes the sessions ran on (Session.Host is the NodeName, Shard the replica
// set, Desc the node's role), with what each reported: its entries (operations and idle
// connections) and its operations in flight. A node with nothing listed is not known.
func members(sessions []source.Session, version string) []source.Member {
	idx := map[string]int{}
	var out []source.Member
	for i := range sessions {
		s := &sessions[i]
		if s.Host == "" {
			continue
		}
		key := s.Shard + "/" + s.Host
		j, ok := idx[key]
		if !ok {
			j = len(out)
			idx[key] = j
			out = append(out, source.Member{Host: s.Host, Set: s.Shard, Version: version, Kind: "cloud", OK: true})
		}
		m := &out[j]
		if st := strings.ToUpper(s.Desc); st != "" && m.State == "" {
			m.State = st
		}
		m.Connections++
		if s.Type == source.TypeOp && s.Active && !s.Internal {
			m.Ops++
		}
	}
	slices.SortStableFunc(out, func(a, b source.Member) int {
		return cmp.Or(source.NaturalCompare(a.Set, b.Set), b2i(a.State != "PRIMARY")-b2i(b.State != "PRIMARY"),
			source.NaturalCompare(a.Host, b.Host))
	})
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scopeSessions keeps the sessions of the members scope names (source.Query.Members): the
// primaries' (State primary), or those of the nodes listed by NodeName.
func scopeSessions(sessions []source.Session, scope string) []source.Session {
	if scope == "" || scope == source.MembersAll {
		return sessions
	}
	hosts := strings.Split(scope, ",")
	for i := range hosts {
		hosts[i] = strings.TrimSpace(hosts[i])
	}
	return slices.DeleteFunc(sessions, func(s source.Session) bool {
		if scope == source.MembersPrimary {
			return !strings.EqualFold(s.Desc, "primary")
		}
		return !slices.Contains(hosts, s.Host)
	})
}

// scope pushes the primaries-only scope down as State, unless the filter already did.
func (p *pushed) scope(members string) {
	if members == source.MembersPrimary && p.state == nil {
		v := "primary"
		p.state = &v
	}
}
