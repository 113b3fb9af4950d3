package mongod

import (
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SYNTHETIC internal activity of a replica-set primary: server threads with no client, and
// the connections two peer members keep open (one of them tailing the oplog). None of it has
// a socket; it is generated when $currentOp runs.

type internalThread struct {
	desc   string
	active bool
	opid   int32
}

type peerConn struct {
	id     int32
	client string
	oplog  bool // runs the oplog fetcher's getMore
}

type internalActivity struct {
	s       *Server
	threads []internalThread
	peers   []peerConn
	start   time.Time
	// the oplog getMore: one awaitData round every oplogRound, a new opid each round
	cursorID int64
	round    int64
	roundOps []int32 // per peer
}

// oplogRound is the oplog fetcher's awaitData timeout: each getMore lasts this long.
const oplogRound = 5 * time.Second

func newInternalActivity(s *Server) *internalActivity {
	ia := &internalActivity{s: s, start: time.Now(), cursorID: 8_294_422_190_112_531_337, round: -1}
	for _, t := range []struct {
		desc   string
		active bool
	}{
		{"JournalFlusher", true},
		{"OplogCapMaintainerThread-local.oplog.rs", true},
		{"monitoring-keys-for-HMAC", true},
		{"Checkpointer", false},
		{"TTLMonitor", false},
		{"ftdc", false},
		{"ReplBatcher", false},
		{"NoopWriter", false},
		{"TimestampMonitor", false},
		{"LogicalSessionCacheRefresh", false},
	} {
		th := internalThread{desc: t.desc, active: t.active}
		if t.active {
			th.opid = s.opSeq.Add(1)
		}
		ia.threads = append(ia.threads, th)
	}
	for i, p := range []struct {
		ip    string
		oplog bool
	}{
		{"192.0.2.201", true},
		{"192.0.2.201", false},
		{"192.0.2.202", true},
		{"192.0.2.202", false},
	} {
		if s.rs != nil {
			p.ip = "127.0.0.1" // the members of a simulated set all live on loopback
		}
		s.nextConnID++
		s.totalCreated++
		ia.peers = append(ia.peers, peerConn{id: s.nextConnID, client: p.ip + ":" + strconv.Itoa(40100+i*17), oplog: p.oplog})
	}
	return ia
}

// peerCounts is the number of peer connections and how many are active.
func (ia *internalActivity) peerCounts() (n, active int) {
	tailed := ia.tailed()
	for _, p := range ia.peers {
		if p.oplog && tailed {
			active++
		}
	}
	return len(ia.peers), active
}

func (ia *internalActivity) docsLocked(idle bool, now time.Time, nowStr string) []bson.D {
	s := ia.s
	var docs []bson.D
	for _, th := range ia.threads {
		if !th.active && !idle {
			continue
		}
		d := bson.D{
			{Key: "type", Value: "op"},
			{Key: "host", Value: s.hostPort},
			{Key: "desc", Value: th.desc},
			{Key: "active", Value: th.active},
			{Key: "currentOpTime", Value: nowStr},
		}
		if th.active {
			d = append(d,
				bson.E{Key: "opid", Value: th.opid},
				bson.E{Key: "op", Value: "none"},
				bson.E{Key: "ns", Value: ""},
				bson.E{Key: "command", Value: bson.D{}},
				bson.E{Key: "numYields", Value: int32(0)},
			)
			if s.ver.atLeast(6, 3) && th.desc == "JournalFlusher" {
				d = append(d, bson.E{Key: "admissionPriority", Value: "low"})
			}
			d = append(d,
				bson.E{Key: "locks", Value: bson.D{}},
				bson.E{Key: "waitingForLock", Value: false},
				bson.E{Key: "lockStats", Value: bson.D{}},
				bson.E{Key: "waitingForFlowControl", Value: false},
				bson.E{Key: "flowControlStats", Value: bson.D{}},
			)
		}
		docs = append(docs, d)
	}
	elapsed := now.Sub(ia.start)
	if r := int64(elapsed / oplogRound); r != ia.round {
		ia.round = r
		ia.roundOps = make([]int32, len(ia.peers))
		for i, p := range ia.peers {
			if p.oplog {
				ia.roundOps[i] = s.opSeq.Add(1) // not nextOpIDLocked: SetNextOpID is for client ops
			}
		}
	}
	inRound := elapsed % oplogRound
	tailed := ia.tailed()
	for i, p := range ia.peers {
		if !p.oplog || !tailed {
			p.oplog = false
		}
		if !p.oplog && !idle {
			continue
		}
		d := bson.D{
			{Key: "type", Value: "op"},
			{Key: "host", Value: s.hostPort},
			{Key: "desc", Value: "conn" + strconv.Itoa(int(p.id))},
			{Key: "connectionId", Value: p.id},
			{Key: "client", Value: p.client},
			{Key: "clientMetadata", Value: bson.D{
				{Key: "driver", Value: bson.D{{Key: "name", Value: "NetworkInterfaceTL"}, {Key: "version", Value: s.opts.Profile.Version}}},
				{Key: "os", Value: bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Ubuntu"}, {Key: "architecture", Value: "x86_64"}, {Key: "version", Value: "22.04"}}},
			}},
			{Key: "active", Value: p.oplog},
			{Key: "currentOpTime", Value: nowStr},
			{Key: "effectiveUsers", Value: systemUsers()},
		}
		if s.ver.atLeast(5, 0) {
			d = append(d, bson.E{Key: "threaded", Value: true})
		}
		if p.oplog {
			d = ia.appendOplogGetMore(d, p, ia.roundOps[i], now, inRound)
		}
		docs = append(docs, d)
	}
	return docs
}

func (ia *internalActivity) appendOplogGetMore(d bson.D, p peerConn, opid int32, now time.Time, inRound time.Duration) bson.D {
	s := ia.s
	ts := bson.Timestamp{T: uint32(now.Unix()), I: 1}
	opTime := bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}
	cursorID := ia.cursorID + int64(p.id)
	cmd := bson.D{
		{Key: "getMore", Value: cursorID},
		{Key: "collection", Value: "oplog.rs"},
		{Key: "batchSize", Value: int32(13981010)},
		{Key: "maxTimeMS", Value: int64(oplogRound / time.Millisecond)},
		{Key: "term", Value: int64(1)},
		{Key: "lastKnownCommittedOpTime", Value: opTime},
		{Key: "$db", Value: "local"},
	}
	origin := bson.D{
		{Key: "find", Value: "oplog.rs"},
		{Key: "filter", Value: bson.D{{Key: "ts", Value: bson.D{{Key: "$gte", Value: bson.Timestamp{T: uint32(ia.start.Unix()), I: 1}}}}}},
		{Key: "readConcern", Value: bson.D{{Key: "level", Value: "local"}, {Key: "afterClusterTime", Value: bson.Timestamp{T: uint32(ia.start.Unix()), I: 1}}}},
		{Key: "tailable", Value: true},
		{Key: "oplogReplay", Value: true},
		{Key: "awaitData", Value: true},
		{Key: "maxTimeMS", Value: int64(60000)},
		{Key: "batchSize", Value: int32(13981010)},
		{Key: "term", Value: int64(1)},
		{Key: "readOnce", Value: true},
		{Key: "$db", Value: "local"},
	}
	d = append(d,
		bson.E{Key: "opid", Value: opid},
		bson.E{Key: "secs_running", Value: int64(inRound / time.Second)},
		bson.E{Key: "microsecs_running", Value: int64(inRound / time.Microsecond)},
		bson.E{Key: "op", Value: "getmore"},
		bson.E{Key: "ns", Value: "local.oplog.rs"},
		bson.E{Key: "command", Value: cmd},
	)
	if s.ver.atLeast(6, 2) {
		d = append(d, bson.E{Key: "queryFramework", Value: "classic"})
	}
	d = append(d,
		bson.E{Key: "planSummary", Value: "COLLSCAN"},
		bson.E{Key: "cursor", Value: bson.D{
			{Key: "cursorId", Value: cursorID},
			{Key: "createdDate", Value: bson.NewDateTimeFromTime(ia.start)},
			{Key: "lastAccessDate", Value: bson.NewDateTimeFromTime(now.Add(-inRound))},
			{Key: "nDocsReturned", Value: int64(ia.round + 1)},
			{Key: "nBatchesReturned", Value: int64(ia.round + 1)},
			{Key: "noCursorTimeout", Value: false},
			{Key: "tailable", Value: true},
			{Key: "awaitData", Value: true},
			{Key: "originatingCommand", Value: origin},
			{Key: "operationUsingCursorId", Value: int64(opid)},
		}},
		bson.E{Key: "numYields", Value: int32(0)},
		bson.E{Key: "locks", Value: bson.D{}},
		bson.E{Key: "waitingForLock", Value: false},
		bson.E{Key: "lockStats", Value: bson.D{
			{Key: "Global", Value: bson.D{{Key: "acquireCount", Value: bson.D{{Key: "r", Value: int64(1)}}}}},
		}},
		bson.E{Key: "waitingForFlowControl", Value: false},
		bson.E{Key: "flowControlStats", Value: bson.D{}},
	)
	return d
}

// tailed reports whether secondaries tail this member's oplog: only a primary's (chained
// replication is not modelled), and always on a standalone primary-like Options.ReplicaSet.
func (ia *internalActivity) tailed() bool {
	s := ia.s
	return s.rs == nil || s.rs.role(s.rsIdx) == rolePrimary
}
