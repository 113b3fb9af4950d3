package mongodb

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// maxCommandJSON bounds the relaxed Extended JSON kept per document (command and Raw). A
// $currentOp document can be up to 16 MB; the detail view does not need more than this.
const maxCommandJSON = 256 << 10

// ownComment tags every command the monitor sends, so its own operations can be recognised in
// $currentOp output even when its connections cannot (through mongos, behind NAT). Its random
// part keeps other clients from hiding their operations by sending the same comment.
var ownComment = newOwnComment()

func newOwnComment() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "currentop"
	}
	return "currentop " + hex.EncodeToString(b)
}

// layout says where convert finds each field: in a $currentOp document as the server sends
// it (full), or under the short names of the sessions pane's projection (lean, see
// leanProject). Fields that are rare or already short (shard, client_s, killPending, msg)
// keep their names in both.
type layout struct {
	lean bool
	opid, typ, active, connID, host, desc, op, ns, micros, secs, txnOpen, plan, client,
	mongosClient, app, appMeta, users, driver, waiting, yields, lsidID, cursorID, shapeHash []string
}

// shapeHashLen is how much of a queryShapeHash (64 hex digits on 8.0) is kept: 48 bits tell
// one server's shapes apart, and the lean projection sends only that much.
const shapeHashLen = 12

// shapeHash is the kept prefix of a queryShapeHash.
func shapeHash(h string) string {
	if len(h) > shapeHashLen {
		return h[:shapeHashLen]
	}
	return h
}

func path(p string) []string { return strings.Split(p, ".") }

var full = layout{
	opid: path("opid"), typ: path("type"), active: path("active"), connID: path("connectionId"),
	host: path("host"), desc: path("desc"), op: path("op"), ns: path("ns"),
	micros: path("microsecs_running"), secs: path("secs_running"),
	txnOpen: path("transaction.timeOpenMicros"), plan: path("planSummary"),
	client: path("client"), mongosClient: path("clientMetadata.mongos.client"),
	app: path("appName"), appMeta: path("clientMetadata.application.name"),
	users: path("effectiveUsers"), driver: path("clientMetadata.driver"),
	waiting: path("waitingForLock"), yields: path("numYields"), lsidID: path("lsid.id"),
	cursorID: path("cursor.cursorId"), shapeHash: path("queryShapeHash"),
}

// convert turns one $currentOp document into a Session. It never panics: every field is read
// with type checks, every string goes through source.Clean, and odd types are ignored.
func convert(doc bson.Raw) source.Session { return full.convert(doc, "") }

// convert reads doc in layout l. host is what a lean document's missing host stands for (the
// server's own, see leanProject).
func (l *layout) convert(doc bson.Raw, host string) source.Session {
	var s source.Session
	typ := str(doc, l.typ...)
	active, hasActive := boolOK(doc, l.active...)
	s.Active = active
	switch typ {
	case source.TypeIdleSession, source.TypeIdleCursor:
		s.Type = typ
		s.Active = false
	default: // "op", missing (pre-4.2 shape) or anything unknown
		if hasActive && !active {
			s.Type = source.TypeIdle
		} else {
			s.Type = source.TypeOp
			if !hasActive {
				// An op document without "active" is unusual; it is in flight if it has an opid.
				_, s.Active = lookup(doc, l.opid...)
			}
		}
	}

	s.Shard = str(doc, "shard")
	s.Host = str(doc, l.host...)
	s.Desc = str(doc, l.desc...)
	s.ConnectionID, _ = num(doc, l.connID...)
	if l.lean {
		l.restore(doc, &s, host)
	}
	s.Op = str(doc, l.op...)
	s.NS = str(doc, l.ns...)
	s.RunningUS = l.running(doc, s.Type)
	s.PlanSummary = str(doc, l.plan...)
	s.Client = l.clientAddr(doc)
	s.App = str(doc, l.app...)
	if s.App == "" && l.appMeta != nil {
		s.App = str(doc, l.appMeta...)
	}
	if l.lean {
		s.User = str(doc, l.users...) // "user@db", made server-side
	} else {
		s.User = firstUser(doc, l.users)
	}
	if v, ok := lookup(doc, l.driver...); ok {
		s.Driver = driverString(v)
	}
	s.WaitingForLock, _ = boolOK(doc, l.waiting...)
	s.NumYields, _ = num(doc, l.yields...)
	s.KillPending, _ = boolOK(doc, "killPending")
	s.Msg = str(doc, "msg")
	s.QueryShapeHash = shapeHash(str(doc, l.shapeHash...))
	s.ID = l.sessionID(doc, s)
	s.Command = l.command(doc)
	l.describe(doc, &s)
	if indexBuild(s) != "" {
		s.NotKillable = "an index build: drop the index to abort it"
	}
	// The whole document backs the detail view: for operations, and for idle sessions and
	// cursors, whose transaction, lsid and cursor fields are the point. Plain idle connections
	// (tens of thousands of them) carry nothing the fields above lack; a lean document is not
	// whole (Detail reads the whole one).
	if s.Type != source.TypeIdle && !l.lean {
		s.Raw = docJSON(doc)
	}
	s.Internal = l.isInternal(doc)
	return s
}

// restore fills what a lean document leaves out because it is implied: the server's own host,
// and a desc of "conn<connectionId>" (a desc the document lacks is sent as null).
func (l *layout) restore(doc bson.Raw, s *source.Session, host string) {
	if _, ok := lookup(doc, l.host...); !ok {
		s.Host = source.Clean(host)
	}
	if _, ok := lookup(doc, l.desc...); !ok {
		if v, ok := lookup(doc, l.connID...); ok && (v.Type == bson.TypeInt32 || v.Type == bson.TypeInt64) {
			s.Desc = "conn" + strconv.FormatInt(s.ConnectionID, 10)
		}
	}
}

// running is the running time in µs: microsecs_running, else secs_running; an idle transaction
// runs nothing, so how long it has held its snapshot and locks open stands in.
func (l *layout) running(doc bson.Raw, typ string) int64 {
	var us int64
	if n, ok := amount(doc, l.micros...); ok {
		us = n
	} else if secs, ok := amount(doc, l.secs...); ok {
		us = saturatingMul(secs, 1_000_000)
	}
	if typ == source.TypeIdleSession && us == 0 {
		// An idle transaction runs nothing; how long it has held its snapshot and locks open
		// is what makes it the one to look at.
		if n, ok := amount(doc, l.txnOpen...); ok {
			us = n
		}
	}
	return max(us, 0)
}

// command is the operation's command as relaxed Extended JSON: the command (or an idle
// cursor's originatingCommand) whole, or in a lean document its first field only.
func (l *layout) command(doc bson.Raw) json.RawMessage {
	if l.lean {
		return leanCommand(doc)
	}
	if v, ok := lookup(doc, "command"); ok {
		return valueJSON(v)
	}
	if v, ok := lookup(doc, "cursor", "originatingCommand"); ok {
		return valueJSON(v)
	}
	return nil
}

// sessionID is the opid as a string ("4119786", or "shard01:4119786" verbatim through mongos);
// documents without an opid get a stable ID from what identifies them.
func (l *layout) sessionID(doc bson.Raw, s source.Session) string {
	if v, ok := lookup(doc, l.opid...); ok {
		switch v.Type {
		case bson.TypeString:
			// An opid with control characters is hostile or broken: it could not be killed
			// as shown, so the connection identifies the session instead.
			if raw := v.StringValue(); raw != "" && source.Clean(raw) == raw {
				return raw
			}
		case bson.TypeInt32, bson.TypeInt64:
			n, _ := v.AsInt64OK()
			return strconv.FormatInt(n, 10)
		case bson.TypeDouble:
			if f := v.Double(); f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return strconv.FormatInt(int64(f), 10)
			}
		}
	}
	prefix := ""
	if s.Shard != "" {
		prefix = s.Shard + ":"
	}
	switch s.Type {
	case source.TypeIdleSession:
		if id, ok := lookup(doc, l.lsidID...); ok {
			if _, data, ok := id.BinaryOK(); ok {
				return prefix + "session:" + hexString(data)
			}
		}
	case source.TypeIdleCursor:
		if id, ok := num(doc, l.cursorID...); ok {
			return prefix + "cursor:" + strconv.FormatInt(id, 10)
		}
	}
	if _, ok := lookup(doc, l.connID...); ok {
		return prefix + "conn" + strconv.FormatInt(s.ConnectionID, 10)
	}
	if s.Desc != "" {
		return prefix + "thread:" + s.Desc
	}
	return prefix + s.Type
}

// clientAddr is the application's address: through mongos the app's address at the mongos
// (clientMetadata.mongos.client) rather than the mongos's own address at the shard (client_s).
func (l *layout) clientAddr(doc bson.Raw) string {
	if c := str(doc, l.mongosClient...); c != "" {
		return c
	}
	if c := str(doc, l.client...); c != "" {
		return c
	}
	return str(doc, "client_s")
}

func firstUser(doc bson.Raw, users []string) string {
	v, ok := lookup(doc, users...)
	if !ok {
		return ""
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return ""
	}
	vals, err := arr.Values()
	if err != nil || len(vals) == 0 {
		return ""
	}
	return userString(vals[0])
}

// userString renders a {user, db} document as "user@db".
func userString(v bson.RawValue) string {
	d, ok := v.DocumentOK()
	if !ok {
		return ""
	}
	u, db := str(d, "user"), str(d, "db")
	switch {
	case u == "":
		return ""
	case db == "":
		return u
	}
	return source.Clean(u + "@" + db)
}

// driverString renders a {name, version} document as "name version"; a string (the lean
// projection's and the clients pane's "name version") is taken as it is.
func driverString(v bson.RawValue) string {
	if s, ok := v.StringValueOK(); ok {
		return source.Clean(strings.TrimSpace(s))
	}
	d, ok := v.DocumentOK()
	if !ok {
		return ""
	}
	name, ver := str(d, "name"), str(d, "version")
	if ver == "" {
		return name
	}
	return source.Clean(strings.TrimSpace(name + " " + ver))
}

// isInternal reports the server's own work and cluster traffic: internal threads, replication,
// other cluster members, and drivers' awaitable hello heartbeats. Keep in sync with
// internalMatch, its server-side twin.
func isInternal(doc bson.Raw) bool { return full.isInternal(doc) }

func (l *layout) isInternal(doc bson.Raw) bool {
	_, hasConn := lookup(doc, l.connID...)
	if !hasConn && rawStr(doc, l.typ...) != source.TypeIdleCursor {
		return true // an internal thread: no network client
	}
	if l.lean {
		if system, _ := boolOK(doc, "S"); system {
			return true
		}
	} else if hasSystemUser(doc, l.users) {
		return true
	}
	if strings.HasPrefix(l.driverName(doc), "NetworkInterfaceTL") {
		return true
	}
	if rawStr(doc, l.op...) == "getmore" && rawStr(doc, l.ns...) == "local.oplog.rs" {
		return true
	}
	if l.lean {
		return leanInternalCommand(doc)
	}
	cmd, ok := lookup(doc, "command")
	if !ok {
		return false
	}
	c, ok := cmd.DocumentOK()
	if !ok {
		return false
	}
	if has(c, "replSetHeartbeat") || has(c, "replSetUpdatePosition") {
		return true
	}
	return isAwaitableHello(c)
}

// driverName is the driver's name as sent: clientMetadata.driver.name, or the start of a
// lean document's "name version".
func (l *layout) driverName(doc bson.Raw) string {
	if n := rawStr(doc, l.driver...); n != "" {
		return n
	}
	return rawStr(doc, append(slices.Clone(l.driver), "name")...)
}

// isAwaitableHello: a driver's streaming heartbeat waits up to maxAwaitTimeMS and shows as an
// active operation the whole time.
func isAwaitableHello(cmd bson.Raw) bool {
	return (has(cmd, "hello") || has(cmd, "isMaster") || has(cmd, "ismaster")) && has(cmd, "topologyVersion")
}

func hasSystemUser(doc bson.Raw, users []string) bool {
	v, ok := lookup(doc, users...)
	if !ok {
		return false
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return false
	}
	vals, err := arr.Values()
	if err != nil {
		return false
	}
	for _, u := range vals {
		if d, ok := u.DocumentOK(); ok && rawStr(d, "user") == "__system" {
			return true
		}
	}
	return false
}

// lookup finds a dotted path without panicking on malformed BSON.
func lookup(doc bson.Raw, path ...string) (v bson.RawValue, ok bool) {
	// LookupErr still panics on some corrupt nested documents; Snapshot validates documents
	// first, this is the second line of defence for the other callers.
	defer func() {
		if recover() != nil {
			v, ok = bson.RawValue{}, false
		}
	}()
	v, err := doc.LookupErr(path...)
	if err != nil {
		return bson.RawValue{}, false
	}
	return v, true
}

func has(doc bson.Raw, key string) bool {
	_, ok := lookup(doc, key)
	return ok
}

// rawStr returns the string at path as sent (not cleaned), or "".
func rawStr(doc bson.Raw, path ...string) string {
	v, ok := lookup(doc, path...)
	if !ok {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

// str returns the cleaned string at path, or "" when missing or not a string.
func str(doc bson.Raw, path ...string) string {
	return source.Clean(rawStr(doc, path...))
}

// num reads any numeric type (int32, int64, integral double) at path.
func num(doc bson.Raw, path ...string) (int64, bool) {
	v, ok := lookup(doc, path...)
	if !ok {
		return 0, false
	}
	return numValue(v)
}

func numValue(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		n, _ := v.AsInt64OK()
		return n, true
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.Abs(f) > 1<<62 {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false
}

// amount is num for quantities such as running times: a double beyond int64 saturates
// instead of being dropped, so a huge value reads as huge, not as 0.
func amount(doc bson.Raw, path ...string) (int64, bool) {
	v, ok := lookup(doc, path...)
	if !ok || v.Type != bson.TypeDouble {
		return num(doc, path...)
	}
	f := v.Double()
	switch {
	case math.IsNaN(f):
		return 0, false
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

// saturatingMul is a*b clamped to int64 (b > 0).
func saturatingMul(a, b int64) int64 {
	switch {
	case a > math.MaxInt64/b:
		return math.MaxInt64
	case a < math.MinInt64/b:
		return math.MinInt64
	}
	return a * b
}

func boolOK(doc bson.Raw, path ...string) (bool, bool) {
	v, ok := lookup(doc, path...)
	if !ok {
		return false, false
	}
	return v.BooleanOK()
}

// valueJSON renders a value as relaxed Extended JSON: documents and arrays as JSON, anything
// else wrapped as a JSON string. Oversized or undecodable values become a JSON string saying so.
func valueJSON(v bson.RawValue) json.RawMessage {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		d, _ := v.DocumentOK()
		return docJSON(d)
	case bson.TypeString:
		b, _ := json.Marshal(source.Clean(v.StringValue()))
		return b
	default:
		// Wrap the value in a document to let the driver render it, then unwrap.
		wrapped, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
		if err != nil {
			return nil
		}
		out := docJSON(wrapped)
		var m struct {
			V json.RawMessage `json:"v"`
		}
		if json.Unmarshal(out, &m) != nil || len(m.V) == 0 {
			return out
		}
		return m.V
	}
}

func docJSON(d bson.Raw) json.RawMessage {
	if len(d) > 4*maxCommandJSON {
		return tooBig(len(d))
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		msg, _ := json.Marshal("(undecodable BSON: " + source.Clean(err.Error()) + ")")
		return msg
	}
	if len(b) > maxCommandJSON {
		return tooBig(len(b))
	}
	if !json.Valid(b) {
		msg, _ := json.Marshal("(not representable as JSON)")
		return msg
	}
	return b
}

func tooBig(n int) json.RawMessage {
	msg, _ := json.Marshal("(" + strconv.Itoa(n) + " bytes, too large to show)")
	return msg
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}
