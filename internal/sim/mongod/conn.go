package mongod

import (
	"errors"
	"net"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// conn is one real client socket. Fields after "guarded by s.mu" are read by $currentOp and
// serverStatus from other goroutines.
type conn struct {
	s       *Server
	id      int32
	nc      net.Conn
	remote  string
	created time.Time
	in      chan *message
	gone    chan struct{} // closed when the reader stops (peer closed, error, drop)
	quit    chan struct{} // closed when serve stops

	sasl *saslState // touched only by the serve goroutine

	// guarded by s.mu
	meta     bson.D
	appName  string
	users    []*userCred
	op       *op
	awaiting bool // parked in an awaitable hello
	exhaust  bool // streaming hello replies with moreToCome
	// imp is the client a mongos runs the current request for, on a mongos→shard pool
	// connection (see cluster.go); nil otherwise
	imp *impersonation
}

// effectiveUsersLocked are the users an operation runs for: the routed client's on a pool
// connection that carries a request, else the connection's own.
func (c *conn) effectiveUsersLocked() []*userCred {
	if c.imp != nil {
		return c.imp.users
	}
	return c.users
}

func newConn(s *Server, id int32, nc net.Conn, remote string) *conn {
	return &conn{
		s:       s,
		id:      id,
		nc:      nc,
		remote:  remote,
		created: time.Now(),
		in:      make(chan *message, 8),
		gone:    make(chan struct{}),
		quit:    make(chan struct{}),
	}
}

// readLoop reads whole messages and hands them to serve. A malformed message or an unknown
// opcode closes the connection, as a real server does.
func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer close(c.gone)
	for {
		b, err := readMessage(c.nc)
		if err != nil {
			c.nc.Close()
			return
		}
		c.s.counters.bytesIn.Add(int64(len(b)))
		c.s.counters.requests.Add(1)
		m, err := parseMessage(b)
		if err != nil {
			c.nc.Close()
			return
		}
		select {
		case c.in <- m:
		case <-c.quit:
			return
		}
	}
}

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer func() {
		close(c.quit)
		c.nc.Close()
		c.s.removeConn(c)
	}()
	for {
		select {
		case m := <-c.in:
			if !c.handle(m) {
				return
			}
		case <-c.gone:
			return
		case <-c.s.done:
			return
		}
	}
}

// errGone ends a command without a reply: the client or the server went away.
var errGone = errors.New("connection gone")

// sleep waits d unless the connection or the server goes away first.
func (c *conn) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.gone:
		return false
	case <-c.s.done:
		return false
	}
}

func (c *conn) write(b []byte) bool {
	_ = c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	n, err := c.nc.Write(b)
	c.s.counters.bytesOut.Add(int64(n))
	return err == nil
}

// request is one command as the handlers see it.
type request struct {
	name     string
	db       string
	body     bson.Raw
	seqs     map[string][]bson.Raw
	legacy   bool // came as OP_QUERY
	exhaust  bool // OP_MSG exhaustAllowed
	op       *op
	reqID    int32
	noReply  bool // moreToCome: unacknowledged
	lastSent int32
	// secondaryOk: the client accepts a secondary's answer (OP_QUERY flag bit 2, or an
	// OP_MSG $readPreference other than primary)
	secondaryOk bool
}

// handle runs one message; false closes the connection.
func (c *conn) handle(m *message) bool {
	if d := time.Duration(c.s.replyDelay.Load()); d > 0 && !c.sleep(d) {
		return false
	}
	req := &request{body: m.body, seqs: m.seqs, reqID: m.requestID}
	switch m.opCode {
	case opQuery:
		req.legacy = true
		req.db, _, _ = strings.Cut(m.fullName, ".")
		req.secondaryOk = m.flags&flagQuerySecondaryOk != 0
	case opMsg:
		req.exhaust = m.flags&flagExhaustAllowed != 0
		req.noReply = m.flags&flagMoreToCome != 0
		req.db, _ = m.body.Lookup("$db").StringValueOK()
		mode, _ := m.body.Lookup("$readPreference", "mode").StringValueOK()
		req.secondaryOk = mode != "" && mode != "primary"
	}
	first, err := m.body.IndexErr(0)
	if err == nil {
		req.name = first.Key()
	}
	if isHelloName(req.name) {
		return c.helloLoop(req)
	}
	reply, err := c.dispatch(req)
	if errors.Is(err, errGone) {
		return false
	}
	if req.noReply {
		return true
	}
	return c.sendReply(req, reply, err, 0)
}

// sendReply encodes a reply (or error) in the wire format that matches the request.
func (c *conn) sendReply(req *request, reply any, err error, flags uint32) bool {
	var doc []byte
	if err != nil {
		var ce *cmdError
		if !errors.As(err, &ce) {
			ce = &cmdError{code: 1, name: "InternalError", msg: err.Error()}
		}
		doc, _ = bson.Marshal(ce.doc())
	} else {
		var merr error
		doc, merr = marshalReply(reply)
		if merr != nil {
			doc, _ = bson.Marshal(errorf(1, "cannot encode reply: %v", merr).doc())
		}
	}
	id := c.s.nextRequestID()
	var out []byte
	if req.legacy {
		out = appendOpReply(nil, id, req.reqID, doc)
	} else {
		respTo := req.reqID
		if req.lastSent != 0 {
			respTo = req.lastSent // exhaust: each next reply answers the previous one
		}
		out = appendOpMsg(nil, id, respTo, flags, doc)
	}
	req.lastSent = id
	return c.write(out)
}

func marshalReply(v any) ([]byte, error) {
	switch r := v.(type) {
	case bson.Raw:
		return r, nil
	case nil:
		return bson.Marshal(bson.D{{Key: "ok", Value: 1.0}})
	default:
		return bson.Marshal(r)
	}
}

// snapshotUsers returns the connection's authenticated users.
func (c *conn) snapshotUsers() []*userCred {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.users
}
