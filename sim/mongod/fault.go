package mongod

import (
	"encoding/binary"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CurrentOpFault makes the server's $currentOp cursors misbehave, to test what a monitor
// does with a server that answers too much or too slowly. The first batch is the real
// answer; the fault shows in the getMores after it.
type CurrentOpFault int32

const (
	// NoFault: cursors end when the answer is sent.
	NoFault CurrentOpFault = iota
	// EndlessCursor: a $currentOp cursor never ends. Every getMore answers about 16 MiB of
	// operation documents (about 1 KB each, unique opids), whatever batchSize asked for and
	// whatever the pipeline's later stages would have made of them: a broken or hostile server.
	EndlessCursor
	// StalledCursor: a getMore on a $currentOp cursor is never answered; the connection is
	// held until the client closes it.
	StalledCursor
)

// SetCurrentOpFault switches a fault on for the $currentOp cursors opened from now on
// (NoFault switches it off).
func (s *Server) SetCurrentOpFault(f CurrentOpFault) { s.fault.Store(int32(f)) }

func (s *Server) currentOpFault() CurrentOpFault { return CurrentOpFault(s.fault.Load()) }

// faultyCursorReply answers a $currentOp aggregate under a fault: the first batch as usual,
// and a cursor that stays open even when the answer fits in it.
func (c *conn) faultyCursorReply(req *request, docs []bson.D, f CurrentOpFault) (any, error) {
	cursorOpts, _ := req.body.Lookup("cursor").DocumentOK()
	n, err := batchSize(cursorOpts.Lookup("batchSize"), defaultBatch)
	if err != nil {
		return nil, err
	}
	batch, rest, err := takeBatch(docs, n)
	if err != nil {
		return nil, err
	}
	cur := c.s.newCursor(c, req, rest)
	c.s.mu.Lock()
	cur.fault = f
	cur.nDocs = int64(len(batch))
	cur.nBatches = 1
	c.s.mu.Unlock()
	return cursorReply(req.op.ns, "firstBatch", batch, cur.id), nil
}

// faultyGetMore serves a getMore on a faulty cursor once its real documents are sent.
func (c *conn) faultyGetMore(cur *cursor) (any, error) {
	if cur.fault == StalledCursor {
		select {
		case <-c.gone:
		case <-c.s.done:
		}
		return nil, errGone
	}
	c.s.mu.Lock()
	first := cur.nDocs
	c.s.mu.Unlock()
	batch := floodBatch(first, maxBatchBytes-64<<10)
	c.s.mu.Lock()
	cur.nDocs += int64(len(batch))
	cur.nBatches++
	c.s.mu.Unlock()
	return cursorReply(cur.ns, "nextBatch", batch, cur.id), nil
}

// floodTemplate is one flood document; its opid (the first field, an int32 at byte 10) is
// patched per copy.
var floodTemplate = func() bson.Raw {
	raw, err := bson.Marshal(bson.D{
		{Key: "opid", Value: int32(0)},
		{Key: "type", Value: "op"},
		{Key: "host", Value: "flood:27017"},
		{Key: "desc", Value: "conn77"},
		{Key: "connectionId", Value: int32(77)},
		{Key: "client", Value: "192.0.2.77:50077"},
		{Key: "appName", Value: "flood"},
		{Key: "active", Value: true},
		{Key: "microsecs_running", Value: int64(1_000_000)},
		{Key: "op", Value: "query"},
		{Key: "ns", Value: "flood.docs"},
		{Key: "command", Value: bson.D{{Key: "find", Value: "docs"}, {Key: "filter", Value: bson.D{{Key: "pad", Value: strings.Repeat("x", 800)}}}}},
		{Key: "numYields", Value: int32(0)},
	})
	if err != nil {
		panic(err)
	}
	return raw
}()

// floodBatch is about size bytes of flood documents, opids counting from first+1.
func floodBatch(first int64, size int) bson.A {
	out := make(bson.A, 0, size/len(floodTemplate)+1)
	for i := 0; (i+1)*len(floodTemplate) <= size; i++ {
		d := make([]byte, len(floodTemplate))
		copy(d, floodTemplate)
		binary.LittleEndian.PutUint32(d[10:], uint32(int32(first+int64(i)+1)&0x7fffffff))
		out = append(out, bson.Raw(d))
	}
	return out
}
