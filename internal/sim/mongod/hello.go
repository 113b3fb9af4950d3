package mongod

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxAwait bounds maxAwaitTimeMS; drivers send their heartbeat interval (10 s by default).
const maxAwait = 5 * time.Minute

// helloLoop answers hello/isMaster. An awaitable hello (topologyVersion + maxAwaitTimeMS) is
// parked for maxAwaitTimeMS — the topology never changes here — and, when the request allows
// exhaust, the server keeps streaming replies with moreToCome until the connection goes.
func (c *conn) helloLoop(req *request) bool {
	s := c.s
	s.counters.command.Add(1)
	if !req.legacy && req.db == "" {
		return c.sendReply(req, nil, errorf(40571, "OP_MSG requests require a $db argument"), 0)
	}
	c.recordHandshake(req.body)
	changed := s.topologyChanged() // taken before the check, so no change slips between
	awaitFor, awaitable := s.awaitDuration(req.body)
	streaming := awaitable && req.exhaust && !req.legacy && !req.noReply
	first := true
	for {
		o := c.beginOp(req)
		var err error
		if awaitable {
			s.mu.Lock()
			c.awaiting = true
			c.exhaust = streaming
			s.mu.Unlock()
			err = c.await(o, awaitFor, changed)
		}
		var reply bson.D
		if err == nil {
			changed = s.topologyChanged() // the next await waits for a change after this reply
			reply = c.helloReply(req, first)
		}
		c.endOp(o)
		if err == errGone {
			return false
		}
		if req.noReply {
			return true
		}
		flags := uint32(0)
		if streaming && err == nil {
			flags = flagMoreToCome
		}
		if !c.sendReply(req, reply, err, flags) {
			return false
		}
		s.hellos.Add(1)
		if flags == 0 {
			return true
		}
		first = false
		s.counters.command.Add(1)
	}
}

// awaitDuration reports whether a hello is awaitable and for how long it may wait.
func (s *Server) awaitDuration(body bson.Raw) (time.Duration, bool) {
	tv, ok := body.Lookup("topologyVersion").DocumentOK()
	if !ok {
		return 0, false
	}
	ms, ok := numberOf(body.Lookup("maxAwaitTimeMS"))
	if !ok || ms < 0 {
		return 0, false
	}
	pid, ok := tv.Lookup("processId").ObjectIDOK()
	cur, counter := s.topologyVersion()
	if !ok || pid != cur {
		return 0, false // another process: the topology changed, answer at once
	}
	if n, ok := tv.Lookup("counter").AsInt64OK(); !ok || n != counter {
		return 0, false // the client's view is stale: answer at once
	}
	return min(time.Duration(ms)*time.Millisecond, maxAwait), true
}

// await parks an awaitable hello until d passes or the topology changes; killOp interrupts
// it like any op.
func (c *conn) await(o *op, d time.Duration, changed <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-changed:
		return nil
	case <-o.kill:
		if !c.sleep(interruptDelay) {
			return errGone
		}
		return errInterrupted()
	case <-c.gone:
		return errGone
	case <-c.s.done:
		return errGone
	}
}

// recordHandshake keeps the client metadata of the first hello on the connection.
func (c *conn) recordHandshake(body bson.Raw) {
	client, ok := body.Lookup("client").DocumentOK()
	if !ok {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.meta != nil {
		return // a driver sends client metadata only once; later values are ignored
	}
	var meta bson.D
	if err := bson.Unmarshal(client, &meta); err != nil {
		return
	}
	c.meta = meta
	if app, ok := client.Lookup("application", "name").StringValueOK(); ok {
		c.appName = app
	}
}

func (c *conn) helloReply(req *request, first bool) bson.D {
	s := c.s
	now := time.Now()
	d := make(bson.D, 0, 32)
	pid, counter := s.topologyVersion()
	d = append(d, bson.E{Key: "topologyVersion", Value: bson.D{
		{Key: "processId", Value: pid},
		{Key: "counter", Value: counter},
	}})
	if s.rs != nil {
		d = append(d, s.rs.helloFields(s, req.name, now)...)
	} else if s.opts.ReplicaSet != "" {
		ts := bson.Timestamp{T: uint32(now.Unix()), I: 1}
		opTime := bson.D{{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}}
		d = append(d,
			bson.E{Key: "hosts", Value: bson.A{s.hostPort}},
			bson.E{Key: "setName", Value: s.opts.ReplicaSet},
			bson.E{Key: "setVersion", Value: int32(1)},
		)
		d = append(d, writableField(req.name))
		d = append(d,
			bson.E{Key: "secondary", Value: false},
			bson.E{Key: "primary", Value: s.hostPort},
			bson.E{Key: "me", Value: s.hostPort},
			bson.E{Key: "electionId", Value: electionID},
			bson.E{Key: "lastWrite", Value: bson.D{
				{Key: "opTime", Value: opTime},
				{Key: "lastWriteDate", Value: bson.NewDateTimeFromTime(now.Truncate(time.Second))},
				{Key: "majorityOpTime", Value: opTime},
				{Key: "majorityWriteDate", Value: bson.NewDateTimeFromTime(now.Truncate(time.Second))},
			}},
		)
	} else {
		d = append(d, writableField(req.name))
	}
	if s.opts.Mongos {
		d = append(d, bson.E{Key: "msg", Value: "isdbgrid"})
	}
	d = append(d,
		bson.E{Key: "maxBsonObjectSize", Value: int32(maxBSONSize)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(maxMessageSize)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100000)},
		bson.E{Key: "localTime", Value: bson.NewDateTimeFromTime(now)},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: c.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: s.opts.Profile.MaxWireVersion},
		bson.E{Key: "readOnly", Value: false},
	)
	if first && s.authEnabled() {
		if mechs, ok := s.saslSupportedMechs(req.body); ok {
			d = append(d, bson.E{Key: "saslSupportedMechs", Value: mechs})
		}
		if spec, ok := req.body.Lookup("speculativeAuthenticate").DocumentOK(); ok {
			db, _ := spec.Lookup("db").StringValueOK()
			if db == "" {
				db = "admin"
			}
			// A failed speculative attempt is simply not answered; the driver then runs saslStart.
			if reply, err := c.startSASL(db, spec); err == nil {
				d = append(d, bson.E{Key: "speculativeAuthenticate", Value: reply})
			}
		}
	}
	if ok, _ := req.body.Lookup("helloOk").BooleanOK(); ok {
		d = append(d, bson.E{Key: "helloOk", Value: true})
	}
	d = append(d, bson.E{Key: "ok", Value: 1.0})
	return d
}

var electionID = bson.ObjectID{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1}

func writableField(name string) bson.E {
	if name == "hello" {
		return bson.E{Key: "isWritablePrimary", Value: true}
	}
	return bson.E{Key: "ismaster", Value: true}
}

// saslSupportedMechs answers "db.user" with the user's mechanisms; unknown users get none.
func (s *Server) saslSupportedMechs(body bson.Raw) (bson.A, bool) {
	v, ok := body.Lookup("saslSupportedMechs").StringValueOK()
	if !ok {
		return nil, false
	}
	db, name, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	if _, ok := s.users[userKey(db, name)]; !ok {
		return nil, false
	}
	return bson.A{"SCRAM-SHA-256"}, true
}
