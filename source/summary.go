package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SummaryMax bounds Session.Summary, in characters.
const SummaryMax = 120

// Progress is how far an operation that reports it has come ($currentOp's progress
// {done, total}: index builds, mapReduce, validate …).
type Progress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// Percent is Done as a whole percentage of Total, within 0–100.
func (p *Progress) Percent() int {
	if p == nil || p.Total <= 0 || p.Done <= 0 {
		return 0
	}
	if p.Done >= p.Total {
		return 100
	}
	return int(float64(p.Done) * 100 / float64(p.Total))
}

// NewProgress is the progress a server reported, or nil when it makes no sense (no total,
// negative numbers): absent means unknown, never a made-up zero.
func NewProgress(done, total int64) *Progress {
	if total <= 0 || done < 0 {
		return nil
	}
	return &Progress{Done: done, Total: total}
}

// CommandName names an operation's command from the command document's first field, as
// MongoDB names commands: find, aggregate, createIndexes, getMore, insert, update, delete, …
// An update or delete in $currentOp shows its statement ({q: …, u: …}, {q: …, limit: …}),
// whose first field is "q": op ("update", "remove") names those. A command the server
// truncated ({$truncated: "{ find: \"orders\", …"}) is named from its text (see TextName).
func CommandName(op, first string) string {
	switch first {
	case "":
		return ""
	case "q":
		switch strings.ToLower(op) {
		case "update":
			return "update"
		case "remove", "delete":
			return "delete"
		}
	}
	return Clean(first)
}

// TextName is the command's name at the start of a command shown as text, as servers
// truncate commands ("{ find: \"orders\", filter: { … } …") and cloud APIs may send them.
func TextName(text string) string {
	t := strings.TrimLeft(text, " \t\r\n")
	t, ok := strings.CutPrefix(t, "{")
	if !ok {
		return ""
	}
	t = strings.TrimLeft(t, " \t\r\n")
	if strings.HasPrefix(t, `"`) || strings.HasPrefix(t, `'`) {
		q := t[:1]
		end := strings.Index(t[1:], q)
		if end < 0 || end > 64 {
			return ""
		}
		return Clean(t[1 : 1+end])
	}
	end := strings.IndexAny(t, ": \t\r\n")
	if end <= 0 || end > 64 {
		return ""
	}
	return Clean(t[:end])
}

// QueryPart is what an operation's summary is made of: the part of its command that says
// what it works on.
type QueryPart struct {
	// Doc is the query as a JSON object (Extended JSON): a find's filter, an update or
	// delete's q, a count's or findAndModify's query, a pipeline's first stage, an index
	// build's key.
	Doc json.RawMessage
	// Keys are the first field names of a query too large to have been sent whole (Doc nil),
	// and NKeys how many fields it has.
	Keys  []string
	NKeys int
	// Stages is the pipeline's length when the query is its first stage (0: no pipeline).
	Stages int
	// Text is a command that is only text (truncated by the server, or sent as text by a
	// provider), when there is no Doc.
	Text string
}

// Summary is the part as one short cleaned line, like pg_activity's query column:
// `{status: "A", qty: {$gt: 5}}`, `[$match {status: "A"}] +3 stages`, `{_id: …}`.
// It is at most SummaryMax characters.
func (p QueryPart) Summary() string {
	suffix := ""
	if p.Stages > 1 {
		suffix = " +" + strconv.Itoa(p.Stages-1) + " stages"
		if p.Stages == 2 {
			suffix = " +1 stage"
		}
	}
	var body string
	switch {
	case p.Doc != nil && p.Stages > 0:
		body = "[" + renderStage(p.Doc, SummaryMax-len(suffix)-2) + "]"
	case p.Doc != nil:
		body = renderJSON(p.Doc, SummaryMax-len(suffix))
	case len(p.Keys) > 0 && p.Stages > 0:
		body = "[" + renderKey(p.Keys[0]) + " …]"
	case len(p.Keys) > 0:
		body = renderKeys(p.Keys, p.NKeys)
	case p.Text != "":
		body = oneLine(p.Text)
	}
	if body == "" {
		return ""
	}
	return cut(Clean(body+suffix), SummaryMax)
}

// summaryFields are the command fields a summary is taken from, in order: the first present
// and not null is the query (MongoDB's $ifNull rule, which the direct source's server-side
// projection follows too).
var summaryFields = []string{"filter", "q", "query", "pipeline", "updates", "deletes", "indexes"}

// DescribeCommand names a command given as JSON text (Session.Command from a cloud API or a
// whole $currentOp command) and summarises it; op is the session's op. A command that is a
// JSON string (text that is not JSON, or that a server truncated) is named and summarised
// from its text.
func DescribeCommand(op string, cmd json.RawMessage) (name, summary string) {
	cmd = bytes.TrimSpace(cmd)
	if len(cmd) == 0 || len(cmd) > 4<<20 {
		return "", ""
	}
	if cmd[0] == '"' {
		var text string
		if json.Unmarshal(cmd, &text) != nil {
			return "", ""
		}
		return TextName(text), QueryPart{Text: text}.Summary()
	}
	if cmd[0] != '{' {
		return "", ""
	}
	first := firstKey(cmd)
	var fields map[string]json.RawMessage
	if json.Unmarshal(cmd, &fields) != nil {
		return "", ""
	}
	if first == "$truncated" {
		var text string
		_ = json.Unmarshal(fields[first], &text)
		return TextName(text), QueryPart{Text: text}.Summary()
	}
	return CommandName(op, first), PartOf(fields).Summary()
}

// PartOf picks the query out of a command's fields (see summaryFields).
func PartOf(fields map[string]json.RawMessage) QueryPart {
	for _, f := range summaryFields {
		v := bytes.TrimSpace(fields[f])
		if len(v) == 0 || string(v) == "null" || isUndefined(v) {
			continue
		}
		var p QueryPart
		switch f {
		case "pipeline", "updates", "deletes", "indexes":
			var list []json.RawMessage
			if v[0] != '[' || json.Unmarshal(v, &list) != nil || len(list) == 0 {
				continue
			}
			el := bytes.TrimSpace(list[0])
			switch f {
			case "pipeline":
				v, p.Stages = el, len(list)
			case "indexes":
				v = subField(el, "key")
			default:
				v = subField(el, "q")
			}
			if len(v) == 0 || string(v) == "null" || isUndefined(v) {
				continue
			}
		}
		if v[0] == '{' {
			p.Doc = v
		}
		return p
	}
	return QueryPart{}
}

// subField is the field of a JSON object, nil when el is not an object or lacks it.
func subField(el json.RawMessage, name string) json.RawMessage {
	if len(el) == 0 || el[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(el, &m) != nil {
		return nil
	}
	return bytes.TrimSpace(m[name])
}

func isUndefined(v json.RawMessage) bool {
	return bytes.HasPrefix(v, []byte(`{"$undefined"`))
}

// firstKey is the first field name of a JSON object, "" when it has none.
func firstKey(obj json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	t, err := dec.Token()
	if err != nil {
		return ""
	}
	k, _ := t.(string)
	return k
}

// renderStage renders a pipeline stage {$match: {…}} as `$match {…}`.
func renderStage(doc json.RawMessage, max int) string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	w := &limited{max: max}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return renderJSON(doc, max)
	}
	if !dec.More() {
		return "{}"
	}
	t, err := dec.Token()
	if err != nil {
		return ""
	}
	k, _ := t.(string)
	w.WriteString(renderKey(k))
	w.WriteString(" ")
	err = writeValue(dec, w, 0)
	if err == nil && dec.More() { // not a stage: more fields follow
		return renderJSON(doc, max)
	}
	return w.result(err)
}

// renderJSON renders a JSON value the way the mongo shell prints it, cut to max characters.
func renderJSON(v json.RawMessage, max int) string {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	w := &limited{max: max}
	return w.result(writeValue(dec, w, 0))
}

func renderKeys(keys []string, n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(renderKey(k))
		b.WriteString(": …")
	}
	if n > len(keys) {
		b.WriteString(", …")
	}
	b.WriteByte('}')
	return b.String()
}

// renderKey writes a field name bare when it reads as one ($gt, status, a.b), else quoted.
func renderKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c == '.' || c >= '0' && c <= '9')) {
			return quote(k)
		}
	}
	return k
}

// quote is s in double quotes, with quotes, backslashes and control characters escaped so the
// summary stays on one line.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// oneLine collapses runs of white space (newlines included) to one space.
func oneLine(s string) string {
	if len(s) > 4*SummaryMax {
		s = s[:4*SummaryMax]
	}
	return strings.Join(strings.Fields(s), " ")
}

// cut shortens s to max characters, marking the cut with "…".
func cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// errFull stops rendering once the summary is long enough.
var errFull = errors.New("full")

// limited collects at most max characters (and a little more, to know it was cut).
type limited struct {
	b   strings.Builder
	n   int
	max int
}

func (w *limited) WriteString(s string) {
	if w.n > w.max {
		return
	}
	w.b.WriteString(s)
	w.n += utf8.RuneCountInString(s)
}

func (w *limited) full() bool { return w.n > w.max }

func (w *limited) result(err error) string {
	if err != nil && err != errFull {
		return ""
	}
	return cut(w.b.String(), w.max)
}

// maxDepth bounds nesting: summaries are short, hostile documents can be deep.
const maxDepth = 32

// writeValue renders the next JSON value from dec.
func writeValue(dec *json.Decoder, w *limited, depth int) error {
	if w.full() {
		return errFull
	}
	if depth > maxDepth {
		return errors.New("too deep")
	}
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			return writeObject(dec, w, depth)
		case '[':
			w.WriteString("[")
			for i := 0; dec.More(); i++ {
				if i > 0 {
					w.WriteString(", ")
				}
				if err := writeValue(dec, w, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			w.WriteString("]")
			return nil
		}
		return errors.New("unexpected delimiter")
	case string:
		w.WriteString(quote(v))
	case json.Number:
		w.WriteString(v.String())
	case bool:
		w.WriteString(strconv.FormatBool(v))
	case nil:
		w.WriteString("null")
	}
	return nil
}

// writeObject renders an object whose '{' was read: an Extended JSON value ({"$oid": …},
// {"$date": …}, …) as the shell shows it, anything else as {key: value, …}.
func writeObject(dec *json.Decoder, w *limited, depth int) error {
	w.WriteString("{")
	for i := 0; dec.More(); i++ {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		if i == 0 && strings.HasPrefix(k, "$") {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			if !dec.More() {
				if s, ok := extJSON(k, raw); ok {
					if _, err := dec.Token(); err != nil {
						return err
					}
					// Drop the "{" written above: a wrapper is a value, not a document.
					w.unwriteBrace()
					w.WriteString(s)
					return nil
				}
			}
			w.WriteString(renderKey(k))
			w.WriteString(": ")
			w.WriteString(renderJSON(raw, w.max-w.n+1))
			continue
		}
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(renderKey(k))
		w.WriteString(": ")
		if err := writeValue(dec, w, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	w.WriteString("}")
	if w.full() {
		return errFull
	}
	return nil
}

// unwriteBrace removes the "{" just written.
func (w *limited) unwriteBrace() {
	s := w.b.String()
	if strings.HasSuffix(s, "{") {
		w.b.Reset()
		w.b.WriteString(s[:len(s)-1])
		w.n--
	}
}

// extJSON renders one Extended JSON (v2, relaxed or canonical) wrapper as the shell shows
// the value; ok is false for anything else (query operators such as {$gt: 5}).
func extJSON(k string, raw json.RawMessage) (string, bool) {
	str := func() (string, bool) {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	}
	switch k {
	case "$oid":
		if s, ok := str(); ok {
			return `ObjectId(` + quote(s) + `)`, true
		}
	case "$numberLong", "$numberInt", "$numberDouble":
		if s, ok := str(); ok {
			return s, true
		}
	case "$numberDecimal":
		if s, ok := str(); ok {
			return `Decimal128(` + quote(s) + `)`, true
		}
	case "$date":
		return dateString(raw)
	case "$regularExpression":
		var re struct{ Pattern, Options string }
		if json.Unmarshal(raw, &re) == nil {
			return "/" + re.Pattern + "/" + re.Options, true
		}
	case "$timestamp":
		var ts struct{ T, I uint32 }
		if json.Unmarshal(raw, &ts) == nil {
			return "Timestamp(" + strconv.FormatUint(uint64(ts.T), 10) + ", " + strconv.FormatUint(uint64(ts.I), 10) + ")", true
		}
	case "$binary":
		var bin struct {
			Base64  string `json:"base64"`
			SubType string `json:"subType"`
		}
		if json.Unmarshal(raw, &bin) == nil && bin.Base64 != "" {
			return "BinData(" + strings.TrimLeft(bin.SubType, "0") + ", " + quote(bin.Base64) + ")", true
		}
	case "$minKey":
		return "MinKey", true
	case "$maxKey":
		return "MaxKey", true
	case "$undefined":
		return "undefined", true
	case "$symbol":
		if s, ok := str(); ok {
			return quote(s), true
		}
	case "$code":
		if s, ok := str(); ok {
			return "Code(" + quote(s) + ")", true
		}
	}
	return "", false
}

// dateString renders {"$date": "2026-…Z"}, {"$date": {"$numberLong": "ms"}} or
// {"$date": ms} as ISODate("…").
func dateString(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return `ISODate(` + quote(s) + `)`, true
	}
	var ms int64
	var long struct {
		N string `json:"$numberLong"`
	}
	switch {
	case json.Unmarshal(raw, &ms) == nil:
	case json.Unmarshal(raw, &long) == nil && long.N != "":
		n, err := strconv.ParseInt(long.N, 10, 64)
		if err != nil {
			return "", false
		}
		ms = n
	default:
		return "", false
	}
	t := time.UnixMilli(ms).UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return "Date(" + strconv.FormatInt(ms, 10) + ")", true
	}
	return `ISODate(` + quote(t.Format("2006-01-02T15:04:05.000Z")) + `)`, true
}
