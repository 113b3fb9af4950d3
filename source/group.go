package source

import (
	"cmp"
	"hash/maphash"
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
	var g Grouper
	return g.Group(sessions, by)
}

// Grouper groups sessions like GroupSessions, remembering each session's shape by its ID and a
// hash of what the shape is made of, so that a refresh fingerprints only the sessions that are
// new or changed. It forgets the sessions a call did not see. The zero value is ready to use;
// a Grouper is not safe for concurrent use.
type Grouper struct {
	seed   maphash.Seed
	seeded bool
	gen    uint32
	byID   map[string]*shapeEntry
	shapes map[string]*shapeInfo // by readable shape, or by the server's queryShapeHash
	// last is the previous call's sessions in order: a refresh lists mostly the same
	// sessions in the same order, so most are found by position without hashing their ID.
	last, next []*shapeEntry
	buf        []byte
	of         []int32 // each session's group, to hand out the groups' IDs at the end
}

type shapeEntry struct {
	id   string
	sum  uint64
	info *shapeInfo
	gen  uint32
	pos  int // the session's index in the call that last saw it
}

// shapeInfo is one distinct shape: its label, and the group it has in the current call.
type shapeInfo struct {
	label, hash string
	gen         uint32
	gi          int32
}

// Group rolls sessions up by one of GroupBys, as GroupSessions does.
func (gr *Grouper) Group(sessions []Session, by string) []Group {
	return gr.GroupFunc(len(sessions), func(i int) *Session { return &sessions[i] }, by)
}

// GroupFunc is Group over n sessions given by at (a view's rows, without copying them).
func (gr *Grouper) GroupFunc(n int, at func(i int) *Session, by string) []Group {
	if !slices.Contains(GroupBys, by) {
		by = "shape"
	}
	var groups []Group
	gr.of = gr.of[:0]
	if by == "shape" {
		groups = gr.byShape(n, at)
	} else {
		groups = gr.byField(n, at, by)
	}
	gr.handOutIDs(groups, at)
	slices.SortFunc(groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.RunningUSTotal, a.RunningUSTotal), cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Key, b.Key), cmp.Compare(a.QueryShapeHash, b.QueryShapeHash))
	})
	return groups
}

func (gr *Grouper) byField(n int, at func(int) *Session, by string) []Group {
	index := make(map[string]int)
	var groups []Group
	for i := range n {
		s := at(i)
		gr.buf = groupKey(gr.buf[:0], s, by)
		gi, ok := index[string(gr.buf)]
		if !ok {
			gi = len(groups)
			key := string(gr.buf)
			index[key] = gi
			groups = append(groups, newGroup(key, "", s.ID))
		}
		groups[gi].add(s)
		gr.of = append(gr.of, int32(gi))
	}
	return groups
}

// byShape groups by query shape: the server's queryShapeHash when it sent one, else the
// fingerprint, each looked up in the cache first.
func (gr *Grouper) byShape(n int, at func(int) *Session) []Group {
	if gr.byID == nil {
		gr.byID = make(map[string]*shapeEntry, n)
		gr.shapes = make(map[string]*shapeInfo)
	}
	if !gr.seeded {
		gr.seed, gr.seeded = maphash.MakeSeed(), true
	}
	gr.gen++
	gen := gr.gen
	gr.next = gr.next[:0]
	var groups []Group
	shift := 0 // the previous call's index of a session is i+shift
	for i := range n {
		s := at(i)
		var e *shapeEntry
		if j := i + shift; j >= 0 && j < len(gr.last) && gr.last[j].id == s.ID {
			e = gr.last[j]
		} else if e = gr.byID[s.ID]; e != nil && e.gen != gen {
			shift = e.pos - i
		}
		e = gr.shapeOf(s, e, gen)
		e.pos = i
		gr.next = append(gr.next, e)
		info := e.info
		if info.gen != gen {
			info.gen, info.gi = gen, int32(len(groups))
			groups = append(groups, newGroup(info.label, info.hash, s.ID))
		}
		groups[info.gi].add(s)
		gr.of = append(gr.of, info.gi)
	}
	gr.evict(gen)
	gr.last, gr.next = gr.next, gr.last
	return groups
}

// shapeOf brings e, s's cache entry (nil: none), up to date: its shape is kept when what the
// shape is made of hashes the same, else computed.
func (gr *Grouper) shapeOf(s *Session, e *shapeEntry, gen uint32) *shapeEntry {
	sum := gr.sum(s)
	if e != nil && e.sum == sum && e.gen != gen {
		e.gen = gen
		return e
	}
	var info *shapeInfo
	if s.QueryShapeHash != "" {
		key := "\x00" + s.QueryShapeHash // no readable shape starts with NUL (Clean)
		if info = gr.shapes[key]; info == nil {
			info = &shapeInfo{label: Fingerprint(s), hash: s.QueryShapeHash}
			gr.shapes[key] = info
		}
	} else {
		gr.buf = appendFingerprint(gr.buf[:0], s)
		if info = gr.shapes[string(gr.buf)]; info == nil {
			label := string(gr.buf)
			info = &shapeInfo{label: label}
			gr.shapes[label] = info
		}
	}
	if e == nil || e.gen == gen { // new, or a second session with the same ID
		e = &shapeEntry{id: s.ID}
		gr.byID[s.ID] = e
	}
	e.sum, e.info, e.gen = sum, info, gen
	return e
}

// sum hashes what a session's shape is made of. It is cheap rather than whole: a long
// command is hashed by its length, its first 64 and last 16 bytes, which tell apart two
// commands under one ID (an operation ID reused) unless they are also of one length and differ
// only in the middle of a long filter — and then only the label of an ended session's
// successor is wrong, until it ends. The command's name and namespace count by their lengths:
// the command holds them.
func (gr *Grouper) sum(s *Session) uint64 {
	cmd := s.Command
	h := uint64(len(cmd))
	if len(cmd) > 80 {
		h = h*31 + maphash.Bytes(gr.seed, cmd[len(cmd)-16:])
		cmd = cmd[:64]
	}
	h = h*31 + maphash.Bytes(gr.seed, cmd)
	h = h*31 + uint64(len(s.CommandName))<<32 + uint64(len(s.NS))
	for _, f := range [...]string{s.Summary, s.QueryShapeHash} {
		if f != "" {
			h = h*31 + maphash.String(gr.seed, f)
		}
	}
	return h
}

// evict forgets the sessions (those of the previous call) and shapes this call did not see.
func (gr *Grouper) evict(gen uint32) {
	for _, e := range gr.last {
		if e.gen != gen && gr.byID[e.id] == e {
			delete(gr.byID, e.id)
		}
	}
	for k, info := range gr.shapes {
		if info.gen != gen {
			delete(gr.shapes, k)
		}
	}
}

// handOutIDs fills each group's IDs, in the order of sessions, from one allocation.
func (gr *Grouper) handOutIDs(groups []Group, at func(int) *Session) {
	all := make([]string, len(gr.of))
	from := 0
	for i := range groups {
		groups[i].IDs = all[from : from : from+groups[i].Count]
		from += groups[i].Count
	}
	for i, gi := range gr.of {
		g := &groups[gi]
		g.IDs = append(g.IDs, at(i).ID)
	}
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
	if len(g.Clients) < maxGroupList {
		g.Clients = addDistinct(g.Clients, s.ClientIP())
	}
}

// groupKey appends the session's key for by (not shape) to b.
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
	if v == "" || len(list) > 0 && list[len(list)-1] == v || len(list) >= maxGroupList || slices.Contains(list, v) {
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
