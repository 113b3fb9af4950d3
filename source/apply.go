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
		if !shows(&q, s) || !q.Filter.Match(s) {
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

// shows reports whether the query's toggles let a session of this kind through.
func shows(q *Query, s *Session) bool {
	switch s.Type {
	case TypeIdle:
		if !q.IdleConnections {
			return false
		}
	case TypeIdleSession:
		if !q.IdleSessions {
			return false
		}
	case TypeIdleCursor:
		if !q.IdleCursors {
			return false
		}
	}
	return !s.Internal || q.System
}
