package source

// Apply filters a snapshot in place by the query: sessions of a kind the query's toggles hide
// (idle connections, idle sessions, idle cursors, internal/system operations) and sessions
// not matching q.Filter are dropped. Clients are filtered only when the filter has terms that
// apply to clients (see Filter.MatchClient); otherwise they are left as they are.
//
// Sources call it when they cannot push everything down; the UI calls it on every keystroke.
func Apply(snap *Snapshot, q Query) {
	if snap == nil {
		return
	}
	kept := snap.Sessions[:0]
	for i := range snap.Sessions {
		s := &snap.Sessions[i]
		if !q.Shows(s) || !q.Filter.Match(s) {
			continue
		}
		if len(kept) != i {
			kept = append(kept, *s)
		} else {
			kept = kept[:i+1]
		}
	}
	clear(snap.Sessions[len(kept):]) // release dropped commands and raw documents
	snap.Sessions = kept

	if !q.Filter.HasClientTerms() {
		return
	}
	keptC := snap.Clients[:0]
	for i := range snap.Clients {
		if q.Filter.MatchClient(&snap.Clients[i]) {
			keptC = append(keptC, snap.Clients[i])
		}
	}
	clear(snap.Clients[len(keptC):])
	snap.Clients = keptC
}

// Shows reports whether the query's toggles let a session of this kind through: idle
// connections, idle sessions and idle cursors each have their own toggle, and internal
// (system) sessions of any type need System. It ignores the Filter. It is the one visibility
// rule: sources that drop sessions early and every caller that shows sessions use it.
func (q *Query) Shows(s *Session) bool {
	if s.Internal && !q.System {
		return false
	}
	switch s.Type {
	case TypeIdle:
		return q.IdleConnections
	case TypeIdleSession:
		return q.IdleSessions
	case TypeIdleCursor:
		return q.IdleCursors
	}
	return true
}

// ShowsClient reports whether the query's toggles let a client through: another cluster
// member or the provider's own service (Client.Internal) needs System. It ignores the Filter
// (see Filter.MatchClient).
func (q *Query) ShowsClient(c *Client) bool { return !c.Internal || q.System }
