package source

import "slices"

// GroupBys are the ways sessions can be grouped (GroupSessions' by).
var GroupBys = []string{"shape", "app", "ns", "client", "user", "op", "plan", "host"}

// maxGroupList bounds a group's Apps and Clients: a group of 2 000 sessions from 2 000 ports
// is told by its first few.
const maxGroupList = 16

// Group is sessions that share a key: one query shape, app, namespace, client IP, user, op,
// plan or host.
type Group struct {
	Key string `json:"key"`
	// QueryShapeHash is the server's hash of the shape (8.0+) when the group is one; Key is
	// then the shape computed here from the group's first session, for people to read.
	QueryShapeHash string   `json:"query_shape_hash,omitempty"`
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
// the longest running's first). Each call fingerprints every session; a live view that groups
// every refresh keeps a Grouper instead.
func GroupSessions(sessions []Session, by string) []Group {
	g := Grouper{oneShot: true}
	return g.Group(sessions, by)
}

func newGroup(key, hash, example string) Group {
	return Group{Key: key, QueryShapeHash: hash, ExampleID: example, Apps: []string{}, Clients: []string{}}
}

// add counts s in g.
func (g *Group) add(s *Session) {
	g.Count++
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
	if len(g.Clients) < maxGroupList { // the list is full, mostly: spare working out the IP
		g.Clients = addDistinct(g.Clients, s.ClientIP())
	}
}

// groupKey is the session's key for by (not shape).
func groupKey(s *Session, by string) string {
	switch by {
	case "app":
		return s.App
	case "ns":
		return s.NS
	case "client":
		return s.ClientIP()
	case "user":
		return s.User
	case "op":
		return s.Op
	case "plan":
		return s.PlanSummary
	}
	return s.Host
}

func isCollscan(plan string) bool {
	return len(plan) >= 8 && plan[:8] == "COLLSCAN"
}

func addDistinct(list []string, v string) []string {
	if len(list) >= maxGroupList || v == "" || len(list) > 0 && list[len(list)-1] == v || slices.Contains(list, v) {
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
