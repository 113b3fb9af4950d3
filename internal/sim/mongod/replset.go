package mongod

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A replica set of N simulated mongods, each its own listener on 127.0.0.1 advertising
// 127.0.0.1:port, each with its own connections, operations, opids and counters. The members
// share one view of the set (who is primary, who is down, each one's lag) and answer hello,
// serverStatus.repl and replSetGetStatus from it. Replication itself is not modelled: a
// secondary's optime is the wall clock minus its lag.

// ReplicaSetOptions configures StartReplicaSet.
type ReplicaSetOptions struct {
	Name    string // set name, default "rs0"
	Members int    // data-bearing members, default 3; member 0 starts as the primary
	Arbiter bool   // one more member, an arbiter, after the data-bearing ones
	// Hidden makes the last Hidden data-bearing members hidden (priority 0, not in hello.hosts).
	Hidden    int
	Profile   Profile
	Users     []User
	Synthetic int // synthetic idle connections on each data-bearing member
}

// memberState is one member as the set sees it.
type memberState struct {
	arbiter, hidden, down bool
	lag                   time.Duration
	started               time.Time // last (re)start, for replSetGetStatus uptime
}

// ReplicaSet is a running simulated replica set. Its methods are safe for concurrent use.
type ReplicaSet struct {
	name    string
	members []*Server

	mu      sync.Mutex
	state   []memberState
	primary int   // -1: none (every electable member down)
	term    int64 // bumped by every election; the primary's electionId carries it
	counter int64 // topologyVersion.counter, bumped on every state change
	changed chan struct{}
	elected time.Time
}

// opIDSpacing separates the opid ranges of members so that opids differ across members.
const opIDSpacing = 1_000_000

// StartReplicaSet starts every member and returns once all listen.
func StartReplicaSet(opts ReplicaSetOptions) (*ReplicaSet, error) {
	return startReplicaSet(opts, nil, 0)
}

// startReplicaSet starts a set; users (optional) is a user table shared with other servers
// and base offsets the members' opid ranges (shards of a cluster use distinct bases).
func startReplicaSet(opts ReplicaSetOptions, users map[string]*userCred, base int) (*ReplicaSet, error) {
	if opts.Name == "" {
		opts.Name = "rs0"
	}
	if opts.Members == 0 {
		opts.Members = 3
	}
	if opts.Members < 1 || opts.Hidden < 0 || opts.Hidden >= opts.Members {
		return nil, fmt.Errorf("sim/mongod: a replica set of %d members with %d hidden has no electable member; use Members ≥ 1 and Hidden < Members", opts.Members, opts.Hidden)
	}
	if users == nil {
		var err error
		if users, err = buildUsers(opts.Users); err != nil {
			return nil, err
		}
	}
	n := opts.Members
	if opts.Arbiter {
		n++
	}
	rs := &ReplicaSet{name: opts.Name, state: make([]memberState, n), changed: make(chan struct{}), term: 1, elected: time.Now()}
	for i := range n {
		rs.state[i].arbiter = i == opts.Members
		rs.state[i].hidden = i < opts.Members && i >= opts.Members-opts.Hidden
		rs.state[i].started = time.Now()
	}
	for i := range n {
		mo := Options{Profile: opts.Profile, ReplicaSet: opts.Name, Users: opts.Users, Host: "127.0.0.1"}
		if !rs.state[i].arbiter {
			mo.Synthetic = opts.Synthetic
		}
		s, err := start(mo, users, func(s *Server) {
			s.rs, s.rsIdx = rs, i
			s.opSeq.Store(int32(base + (i+1)*opIDSpacing))
		})
		if err != nil {
			rs.Close()
			return nil, err
		}
		rs.members = append(rs.members, s)
	}
	return rs, nil
}

// Name is the set name.
func (rs *ReplicaSet) Name() string { return rs.name }

// URI is a replica-set URI with every data-bearing, non-hidden member as a seed.
func (rs *ReplicaSet) URI() string {
	return "mongodb://" + strings.Join(rs.seeds(), ",") + "/?replicaSet=" + rs.name
}

// seeds are the hosts hello lists: data-bearing, non-hidden members.
func (rs *ReplicaSet) seeds() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.seedsLocked()
}

func (rs *ReplicaSet) seedsLocked() []string {
	var out []string
	for i, s := range rs.members {
		if st := rs.state[i]; !st.arbiter && !st.hidden {
			out = append(out, s.Addr())
		}
	}
	return out
}

// Members are the members in order, stopped ones and the arbiter included.
func (rs *ReplicaSet) Members() []*Server { return append([]*Server(nil), rs.members...) }

// Primary is the current primary, nil while there is none.
func (rs *ReplicaSet) Primary() *Server {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.primary < 0 {
		return nil
	}
	return rs.members[rs.primary]
}

// StepDown makes the next electable member that is up the primary (the old primary becomes a
// secondary) and returns it; nil when no other member can be elected.
func (rs *ReplicaSet) StepDown() *Server {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	next := rs.electableAfterLocked(rs.primary)
	if next < 0 || next == rs.primary {
		return nil
	}
	rs.electLocked(next)
	return rs.members[next]
}

// electableAfterLocked is the first member after i (cyclically) that is up, not hidden and not
// an arbiter; -1 when there is none.
func (rs *ReplicaSet) electableAfterLocked(i int) int {
	n := len(rs.members)
	for k := 1; k <= n; k++ {
		j := ((i+k)%n + n) % n
		if st := rs.state[j]; !st.down && !st.hidden && !st.arbiter {
			return j
		}
	}
	return -1
}

func (rs *ReplicaSet) electLocked(i int) {
	rs.primary = i
	if i >= 0 {
		rs.term++
		rs.elected = time.Now()
	}
	rs.bumpLocked()
}

// bumpLocked announces a state change: topologyVersion.counter grows and awaitable hellos
// parked on any member answer at once.
func (rs *ReplicaSet) bumpLocked() {
	rs.counter++
	close(rs.changed)
	rs.changed = make(chan struct{})
}

// Stop takes member i down: its listener closes and its connections drop. A stopped primary
// is replaced at once by the next electable member (a real set elects one within seconds).
func (rs *ReplicaSet) Stop(i int) {
	rs.mu.Lock()
	if i < 0 || i >= len(rs.members) || rs.state[i].down {
		rs.mu.Unlock()
		return
	}
	rs.state[i].down = true
	if rs.primary == i {
		rs.electLocked(rs.electableAfterLocked(i))
	} else {
		rs.bumpLocked()
	}
	rs.mu.Unlock()
	rs.members[i].halt()
}

// Restart brings member i back on the same address, as a new process (new processId, uptime
// from zero) in state SECONDARY, or PRIMARY when the set had none.
func (rs *ReplicaSet) Restart(i int) error {
	if i < 0 || i >= len(rs.members) {
		return fmt.Errorf("sim/mongod: no member %d in a set of %d", i, len(rs.members))
	}
	rs.mu.Lock()
	down := rs.state[i].down
	rs.mu.Unlock()
	if !down {
		return nil
	}
	if err := rs.members[i].resume(); err != nil {
		return err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.state[i].down = false
	rs.state[i].started = time.Now()
	if rs.primary < 0 && !rs.state[i].hidden && !rs.state[i].arbiter {
		rs.electLocked(i)
	} else {
		rs.bumpLocked()
	}
	return nil
}

// SetLag makes member i's optime trail the primary's by d (secondaries only; ignored on the
// primary and the arbiter).
func (rs *ReplicaSet) SetLag(i int, d time.Duration) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if i >= 0 && i < len(rs.state) {
		rs.state[i].lag = max(d, 0)
	}
}

// dataMembersUp are the data-bearing members that are up, hidden ones included.
func (rs *ReplicaSet) dataMembersUp() []*Server {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []*Server
	for i, s := range rs.members {
		if st := rs.state[i]; !st.down && !st.arbiter {
			out = append(out, s)
		}
	}
	return out
}

// secondariesUp are the secondaries a read preference may pick (not hidden, up).
func (rs *ReplicaSet) secondariesUp() []*Server {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []*Server
	for i, s := range rs.members {
		if rs.roleLocked(i) == roleSecondary && !rs.state[i].hidden {
			out = append(out, s)
		}
	}
	return out
}

// Close stops every member.
func (rs *ReplicaSet) Close() {
	for _, s := range rs.members {
		s.Close()
	}
}

// role is a member's replica-set state as replSetGetStatus numbers it.
type role int32

const (
	rolePrimary   role = 1
	roleSecondary role = 2
	roleArbiter   role = 7
	roleDown      role = 8
)

func (r role) String() string {
	switch r {
	case rolePrimary:
		return "PRIMARY"
	case roleSecondary:
		return "SECONDARY"
	case roleArbiter:
		return "ARBITER"
	}
	return "(not reachable/healthy)"
}

func (rs *ReplicaSet) roleLocked(i int) role {
	switch st := rs.state[i]; {
	case st.down:
		return roleDown
	case st.arbiter:
		return roleArbiter
	case i == rs.primary:
		return rolePrimary
	}
	return roleSecondary
}

func (rs *ReplicaSet) role(i int) role {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.roleLocked(i)
}

// optimeLocked is member i's last applied optime: now on the primary, now minus the lag on a
// secondary.
func (rs *ReplicaSet) optimeLocked(i int, now time.Time) (time.Time, bson.D) {
	at := now
	if i != rs.primary {
		at = now.Add(-rs.state[i].lag)
	}
	at = at.Truncate(time.Second)
	return at, bson.D{{Key: "ts", Value: bson.Timestamp{T: uint32(at.Unix()), I: 1}}, {Key: "t", Value: rs.term}}
}

func (rs *ReplicaSet) electionIDLocked() bson.ObjectID {
	id := bson.ObjectID{0x7f, 0xff, 0xff, 0xff}
	for k := range 8 {
		id[11-k] = byte(rs.term >> (8 * k))
	}
	return id
}

// helloFields are the replica-set fields of member s's hello reply, in a real server's order.
func (rs *ReplicaSet) helloFields(s *Server, cmd string, now time.Time) bson.D {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	i := s.rsIdx
	r := rs.roleLocked(i)
	hosts := bson.A{}
	for _, h := range rs.seedsLocked() {
		hosts = append(hosts, h)
	}
	d := bson.D{{Key: "hosts", Value: hosts}}
	var arbiters bson.A
	for j, m := range rs.members {
		if rs.state[j].arbiter {
			arbiters = append(arbiters, m.Addr())
		}
	}
	if arbiters != nil {
		d = append(d, bson.E{Key: "arbiters", Value: arbiters})
	}
	d = append(d, bson.E{Key: "setName", Value: rs.name}, bson.E{Key: "setVersion", Value: int32(1)})
	writable := "ismaster"
	if cmd == "hello" {
		writable = "isWritablePrimary"
	}
	d = append(d, bson.E{Key: writable, Value: r == rolePrimary}, bson.E{Key: "secondary", Value: r == roleSecondary})
	if rs.primary >= 0 {
		d = append(d, bson.E{Key: "primary", Value: rs.members[rs.primary].Addr()})
	}
	if rs.state[i].arbiter {
		d = append(d, bson.E{Key: "arbiterOnly", Value: true})
	}
	if rs.state[i].hidden {
		d = append(d, bson.E{Key: "passive", Value: true}, bson.E{Key: "hidden", Value: true})
	}
	d = append(d, bson.E{Key: "me", Value: s.Addr()})
	if r == rolePrimary {
		d = append(d, bson.E{Key: "electionId", Value: rs.electionIDLocked()})
	}
	if r != roleArbiter {
		at, opTime := rs.optimeLocked(i, now)
		d = append(d, bson.E{Key: "lastWrite", Value: bson.D{
			{Key: "opTime", Value: opTime},
			{Key: "lastWriteDate", Value: bson.NewDateTimeFromTime(at)},
			{Key: "majorityOpTime", Value: opTime},
			{Key: "majorityWriteDate", Value: bson.NewDateTimeFromTime(at)},
		}})
	}
	return d
}

// replSection is serverStatus.repl of member s.
func (rs *ReplicaSet) replSection(s *Server) bson.D {
	pid := s.pid() // before rs.mu: s.mu is never taken under rs.mu
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.roleLocked(s.rsIdx)
	hosts := bson.A{}
	for _, h := range rs.seedsLocked() {
		hosts = append(hosts, h)
	}
	writable := "isWritablePrimary" // 5.0 renamed serverStatus.repl.ismaster
	if !s.ver.atLeast(5, 0) {
		writable = "ismaster"
	}
	d := bson.D{
		{Key: "topologyVersion", Value: bson.D{{Key: "processId", Value: pid}, {Key: "counter", Value: rs.counter}}},
		{Key: "hosts", Value: hosts},
		{Key: "setName", Value: rs.name},
		{Key: "setVersion", Value: int32(1)},
		{Key: writable, Value: r == rolePrimary},
		{Key: "secondary", Value: r == roleSecondary},
	}
	if rs.primary >= 0 {
		d = append(d, bson.E{Key: "primary", Value: rs.members[rs.primary].Addr()})
	}
	return append(d, bson.E{Key: "me", Value: s.Addr()})
}

// halt closes the listener and every connection; resume listens again on the same address.
func (s *Server) halt() {
	s.mu.Lock()
	s.down = true
	ln := s.ln
	s.mu.Unlock()
	ln.Close()
	s.DropConnections()
}

func (s *Server) resume() error {
	select {
	case <-s.done:
		return errors.New("sim/mongod: the server is closed; start a new one")
	default:
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("sim/mongod: listen again on %s: %w", s.addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.down = false
	s.processID = bson.NewObjectID()
	s.started = time.Now()
	s.mu.Unlock()
	s.wg.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// pid is the server's processId (a restarted member gets a new one).
func (s *Server) pid() bson.ObjectID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processID
}

// topologyVersion is hello's topologyVersion: the processId and the set's change counter.
func (s *Server) topologyVersion() (bson.ObjectID, int64) {
	pid := s.pid()
	if s.rs == nil {
		return pid, 0
	}
	s.rs.mu.Lock()
	defer s.rs.mu.Unlock()
	return pid, s.rs.counter
}

// topologyChanged is closed at the next state change of the set (nil, never, when standalone).
func (s *Server) topologyChanged() <-chan struct{} {
	if s.rs == nil {
		return nil
	}
	s.rs.mu.Lock()
	defer s.rs.mu.Unlock()
	return s.rs.changed
}
