package source

import (
	"bytes"
	"strings"
)

// FingerprintMax bounds a fingerprint's shape, in bytes: a shape is a group's key, and a
// hostile command must not make every key megabytes long.
const FingerprintMax = 512

// Fingerprint is a session's query shape as readable text: the command's name (else the op),
// the namespace, and the structure of its filter, pipeline or update with every literal
// replaced by "?", field order kept and $in/$nin/$all lists collapsed to [?]:
//
//	find shop.orders {status: ?, qty: {$gt: ?}}
//
// It is computed from Session.Command (relaxed Extended JSON, a JSON string for text a
// server truncated or a provider sent), or from Summary when the command was sent lean.
// Servers from 8.0 report a queryShapeHash, but the lean projection does not carry it and a
// hash is no text to show; the shape computed here groups the same operations.
func Fingerprint(s *Session) string {
	return string(appendFingerprint(nil, s))
}

// appendFingerprint appends s's fingerprint to b (GroupSessions reuses one buffer).
func appendFingerprint(b []byte, s *Session) []byte {
	name := s.CommandName
	if name == "" {
		name = s.Op
	}
	b = append(b, Clean(name)...)
	if s.NS != "" {
		b = append(b, ' ')
		b = append(b, Clean(s.NS)...)
	}
	start := len(b) + 1
	b = append(b, ' ')
	b = appendShape(b, s)
	if len(b) == start {
		b = b[:start-1]
	}
	if len(b) > start+FingerprintMax {
		b = append(b[:start+FingerprintMax], "…"...)
	}
	return b
}

// appendShape appends the shape of the session's query, nothing when it has none.
func appendShape(b []byte, s *Session) []byte {
	cmd := bytes.TrimSpace(s.Command)
	if len(cmd) > 0 && cmd[0] == '{' {
		n := len(b)
		b, ok := commandShape(b, cmd)
		if ok && len(b) > n {
			return b
		}
		b = b[:n]
	}
	if len(cmd) > 0 && cmd[0] == '"' {
		if text, ok := unquote(cmd); ok {
			if t := bytes.TrimSpace(text); len(t) > 0 && t[0] == '{' && validObject(t) {
				return appendShape(b, &Session{Command: t})
			}
			return textShape(b, text)
		}
	}
	return textShape(b, []byte(s.Summary))
}

// shapeFields are the command fields that make a query's shape, in the order shown; the
// labelled ones are shown after the first with their name.
var shapeFields = []string{"filter", "q", "query", "pipeline", "updates", "deletes", "u", "update", "key", "sort"}

// shapeField is k's index in shapeFields, -1 when it is none (a switch: this runs for every
// field of every command grouped).
func shapeField(k string) int {
	switch k {
	case "filter":
		return 0
	case "q":
		return 1
	case "query":
		return 2
	case "pipeline":
		return 3
	case "updates":
		return 4
	case "deletes":
		return 5
	case "u":
		return 6
	case "update":
		return 7
	case "key":
		return 8
	case "sort":
		return 9
	}
	return -1
}

// commandShape appends the shape of a command document's query fields. ok is false when the
// document cannot be read (it is then shaped as text).
func commandShape(b []byte, cmd []byte) ([]byte, bool) {
	spans := make([][]byte, len(shapeFields))
	first := true
	err := eachField(cmd, func(k, v []byte) {
		if first {
			// The command's own field (find: "orders", getMore: cursorId) is its name and
			// namespace, said already; an update statement in $currentOp starts with q.
			first = false
			if string(k) != "q" {
				return
			}
		}
		if i := shapeField(string(k)); i >= 0 && spans[i] == nil {
			spans[i] = v
		}
	})
	if err {
		return b, false
	}
	if first { // {}
		return b, true
	}
	if v, ok := truncatedText(cmd); ok {
		return textShape(b, v), true
	}
	n := len(b)
	for i, v := range spans {
		if v == nil || string(v) == "null" || string(v) == `"…"` {
			continue // "…": a lean command's value that was not sent (the summary has it)
		}
		if len(b) > n {
			b = append(b, ' ')
		}
		if f := shapeFields[i]; i >= 6 || (len(b) > n && i >= 3) {
			b = append(b, f...)
			b = append(b, ": "...)
		}
		var sc scanner
		sc.src, sc.out = v, b
		if !sc.value(0, shapeFields[i] == "sort" || shapeFields[i] == "key") {
			return b[:n], false
		}
		b = sc.out
	}
	return b, true
}

// truncatedText is the text of {"$truncated": "…"}, as servers replace long commands.
func truncatedText(cmd []byte) ([]byte, bool) {
	var text []byte
	var found bool
	bad := eachField(cmd, func(k, v []byte) {
		if string(k) == "$truncated" && len(v) > 0 && v[0] == '"' {
			text, found = unquote(v)
		}
	})
	return text, found && !bad
}

// eachField calls fn with each top-level field of a JSON object, its name unquoted and its
// value raw. It reports whether the object was malformed.
func eachField(obj []byte, fn func(k, v []byte)) (bad bool) {
	sc := scanner{src: obj}
	sc.ws()
	if !sc.eat('{') {
		return true
	}
	sc.ws()
	if sc.eat('}') {
		return false
	}
	for {
		sc.ws()
		k, ok := sc.str()
		if !ok {
			return true
		}
		sc.ws()
		if !sc.eat(':') {
			return true
		}
		sc.ws()
		start := sc.i
		if !sc.skip(0) {
			return true
		}
		fn(k, obj[start:sc.i])
		sc.ws()
		if sc.eat('}') {
			return false
		}
		if !sc.eat(',') {
			return true
		}
	}
}

// validObject reports a well-formed JSON object (bounded depth).
func validObject(b []byte) bool {
	sc := scanner{src: b}
	sc.ws()
	if !sc.skip(0) {
		return false
	}
	sc.ws()
	return sc.i == len(b)
}

// unquote is a JSON string's contents; escapes other than \" and \\ are kept as written
// (shapes and names need no more).
func unquote(v []byte) ([]byte, bool) {
	sc := scanner{src: v}
	s, ok := sc.str()
	if !ok {
		return nil, false
	}
	if bytes.IndexByte(s, '\\') < 0 {
		return s, true
	}
	r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, " ", `\t`, " ", `\r`, " ")
	return []byte(r.Replace(string(s))), true
}

// textShape appends the shape of a command shown as text (shell syntax, possibly cut):
// quoted strings that are not field names, and numbers, become "?"; white space collapses.
func textShape(b []byte, text []byte) []byte {
	if len(text) > 4*FingerprintMax {
		text = text[:4*FingerprintMax]
	}
	space := false
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			space = true
			i++
			continue
		case c == '"' || c == '\'':
			end := i + 1
			for end < len(text) && text[end] != c {
				if text[end] == '\\' {
					end++
				}
				end++
			}
			lit := text[i:min(end+1, len(text))]
			j := end + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			b = sep(b, space)
			if j < len(text) && text[j] == ':' || len(lit) > 1 && lit[1] == '$' {
				b = append(b, Clean(string(lit))...)
			} else {
				b = append(b, '?')
			}
			i = end + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(text) && (text[j] >= '0' && text[j] <= '9' || strings.IndexByte(".eE+-", text[j]) >= 0) {
				j++
			}
			b = append(sep(b, space), '?')
			i = j
		case isWordByte(c):
			j := i
			for j < len(text) && (isWordByte(text[j]) || text[j] >= '0' && text[j] <= '9' || text[j] == '.') {
				j++
			}
			b = append(sep(b, space), Clean(string(text[i:j]))...)
			i = j
		default:
			if c >= 0x80 { // part of "…" or other text: keep it whole
				j := i + 1
				for j < len(text) && text[j] >= 0x80 {
					j++
				}
				b = append(sep(b, space), Clean(string(text[i:j]))...)
				i = j
			} else {
				if c >= 0x20 && c != 0x7f {
					b = append(sep(b, space && c != ',' && c != ':' && c != '}' && c != ']'), c)
				}
				i++
			}
		}
		space = false
		if len(b) > 2*FingerprintMax {
			break
		}
	}
	if bytes.HasSuffix(text, []byte("…")) && !bytes.HasSuffix(b, []byte("…")) {
		b = append(b, "…"...)
	}
	return b
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// sep writes one space before a token that followed white space (not at the start, nor after
// an opening bracket).
func sep(b []byte, space bool) []byte {
	if space && len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '{', '[', '(':
		default:
			b = append(b, ' ')
		}
	}
	return b
}
