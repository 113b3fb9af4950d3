package mongod

import (
	"crypto/sha256"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// transactionLifetime is transactionLifetimeLimitSeconds: older transactions are aborted.
const transactionLifetime = 60 * time.Second

// txnState is an open multi-document transaction on a session. Between statements it is an
// "idleSession" in $currentOp.
type txnState struct {
	lsid        bson.Raw
	txnNumber   int64
	readConcern string
	started     time.Time
	lastActive  time.Time

	connID  int32
	client  string
	appName string
	meta    bson.D
	users   []*userCred
}

func lsidKey(lsid bson.Raw) string {
	_, data, ok := lsid.Lookup("id").BinaryOK()
	if !ok {
		return ""
	}
	return string(data)
}

// trackTxnLocked starts or continues the transaction a command belongs to (nil if none).
func (s *Server) trackTxnLocked(c *conn, body, lsid bson.Raw) *txnState {
	if lsid == nil {
		return nil
	}
	tn, ok := body.Lookup("txnNumber").AsInt64OK()
	if !ok {
		return nil
	}
	if auto, ok := body.Lookup("autocommit").BooleanOK(); !ok || auto {
		return nil
	}
	key := lsidKey(lsid)
	if key == "" {
		return nil
	}
	now := time.Now()
	t := s.txns[key]
	if start, _ := body.Lookup("startTransaction").BooleanOK(); start {
		level, _ := body.Lookup("readConcern", "level").StringValueOK()
		if level == "" {
			level = "snapshot"
		}
		t = &txnState{lsid: lsid, txnNumber: tn, readConcern: level, started: now}
		s.txns[key] = t
	}
	if t == nil || t.txnNumber != tn {
		return nil
	}
	// The session may move between pooled connections; report where it ran last.
	t.connID, t.client, t.appName, t.meta, t.users = c.id, c.remote, c.appName, c.meta, c.users
	t.lastActive = now
	return t
}

// endSessions forgets the sessions' transactions; kill also interrupts their operations.
func (s *Server) endSessions(v bson.RawValue, kill bool) {
	arr, ok := v.ArrayOK()
	if !ok {
		return
	}
	vals, err := arr.Values()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			continue
		}
		key := lsidKey(doc)
		delete(s.txns, key)
		if !kill || key == "" {
			continue
		}
		for _, c := range s.conns {
			if c.op != nil && c.op.lsid != nil && lsidKey(c.op.lsid) == key {
				c.op.killLocked()
			}
		}
	}
}

// emptyUID is the lsid.uid of sessions without authentication: SHA-256 of "".
var emptyUID = func() []byte { h := sha256.Sum256(nil); return h[:] }()

// lsidDoc is the lsid as $currentOp reports it: {id, uid}.
func lsidDoc(lsid bson.Raw, users []*userCred) bson.D {
	uid := emptyUID
	if len(users) > 0 {
		uid = users[0].uid
	}
	return bson.D{
		{Key: "id", Value: valueOf(lsid.Lookup("id"))},
		{Key: "uid", Value: bson.Binary{Data: uid}},
	}
}

func (s *Server) transactionDoc(t *txnState, now time.Time) bson.D {
	open := now.Sub(t.started)
	inactive := now.Sub(t.lastActive)
	if inactive > open {
		inactive = open
	}
	return bson.D{
		{Key: "parameters", Value: bson.D{
			{Key: "txnNumber", Value: t.txnNumber},
			{Key: "autocommit", Value: false},
			{Key: "readConcern", Value: bson.D{{Key: "level", Value: t.readConcern}}},
		}},
		{Key: "readTimestamp", Value: bson.Timestamp{}},
		{Key: "startWallClockTime", Value: s.formatTime(t.started)},
		{Key: "timeOpenMicros", Value: open.Microseconds()},
		{Key: "timeActiveMicros", Value: (open - inactive).Microseconds()},
		{Key: "timeInactiveMicros", Value: inactive.Microseconds()},
		{Key: "expiryTime", Value: s.formatTime(t.started.Add(transactionLifetime))},
	}
}

// idleSessionDocsLocked lists open transactions with no operation running on their session.
func (s *Server) idleSessionDocsLocked(now time.Time, nowStr string, visible func([]*userCred) bool) []bson.D {
	busy := make(map[string]bool)
	for _, c := range s.conns {
		if c.op != nil && c.op.lsid != nil {
			busy[lsidKey(c.op.lsid)] = true
		}
	}
	var docs []bson.D
	for key, t := range s.txns {
		if now.Sub(t.started) > transactionLifetime {
			delete(s.txns, key) // aborted by the transaction reaper, as on a real server
			continue
		}
		if busy[key] || !visible(t.users) {
			continue
		}
		d := bson.D{
			{Key: "type", Value: "idleSession"},
			{Key: "host", Value: s.hostPort},
			{Key: "desc", Value: "inactive transaction"},
			{Key: "client", Value: t.client},
			{Key: "connectionId", Value: int64(t.connID)},
			{Key: "appName", Value: t.appName},
		}
		if t.meta != nil {
			d = append(d, bson.E{Key: "clientMetadata", Value: t.meta})
		}
		d = append(d,
			bson.E{Key: "lsid", Value: lsidDoc(t.lsid, t.users)},
			bson.E{Key: "transaction", Value: s.transactionDoc(t, now)},
			bson.E{Key: "waitingForLock", Value: false},
			bson.E{Key: "active", Value: false},
			bson.E{Key: "locks", Value: bson.D{
				{Key: "ReplicationStateTransition", Value: "w"},
				{Key: "Global", Value: "w"},
				{Key: "Database", Value: "w"},
				{Key: "Collection", Value: "w"},
			}},
			bson.E{Key: "lockStats", Value: bson.D{
				{Key: "Global", Value: bson.D{{Key: "acquireCount", Value: bson.D{{Key: "w", Value: int64(1)}}}}},
			}},
			bson.E{Key: "waitingForFlowControl", Value: false},
			bson.E{Key: "flowControlStats", Value: bson.D{}},
		)
		docs = append(docs, d)
	}
	return docs
}

// valueOf decodes a raw value into the plain Go/BSON types the aggregation evaluator handles.
func valueOf(v bson.RawValue) any {
	if v.Type == 0 {
		return nil
	}
	var out any
	if err := v.Unmarshal(&out); err != nil {
		return nil
	}
	return out
}
