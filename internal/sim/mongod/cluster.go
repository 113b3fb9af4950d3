package mongod

import (
	"fmt"
	"hash/fnv"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A sharded cluster: one mongos (a real listener) in front of shard replica sets (each
// member a real listener too). The mongos routes collection commands to the shard that owns
// the namespace (its database's primary shard, see ShardFor), over in-process mongos→shard pool connections
// (net.Pipe, speaking the wire protocol) that the shard member lists as its own connections:
// a routed operation shows in that member's $currentOp with the mongos as client, the
// application's metadata plus clientMetadata.mongos, and runBy __system — as on a real shard.
// The mongos's $currentOp fans out to each shard's primary (every data-bearing member with
// targetAllNodes) in process and rewrites each document as mongos does: "shard" first,
// opid "shard:N", client renamed client_s. killOp {op: "shard:N"} reaches that primary.

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	Shards  int // default 2, named shard01, shard02, …
	Members int // data-bearing members per shard, default 3
	Profile Profile
	Users   []User // on the mongos and every shard member
}

// Cluster is a running simulated sharded cluster.
type Cluster struct {
	mongos *Server
	shards []*ReplicaSet
	names  []string

	mu      sync.Mutex
	idle    map[*Server][]*poolConn // idle mongos→shard connections per member
	cursors map[int64]*Server       // which member holds a cursor the mongos handed out
	txns    map[string]int          // lsid → shard of an open transaction
	nextRR  int                     // round-robin over secondaries
	ports   int                     // client ports of new pool connections
}

// poolConn is the mongos end of one pool connection and the shard member's conn for it.
type poolConn struct {
	nc     net.Conn
	sc     *conn
	member *Server
}

// impersonation is the application a pool connection is running a request for.
type impersonation struct {
	appName string
	meta    bson.D
	users   []*userCred
}

// systemUser is the identity of mongos→shard connections (keyfile auth as __system).
var systemUser = &userCred{name: "__system", db: "local", roles: []string{"root"}}

// maxCursorRoutes bounds the cursor→member table (cursors a client abandons stay in it).
const maxCursorRoutes = 10_000

// StartCluster starts the shards, then the mongos.
func StartCluster(opts ClusterOptions) (*Cluster, error) {
	if opts.Shards == 0 {
		opts.Shards = 2
	}
	if opts.Members == 0 {
		opts.Members = 3
	}
	per := (opts.Members + 1) * opIDSpacing
	if opts.Shards < 1 || opts.Members < 1 || (opts.Shards+1)*per > 1<<31-1 {
		return nil, fmt.Errorf("sim/mongod: a cluster of %d shards × %d members is out of range; use 1–100 shards of 1–20 members", opts.Shards, opts.Members)
	}
	users, err := buildUsers(opts.Users)
	if err != nil {
		return nil, err
	}
	cl := &Cluster{idle: map[*Server][]*poolConn{}, cursors: map[int64]*Server{}, txns: map[string]int{}}
	for k := range opts.Shards {
		name := fmt.Sprintf("shard%02d", k+1)
		rs, err := startReplicaSet(ReplicaSetOptions{Name: name, Members: opts.Members, Profile: opts.Profile, Users: opts.Users}, users, (k+1)*per)
		if err != nil {
			cl.Close()
			return nil, err
		}
		cl.shards = append(cl.shards, rs)
		cl.names = append(cl.names, name)
	}
	mo := Options{Mongos: true, Shards: cl.names, Host: "127.0.0.1", Profile: opts.Profile, Users: opts.Users}
	cl.mongos, err = start(mo, users, func(s *Server) { s.cluster = cl })
	if err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// URI is the mongos's.
func (cl *Cluster) URI() string { return "mongodb://" + cl.mongos.Addr() + "/" }

// Mongos is the router.
func (cl *Cluster) Mongos() *Server { return cl.mongos }

// Shards are the shard replica sets, shard01 first.
func (cl *Cluster) Shards() []*ReplicaSet { return slices.Clone(cl.shards) }

// ShardFor is the shard that holds namespace ns ("db.collection"): every collection is
// unsharded and lives on its database's primary shard, chosen by a hash of the database name.
func (cl *Cluster) ShardFor(ns string) *ReplicaSet { return cl.shards[cl.shardIndex(ns)] }

func (cl *Cluster) shardIndex(ns string) int {
	db, _, _ := strings.Cut(ns, ".")
	h := fnv.New32a()
	h.Write([]byte(db))
	return int(h.Sum32() % uint32(len(cl.shards)))
}

// Close stops the mongos, then every shard.
func (cl *Cluster) Close() {
	if cl.mongos != nil {
		cl.mongos.Close()
	}
	cl.mu.Lock()
	for _, list := range cl.idle {
		for _, pc := range list {
			pc.nc.Close()
		}
	}
	cl.idle = map[*Server][]*poolConn{}
	cl.mu.Unlock()
	for _, rs := range cl.shards {
		rs.Close()
	}
}

func (cl *Cluster) listShards() bson.D {
	shards := bson.A{}
	for k, rs := range cl.shards {
		shards = append(shards, bson.D{
			{Key: "_id", Value: cl.names[k]},
			{Key: "host", Value: cl.names[k] + "/" + strings.Join(rs.seeds(), ",")},
			{Key: "state", Value: int32(1)},
		})
	}
	return bson.D{{Key: "shards", Value: shards}, {Key: "ok", Value: 1.0}}
}

// cmdGetShardMap answers on a cluster's mongos: each shard's connection string (config
// servers are not modelled).
func cmdGetShardMap(c *conn, _ *request) (any, error) {
	cl := c.s.cluster
	if cl == nil {
		return nil, errorf(codeCommandNotFound, "no such command: 'getShardMap'")
	}
	shardMap, hosts, conns := bson.D{}, bson.D{}, bson.D{}
	for k, rs := range cl.shards {
		seeds := rs.seeds()
		cs := cl.names[k] + "/" + strings.Join(seeds, ",")
		shardMap = append(shardMap, bson.E{Key: cl.names[k], Value: cs})
		for _, h := range seeds {
			hosts = append(hosts, bson.E{Key: h, Value: cl.names[k]})
		}
		conns = append(conns, bson.E{Key: cs, Value: cl.names[k]})
	}
	return bson.D{{Key: "map", Value: shardMap}, {Key: "hosts", Value: hosts}, {Key: "connStrings", Value: conns}, {Key: "ok", Value: 1.0}}, nil
}

// currentOpDocs is the mongos fan-out: each shard's primary (or every data-bearing member
// with targetAllNodes) lists its operations, rewritten as mongos shows them. A shard without
// a primary is left out.
func (cl *Cluster) currentOpDocs(mine []*userCred, o curOpOptions) []bson.D {
	var docs []bson.D
	for k, rs := range cl.shards {
		var targets []*Server
		if o.targetAllNodes {
			targets = rs.dataMembersUp()
		} else if p := rs.Primary(); p != nil {
			targets = []*Server{p}
		}
		for _, m := range targets {
			for _, d := range m.currentOpDocsFor(mine, o) {
				docs = append(docs, shardView(cl.names[k], d))
			}
		}
	}
	return docs
}

// shardView rewrites a shard's $currentOp document as mongos reports it.
func shardView(shard string, d bson.D) bson.D {
	out := make(bson.D, 0, len(d)+1)
	out = append(out, bson.E{Key: "shard", Value: shard})
	for _, e := range d {
		switch e.Key {
		case "client":
			e.Key = "client_s"
		case "opid":
			if n, ok := e.Value.(int32); ok {
				e.Value = shard + ":" + strconv.Itoa(int(n))
			}
		}
		out = append(out, e)
	}
	return out
}

// killOp kills opid on shard k's primary, as mongos forwards killOp {op: "shard:opid"}.
func (cl *Cluster) killOp(k int, opid int32) {
	p := cl.shards[k].Primary()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if c.op != nil && c.op.opid == opid {
			c.op.killLocked()
		}
	}
}

// route forwards a command the mongos does not answer itself to the shard member that
// serves it. routed is false for commands the mongos runs locally.
func (cl *Cluster) route(c *conn, req *request) (reply any, routed bool, err error) {
	if req.name == "endSessions" || req.name == "killSessions" {
		for _, rs := range cl.shards {
			for _, m := range rs.dataMembersUp() {
				m.endSessions(req.body.Lookup(req.name), req.name == "killSessions")
			}
		}
		return nil, false, nil // and the mongos ends its own
	}
	m, routed, err := cl.target(req)
	if !routed || err != nil {
		return nil, routed, err
	}
	reply, err = cl.forward(c, req, m)
	return reply, true, err
}

// target picks the member for a command: the one holding the cursor of a getMore or
// killCursors, the shard of an open transaction for commit/abort, else the namespace's
// shard, on a secondary when the read preference asks for one.
func (cl *Cluster) target(req *request) (*Server, bool, error) {
	o := req.op
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch req.name {
	case "getMore", "killCursors":
		id, _ := req.body.Lookup("getMore").AsInt64OK()
		if req.name == "killCursors" {
			id, _ = req.body.Lookup("cursors", "0").AsInt64OK()
		}
		if m, ok := cl.cursors[id]; ok {
			return m, true, nil
		}
	case "commitTransaction", "abortTransaction":
		k, ok := cl.txns[lsidKey(o.lsid)]
		if !ok {
			return nil, false, nil
		}
		delete(cl.txns, lsidKey(o.lsid))
		return cl.pickLocked(k, "primary")
	}
	if !o.routed() || o.isCurrentOpAggregate() {
		return nil, false, nil
	}
	k := cl.shardIndex(o.ns)
	if _, inTxn := req.body.Lookup("txnNumber").AsInt64OK(); inTxn && o.lsid != nil && len(cl.txns) < maxCursorRoutes {
		cl.txns[lsidKey(o.lsid)] = k
	}
	mode, _ := req.body.Lookup("$readPreference", "mode").StringValueOK()
	return cl.pickLocked(k, mode)
}

// pickLocked chooses shard k's member for a read preference mode.
func (cl *Cluster) pickLocked(k int, mode string) (*Server, bool, error) {
	rs := cl.shards[k]
	primary := rs.Primary()
	if mode == "secondary" || mode == "secondaryPreferred" || (mode == "primaryPreferred" && primary == nil) {
		if secs := rs.secondariesUp(); len(secs) > 0 {
			cl.nextRR++
			return secs[cl.nextRR%len(secs)], true, nil
		}
	}
	if primary != nil && mode != "secondary" {
		return primary, true, nil
	}
	if mode == "" {
		mode = "primary"
	}
	return nil, true, errorf(codeFailedToSatisfyReadPref, "Could not find host matching read preference { mode: \"%s\" } for set %s", mode, cl.names[k])
}

// forward runs the request on member m over a pool connection, on behalf of c's client.
func (cl *Cluster) forward(c *conn, req *request, m *Server) (any, error) {
	body, err := withSequences(req)
	if err != nil {
		return nil, err
	}
	pc, err := cl.get(m)
	if err != nil {
		return nil, err
	}
	imp := cl.impersonate(c)
	m.mu.Lock()
	pc.sc.imp = imp
	m.mu.Unlock()
	reply, broken, err := cl.roundTrip(c, req.op, pc, body)
	m.mu.Lock()
	pc.sc.imp = nil
	m.mu.Unlock()
	if broken {
		pc.nc.Close()
	} else {
		cl.put(pc)
	}
	if err != nil {
		return nil, err
	}
	cl.noteCursor(req, reply, m)
	return reply, nil
}

// impersonate is what the shard shows of the application behind c.
func (cl *Cluster) impersonate(c *conn) *impersonation {
	s := cl.mongos
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := slices.Clone(c.meta)
	meta = append(meta, bson.E{Key: "mongos", Value: bson.D{
		{Key: "host", Value: s.hostPort},
		{Key: "client", Value: c.remote},
		{Key: "version", Value: s.opts.Profile.Version},
	}})
	return &impersonation{appName: c.appName, meta: meta, users: c.users}
}

// roundTrip sends body and reads the reply. A client that goes away or a killOp of the
// mongos-side op closes the pool connection, which ends the shard's op too; broken says the
// connection cannot be reused.
func (cl *Cluster) roundTrip(c *conn, o *op, pc *poolConn, body []byte) (reply bson.Raw, broken bool, err error) {
	const (
		none = iota
		gone
		killed
	)
	why := none
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-done:
			return
		case <-c.gone:
			why = gone
		case <-cl.mongos.done:
			why = gone
		case <-o.kill:
			why = killed
		}
		pc.nc.Close()
	}()
	_, err = pc.nc.Write(appendOpMsg(nil, cl.mongos.nextRequestID(), 0, 0, body))
	var b []byte
	if err == nil {
		b, err = readMessage(pc.nc)
	}
	close(done)
	<-exited
	switch {
	case why == killed:
		return nil, true, errInterrupted()
	case why == gone:
		return nil, true, errGone
	case err != nil:
		return nil, true, errorf(codeHostUnreachable, "Connection closed by peer %s", pc.member.Addr())
	}
	reply, err = opMsgBody(b)
	return reply, err != nil, err
}

// opMsgBody is the body section of a single-section OP_MSG reply.
func opMsgBody(b []byte) (bson.Raw, error) {
	m, err := parseMessage(b)
	if err != nil || m.opCode != opMsg {
		return nil, errorf(codeHostUnreachable, "malformed reply from a shard")
	}
	return m.body, nil
}

// noteCursor remembers which member holds a cursor so that its getMores go there.
func (cl *Cluster) noteCursor(req *request, reply bson.Raw, m *Server) {
	id, ok := reply.Lookup("cursor", "id").AsInt64OK()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if req.name == "getMore" || req.name == "killCursors" {
		if n, _ := req.body.Lookup("getMore").AsInt64OK(); req.name == "killCursors" || id == 0 {
			delete(cl.cursors, n)
		}
	}
	if ok && id != 0 {
		if len(cl.cursors) >= maxCursorRoutes {
			clear(cl.cursors)
		}
		cl.cursors[id] = m
	}
}

// withSequences folds OP_MSG document sequences (insert's documents, …) back into the body.
func withSequences(req *request) ([]byte, error) {
	if len(req.seqs) == 0 {
		return req.body, nil
	}
	var d bson.D
	if err := bson.Unmarshal(req.body, &d); err != nil {
		return nil, errorf(codeBadValue, "cannot route the command: %v", err)
	}
	for name, docs := range req.seqs {
		a := make(bson.A, 0, len(docs))
		for _, doc := range docs {
			a = append(a, doc)
		}
		d = append(d, bson.E{Key: name, Value: a})
	}
	return bson.Marshal(d)
}

// get takes an idle pool connection to m or opens one.
func (cl *Cluster) get(m *Server) (*poolConn, error) {
	cl.mu.Lock()
	for list := cl.idle[m]; len(list) > 0; list = cl.idle[m] {
		pc := list[len(list)-1]
		cl.idle[m] = list[:len(list)-1]
		select {
		case <-pc.sc.gone: // the member dropped it (stopped, restarted)
			pc.nc.Close()
			continue
		default:
		}
		cl.mu.Unlock()
		return pc, nil
	}
	cl.ports++
	remote := "127.0.0.1:" + strconv.Itoa(30000+cl.ports%30000)
	cl.mu.Unlock()
	return m.attachInternal(remote, cl.mongos.opts.Profile.Version)
}

func (cl *Cluster) put(pc *poolConn) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.idle[pc.member] = append(cl.idle[pc.member], pc)
}

// attachInternal opens an in-process connection from a mongos to s, authenticated as
// __system, with the metadata of the mongos's connection pool.
func (s *Server) attachInternal(remote, version string) (*poolConn, error) {
	a, b := net.Pipe()
	s.mu.Lock()
	closed := false
	select {
	case <-s.done:
		closed = true
	default:
	}
	if closed || s.down {
		s.mu.Unlock()
		a.Close()
		b.Close()
		return nil, errorf(codeHostUnreachable, "Connection refused: %s is down", s.Addr())
	}
	c := s.addConnLocked(b, remote)
	c.meta = bson.D{
		{Key: "driver", Value: bson.D{{Key: "name", Value: "NetworkInterfaceTL-TaskExecutorPool-0"}, {Key: "version", Value: version}}},
		{Key: "os", Value: bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Ubuntu"}, {Key: "architecture", Value: "x86_64"}, {Key: "version", Value: "22.04"}}},
	}
	c.users = []*userCred{systemUser}
	s.mu.Unlock()
	go c.readLoop()
	go c.serve()
	return &poolConn{nc: a, sc: c, member: s}, nil
}
