package mongod

import (
	"crypto/sha1"
	"encoding/hex"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// handler is one command. action is the privilege it needs when auth is on ("" = any
// authenticated user); noAuth commands run before authentication.
type handler struct {
	fn     func(c *conn, req *request) (any, error)
	noAuth bool
	action string
}

var commands map[string]handler

func init() {
	commands = map[string]handler{
		"ping":              {fn: cmdPing, noAuth: true},
		"buildInfo":         {fn: cmdBuildInfo, noAuth: true},
		"buildinfo":         {fn: cmdBuildInfo, noAuth: true},
		"connectionStatus":  {fn: cmdConnectionStatus, noAuth: true},
		"whatsmyuri":        {fn: cmdWhatsMyURI, noAuth: true},
		"saslStart":         {fn: cmdSaslStart, noAuth: true},
		"saslContinue":      {fn: cmdSaslContinue, noAuth: true},
		"logout":            {fn: cmdLogout, noAuth: true},
		"serverStatus":      {fn: cmdServerStatus, action: actServerStatus},
		"hostInfo":          {fn: cmdHostInfo, action: actServerStatus},
		"replSetGetStatus":  {fn: cmdReplSetGetStatus, action: actServerStatus},
		"listShards":        {fn: cmdListShards, action: actServerStatus},
		"getShardMap":       {fn: cmdGetShardMap, action: actServerStatus},
		"aggregate":         {fn: cmdAggregate},
		"currentOp":         {fn: cmdCurrentOpCommand},
		"getMore":           {fn: cmdGetMore},
		"killCursors":       {fn: cmdKillCursors},
		"killOp":            {fn: cmdKillOp},
		"endSessions":       {fn: cmdEndSessions},
		"killSessions":      {fn: cmdKillSessions},
		"commitTransaction": {fn: cmdEndTransaction},
		"abortTransaction":  {fn: cmdEndTransaction},
		"find":              {fn: cmdFind, action: actRead},
		"count":             {fn: cmdCount, action: actRead},
		"distinct":          {fn: cmdDistinct, action: actRead},
		"listIndexes":       {fn: cmdListIndexes, action: actRead},
		"listCollections":   {fn: cmdEmptyCursor, action: actRead},
		"listDatabases":     {fn: cmdListDatabases},
		"insert":            {fn: cmdInsert, action: actWrite},
		"update":            {fn: cmdUpdate, action: actWrite},
		"delete":            {fn: cmdDelete, action: actWrite},
		"findAndModify":     {fn: cmdFindAndModify, action: actWrite},
		"createIndexes":     {fn: cmdCreateIndexes, action: actWrite},
		"dropIndexes":       {fn: cmdOK, action: actWrite},
		"drop":              {fn: cmdOK, action: actWrite},
		"create":            {fn: cmdOK, action: actWrite},
	}
}

func isHelloName(name string) bool {
	return name == "hello" || name == "isMaster" || name == "ismaster"
}

// dispatch checks, registers, holds and runs one non-hello command.
func (c *conn) dispatch(req *request) (any, error) {
	s := c.s
	if isHelloName(req.name) {
		return nil, errorf(codeBadValue, "hello is handled by the hello loop") // unreachable
	}
	if req.legacy && s.ver.atLeast(5, 0) {
		return nil, errorf(codeUnsupportedOpQuery, "Unsupported OP_QUERY command: %s. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal", req.name)
	}
	if !req.legacy && req.db == "" {
		return nil, errorf(40571, "OP_MSG requests require a $db argument")
	}
	h, ok := commands[req.name]
	if req.name == "currentOp" && s.opts.Profile.NoCurrentOpCommand {
		ok = false
	}
	if !ok {
		s.counters.command.Add(1)
		return nil, errorf(codeCommandNotFound, "no such command: '%s'", req.name)
	}
	if s.authEnabled() && !h.noAuth && len(c.snapshotUsers()) == 0 {
		return nil, c.errRequiresAuth(req.name)
	}
	o := c.beginOp(req)
	defer c.endOp(o)
	req.op = o
	c.countOp(req)
	defer c.countLatency(req.name, time.Now())
	if h.action != "" && !c.can(h.action) {
		return nil, c.errNotAuthorized(req)
	}
	if err := c.memberAllows(req); err != nil {
		return nil, err
	}
	if s.cluster != nil {
		if reply, routed, err := s.cluster.route(c, req); routed {
			return reply, err
		}
	}
	if err := c.holdOp(o); err != nil {
		return nil, err
	}
	return h.fn(c, req)
}

func (c *conn) errRequiresAuth(name string) error {
	word := "command"
	if c.s.ver.atLeast(8, 0) {
		word = "Command"
	}
	return errorf(codeUnauthorized, "%s %s requires authentication", word, name)
}

func (c *conn) errNotAuthorized(req *request) error {
	return errorf(codeUnauthorized, "not authorized on %s to execute command %s", req.db, shellString(req.body))
}

func (c *conn) countOp(req *request) {
	ct := &c.s.counters
	switch req.name {
	case "insert":
		ct.insert.Add(int64(max(1, len(req.seqs["documents"])+arrayLen(req.body, "documents"))))
	case "update":
		ct.update.Add(int64(max(1, len(req.seqs["updates"])+arrayLen(req.body, "updates"))))
	case "delete":
		ct.delete.Add(int64(max(1, len(req.seqs["deletes"])+arrayLen(req.body, "deletes"))))
	case "find":
		ct.query.Add(1)
	case "getMore":
		ct.getmore.Add(1)
	default:
		ct.command.Add(1)
	}
}

// countLatency adds a finished command to opLatencies, classed as mongod does: reads are
// find/getMore/aggregate/count/distinct, writes insert/update/delete/findAndModify.
func (c *conn) countLatency(name string, start time.Time) {
	us := time.Since(start).Microseconds()
	ct := &c.s.counters
	switch name {
	case "find", "getMore", "aggregate", "count", "distinct":
		ct.readsUS.Add(us)
		ct.readsOps.Add(1)
	case "insert", "update", "delete", "findAndModify":
		ct.writesUS.Add(us)
		ct.writesOps.Add(1)
	default:
		ct.commandsUS.Add(us)
		ct.commandsOps.Add(1)
	}
}

func arrayLen(body bson.Raw, key string) int {
	a, ok := body.Lookup(key).ArrayOK()
	if !ok {
		return 0
	}
	vals, err := a.Values()
	if err != nil {
		return 0
	}
	return len(vals)
}

func ok1() bson.D { return bson.D{{Key: "ok", Value: 1.0}} }

func cmdOK(*conn, *request) (any, error)   { return ok1(), nil }
func cmdPing(*conn, *request) (any, error) { return ok1(), nil }

func cmdLogout(c *conn, _ *request) (any, error) {
	c.s.mu.Lock()
	c.users = nil
	c.s.mu.Unlock()
	return ok1(), nil
}

func (s *Server) gitVersion() string {
	h := sha1.Sum([]byte("sim/mongod " + s.opts.Profile.Version))
	return hex.EncodeToString(h[:])
}

func cmdBuildInfo(c *conn, _ *request) (any, error) {
	s := c.s
	v := s.ver
	doc := bson.D{
		{Key: "version", Value: s.opts.Profile.Version},
		{Key: "gitVersion", Value: s.gitVersion()},
		{Key: "modules", Value: bson.A{}},
		{Key: "allocator", Value: "tcmalloc"},
		{Key: "javascriptEngine", Value: "mozjs"},
		{Key: "sysInfo", Value: "deprecated"},
		{Key: "versionArray", Value: bson.A{int32(v.major), int32(v.minor), int32(v.patch), int32(0)}},
		{Key: "openssl", Value: bson.D{{Key: "running", Value: "OpenSSL 3.0.2 15 Mar 2022"}, {Key: "compiled", Value: "OpenSSL 3.0.2 15 Mar 2022"}}},
		{Key: "buildEnvironment", Value: bson.D{
			{Key: "distmod", Value: "ubuntu2204"}, {Key: "distarch", Value: "x86_64"},
			{Key: "target_arch", Value: "x86_64"}, {Key: "target_os", Value: "linux"},
		}},
		{Key: "bits", Value: int32(64)},
		{Key: "debug", Value: false},
		{Key: "maxBsonObjectSize", Value: int32(maxBSONSize)},
		{Key: "storageEngines", Value: bson.A{"devnull", "wiredTiger"}},
	}
	if f := s.opts.Profile.FerretDB; f != "" {
		doc = append(doc, bson.E{Key: "ferretdbVersion", Value: f})
	}
	return append(doc, bson.E{Key: "ok", Value: 1.0}), nil
}

func cmdWhatsMyURI(c *conn, _ *request) (any, error) {
	return bson.D{{Key: "you", Value: c.remote}, {Key: "ok", Value: 1.0}}, nil
}

func cmdConnectionStatus(c *conn, _ *request) (any, error) {
	users := bson.A{}
	roles := bson.A{}
	for _, u := range c.snapshotUsers() {
		users = append(users, bson.D{{Key: "user", Value: u.name}, {Key: "db", Value: u.db}})
		for _, r := range u.roles {
			roles = append(roles, bson.D{{Key: "role", Value: r}, {Key: "db", Value: "admin"}})
		}
	}
	return bson.D{
		{Key: "authInfo", Value: bson.D{
			{Key: "authenticatedUsers", Value: users},
			{Key: "authenticatedUserRoles", Value: roles},
		}},
		{Key: "ok", Value: 1.0},
	}, nil
}

// prettyHost is serverStatus.host: no port when it is the default 27017.
func (s *Server) prettyHost() string {
	if h, ok := strings.CutSuffix(s.hostPort, ":27017"); ok {
		return h
	}
	return s.hostPort
}

// connStats counts connections for serverStatus: real sockets, synthetic ones and the
// replica-set peers' internal connections.
type connStats struct {
	current, totalCreated, active, awaiting, exhaust int
	// globalLock: operations waiting for a lock (queued) or holding one (active), by
	// readers and writers
	queuedR, queuedW, activeR, activeW int
}

func (s *Server) connStats() connStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := connStats{current: len(s.conns) + len(s.synth), totalCreated: int(s.totalCreated)}
	for _, c := range s.conns {
		if o := c.op; o != nil {
			st.active++
			writer := o.kind == "insert" || o.kind == "update" || o.kind == "remove"
			waiting := o.hold != nil && o.hold.waitingForLock
			switch {
			case waiting && writer:
				st.queuedW++
			case waiting:
				st.queuedR++
			case writer:
				st.activeW++
			default:
				st.activeR++
			}
		}
		if c.awaiting {
			st.awaiting++
		}
		if c.exhaust {
			st.exhaust++
		}
	}
	if s.internal != nil {
		n, active := s.internal.peerCounts()
		st.current += n
		st.active += active
	}
	return st
}

func clampInt32(n int) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n)
}

func cmdServerStatus(c *conn, _ *request) (any, error) {
	s := c.s
	now := time.Now()
	st := s.connStats()
	conns := bson.D{
		{Key: "current", Value: clampInt32(st.current)},
		{Key: "available", Value: clampInt32(max(0, maxIncomingConnections-st.current))},
		{Key: "totalCreated", Value: clampInt32(st.totalCreated)},
	}
	if s.ver.atLeast(6, 3) {
		conns = append(conns, bson.E{Key: "rejected", Value: int32(0)})
	}
	conns = append(conns, bson.E{Key: "active", Value: clampInt32(st.active)})
	if s.ver.atLeast(5, 0) {
		conns = append(conns, bson.E{Key: "threaded", Value: clampInt32(st.current)})
	}
	conns = append(conns, bson.E{Key: "exhaustIsMaster", Value: int32(0)})
	if s.ver.atLeast(5, 0) {
		conns = append(conns, bson.E{Key: "exhaustHello", Value: clampInt32(st.exhaust)})
	}
	conns = append(conns, bson.E{Key: "awaitingTopologyChanges", Value: clampInt32(st.awaiting)})
	up := now.Sub(s.started)
	process := "mongod"
	if s.opts.Mongos {
		process = "mongos"
	}
	ct := &s.counters
	doc := bson.D{
		{Key: "host", Value: s.prettyHost()},
		{Key: "version", Value: s.opts.Profile.Version},
		{Key: "process", Value: process},
		{Key: "pid", Value: int64(os.Getpid())},
		{Key: "uptime", Value: up.Seconds()},
		{Key: "uptimeMillis", Value: up.Milliseconds()},
		{Key: "uptimeEstimate", Value: int64(up.Seconds())},
		{Key: "localTime", Value: bson.NewDateTimeFromTime(now)},
		{Key: "connections", Value: conns},
		{Key: "opcounters", Value: bson.D{
			{Key: "insert", Value: ct.insert.Load()},
			{Key: "query", Value: ct.query.Load()},
			{Key: "update", Value: ct.update.Load()},
			{Key: "delete", Value: ct.delete.Load()},
			{Key: "getmore", Value: ct.getmore.Load()},
			{Key: "command", Value: ct.command.Load()},
		}},
		{Key: "globalLock", Value: s.globalLock(st)},
		{Key: "network", Value: bson.D{
			{Key: "bytesIn", Value: ct.bytesIn.Load()},
			{Key: "bytesOut", Value: ct.bytesOut.Load()},
			{Key: "physicalBytesIn", Value: ct.bytesIn.Load()},
			{Key: "physicalBytesOut", Value: ct.bytesOut.Load()},
			{Key: "numRequests", Value: ct.requests.Load()},
		}},
		{Key: "opLatencies", Value: bson.D{
			{Key: "reads", Value: bson.D{{Key: "latency", Value: ct.readsUS.Load()}, {Key: "ops", Value: ct.readsOps.Load()}}},
			{Key: "writes", Value: bson.D{{Key: "latency", Value: ct.writesUS.Load()}, {Key: "ops", Value: ct.writesOps.Load()}}},
			{Key: "commands", Value: bson.D{{Key: "latency", Value: ct.commandsUS.Load()}, {Key: "ops", Value: ct.commandsOps.Load()}}},
		}},
		{Key: "mem", Value: bson.D{{Key: "bits", Value: int32(64)}, {Key: "resident", Value: int32(412)}, {Key: "virtual", Value: int32(2710)}, {Key: "supported", Value: true}}},
	}
	if !s.opts.Mongos {
		doc = append(doc, s.storage(st)...)
	}
	if s.rs != nil {
		doc = append(doc, bson.E{Key: "repl", Value: s.rs.replSection(s)})
	} else if s.opts.ReplicaSet != "" {
		doc = append(doc, bson.E{Key: "repl", Value: bson.D{
			{Key: "hosts", Value: bson.A{s.hostPort}},
			{Key: "setName", Value: s.opts.ReplicaSet},
			{Key: "setVersion", Value: int32(1)},
			{Key: "isWritablePrimary", Value: true},
			{Key: "secondary", Value: false},
			{Key: "primary", Value: s.hostPort},
			{Key: "me", Value: s.hostPort},
		}})
	}
	doc = append(doc, bson.E{Key: "ok", Value: 1.0})
	return doc, nil
}

func cmdHostInfo(c *conn, _ *request) (any, error) {
	return bson.D{
		{Key: "system", Value: bson.D{
			{Key: "currentTime", Value: bson.NewDateTimeFromTime(time.Now())},
			{Key: "hostname", Value: c.s.prettyHost()},
			{Key: "cpuAddrSize", Value: int32(64)},
			{Key: "memSizeMB", Value: int64(15995)},
			{Key: "memLimitMB", Value: int64(15995)},
			{Key: "numCores", Value: int32(2)},
			{Key: "cpuArch", Value: "x86_64"},
			{Key: "numaEnabled", Value: false},
		}},
		{Key: "os", Value: bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Ubuntu"}, {Key: "version", Value: "22.04"}}},
		{Key: "extra", Value: bson.D{{Key: "versionString", Value: "Linux version 5.15.0 (simulated)"}}},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdReplSetGetStatus(c *conn, _ *request) (any, error) {
	s := c.s
	if s.opts.ReplicaSet == "" {
		if s.opts.Mongos {
			return nil, errorf(codeCommandNotFound, "no such command: 'replSetGetStatus'")
		}
		return nil, errorf(codeNoReplication, "not running with --replSet")
	}
	if s.rs != nil {
		return s.rs.status(s), nil
	}
	now := time.Now()
	ts := bson.Timestamp{T: uint32(now.Unix()), I: 1}
	optime := bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}
	return bson.D{
		{Key: "set", Value: s.opts.ReplicaSet},
		{Key: "date", Value: bson.NewDateTimeFromTime(now)},
		{Key: "myState", Value: int32(1)},
		{Key: "term", Value: int64(1)},
		{Key: "heartbeatIntervalMillis", Value: int64(2000)},
		{Key: "members", Value: bson.A{bson.D{
			{Key: "_id", Value: int32(0)},
			{Key: "name", Value: s.hostPort},
			{Key: "health", Value: 1.0},
			{Key: "state", Value: int32(1)},
			{Key: "stateStr", Value: "PRIMARY"},
			{Key: "uptime", Value: int32(now.Sub(s.started).Seconds())},
			{Key: "optime", Value: optime},
			{Key: "optimeDate", Value: bson.NewDateTimeFromTime(now)},
			{Key: "self", Value: true},
		}}},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdListShards(c *conn, _ *request) (any, error) {
	s := c.s
	if !s.opts.Mongos {
		return nil, errorf(codeCommandNotFound, "no such command: 'listShards'")
	}
	if s.cluster != nil {
		return s.cluster.listShards(), nil
	}
	shards := bson.A{}
	for i, name := range s.opts.Shards {
		shards = append(shards, bson.D{
			{Key: "_id", Value: name},
			{Key: "host", Value: name + "/" + s.shardHost(i)},
			{Key: "state", Value: int32(1)},
		})
	}
	return bson.D{{Key: "shards", Value: shards}, {Key: "ok", Value: 1.0}}, nil
}

// Plain data commands reply plausibly at once: the simulator stores no data.

func cursorReply(ns, batchKey string, docs bson.A, id int64) bson.D {
	return bson.D{
		{Key: "cursor", Value: bson.D{
			{Key: batchKey, Value: docs},
			{Key: "id", Value: id},
			{Key: "ns", Value: ns},
		}},
		{Key: "ok", Value: 1.0},
	}
}

func cmdEmptyCursor(_ *conn, req *request) (any, error) {
	return cursorReply(req.op.ns, "firstBatch", bson.A{}, 0), nil
}

// cmdFind answers an empty result. With comment.sim.openCursor it leaves a cursor open (an
// idle cursor for $currentOp, drained by a later getMore).
func cmdFind(c *conn, req *request) (any, error) {
	id := int64(0)
	if wantsOpenCursor(req.body) {
		cur := c.s.newCursor(c, req, nil)
		cur.tailable, _ = req.body.Lookup("tailable").BooleanOK()
		cur.awaitData, _ = req.body.Lookup("awaitData").BooleanOK()
		cur.noTimeout, _ = req.body.Lookup("noCursorTimeout").BooleanOK()
		if req.op.hold != nil {
			cur.planSummary = req.op.hold.planSummary
		}
		id = cur.id
	}
	return cursorReply(req.op.ns, "firstBatch", bson.A{}, id), nil
}

func wantsOpenCursor(body bson.Raw) bool {
	comment, _ := body.Lookup("comment").DocumentOK()
	sim, _ := comment.Lookup("sim").DocumentOK()
	open, _ := sim.Lookup("openCursor").BooleanOK()
	return open
}

func cmdCount(*conn, *request) (any, error) {
	return bson.D{{Key: "n", Value: int32(0)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdDistinct(*conn, *request) (any, error) {
	return bson.D{{Key: "values", Value: bson.A{}}, {Key: "ok", Value: 1.0}}, nil
}

func cmdListIndexes(_ *conn, req *request) (any, error) {
	idx := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}
	return cursorReply(req.op.ns, "firstBatch", bson.A{idx}, 0), nil
}

func cmdListDatabases(*conn, *request) (any, error) {
	return bson.D{
		{Key: "databases", Value: bson.A{bson.D{{Key: "name", Value: "admin"}, {Key: "sizeOnDisk", Value: int64(40960)}, {Key: "empty", Value: false}}}},
		{Key: "totalSize", Value: int64(40960)},
		{Key: "totalSizeMb", Value: int64(0)},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdInsert(_ *conn, req *request) (any, error) {
	n := len(req.seqs["documents"]) + arrayLen(req.body, "documents")
	return bson.D{{Key: "n", Value: int32(n)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdUpdate(*conn, *request) (any, error) {
	return bson.D{{Key: "n", Value: int32(0)}, {Key: "nModified", Value: int32(0)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdDelete(*conn, *request) (any, error) {
	return bson.D{{Key: "n", Value: int32(0)}, {Key: "ok", Value: 1.0}}, nil
}

func cmdFindAndModify(*conn, *request) (any, error) {
	return bson.D{
		{Key: "lastErrorObject", Value: bson.D{{Key: "n", Value: int32(0)}, {Key: "updatedExisting", Value: false}}},
		{Key: "value", Value: nil},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdCreateIndexes(_ *conn, req *request) (any, error) {
	n := arrayLen(req.body, "indexes")
	return bson.D{
		{Key: "numIndexesBefore", Value: int32(1)},
		{Key: "numIndexesAfter", Value: int32(1 + n)},
		{Key: "createdCollectionAutomatically", Value: false},
		{Key: "ok", Value: 1.0},
	}, nil
}

// cmdKillOp marks an op killPending; it always answers ok once authorised (reference §3).
func cmdKillOp(c *conn, req *request) (any, error) {
	s := c.s
	v := req.body.Lookup("op")
	if v.Type == 0 {
		return nil, errorf(codeKillOpMissingOp, "Did not provide \"op\" field")
	}
	if v.Type == bson.TypeString {
		if !s.opts.Mongos {
			return nil, errorf(codeKillOpUnsupportedOp, "\"op\" field was of unsupported type string")
		}
		return c.killShardOp(req, v.StringValue())
	}
	f, ok := numberOf(v)
	if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxUint32 {
		return nil, errorf(codeKillOpUnsupportedOp, "\"op\" field was of unsupported type %s", typeName(v.Type))
	}
	opid := int32(uint32(int64(f))) // values above 2^31 map back to negative opids
	if !c.mayKill(opid) {
		return nil, c.errNotAuthorized(req)
	}
	s.mu.Lock()
	for _, cc := range s.conns {
		if cc.op != nil && cc.op.opid == opid {
			cc.op.killLocked()
		}
	}
	s.mu.Unlock()
	if s.opts.Mongos {
		return ok1(), nil
	}
	return bson.D{{Key: "info", Value: "attempting to kill op"}, {Key: "ok", Value: 1.0}}, nil
}

// mayKill: own ops need no privilege; other users' ops need killop (hostManager, root).
func (c *conn) mayKill(opid int32) bool {
	s := c.s
	if !s.authEnabled() || c.can(actKillOp) {
		return true
	}
	mine := c.snapshotUsers()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cc := range s.conns {
		if cc.op != nil && cc.op.opid == opid {
			return coauthorized(mine, cc.effectiveUsersLocked())
		}
	}
	return false
}

func cmdEndSessions(c *conn, req *request) (any, error) {
	c.s.endSessions(req.body.Lookup(req.name), false)
	return ok1(), nil
}

func cmdKillSessions(c *conn, req *request) (any, error) {
	c.s.endSessions(req.body.Lookup(req.name), true)
	return ok1(), nil
}

func cmdEndTransaction(c *conn, req *request) (any, error) {
	s := c.s
	lsid := req.op.lsid
	key := lsidKey(lsid)
	s.mu.Lock()
	_, ok := s.txns[key]
	delete(s.txns, key)
	s.mu.Unlock()
	if !ok && req.name == "commitTransaction" {
		return nil, errorf(codeNoSuchTransaction, "Transaction with { txnNumber: %d } has been aborted.", txnNumberOf(req.body))
	}
	return ok1(), nil
}

func txnNumberOf(body bson.Raw) int64 {
	n, _ := body.Lookup("txnNumber").AsInt64OK()
	return n
}

func typeName(t bson.Type) string {
	switch t {
	case bson.TypeDouble:
		return "double"
	case bson.TypeString:
		return "string"
	case bson.TypeEmbeddedDocument:
		return "object"
	case bson.TypeArray:
		return "array"
	case bson.TypeBinary:
		return "binData"
	case bson.TypeObjectID:
		return "objectId"
	case bson.TypeBoolean:
		return "bool"
	case bson.TypeDateTime:
		return "date"
	case bson.TypeNull:
		return "null"
	case bson.TypeRegex:
		return "regex"
	case bson.TypeInt32:
		return "int"
	case bson.TypeTimestamp:
		return "timestamp"
	case bson.TypeInt64:
		return "long"
	case bson.TypeDecimal128:
		return "decimal"
	case bson.TypeUndefined:
		return "undefined"
	case bson.TypeMinKey:
		return "minKey"
	case bson.TypeMaxKey:
		return "maxKey"
	}
	return "type " + strconv.Itoa(int(t))
}

// globalLock is serverStatus.globalLock from the operations in flight.
func (s *Server) globalLock(st connStats) bson.D {
	rw := func(r, w int) bson.D {
		return bson.D{{Key: "total", Value: clampInt32(r + w)}, {Key: "readers", Value: clampInt32(r)}, {Key: "writers", Value: clampInt32(w)}}
	}
	return bson.D{
		{Key: "totalTime", Value: time.Since(s.started).Microseconds()},
		{Key: "currentQueue", Value: rw(st.queuedR, st.queuedW)},
		{Key: "activeClients", Value: rw(st.activeR, st.activeW)},
	}
}

// Storage engine figures (synthetic): a 1 GiB cache a quarter full, dirty bytes growing with
// the writes in flight, and 128 read and 128 write tickets of which the active operations hold
// one each. They are plausible, not measured: the simulator stores nothing.
const (
	simCacheMax     = 1 << 30
	simCacheBytes   = simCacheMax / 4
	simDirtyPerOp   = 4 << 20
	simTicketsTotal = 128
)

// storage is serverStatus.wiredTiger (cache and, up to 6.x, concurrentTransactions) and,
// from 7.0, queues.execution, where the tickets moved.
func (s *Server) storage(st connStats) bson.D {
	tickets := func(out int) bson.D {
		out = min(out, simTicketsTotal)
		return bson.D{{Key: "out", Value: clampInt32(out)}, {Key: "available", Value: clampInt32(simTicketsTotal - out)},
			{Key: "totalTickets", Value: int32(simTicketsTotal)}}
	}
	rw := bson.D{{Key: "write", Value: tickets(st.activeW)}, {Key: "read", Value: tickets(st.activeR)}}
	wt := bson.D{{Key: "cache", Value: bson.D{
		{Key: "bytes currently in the cache", Value: int64(simCacheBytes)},
		{Key: "maximum bytes configured", Value: int64(simCacheMax)},
		{Key: "tracked dirty bytes in the cache", Value: int64(st.activeW+st.queuedW) * simDirtyPerOp},
	}}}
	if !s.ver.atLeast(7, 0) {
		return bson.D{{Key: "wiredTiger", Value: append(wt, bson.E{Key: "concurrentTransactions", Value: rw})}}
	}
	return bson.D{{Key: "queues", Value: bson.D{{Key: "execution", Value: rw}}}, {Key: "wiredTiger", Value: wt}}
}
