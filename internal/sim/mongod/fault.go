package mongod

import (
	"strconv"
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
	// EndlessCursor: a $currentOp cursor never ends, as if operations kept coming. Every
	// getMore answers a full batch (batchSize operations, or 16 MiB without one) of SYNTHETIC
	// operations — unique opids and client addresses, a 2 KB command — passed through the
	// pipeline's later stages and truncateOps like real ones.
	EndlessCursor
	// StalledCursor: a getMore on a $currentOp cursor is never answered; the connection is
	// held until the client closes it.
	StalledCursor
)

// floodPerBatch is how many operations a getMore without batchSize makes up.
const floodPerBatch = 20_000

// SetCurrentOpFault switches a fault on for the $currentOp cursors opened from now on
// (NoFault switches it off).
func (s *Server) SetCurrentOpFault(f CurrentOpFault) { s.fault.Store(int32(f)) }

func (s *Server) currentOpFault() CurrentOpFault { return CurrentOpFault(s.fault.Load()) }

// faultyCursorReply answers a $currentOp aggregate under a fault: the first batch as usual,
// and a cursor that stays open even when the answer fits in it.
func (c *conn) faultyCursorReply(req *request, docs []bson.D, f CurrentOpFault, stages []bson.Raw, truncate bool) (any, error) {
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
	cur.fault, cur.stages, cur.truncate = f, stages, truncate
	cur.nDocs = int64(len(batch))
	cur.nBatches = 1
	c.s.mu.Unlock()
	return cursorReply(req.op.ns, "firstBatch", batch, cur.id), nil
}

// faultyGetMore serves a getMore (batchSize n, -1 = none) on a faulty cursor once its real
// documents are sent.
func (c *conn) faultyGetMore(cur *cursor, n int) (any, error) {
	if cur.fault == StalledCursor {
		select {
		case <-c.gone:
		case <-c.s.done:
		}
		return nil, errGone
	}
	if n < 0 {
		n = floodPerBatch
	}
	n = min(n, floodPerBatch)
	c.s.mu.Lock()
	first := cur.nBatches * floodPerBatch
	c.s.mu.Unlock()
	batch, err := c.s.floodBatch(first, n, cur.stages, cur.truncate)
	if err != nil {
		return nil, err
	}
	c.s.mu.Lock()
	cur.nDocs += int64(len(batch))
	cur.nBatches++
	c.s.mu.Unlock()
	return cursorReply(cur.ns, "nextBatch", batch, cur.id), nil
}

// floodBatch makes n operations numbered from first+1, passes them through stages, and
// answers what fits in one batch.
func (s *Server) floodBatch(first int64, n int, stages []bson.Raw, truncate bool) (bson.A, error) {
	docs := make([]bson.D, 0, n)
	for i := range int64(n) {
		docs = append(docs, s.floodDoc(first+i+1, truncate))
	}
	docs, err := runPipeline(docs, stages)
	if err != nil {
		return nil, err
	}
	out := bson.A{}
	size := 0
	for _, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			return nil, errorf(1, "cannot encode a result document: %v", err)
		}
		if size+len(raw) > maxBatchBytes-64<<10 {
			break
		}
		size += len(raw)
		out = append(out, bson.Raw(raw))
	}
	return out, nil
}

// floodCommand is the command of every flood operation, about 2 KB, and its truncateOps form.
var floodCommand, floodCommandTruncated = func() (bson.D, any) {
	cmd := bson.D{
		{Key: "find", Value: "docs"},
		{Key: "filter", Value: bson.D{{Key: "pad", Value: strings.Repeat("x", 2000)}}},
		{Key: "$db", Value: "flood"},
	}
	raw, err := bson.Marshal(cmd)
	if err != nil {
		panic(err)
	}
	return cmd, truncateCommand(raw, cmd)
}()

// floodDoc is SYNTHETIC flood operation n: an active find from its own client address.
func (s *Server) floodDoc(n int64, truncate bool) bson.D {
	var cmd any = floodCommand
	if truncate {
		cmd = floodCommandTruncated
	}
	id := int32(n & 0x7fffffff)
	return bson.D{
		{Key: "type", Value: "op"},
		{Key: "host", Value: s.hostPort},
		{Key: "desc", Value: "conn" + strconv.Itoa(int(id))},
		{Key: "connectionId", Value: id},
		{Key: "client", Value: "10." + strconv.Itoa(int(n>>16&255)) + "." + strconv.Itoa(int(n>>8&255)) + "." + strconv.Itoa(int(n&255)) + ":50000"},
		{Key: "appName", Value: "flood"},
		{Key: "clientMetadata", Value: bson.D{{Key: "driver", Value: bson.D{{Key: "name", Value: "flood-driver"}, {Key: "version", Value: "1.0"}}}}},
		{Key: "active", Value: true},
		{Key: "opid", Value: id},
		{Key: "secs_running", Value: int64(1)},
		{Key: "microsecs_running", Value: int64(1_000_000)},
		{Key: "op", Value: "query"},
		{Key: "ns", Value: "flood.docs"},
		{Key: "command", Value: cmd},
		{Key: "numYields", Value: int32(0)},
	}
}
