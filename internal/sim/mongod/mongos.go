package mongod

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// On the mongos profile, $currentOp (without localOps) fans out: every routed operation is
// reported as the shard sees it — "shard" first, opid "shard:N", client_s the mongos's own
// address, clientMetadata.mongos naming the real application address. The shard-side opid N
// is the simulator's opid of the client operation, so killOp "shard:N" reaches it.

// shardHost is a shard's (only) member, from the documentation domain example.net.
func (s *Server) shardHost(i int) string {
	return s.opts.Shards[i] + "-1.example.net:27018"
}

func (s *Server) shardOf(ns string) int {
	h := fnv.New32a()
	h.Write([]byte(ns))
	return int(h.Sum32() % uint32(len(s.opts.Shards)))
}

// isCurrentOpAggregate is the caller's own $currentOp: mongos sends it to every shard.
func (o *op) isCurrentOpAggregate() bool {
	return o.name == "aggregate" && strings.HasSuffix(o.ns, ".$cmd.aggregate")
}

// routed reports whether mongos forwards the op to a shard (collection work).
func (o *op) routed() bool {
	return o.isCurrentOpAggregate() || (!strings.Contains(o.ns, ".$cmd") && o.ns != "")
}

func (s *Server) fanOutDocsLocked(conns []*conn, o curOpOptions, visible func([]*userCred) bool, all bool, now time.Time, nowStr string) []bson.D {
	var docs []bson.D
	for i, shard := range s.opts.Shards {
		host := s.shardHost(i)
		for _, c := range conns {
			if c.op == nil || !c.op.routed() || !visible(c.users) {
				continue
			}
			if !c.op.isCurrentOpAggregate() && s.shardOf(c.op.ns) != i {
				continue
			}
			rt := &route{
				shard:   shard,
				host:    host,
				connID:  int32(1000*(i+1)) + c.id,
				clientS: "127.0.0.1:" + strconv.Itoa(40000+int(c.id)%20000),
			}
			docs = append(docs, s.connDocLocked(c, rt, now, nowStr, o.truncateOps))
		}
		if o.idleConnections && all {
			docs = append(docs, s.poolConnDocs(i, shard, host, nowStr)...)
		}
	}
	return docs
}

// poolConnDocs are the idle mongos→shard pool connections a shard reports.
func (s *Server) poolConnDocs(i int, shard, host, nowStr string) []bson.D {
	var docs []bson.D
	for k := range 3 {
		id := int32(900 + 10*i + k)
		d := bson.D{
			{Key: "shard", Value: shard},
			{Key: "type", Value: "op"},
			{Key: "host", Value: host},
			{Key: "desc", Value: "conn" + strconv.Itoa(int(id))},
			{Key: "connectionId", Value: id},
			{Key: "client_s", Value: "127.0.0.1:" + strconv.Itoa(39000+int(id))},
			{Key: "clientMetadata", Value: bson.D{
				{Key: "driver", Value: bson.D{{Key: "name", Value: "NetworkInterfaceTL-TaskExecutorPool-0"}, {Key: "version", Value: s.opts.Profile.Version}}},
				{Key: "os", Value: bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Ubuntu"}, {Key: "architecture", Value: "x86_64"}, {Key: "version", Value: "22.04"}}},
			}},
			{Key: "active", Value: false},
			{Key: "currentOpTime", Value: nowStr},
			{Key: "effectiveUsers", Value: systemUsers()},
		}
		if s.ver.atLeast(5, 0) {
			d = append(d, bson.E{Key: "threaded", Value: true})
		}
		docs = append(docs, d)
	}
	return docs
}

// killShardOp handles killOp {op: "shard:opid"} on mongos.
func (c *conn) killShardOp(req *request, spec string) (any, error) {
	s := c.s
	shard, num, ok := strings.Cut(spec, ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || shard == "" || err != nil || n < -(1<<31) || n >= 1<<32 {
		return nil, errorf(codeKillOpBadFormat, "The op argument to killOp must be of the format shardid:opid but found \"%s\"", spec)
	}
	idx := -1
	for i, name := range s.opts.Shards {
		if name == shard {
			idx = i
		}
	}
	if idx < 0 {
		return nil, errorf(codeShardNotFound, "shard %s not found", shard)
	}
	// mongos cannot tell whose op it is: killing through mongos needs killop.
	if !c.can(actKillOp) {
		return nil, c.errNotAuthorized(req)
	}
	opid := int32(uint32(n))
	if s.cluster != nil {
		s.cluster.killOp(idx, opid)
		return bson.D{{Key: "shard", Value: shard}, {Key: "shardid", Value: opid}, {Key: "ok", Value: 1.0}}, nil
	}
	s.mu.Lock()
	for _, cc := range s.conns {
		o := cc.op
		if o != nil && o.opid == opid && o.routed() && (o.isCurrentOpAggregate() || s.shardOf(o.ns) == idx) {
			o.killLocked()
		}
	}
	s.mu.Unlock()
	return bson.D{{Key: "shard", Value: shard}, {Key: "shardid", Value: opid}, {Key: "ok", Value: 1.0}}, nil
}
