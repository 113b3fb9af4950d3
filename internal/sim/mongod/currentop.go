package mongod

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// curOpOptions are the $currentOp stage options (reference §2.1).
type curOpOptions struct {
	allUsers, idleConnections, idleCursors, idleSessions bool
	localOps, truncateOps, targetAllNodes, backtrace     bool
}

// parseCurrentOpOptions validates options with the error codes and wording of the profile's
// version: a hand-written parser up to 7.0, the IDL parser from 7.1.
func (s *Server) parseCurrentOpOptions(v bson.RawValue) (curOpOptions, error) {
	o := curOpOptions{idleSessions: true}
	doc, ok := v.DocumentOK()
	if !ok {
		return o, errorf(codeFailedToParse, "$currentOp options must be specified in an object, but found: %s", typeName(v.Type))
	}
	elems, err := doc.Elements()
	if err != nil {
		return o, errorf(codeFailedToParse, "$currentOp options are not valid BSON: %v", err)
	}
	idl := s.ver.atLeast(7, 1)
	for _, e := range elems {
		key := e.Key()
		var dst *bool
		switch key {
		case "allUsers":
			dst = &o.allUsers
		case "idleConnections":
			dst = &o.idleConnections
		case "idleCursors":
			dst = &o.idleCursors
		case "idleSessions":
			dst = &o.idleSessions
		case "localOps":
			dst = &o.localOps
		case "truncateOps":
			dst = &o.truncateOps
		case "targetAllNodes":
			if idl {
				dst = &o.targetAllNodes
			}
		case "backtrace":
			if !idl {
				dst = &o.backtrace
			}
		}
		if dst == nil {
			if idl {
				return o, errorf(codeIDLUnknownField, "BSON field '$currentOp.%s' is an unknown field.", key)
			}
			return o, errorf(codeFailedToParse, "Unrecognized option '%s' in $currentOp stage.", key)
		}
		val := e.Value()
		b, ok := val.BooleanOK()
		if !ok {
			if idl {
				return o, errorf(codeTypeMismatch, "BSON field '$currentOp.%s' is the wrong type '%s', expected type 'bool'", key, typeName(val.Type))
			}
			return o, errorf(codeFailedToParse, "The '%s' parameter of the $currentOp stage must be a boolean value, but found: %s", key, typeName(val.Type))
		}
		*dst = b
	}
	if o.targetAllNodes && !s.opts.Mongos {
		return o, errorf(codeFailedToParse, "$currentOp supports targetAllNodes parameter only for sharded clusters")
	}
	if o.targetAllNodes && o.localOps {
		return o, errorf(codeFailedToParse, "The localOps and targetAllNodes parameters of the $currentOp stage cannot be used together")
	}
	return o, nil
}

// cmdAggregate runs $currentOp pipelines; other aggregates answer an empty cursor.
func cmdAggregate(c *conn, req *request) (any, error) {
	s := c.s
	if _, named := req.body.Lookup("aggregate").StringValueOK(); !named && s.opts.Profile.NoCurrentOpStage {
		// FerretDB 1.x runs only aggregates on a collection, $currentOp included.
		return nil, errorf(codeFailedToParse, "Invalid command format: the 'aggregate' field must specify a collection name or 1")
	}
	pv := req.body.Lookup("pipeline")
	if pv.Type == 0 {
		return nil, errorf(40414, "BSON field 'aggregate.pipeline' is missing but a required field")
	}
	arr, ok := pv.ArrayOK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "BSON field 'aggregate.pipeline' is the wrong type '%s', expected type 'array'", typeName(pv.Type))
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, errorf(codeFailedToParse, "aggregate.pipeline is not valid BSON: %v", err)
	}
	stages := make([]bson.Raw, 0, len(vals))
	curOpAt := -1
	for i, v := range vals {
		st, ok := v.DocumentOK()
		if !ok {
			return nil, errorf(codeTypeMismatch, "Each element of the 'pipeline' array must be an object")
		}
		if first, err := st.IndexErr(0); err == nil && first.Key() == "$currentOp" && curOpAt < 0 {
			curOpAt = i
		}
		stages = append(stages, st)
	}
	if _, ok := req.body.Lookup("cursor").DocumentOK(); !ok {
		if explain, _ := req.body.Lookup("explain").BooleanOK(); !explain {
			return nil, errorf(codeFailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
		}
	}
	if curOpAt < 0 {
		if !c.can(actRead) {
			return nil, c.errNotAuthorized(req)
		}
		return cursorReply(req.op.ns, "firstBatch", bson.A{}, 0), nil
	}
	opts, err := s.parseCurrentOpOptions(stages[curOpAt].Lookup("$currentOp"))
	if err != nil {
		return nil, err
	}
	if n, isNum := numberOf(req.body.Lookup("aggregate")); req.db != "admin" || !isNum || n != 1 {
		return nil, errorf(codeInvalidNamespace, "$currentOp must be run against the 'admin' database with {aggregate: 1}")
	}
	if curOpAt != 0 {
		return nil, errorf(codeCurrentOpNotFirst, "$currentOp is only valid as the first stage in a pipeline.")
	}
	if (opts.allUsers || s.opts.Mongos) && !c.can(actInprog) {
		return nil, c.errNotAuthorized(req)
	}
	docs := s.currentOpDocs(c, opts)
	if len(stages) > 1 {
		docs, err = runPipeline(docs, stages[1:])
		if err != nil {
			return nil, err
		}
	}
	if f := s.currentOpFault(); f != NoFault {
		return c.faultyCursorReply(req, docs, f, stages[1:], opts.truncateOps)
	}
	return c.firstBatchReply(req, docs)
}

// cmdCurrentOpCommand is the legacy currentOp command: the same pipeline with $match and a
// $group into one {inprog: [...]} document, commands truncated to 1000 bytes.
func cmdCurrentOpCommand(c *conn, req *request) (any, error) {
	s := c.s
	if req.db != "admin" {
		return nil, errorf(codeUnauthorized, "currentOp may only be run against the admin database.")
	}
	all, _ := req.body.Lookup("$all").BooleanOK()
	own, _ := req.body.Lookup("$ownOps").BooleanOK()
	if (!own || s.opts.Mongos) && !c.can(actInprog) {
		return nil, c.errNotAuthorized(req)
	}
	if s.opts.Profile.EmptyCurrentOp {
		return bson.D{{Key: "inprog", Value: bson.A{}}, {Key: "ok", Value: 1.0}}, nil
	}
	opts := curOpOptions{allUsers: !own, idleConnections: all, idleSessions: true, truncateOps: true}
	match := bson.D{}
	elems, _ := req.body.Elements()
	for _, e := range elems[1:] {
		switch e.Key() {
		case "$all", "$ownOps", "$truncateOps", "lsid", "$db", "$readPreference", "$clusterTime",
			"maxTimeMS", "comment", "apiVersion", "apiStrict", "apiDeprecationErrors", "txnNumber",
			"autocommit", "startTransaction", "readConcern", "writeConcern", "backpressure":
			continue
		}
		match = append(match, bson.E{Key: e.Key(), Value: valueOf(e.Value())})
	}
	docs := s.currentOpDocs(c, opts)
	if len(match) > 0 {
		raw, err := bson.Marshal(bson.D{{Key: "$match", Value: match}})
		if err != nil {
			return nil, errorf(codeBadValue, "cannot use the currentOp filter: %v", err)
		}
		if docs, err = runPipeline(docs, []bson.Raw{raw}); err != nil {
			return nil, err
		}
	}
	inprog := make(bson.A, 0, len(docs))
	for _, d := range docs {
		inprog = append(inprog, d)
	}
	return bson.D{{Key: "inprog", Value: inprog}, {Key: "ok", Value: 1.0}}, nil
}

// formatTime renders currentOpTime: ISO-8601 local time, "+0800" on 4.x, "+08:00" later.
func (s *Server) formatTime(t time.Time) string {
	if s.ver.major < 5 {
		return t.Format("2006-01-02T15:04:05.000-0700")
	}
	return t.Format("2006-01-02T15:04:05.000-07:00")
}

// currentOpDocs builds the $currentOp stage output for the caller.
func (s *Server) currentOpDocs(caller *conn, o curOpOptions) []bson.D {
	if s.cluster != nil && !o.localOps {
		return s.cluster.currentOpDocs(caller.snapshotUsers(), o)
	}
	return s.currentOpDocsFor(caller.snapshotUsers(), o)
}

// currentOpDocsFor is the $currentOp output for a caller authenticated as mine.
func (s *Server) currentOpDocsFor(mine []*userCred, o curOpOptions) []bson.D {
	now := time.Now()
	nowStr := s.formatTime(now)
	filter := s.authEnabled() && !o.allUsers
	visible := func(users []*userCred) bool { return !filter || coauthorized(mine, users) }

	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	slices.SortFunc(conns, func(a, b *conn) int { return int(a.id) - int(b.id) })
	var docs []bson.D
	if s.opts.Mongos && !o.localOps {
		docs = s.fanOutDocsLocked(conns, o, visible, !filter, now, nowStr)
		s.mu.Unlock()
		return docs
	}
	docs = make([]bson.D, 0, len(conns)+len(s.synth)+16)
	for _, c := range conns {
		if (c.op == nil && !o.idleConnections) || !visible(c.effectiveUsersLocked()) {
			continue
		}
		docs = append(docs, s.connDocLocked(c, nil, now, nowStr, o.truncateOps))
	}
	if s.internal != nil && !filter {
		docs = append(docs, s.internal.docsLocked(o.idleConnections, now, nowStr)...)
	}
	synth := s.synth
	if o.idleSessions {
		docs = append(docs, s.idleSessionDocsLocked(now, nowStr, visible)...)
	}
	if o.idleCursors {
		docs = append(docs, s.idleCursorDocsLocked(visible, o.truncateOps)...)
	}
	s.mu.Unlock()

	if o.idleConnections {
		// Synthetic connections are immutable once added: no lock needed to render them.
		for i := range synth {
			if !visible(synth[i].host.users) {
				continue
			}
			docs = append(docs, s.synthDoc(&synth[i], nowStr))
		}
	}
	return docs
}

// route is how an op looks from a shard when $currentOp fans out through mongos.
type route struct {
	shard   string
	host    string
	connID  int32
	clientS string
}

// connDocLocked renders a real connection in §2.5 field order.
func (s *Server) connDocLocked(c *conn, rt *route, now time.Time, nowStr string, truncate bool) bson.D {
	d := make(bson.D, 0, 32)
	if rt != nil {
		d = append(d,
			bson.E{Key: "shard", Value: rt.shard},
			bson.E{Key: "type", Value: "op"},
			bson.E{Key: "host", Value: rt.host},
			bson.E{Key: "desc", Value: "conn" + strconv.Itoa(int(rt.connID))},
			bson.E{Key: "connectionId", Value: rt.connID},
			bson.E{Key: "client_s", Value: rt.clientS},
		)
	} else {
		d = append(d,
			bson.E{Key: "type", Value: "op"},
			bson.E{Key: "host", Value: s.hostPort},
			bson.E{Key: "desc", Value: "conn" + strconv.Itoa(int(c.id))},
			bson.E{Key: "connectionId", Value: c.id},
			bson.E{Key: "client", Value: c.remote},
		)
	}
	appName, meta, users := c.appName, c.meta, c.users
	if c.imp != nil {
		appName, meta, users = c.imp.appName, c.imp.meta, c.imp.users
	}
	if appName != "" {
		d = append(d, bson.E{Key: "appName", Value: appName})
	}
	if rt != nil {
		meta := slices.Clone(c.meta)
		meta = append(meta, bson.E{Key: "mongos", Value: bson.D{
			{Key: "host", Value: s.hostPort},
			{Key: "client", Value: c.remote},
			{Key: "version", Value: s.opts.Profile.Version},
		}})
		d = append(d, bson.E{Key: "clientMetadata", Value: meta})
	} else if meta != nil {
		d = append(d, bson.E{Key: "clientMetadata", Value: meta})
	}
	d = append(d,
		bson.E{Key: "active", Value: c.op != nil},
		bson.E{Key: "currentOpTime", Value: nowStr},
	)
	if len(users) > 0 {
		d = append(d, bson.E{Key: "effectiveUsers", Value: usersArray(users)})
	}
	if rt != nil || c.imp != nil {
		d = append(d, bson.E{Key: "runBy", Value: systemUsers()})
	}
	if s.ver.atLeast(5, 0) {
		d = append(d, bson.E{Key: "threaded", Value: true})
	}
	if c.op != nil {
		d = s.appendOpFieldsLocked(d, c.op, users, rt, now, truncate)
	}
	return d
}

func usersArray(users []*userCred) bson.A {
	a := make(bson.A, 0, len(users))
	for _, u := range users {
		a = append(a, bson.D{{Key: "user", Value: u.name}, {Key: "db", Value: u.db}})
	}
	return a
}

func systemUsers() bson.A {
	return bson.A{bson.D{{Key: "user", Value: "__system"}, {Key: "db", Value: "local"}}}
}

// queryShaped reports ops that have a query shape (queryFramework, queryShapeHash).
func (o *op) queryShaped() bool {
	switch o.name {
	case "find", "count", "distinct":
		return true
	case "aggregate":
		return !strings.HasSuffix(o.ns, ".$cmd.aggregate")
	case "getMore":
		return o.cur != nil && !strings.HasSuffix(o.cur.ns, ".$cmd.aggregate")
	}
	return false
}

func (o *op) writes() bool {
	switch o.kind {
	case "insert", "update", "remove":
		return true
	}
	switch o.name {
	case "findAndModify", "createIndexes", "dropIndexes", "drop", "create":
		return true
	}
	return false
}

// appendNumber mirrors BSONObjBuilder::appendNumber: int32 when it fits.
func appendNumber(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

func (s *Server) appendOpFieldsLocked(d bson.D, o *op, users []*userCred, rt *route, now time.Time, truncate bool) bson.D {
	if rt != nil {
		d = append(d, bson.E{Key: "opid", Value: rt.shard + ":" + strconv.Itoa(int(o.opid))})
	} else {
		d = append(d, bson.E{Key: "opid", Value: o.opid})
	}
	if o.killPending {
		d = append(d, bson.E{Key: "killPending", Value: true})
	}
	if o.lsid != nil {
		d = append(d, bson.E{Key: "lsid", Value: lsidDoc(o.lsid, users)})
	}
	if o.txn != nil {
		d = append(d, bson.E{Key: "transaction", Value: s.transactionDoc(o.txn, now)})
	}
	elapsed := max(now.Sub(o.start), 0)
	raw := o.body
	if o.cmd == nil {
		if o.stmt != nil {
			o.cmd = statementDoc(o.name, o.stmt, o.body)
		} else {
			_ = bson.Unmarshal(o.body, &o.cmd)
		}
		if o.cmd == nil {
			o.cmd = bson.D{}
		}
	}
	if o.stmt != nil {
		raw, _ = bson.Marshal(o.cmd)
	}
	var cmd any = o.cmd
	if truncate {
		cmd = truncateCommand(raw, o.cmd)
	}
	d = append(d,
		bson.E{Key: "secs_running", Value: int64(elapsed / time.Second)},
		bson.E{Key: "microsecs_running", Value: int64(elapsed / time.Microsecond)},
		bson.E{Key: "op", Value: o.kind},
		bson.E{Key: "ns", Value: o.ns},
		bson.E{Key: "command", Value: cmd},
	)
	shaped := o.queryShaped()
	if shaped && s.ver.atLeast(6, 2) {
		d = append(d, bson.E{Key: "queryFramework", Value: "classic"})
	}
	plan := ""
	if o.hold != nil {
		plan = o.hold.planSummary
	}
	if plan == "" && o.cur != nil {
		plan = o.cur.planSummary
	}
	if plan != "" {
		d = append(d, bson.E{Key: "planSummary", Value: plan})
	}
	if o.cur != nil {
		d = append(d, bson.E{Key: "cursor", Value: s.cursorDocLocked(o.cur, o.opid, truncate)})
	}
	waiting := o.hold != nil && o.hold.waitingForLock
	if h := o.hold; h != nil && h.msg != "" {
		if h.progressTotal > 0 {
			done := h.progressTotal
			if h.d > 0 && elapsed < h.d {
				done = int64(float64(h.progressTotal) * float64(elapsed) / float64(h.d))
			}
			pct := done * 100 / h.progressTotal
			d = append(d,
				bson.E{Key: "msg", Value: fmt.Sprintf("%s %s: %d/%d %d%%", h.msg, h.msg, done, h.progressTotal, pct)},
				bson.E{Key: "progress", Value: bson.D{
					{Key: "done", Value: appendNumber(done)},
					{Key: "total", Value: appendNumber(h.progressTotal)},
				}},
			)
		} else {
			d = append(d, bson.E{Key: "msg", Value: h.msg})
		}
	}
	yields := int64(0)
	if o.hold != nil && !waiting && (plan != "" || o.hold.progressTotal > 0) {
		yields = elapsed.Milliseconds() / 4 // a scan yields every few milliseconds
	}
	d = append(d, bson.E{Key: "numYields", Value: int32(min(yields, math.MaxInt32))})
	if shaped && s.ver.atLeast(8, 0) {
		d = append(d, bson.E{Key: "queryShapeHash", Value: queryShapeHash(o)})
	}
	locks, stats := s.lockInfo(o, yields, waiting)
	d = append(d,
		bson.E{Key: "locks", Value: locks},
		bson.E{Key: "waitingForLock", Value: waiting},
		bson.E{Key: "lockStats", Value: stats},
		bson.E{Key: "waitingForFlowControl", Value: false},
		bson.E{Key: "flowControlStats", Value: bson.D{}},
	)
	return d
}

func queryShapeHash(o *op) string {
	filter := o.body.Lookup("filter")
	keys := []string{o.ns, o.name}
	if doc, ok := filter.DocumentOK(); ok {
		elems, _ := doc.Elements()
		for _, e := range elems {
			keys = append(keys, e.Key())
		}
	}
	h := sha256.Sum256([]byte(strings.Join(keys, "\x00")))
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// lockInfo returns the locks an op holds and its lockStats, by version and read/write.
func (s *Server) lockInfo(o *op, yields int64, waiting bool) (bson.D, bson.D) {
	if strings.Contains(o.ns, ".$cmd") && o.name != "createIndexes" {
		return bson.D{}, bson.D{}
	}
	mode := "r"
	if o.writes() {
		mode = "w"
	}
	var locks bson.D
	switch {
	case mode == "w":
		locks = bson.D{{Key: "FeatureCompatibilityVersion", Value: "w"}, {Key: "ReplicationStateTransition", Value: "w"},
			{Key: "Global", Value: "w"}, {Key: "Database", Value: "w"}, {Key: "Collection", Value: "w"}}
	case s.ver.major < 5:
		locks = bson.D{{Key: "ReplicationStateTransition", Value: "w"}, {Key: "Global", Value: "r"},
			{Key: "Database", Value: "r"}, {Key: "Collection", Value: "r"}}
	default:
		locks = bson.D{{Key: "FeatureCompatibilityVersion", Value: "r"}, {Key: "Global", Value: "r"}}
	}
	if s.ver.major < 5 && mode == "w" {
		locks = locks[1:] // no FeatureCompatibilityVersion lock before 5.0
	}
	acquire := bson.D{{Key: "acquireCount", Value: bson.D{{Key: mode, Value: yields + 1}}}}
	if waiting {
		acquire = append(acquire, bson.E{Key: "acquireWaitCount", Value: bson.D{{Key: mode, Value: int64(1)}}})
	}
	stats := bson.D{{Key: "Global", Value: acquire}}
	return locks, stats
}

func (s *Server) cursorDocLocked(cur *cursor, opid int32, truncate bool) bson.D {
	var origin bson.D
	_ = bson.Unmarshal(cur.origin, &origin)
	var originV any = origin
	if truncate {
		originV = truncateCommand(cur.origin, origin)
	}
	d := bson.D{
		{Key: "cursorId", Value: cur.id},
		{Key: "createdDate", Value: bson.NewDateTimeFromTime(cur.created)},
		{Key: "lastAccessDate", Value: bson.NewDateTimeFromTime(cur.lastAccess)},
		{Key: "nDocsReturned", Value: cur.nDocs},
		{Key: "nBatchesReturned", Value: cur.nBatches},
		{Key: "noCursorTimeout", Value: cur.noTimeout},
		{Key: "tailable", Value: cur.tailable},
		{Key: "awaitData", Value: cur.awaitData},
		{Key: "originatingCommand", Value: originV},
	}
	if opid != 0 {
		d = append(d, bson.E{Key: "operationUsingCursorId", Value: int64(opid)})
	}
	return d
}

// idleCursorDocsLocked lists open cursors that no getMore is using.
func (s *Server) idleCursorDocsLocked(visible func([]*userCred) bool, truncate bool) []bson.D {
	list := make([]*cursor, 0, len(s.cursors))
	for _, cur := range s.cursors {
		if !cur.inUse && visible(cur.users) {
			list = append(list, cur)
		}
	}
	slices.SortFunc(list, func(a, b *cursor) int { return a.created.Compare(b.created) })
	docs := make([]bson.D, 0, len(list))
	for _, cur := range list {
		d := bson.D{
			{Key: "type", Value: "idleCursor"},
			{Key: "host", Value: s.hostPort},
			{Key: "ns", Value: cur.ns},
		}
		if cur.lsid != nil {
			d = append(d, bson.E{Key: "lsid", Value: lsidDoc(cur.lsid, cur.users)})
		}
		if cur.planSummary != "" {
			d = append(d, bson.E{Key: "planSummary", Value: cur.planSummary})
		}
		c := s.cursorDocLocked(cur, 0, truncate)
		d = append(d, bson.E{Key: "cursor", Value: c})
		docs = append(docs, d)
	}
	return docs
}

// truncateCommand applies the 1000-byte limit of the currentOp command / truncateOps.
func truncateCommand(raw bson.Raw, cmd bson.D) any {
	if len(raw) <= 1000 {
		return cmd
	}
	var comment any
	rest := make(bson.D, 0, len(cmd))
	for _, e := range cmd {
		if e.Key == "comment" {
			comment = e.Value
			continue
		}
		rest = append(rest, e)
	}
	str := "{}"
	if b, err := bson.Marshal(rest); err == nil {
		str = shellString(b)
	}
	if len(str) > 1000 {
		str = str[:1000] + "..."
	}
	out := bson.D{{Key: "$truncated", Value: str}}
	if comment != nil {
		out = append(out, bson.E{Key: "comment", Value: comment})
	}
	return out
}
