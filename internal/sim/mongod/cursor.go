package mongod

import (
	"encoding/binary"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// cursor is an open server cursor: the remaining results of a $currentOp aggregate, or an
// (always empty) data cursor left open on request.
type cursor struct {
	id          int64
	ns          string
	docs        []bson.D // remaining results
	users       []*userCred
	lsid        bson.Raw
	created     time.Time
	origin      bson.Raw
	tailable    bool
	awaitData   bool
	noTimeout   bool
	planSummary string
	fault       CurrentOpFault
	stages      []bson.Raw // a faulty cursor's pipeline after $currentOp
	truncate    bool       // a faulty cursor's truncateOps

	// guarded by s.mu
	lastAccess time.Time
	nDocs      int64
	nBatches   int64
	inUse      bool
}

const (
	defaultBatch  = 101
	maxBatchBytes = maxBSONSize
	cursorTimeout = 10 * time.Minute
	maxCursors    = 10000
)

func (s *Server) newCursorID() int64 {
	for {
		id := int64(binary.LittleEndian.Uint64(randomBytes(8)) >> 1)
		if id == 0 {
			continue
		}
		if _, dup := s.cursors[id]; !dup {
			return id
		}
	}
}

// newCursor registers a cursor owned by the connection's users.
func (s *Server) newCursor(c *conn, req *request, docs []bson.D) *cursor {
	now := time.Now()
	cur := &cursor{
		ns:         req.op.ns,
		docs:       docs,
		lsid:       req.op.lsid,
		created:    now,
		lastAccess: now,
		origin:     req.body,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur.users = c.users
	s.reapCursorsLocked(now)
	cur.id = s.newCursorID()
	s.cursors[cur.id] = cur
	return cur
}

// reapCursorsLocked drops timed-out cursors, and the oldest ones beyond maxCursors.
func (s *Server) reapCursorsLocked(now time.Time) {
	for id, cur := range s.cursors {
		if !cur.inUse && !cur.noTimeout && now.Sub(cur.lastAccess) > cursorTimeout {
			delete(s.cursors, id)
		}
	}
	if len(s.cursors) < maxCursors {
		return
	}
	list := make([]*cursor, 0, len(s.cursors))
	for _, cur := range s.cursors {
		list = append(list, cur)
	}
	slices.SortFunc(list, func(a, b *cursor) int { return a.lastAccess.Compare(b.lastAccess) })
	for _, cur := range list[:len(list)-maxCursors+1] {
		delete(s.cursors, cur.id)
	}
}

// takeBatch encodes up to n documents (n < 0: no count limit) within the 16 MiB batch limit.
func takeBatch(docs []bson.D, n int) (bson.A, []bson.D, error) {
	out := bson.A{}
	size := 0
	for len(docs) > 0 && (n < 0 || len(out) < n) {
		raw, err := bson.Marshal(docs[0])
		if err != nil {
			return nil, docs, errorf(1, "cannot encode a result document: %v", err)
		}
		if len(out) > 0 && size+len(raw) > maxBatchBytes {
			break
		}
		size += len(raw)
		out = append(out, bson.Raw(raw))
		docs = docs[1:]
	}
	return out, docs, nil
}

// batchSize reads a non-negative batch size; missing means def.
func batchSize(v bson.RawValue, def int) (int, error) {
	if v.Type == 0 {
		return def, nil
	}
	f, ok := numberOf(v)
	if !ok {
		return 0, errorf(codeTypeMismatch, "BSON field 'batchSize' is the wrong type '%s', expected types '[long, int, decimal, double]'", typeName(v.Type))
	}
	if f < 0 {
		return 0, errorf(51024, "BSON field 'batchSize' value must be >= 0, actual value '%d'", int64(f))
	}
	return int(min(f, 1<<31-1)), nil
}

// firstBatchReply answers an aggregate with the first batch, keeping a cursor for the rest.
func (c *conn) firstBatchReply(req *request, docs []bson.D) (any, error) {
	cursorOpts, _ := req.body.Lookup("cursor").DocumentOK()
	n, err := batchSize(cursorOpts.Lookup("batchSize"), defaultBatch)
	if err != nil {
		return nil, err
	}
	batch, rest, err := takeBatch(docs, n)
	if err != nil {
		return nil, err
	}
	id := int64(0)
	if len(rest) > 0 {
		cur := c.s.newCursor(c, req, rest)
		c.s.mu.Lock()
		cur.nDocs = int64(len(batch))
		cur.nBatches = 1
		c.s.mu.Unlock()
		id = cur.id
	}
	return cursorReply(req.op.ns, "firstBatch", batch, id), nil
}

func cmdGetMore(c *conn, req *request) (any, error) {
	s := c.s
	v := req.body.Lookup("getMore")
	if v.Type != bson.TypeInt64 {
		return nil, errorf(codeTypeMismatch, "BSON field 'getMore.getMore' is the wrong type '%s', expected type 'long'", typeName(v.Type))
	}
	id := v.Int64()
	coll, ok := req.body.Lookup("collection").StringValueOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "BSON field 'getMore.collection' is missing or not a string")
	}
	n, err := batchSize(req.body.Lookup("batchSize"), -1)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		n = -1
	}
	ns := req.db + "." + coll
	s.mu.Lock()
	cur, found := s.cursors[id]
	if !found {
		s.mu.Unlock()
		return nil, errorf(codeCursorNotFound, "cursor id %d not found", id)
	}
	if cur.ns != ns {
		s.mu.Unlock()
		return nil, errorf(codeUnauthorized, "Requested getMore on namespace '%s', but cursor belongs to a different namespace %s", ns, cur.ns)
	}
	if s.authEnabled() && !coauthorized(c.users, cur.users) {
		s.mu.Unlock()
		return nil, errorf(codeUnauthorized, "cursor id %d was not created by the authenticated user", id)
	}
	docs := cur.docs
	s.mu.Unlock()
	if cur.fault != NoFault && len(docs) == 0 {
		return c.faultyGetMore(cur, n)
	}

	batch, rest, err := takeBatch(docs, n)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	cur.docs = rest
	cur.nDocs += int64(len(batch))
	cur.nBatches++
	cur.lastAccess = time.Now()
	if len(rest) == 0 && !cur.tailable && cur.fault == NoFault {
		delete(s.cursors, id)
		id = 0
	}
	s.mu.Unlock()
	return cursorReply(cur.ns, "nextBatch", batch, id), nil
}

func cmdKillCursors(c *conn, req *request) (any, error) {
	s := c.s
	coll, _ := req.body.Lookup("killCursors").StringValueOK()
	ns := req.db + "." + coll
	list, ok := req.body.Lookup("cursors").ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "BSON field 'killCursors.cursors' is missing or not an array")
	}
	vals, _ := list.Values()
	killed, notFound := bson.A{}, bson.A{}
	s.mu.Lock()
	for _, v := range vals {
		id, ok := v.Int64OK()
		if !ok {
			continue
		}
		cur, found := s.cursors[id]
		if found && cur.ns == ns && (!s.authEnabled() || coauthorized(c.users, cur.users)) {
			delete(s.cursors, id)
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	s.mu.Unlock()
	return bson.D{
		{Key: "cursorsKilled", Value: killed},
		{Key: "cursorsNotFound", Value: notFound},
		{Key: "cursorsAlive", Value: bson.A{}},
		{Key: "cursorsUnknown", Value: bson.A{}},
		{Key: "ok", Value: 1.0},
	}, nil
}

// attachCursorLocked links a getMore op to its cursor so $currentOp can show it.
func (s *Server) attachCursorLocked(o *op) {
	if o.name != "getMore" {
		return
	}
	id, ok := o.body.Lookup("getMore").Int64OK()
	if !ok {
		return
	}
	if cur, found := s.cursors[id]; found {
		o.cur = cur
		cur.inUse = true
	}
}

func (s *Server) detachCursorLocked(o *op) {
	if o.cur != nil {
		o.cur.inUse = false
		o.cur.lastAccess = time.Now()
	}
}
