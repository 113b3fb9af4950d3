package source

import (
	"cmp"
	"slices"
)

// GroupBys are the ways sessions can be grouped (GroupSessions' by).
var GroupBys = []string{"shape", "app", "ns", "client", "user", "op", "plan", "host"}

// maxGroupList bounds a group's Apps and Clients: a group of 2 000 sessions from 2 000 ports
// is told by its first few.
const maxGroupList = 16

// Group is sessions that share a key: one query shape, app, namespace, client IP, user, op,
// plan or host.
type Group struct {
	Key            string   `json:"key"`
	Count          int      `json:"count"`
	Active         int      `json:"active"`
	WaitingForLock int      `json:"waiting_for_lock"`
	RunningUSTotal int64    `json:"running_us_total"`
	RunningUSMax   int64    `json:"running_us_max"`
	Collscan       int      `json:"collscan"`
	Apps           []string `json:"apps"`    // distinct, in order of appearance, at most 16
	Clients        []string `json:"clients"` // client IPs, the same
	ExampleID      string   `json:"example_id"`
	// IDs are the group's sessions, in the order given (to open or kill them).
	IDs []string `json:"-"`
}

// GroupSessions rolls sessions up by one of GroupBys (an unknown one groups by shape), longest total
// running time first, then most sessions, then key. Only active sessions' running times
// count. Apps and clients keep the order of the sessions given (GroupSessions after SortSessions:
// the longest running's first).
func GroupSessions(sessions []Session, by string) []Group {
	index := make(map[string]int)
	var groups []Group
	var buf []byte
	for i := range sessions {
		s := &sessions[i]
		buf = groupKey(buf[:0], s, by)
		gi, ok := index[string(buf)]
		if !ok {
			gi = len(groups)
			key := string(buf)
			index[key] = gi
			groups = append(groups, Group{Key: key, ExampleID: s.ID, Apps: []string{}, Clients: []string{}})
		}
		g := &groups[gi]
		g.Count++
		g.IDs = append(g.IDs, s.ID)
		if s.Active {
			g.Active++
			us := max(s.RunningUS, 0)
			g.RunningUSTotal = addSat(g.RunningUSTotal, us)
			g.RunningUSMax = max(g.RunningUSMax, us)
		}
		if s.WaitingForLock {
			g.WaitingForLock++
		}
		if isCollscan(s.PlanSummary) {
			g.Collscan++
		}
		g.Apps = addDistinct(g.Apps, s.App)
		g.Clients = addDistinct(g.Clients, s.ClientIP())
	}
	slices.SortFunc(groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.RunningUSTotal, a.RunningUSTotal), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	return groups
}

// groupKey appends the session's key for by to b.
func groupKey(b []byte, s *Session, by string) []byte {
	switch by {
	case "app":
		return append(b, s.App...)
	case "ns":
		return append(b, s.NS...)
	case "client":
		return append(b, s.ClientIP()...)
	case "user":
		return append(b, s.User...)
	case "op":
		return append(b, s.Op...)
	case "plan":
		return append(b, s.PlanSummary...)
	case "host":
		return append(b, s.Host...)
	}
	return appendFingerprint(b, s)
}

func isCollscan(plan string) bool {
	return len(plan) >= 8 && plan[:8] == "COLLSCAN"
}

func addDistinct(list []string, v string) []string {
	if v == "" || len(list) >= maxGroupList || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// addSat adds without wrapping: hostile running times must not make a total negative.
func addSat(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}
