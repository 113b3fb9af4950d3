package ui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// memberScope is what the m key steps through: every member, the primaries, then each
// data-bearing member alone. The members are remembered from the snapshots, so that a
// scope of one member still offers the others.
type memberScope struct {
	hosts []string        // data-bearing members, in the source's order
	down  map[string]bool // members that did not answer the last snapshot: skipped
}

// learn takes the members of snap, taken under scope: a snapshot of the whole deployment
// says which members there are; a scoped one may only add to them.
func (s *memberScope) learn(snap *source.Snapshot, scope string) {
	if snap == nil || len(snap.Members) == 0 {
		return
	}
	var hosts []string
	if !scoped(scope) || s.down == nil {
		s.down = map[string]bool{}
	}
	for i := range snap.Members {
		mb := &snap.Members[i]
		s.down[mb.Host] = !mb.OK // a scoped snapshot says nothing of the others
		if mb.Host == "" || isArbiter(mb) || slices.Contains(hosts, mb.Host) {
			continue
		}
		hosts = append(hosts, mb.Host)
	}
	if !scoped(scope) {
		s.hosts = hosts
		return
	}
	for _, h := range hosts {
		if !slices.Contains(s.hosts, h) {
			s.hosts = append(s.hosts, h)
		}
	}
}

// isArbiter: an arbiter holds no data; it is never polled, so never a scope of its own.
func isArbiter(mb *source.Member) bool {
	return strings.EqualFold(mb.Kind, "arbiter") || strings.EqualFold(mb.State, "ARBITER")
}

// known reports whether there is anything to scope: a single node is all there is.
func (s *memberScope) known() bool { return len(s.hosts) > 1 }

// next is the scope after cur: all → primary → each member that answered → all. A scope
// that is not one of these (several hosts given to --members) goes back to all.
func (s *memberScope) next(cur string) string {
	cycle := append([]string{source.MembersAll, source.MembersPrimary}, s.hosts...)
	if cur == "" {
		cur = source.MembersAll
	}
	i := slices.Index(cycle, cur)
	if i < 0 {
		return source.MembersAll
	}
	// A member that did not answer would show nothing but the error: it is skipped.
	for i++; i < len(cycle) && s.down[cycle[i]]; i++ {
	}
	if i >= len(cycle) {
		return source.MembersAll
	}
	return cycle[i]
}

// cycleMembers is the m key: the next scope, fetched at once.
func (m *Model) cycleMembers() tea.Cmd {
	if !m.scope.known() {
		m.setStatus("no members to choose from: the source watches a single node", false)
		return nil
	}
	m.query.Members = m.scope.next(m.query.Members)
	what := "every member"
	switch s := m.query.Members; s {
	case source.MembersAll:
	case source.MembersPrimary:
		what = "primaries only"
	default:
		what = "member " + source.Clean(s) + " only"
	}
	m.setStatus("watching "+what+" (m cycles) — refreshing", false)
	return m.queryChanged()
}
