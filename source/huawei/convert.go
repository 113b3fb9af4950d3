package huawei

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// maxCommand bounds the operation text kept per session; longer text is kept as a truncated
// JSON string and the snapshot says so.
const maxCommand = 256 << 10

// converted is one API session as the model sees it.
type converted struct {
	s         source.Session
	truncated bool // the operation text was cut
}

// toSession converts one element of ListSessions' sessions[]. nodeHost stands in for an empty
// host. ok is false when the element is not a session object or has no ID.
func toSession(raw json.RawMessage, nodeHost string) (converted, bool) {
	var a apiSession
	if err := json.Unmarshal(raw, &a); err != nil {
		return converted{}, false
	}
	id := source.Clean(string(a.ID))
	if id == "" {
		return converted{}, false
	}
	s := source.Session{
		ID:          id,
		Active:      bool(a.Active),
		Op:          source.Clean(string(a.Type)),
		NS:          source.Clean(string(a.Namespace)),
		RunningUS:   max(int64(a.CostTime), 0),
		PlanSummary: source.Clean(string(a.PlanSummary)),
		Client:      source.Clean(string(a.Client)),
		Host:        source.Clean(string(a.Host)),
		Desc:        source.Clean(string(a.Description)),
		User:        source.Clean(string(a.User)),
		Type:        source.TypeIdle,
		LockUnknown: true, // ListSessions has no lock-wait flag
	}
	if s.Active {
		s.Type = source.TypeOp
	} else {
		s.NotKillable = ErrIdleNotKillable.Error()
	}
	if s.Host == "" {
		s.Host = nodeHost
	}
	if shard, opid, ok := strings.Cut(s.ID, ":"); ok && isDigits(opid) {
		s.Shard = shard
	}
	if n, ok := strings.CutPrefix(s.Desc, "conn"); ok && isDigits(n) {
		s.ConnectionID, _ = strconv.ParseInt(n, 10, 64)
	}
	cmd, meta, truncated := parseOperation(string(a.Operation))
	s.Command = cmd
	// The operation text is the command: its name and query; the API reports no progress.
	s.CommandName, s.Summary = source.DescribeCommand(s.Op, cmd)
	s.App, s.Driver = meta.app(), meta.driver()
	s.Internal = isInternal(&s, meta)
	if len(raw) <= maxCommand {
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			s.Raw = b.Bytes()
		}
	}
	return converted{s: s, truncated: truncated}, true
}

// clientMeta is the "$client" document a mongos or driver attaches to a command.
type clientMeta struct {
	Client struct {
		Driver struct {
			Name    flexString `json:"name"`
			Version flexString `json:"version"`
		} `json:"driver"`
		Application struct {
			Name flexString `json:"name"`
		} `json:"application"`
	} `json:"$client"`
	// awaitable marks a hello/isMaster that waits for topology changes (a driver heartbeat).
	awaitable bool
}

func (m clientMeta) app() string { return source.Clean(string(m.Client.Application.Name)) }

func (m clientMeta) driver() string {
	return source.Clean(strings.TrimSpace(string(m.Client.Driver.Name) + " " + string(m.Client.Driver.Version)))
}

// isInternal recognises what MongoDB itself runs: cluster members' connections, replication,
// internal threads (no client) and drivers' awaitable heartbeats.
func isInternal(s *source.Session, m clientMeta) bool {
	switch {
	case s.User == "__system" || strings.HasPrefix(s.User, "__system@"):
		return true
	case strings.Contains(string(m.Client.Driver.Name), "NetworkInterfaceTL"):
		return true
	case m.awaitable:
		return true
	case s.NS == "local.oplog.rs":
		return true
	case s.Client == "" && !strings.HasPrefix(s.Desc, "conn"):
		return true
	}
	return false
}

// parseOperation turns ListSessions' operation text into Command: the command document as
// relaxed Extended JSON when the text is JSON (after repairing the invalid escapes such as
// "\=" that the API is known to emit, see the seed), else the text kept as a JSON string.
func parseOperation(op string) (cmd json.RawMessage, meta clientMeta, truncated bool) {
	if strings.TrimSpace(op) == "" {
		return nil, meta, false
	}
	if len(op) > maxCommand {
		cut := strings.ToValidUTF8(op[:maxCommand], "")
		b, _ := json.Marshal(cut + "…")
		return b, meta, true
	}
	b := []byte(op)
	if !json.Valid(b) {
		b = repairJSON(b)
	}
	if !json.Valid(b) {
		s, _ := json.Marshal(op)
		return s, meta, false
	}
	b = normalizeCommand(b)
	if bytes.Contains(b, []byte(`"$client"`)) {
		_ = json.Unmarshal(b, &meta)
	}
	meta.awaitable = isAwaitableHello(b)
	return b, meta, false
}

// repairJSON fixes what makes provider text invalid JSON but is unambiguous: an escape of a
// character that needs none ("\=" → "=") and raw control characters inside strings.
func repairJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			out = append(out, c)
			continue
		}
		switch {
		case c == '"':
			inString = false
			out = append(out, c)
		case c == '\\':
			if i+1 >= len(b) {
				continue // a lone trailing backslash
			}
			n := b[i+1]
			switch {
			case strings.IndexByte(`"\/bfnrt`, n) >= 0:
				out = append(out, c, n)
				i++
			case n == 'u' && i+5 < len(b) && isHex(b[i+2:i+6]):
				out = append(out, b[i:i+6]...)
				i += 5
			default:
				// "\=" and friends: the escaped character stands for itself.
			}
		case c < 0x20:
			out = fmt.Appendf(out, `\u%04x`, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeCommand makes valid JSON into relaxed Extended JSON where it can: the API renders
// $timestamp's t and i as doubles (1.614047961E9), which Extended JSON does not allow, so they
// are rewritten as integers; canonical wrappers ($numberLong, $date …) go through the driver's
// Extended JSON codec, which keeps key order. Anything else is returned compacted.
func normalizeCommand(b []byte) []byte {
	if bytes.Contains(b, []byte(`"$timestamp"`)) {
		if fixed, ok := fixTimestamps(b); ok {
			b = fixed
		}
	}
	// Only canonical-mode wrappers differ in relaxed mode; skip the codec's cost otherwise.
	if bytes.Contains(b, []byte(`"$number`)) || bytes.Contains(b, []byte(`"$date"`)) {
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
			var d bson.D
			if bson.UnmarshalExtJSON(b, false, &d) == nil {
				if out, err := bson.MarshalExtJSON(d, false, false); err == nil {
					return out
				}
			}
		}
	}
	var c bytes.Buffer
	if json.Compact(&c, b) != nil {
		return b
	}
	return c.Bytes()
}

// fixTimestamps rewrites, in valid JSON b, integral numbers inside {"$timestamp": {…}} as
// integers (1.614047961E9 → 1614047961). It scans bytes rather than tokens (a page of commands
// is decoded every refresh); ok is false when nothing changed or the result would not be JSON.
func fixTimestamps(b []byte) ([]byte, bool) {
	key := []byte(`"$timestamp"`)
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		if b[i] != '"' {
			i++
			continue
		}
		if bytes.HasPrefix(b[i:], key) {
			j := skipSpace(b, i+len(key))
			if j < len(b) && b[j] == ':' {
				j = skipSpace(b, j+1)
				if j < len(b) && b[j] == '{' {
					if end := bytes.IndexByte(b[j:], '}'); end > 0 {
						out = append(out, b[last:j]...)
						out = appendIntegral(out, b[j:j+end+1])
						last = j + end + 1
						i = last
						continue
					}
				}
			}
		}
		i = skipString(b, i)
	}
	if out == nil {
		return b, false
	}
	out = append(out, b[last:]...)
	if !json.Valid(out) {
		return b, false
	}
	return out, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// appendIntegral copies a small object, writing integral numbers outside strings as integers.
func appendIntegral(out, obj []byte) []byte {
	for i := 0; i < len(obj); {
		c := obj[i]
		switch {
		case c == '"':
			j := skipString(obj, i)
			out = append(out, obj[i:j]...)
			i = j
		case c == '-' || ('0' <= c && c <= '9'):
			j := i + 1
			for j < len(obj) && strings.IndexByte("0123456789.eE+-", obj[j]) >= 0 {
				j++
			}
			out = append(out, numberText(json.Number(obj[i:j]), true)...)
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return out
}

// numberText writes n as an integer when it is an integral value inside a $timestamp.
func numberText(n json.Number, inTimestamp bool) string {
	if !inTimestamp {
		return n.String()
	}
	if _, err := n.Int64(); err == nil {
		return n.String()
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<32-1 || f != float64(uint32(f)) {
		return n.String()
	}
	return strconv.FormatUint(uint64(f), 10)
}

// isAwaitableHello reports whether the command is a hello/isMaster with maxAwaitTimeMS.
func isAwaitableHello(b []byte) bool {
	if !bytes.Contains(b, []byte(`"maxAwaitTimeMS"`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	k, err := dec.Token()
	name, _ := k.(string)
	if err != nil || !slices.Contains([]string{"hello", "isMaster", "ismaster"}, name) {
		return false
	}
	return bytes.Contains(b, []byte(`"maxAwaitTimeMS"`))
}

// clientsFrom builds the clients pane from ShowConnectionStatistics (inner connections are the
// provider's and the cluster's own: Internal) and enriches it from the sessions seen.
func clientsFrom(st *connStatsResponse, sessions []source.Session) ([]source.Client, []string) {
	byIP := map[string]*source.Client{}
	var order []string
	add := func(list []connByIP, internal bool) int {
		n := 0
		for _, c := range list {
			ip := source.Clean(string(c.ClientIP))
			count := int(max(int64(c.Count), 0))
			n += count
			if ip == "" {
				continue
			}
			cl, ok := byIP[ip]
			if !ok {
				cl = &source.Client{IP: ip, Internal: internal}
				byIP[ip] = cl
				order = append(order, ip)
			}
			cl.Count += count
			cl.Internal = cl.Internal && internal
		}
		return n
	}
	var warnings []string
	outer := add(st.OuterConnections, false)
	inner := add(st.InnerConnections, true)
	if more := int64(st.TotalOuterConnections) - int64(outer); more > 0 && len(st.OuterConnections) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d client connections not itemised: the API lists at most 200 client IPs", more))
	}
	if more := int64(st.TotalInnerConnections) - int64(inner); more > 0 && len(st.InnerConnections) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d internal connections not itemised: the API lists at most 200 internal IPs", more))
	}
	for i := range sessions {
		s := &sessions[i]
		cl, ok := byIP[s.ClientIP()]
		if !ok {
			continue
		}
		if s.Active {
			cl.Active++
		}
		cl.Apps = addUnique(cl.Apps, s.App)
		cl.Users = addUnique(cl.Users, s.User)
		cl.Drivers = addUnique(cl.Drivers, s.Driver)
	}
	out := make([]source.Client, 0, len(order))
	for _, ip := range order {
		c := byIP[ip]
		c.Active = min(c.Active, c.Count) // the two calls are moments apart
		slices.Sort(c.Apps)
		slices.Sort(c.Users)
		slices.Sort(c.Drivers)
		out = append(out, *c)
	}
	return out, warnings
}

func addUnique(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}
