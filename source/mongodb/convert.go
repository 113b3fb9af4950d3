package mongodb

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"math"
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

// convert turns one $currentOp document into a Session. It never panics: every field is read
// with type checks, every string goes through source.Clean, and odd types are ignored.
func convert(doc bson.Raw) source.Session {
	var s source.Session
	typ := str(doc, "type")
	active, hasActive := boolOK(doc, "active")
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
				_, s.Active = lookup(doc, "opid")
			}
		}
	}

	s.Shard = str(doc, "shard")
	s.Host = str(doc, "host")
	s.Desc = str(doc, "desc")
	s.ConnectionID, _ = num(doc, "connectionId")
	s.Op = str(doc, "op")
	s.NS = str(doc, "ns")
	if us, ok := amount(doc, "microsecs_running"); ok {
		s.RunningUS = us
	} else if secs, ok := amount(doc, "secs_running"); ok {
		s.RunningUS = saturatingMul(secs, 1_000_000)
	}
	if s.Type == source.TypeIdleSession && s.RunningUS == 0 {
		// An idle transaction runs nothing; how long it has held its snapshot and locks open
		// is what makes it the one to look at.
		if us, ok := amount(doc, "transaction", "timeOpenMicros"); ok {
			s.RunningUS = us
		}
	}
	if s.RunningUS < 0 {
		s.RunningUS = 0
	}
	s.PlanSummary = str(doc, "planSummary")
	s.Client = clientAddr(doc)
	s.App = str(doc, "appName")
	if s.App == "" {
		s.App = str(doc, "clientMetadata", "application", "name")
	}
	s.User = firstUser(doc)
	s.Driver = driverOf(doc)
	s.WaitingForLock, _ = boolOK(doc, "waitingForLock")
	s.NumYields, _ = num(doc, "numYields")
	s.KillPending, _ = boolOK(doc, "killPending")
	s.Msg = str(doc, "msg")
	s.ID = sessionID(doc, s)

	if v, ok := lookup(doc, "command"); ok {
		s.Command = valueJSON(v)
	} else if v, ok := lookup(doc, "cursor", "originatingCommand"); ok {
		s.Command = valueJSON(v)
	}
	// The whole document backs the detail view: for operations, and for idle sessions and
	// cursors, whose transaction, lsid and cursor fields are the point. Plain idle connections
	// (tens of thousands of them) carry nothing the fields above lack.
	if s.Type != source.TypeIdle {
		s.Raw = docJSON(doc)
	}
	s.Internal = isInternal(doc)
	return s
}

// sessionID is the opid as a string ("4119786", or "shard01:4119786" verbatim through mongos);
// documents without an opid get a stable ID from what identifies them.
func sessionID(doc bson.Raw, s source.Session) string {
	if v, ok := lookup(doc, "opid"); ok {
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
		if id, ok := lookup(doc, "lsid", "id"); ok {
			if _, data, ok := id.BinaryOK(); ok {
				return prefix + "session:" + hexString(data)
			}
		}
	case source.TypeIdleCursor:
		if id, ok := num(doc, "cursor", "cursorId"); ok {
			return prefix + "cursor:" + strconv.FormatInt(id, 10)
		}
	}
	if _, ok := lookup(doc, "connectionId"); ok {
		return prefix + "conn" + strconv.FormatInt(s.ConnectionID, 10)
	}
	if s.Desc != "" {
		return prefix + "thread:" + s.Desc
	}
	return prefix + s.Type
}

// clientAddr is the application's address: through mongos the app's address at the mongos
// (clientMetadata.mongos.client) rather than the mongos's own address at the shard (client_s).
func clientAddr(doc bson.Raw) string {
	if c := str(doc, "clientMetadata", "mongos", "client"); c != "" {
		return c
	}
	if c := str(doc, "client"); c != "" {
		return c
	}
	return str(doc, "client_s")
}

func firstUser(doc bson.Raw) string {
	v, ok := lookup(doc, "effectiveUsers")
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

func driverOf(doc bson.Raw) string {
	v, ok := lookup(doc, "clientMetadata", "driver")
	if !ok {
		return ""
	}
	return driverString(v)
}

// driverString renders a {name, version} document as "name version".
func driverString(v bson.RawValue) string {
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
func isInternal(doc bson.Raw) bool {
	_, hasConn := lookup(doc, "connectionId")
	if !hasConn && str(doc, "type") != source.TypeIdleCursor {
		return true // an internal thread: no network client
	}
	if hasSystemUser(doc) {
		return true
	}
	if strings.HasPrefix(rawStr(doc, "clientMetadata", "driver", "name"), "NetworkInterfaceTL") {
		return true
	}
	if rawStr(doc, "op") == "getmore" && rawStr(doc, "ns") == "local.oplog.rs" {
		return true
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

// isAwaitableHello: a driver's streaming heartbeat waits up to maxAwaitTimeMS and shows as an
// active operation the whole time.
func isAwaitableHello(cmd bson.Raw) bool {
	return (has(cmd, "hello") || has(cmd, "isMaster") || has(cmd, "ismaster")) && has(cmd, "topologyVersion")
}

func hasSystemUser(doc bson.Raw) bool {
	v, ok := lookup(doc, "effectiveUsers")
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
