package mongod

import (
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// op is one operation in flight on a real connection.
type op struct {
	opid  int32
	conn  *conn
	start time.Time
	name  string // command name
	kind  string // $currentOp "op": command, query, insert, update, remove, getmore, killcursors
	ns    string
	body  bson.Raw
	stmt  bson.Raw // an update's or delete's first statement (see statementDoc)
	lsid  bson.Raw
	hold  *holdSpec
	kill  chan struct{}
	txn   *txnState

	// guarded by s.mu
	killPending bool
	cmd         bson.D  // body decoded once, for $currentOp
	cur         *cursor // the cursor a getMore works on
}

// holdSpec is the simulator's hold convention: comment: {sim: {...}} (see the package doc).
type holdSpec struct {
	d              time.Duration
	planSummary    string
	waitingForLock bool
	msg            string
	progressTotal  int64
}

// maxHold bounds a held command so a typo cannot park a connection for days.
const maxHold = 10 * time.Minute

func parseHold(body bson.Raw) *holdSpec {
	comment, ok := body.Lookup("comment").DocumentOK()
	if !ok {
		return nil
	}
	sim, ok := comment.Lookup("sim").DocumentOK()
	if !ok {
		return nil
	}
	h := &holdSpec{}
	if ms, ok := numberOf(sim.Lookup("holdMS")); ok && ms > 0 {
		h.d = time.Duration(min(ms, float64(maxHold/time.Millisecond))) * time.Millisecond
	}
	h.planSummary, _ = sim.Lookup("planSummary").StringValueOK()
	h.waitingForLock, _ = sim.Lookup("waitingForLock").BooleanOK()
	h.msg, _ = sim.Lookup("msg").StringValueOK()
	if n, ok := numberOf(sim.Lookup("progressTotal")); ok && n > 0 && n < math.MaxInt64/2 {
		h.progressTotal = int64(n)
	}
	return h
}

// numberOf reads any BSON number as float64.
func numberOf(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32()), true
	case bson.TypeInt64:
		return float64(v.Int64()), true
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// classify maps a command to the $currentOp "op" and "ns" a real server reports.
func classify(name, db string, body bson.Raw) (kind, ns string) {
	coll, isColl := body.Lookup(name).StringValueOK()
	switch name {
	case "find":
		kind = "query"
	case "insert":
		kind = "insert"
	case "update":
		kind = "update"
	case "delete":
		kind = "remove"
	case "getMore":
		coll, isColl = body.Lookup("collection").StringValueOK()
		kind = "getmore"
	case "killCursors":
		kind = "killcursors"
	default:
		kind = "command"
	}
	switch {
	case isColl && coll != "":
		ns = db + "." + coll
	case name == "aggregate":
		ns = db + ".$cmd.aggregate"
	default:
		ns = db + ".$cmd"
	}
	return kind, ns
}

// beginOp registers the command as the connection's current operation.
func (c *conn) beginOp(req *request) *op {
	o := &op{
		conn:  c,
		start: time.Now(),
		name:  req.name,
		body:  req.body,
		kill:  make(chan struct{}),
		hold:  parseHold(req.body),
	}
	o.kind, o.ns = classify(req.name, req.db, req.body)
	o.stmt = firstStatement(req)
	if l, ok := req.body.Lookup("lsid").DocumentOK(); ok {
		o.lsid = l
	}
	s := c.s
	s.mu.Lock()
	o.opid = s.nextOpIDLocked(o.hold != nil)
	c.op = o
	o.txn = s.trackTxnLocked(c, req.body, o.lsid)
	s.attachCursorLocked(o)
	s.mu.Unlock()
	return o
}

func (c *conn) endOp(o *op) {
	c.s.mu.Lock()
	if c.op == o {
		c.op = nil
		c.awaiting = false
		c.exhaust = false
	}
	if o.txn != nil {
		o.txn.lastActive = time.Now()
	}
	c.s.detachCursorLocked(o)
	c.s.mu.Unlock()
}

// killLocked marks an op killPending and wakes it; it ends at its next "interrupt point".
func (o *op) killLocked() {
	if !o.killPending {
		o.killPending = true
		close(o.kill)
	}
}

// interruptDelay is how long a killed op takes to reach its interrupt point; killPending is
// visible in $currentOp meanwhile.
const interruptDelay = 20 * time.Millisecond

func errInterrupted() error { return errorf(codeInterrupted, "operation was interrupted") }

// holdOp keeps a command in flight per the hold convention.
func (c *conn) holdOp(o *op) error {
	if o.hold == nil || o.hold.d <= 0 {
		return nil
	}
	t := time.NewTimer(o.hold.d)
	defer t.Stop()
	select {
	case <-t.C:
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

// firstStatement is the first of an update's updates or a delete's deletes, from the body or
// from an OP_MSG document sequence (where drivers put them); nil for other commands.
func firstStatement(req *request) bson.Raw {
	field := map[string]string{"update": "updates", "delete": "deletes"}[req.name]
	if field == "" {
		return nil
	}
	if seq := req.seqs[field]; len(seq) > 0 {
		return seq[0]
	}
	arr, ok := req.body.Lookup(field).ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil || len(vals) == 0 {
		return nil
	}
	d, _ := vals[0].DocumentOK()
	return d
}

// statementDoc is what a real server shows as the command of an update or delete in
// $currentOp: the statement being executed, as write_ops_exec sets it
// (curOp.setOpDescription_inlock(op.toBSON())), with defaults filled in
// (UpdateOpEntry: q, u, c, arrayFilters, hint, multi, upsert, collation; DeleteOpEntry: q,
// limit, hint, collation), plus the command's comment, which CurOp adds to every op.
func statementDoc(name string, stmt, body bson.Raw) bson.D {
	var fields []string
	defaults := map[string]any{}
	switch name {
	case "update":
		fields = []string{"q", "u", "c", "arrayFilters", "hint", "multi", "upsert", "collation"}
		defaults["multi"], defaults["upsert"] = false, false
	default:
		fields = []string{"q", "limit", "hint", "collation"}
	}
	var st, cmd bson.D
	_ = bson.Unmarshal(stmt, &st)
	_ = bson.Unmarshal(body, &cmd)
	lookup := func(d bson.D, k string) (any, bool) {
		for _, e := range d {
			if e.Key == k {
				return e.Value, true
			}
		}
		return nil, false
	}
	out := bson.D{}
	for _, f := range fields {
		if v, ok := lookup(st, f); ok {
			out = append(out, bson.E{Key: f, Value: v})
		} else if d, ok := defaults[f]; ok {
			out = append(out, bson.E{Key: f, Value: d})
		}
	}
	if c, ok := lookup(cmd, "comment"); ok {
		out = append(out, bson.E{Key: "comment", Value: c})
	}
	return out
}
