package source

import (
	"cmp"
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
)

// Grouper groups sessions like GroupSessions, remembering each session's shape by its ID and a
// hash of what the shape is made of, so that a refresh fingerprints only the sessions that are
// new or changed. It forgets the sessions a call did not see. The zero value is ready to use;
// a Grouper is not safe for concurrent use.
type Grouper struct {
	seed    maphash.Seed
	seeded  bool
	oneShot bool // GroupSessions': nothing to remember for a next call
	gen     uint32
	byID    map[string]*shapeEntry
	shapes  map[string]*shapeInfo // by readable shape, or by "\x00" and the server's queryShapeHash
	// last is the previous call's sessions in order: a refresh lists mostly the same
	// sessions in the same order, so most are found by position without hashing their ID.
	last, next []*shapeEntry
	slab       []shapeEntry // new entries are cut from it rather than allocated one by one
	index      map[string]int32
	buf        []byte
	labels     []string // fingerprints computed ahead, on a cold call (see fingerprintAll)
	seen       int      // entries of the previous call seen by this one: all, and none is to evict
	// of and ids are each session's group and ID, to hand out the groups' IDs at the end.
	of  []int32
	ids []string
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

// GroupFunc is Group over n sessions given by at (a view's rows, without copying them). at
// may be called from several goroutines at once.
func (gr *Grouper) GroupFunc(n int, at func(i int) *Session, by string) []Group {
	if !slices.Contains(GroupBys, by) {
		by = "shape"
	}
	var groups []Group
	gr.of, gr.ids = slices.Grow(gr.of[:0], n), slices.Grow(gr.ids[:0], n)
	if by == "shape" {
		groups = gr.byShape(n, at)
	} else {
		groups = gr.byField(n, at, by)
	}
	gr.handOutIDs(groups)
	clear(gr.ids) // let the sessions' IDs go
	slices.SortFunc(groups, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.RunningUSTotal, a.RunningUSTotal), cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Key, b.Key), cmp.Compare(a.QueryShapeHash, b.QueryShapeHash))
	})
	return groups
}

func (gr *Grouper) byField(n int, at func(int) *Session, by string) []Group {
	if gr.index == nil {
		gr.index = make(map[string]int32)
	}
	defer clear(gr.index)
	var groups []Group
	var last string
	gi := int32(-1)
	for i := range n {
		s := at(i)
		if key := groupKey(s, by); gi < 0 || key != last { // neighbours often share a key
			var ok bool
			if gi, ok = gr.index[key]; !ok {
				gi = int32(len(groups))
				gr.index[key] = gi
				groups = append(groups, newGroup(key, "", s.ID))
			}
			last = key
		}
		groups[gi].add(s)
		gr.of, gr.ids = append(gr.of, gi), append(gr.ids, s.ID)
	}
	return groups
}

// byShape groups by query shape: the server's queryShapeHash when it sent one, else the
// fingerprint, each looked up in the cache first.
func (gr *Grouper) byShape(n int, at func(int) *Session) []Group {
	if gr.shapes == nil {
		gr.byID = make(map[string]*shapeEntry)
		gr.shapes = make(map[string]*shapeInfo)
	}
	if !gr.seeded {
		gr.seed, gr.seeded = maphash.MakeSeed(), true
	}
	gr.gen++
	gen := gr.gen
	gr.next, gr.seen = gr.next[:0], 0
	if len(gr.byID) == 0 {
		gr.fingerprintAll(n, at)
	}
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
		info := gr.shapeOf(s, i, e, gen)
		if info.gen != gen {
			info.gen, info.gi = gen, int32(len(groups))
			groups = append(groups, newGroup(info.label, info.hash, s.ID))
		}
		groups[info.gi].add(s)
		gr.of, gr.ids = append(gr.of, info.gi), append(gr.ids, s.ID)
	}
	gr.labels = gr.labels[:0]
	gr.evict(gen)
	gr.last, gr.next = gr.next, gr.last
	return groups
}

// shapeOf is the shape of s, the i-th session: its cache entry e's (nil: none) when what the
// shape is made of hashes the same, else computed, and e brought up to date.
func (gr *Grouper) shapeOf(s *Session, i int, e *shapeEntry, gen uint32) *shapeInfo {
	if gr.oneShot {
		return gr.newShape(s, i)
	}
	sum := gr.sum(s)
	if e != nil && e.gen != gen {
		gr.seen++
	}
	if e != nil && e.sum == sum && e.gen != gen {
		e.gen, e.pos = gen, i
		gr.next = append(gr.next, e)
		return e.info
	}
	info := gr.newShape(s, i)
	if e == nil || e.gen == gen { // new, or a second session with the same ID
		if len(gr.slab) == 0 {
			gr.slab = make([]shapeEntry, 256)
		}
		e, gr.slab = &gr.slab[0], gr.slab[1:]
		e.id = s.ID
		gr.byID[s.ID] = e
	}
	e.sum, e.info, e.gen, e.pos = sum, info, gen, i
	gr.next = append(gr.next, e)
	return info
}

// newShape finds or makes the shapeInfo of s, the i-th session.
func (gr *Grouper) newShape(s *Session, i int) *shapeInfo {
	if s.QueryShapeHash != "" {
		gr.buf = append(append(gr.buf[:0], 0), s.QueryShapeHash...) // no readable shape starts with NUL (Clean)
		info := gr.shapes[string(gr.buf)]
		if info == nil {
			info = &shapeInfo{label: Fingerprint(s), hash: s.QueryShapeHash}
			gr.shapes[string(gr.buf)] = info
		}
		return info
	}
	var info *shapeInfo
	if i < len(gr.labels) {
		info = gr.shapes[gr.labels[i]]
	} else {
		gr.buf = appendFingerprint(gr.buf[:0], s)
		info = gr.shapes[string(gr.buf)]
	}
	if info == nil {
		label := string(gr.buf)
		if i < len(gr.labels) {
			label = gr.labels[i]
		}
		info = &shapeInfo{label: label}
		gr.shapes[label] = info
	}
	return info
}

// minFingerprintChunk is the fewest sessions worth fingerprinting on a goroutine of their own.
const minFingerprintChunk = 8192

// fingerprintAll fingerprints every session into gr.labels ahead of a call that remembers
// nothing (--once, the first refresh, a new grouping), over GOMAXPROCS goroutines: that is
// most of a cold call's work and it needs nothing from the others. Sessions with a
// queryShapeHash are left out (their shape is worked out once per hash). Each goroutine shares
// one string between the sessions of one shape.
func (gr *Grouper) fingerprintAll(n int, at func(int) *Session) {
	parts := min(runtime.GOMAXPROCS(0), n/minFingerprintChunk)
	if parts < 2 {
		return
	}
	gr.labels = slices.Grow(gr.labels[:0], n)[:n]
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := n*p/parts, n*(p+1)/parts
		wg.Go(func() {
			seen := map[string]string{}
			var buf []byte
			for i := lo; i < hi; i++ {
				s := at(i)
				if s.QueryShapeHash != "" {
					gr.labels[i] = ""
					continue
				}
				buf = appendFingerprint(buf[:0], s)
				label, ok := seen[string(buf)]
				if !ok {
					label = string(buf)
					seen[label] = label
				}
				gr.labels[i] = label
			}
		})
	}
	wg.Wait()
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
		if gr.seen == len(gr.last) {
			break // this call saw every one (they are distinct)
		}
		if e.gen != gen && gr.byID[e.id] == e {
			delete(gr.byID, e.id)
			*e = shapeEntry{} // its slab may outlive it
		}
	}
	for k, info := range gr.shapes {
		if info.gen != gen {
			delete(gr.shapes, k)
		}
	}
}

// handOutIDs fills each group's IDs, in the order of sessions, from one allocation.
func (gr *Grouper) handOutIDs(groups []Group) {
	all := make([]string, len(gr.of))
	from := 0
	for i := range groups {
		groups[i].IDs = all[from : from : from+groups[i].Count]
		from += groups[i].Count
	}
	for i, gi := range gr.of {
		g := &groups[gi]
		g.IDs = append(g.IDs, gr.ids[i])
	}
}
