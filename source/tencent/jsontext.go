package tencent

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/currentop/currentop/source"
)

// jsonText turns the API's statement text into Session.Command: the text itself when it is
// valid JSON (compacted, and escaped so it is safe on a terminal), else the text as a JSON
// string. Text longer than maxCommand is cut and kept as a string.
func jsonText(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	if len(s) <= maxCommand && json.Valid([]byte(s)) {
		var b bytes.Buffer
		if json.Compact(&b, []byte(s)) == nil {
			return safeJSON(b.Bytes())
		}
	}
	if len(s) > maxCommand {
		s = s[:maxCommand] + "…"
	}
	b, _ := json.Marshal(s) // never fails for a string; invalid UTF-8 becomes U+FFFD
	return safeJSON(b)
}

// safeJSON escapes, inside valid JSON, every character a terminal could act on: C0 and C1
// controls, DEL, invisible characters (source.Invisible: bidi overrides, zero-width characters,
// U+2028/2029), plus invalid UTF-8 (as U+FFFD).
// Outside strings valid JSON holds only ASCII, so escaping rune by rune keeps it valid.
func safeJSON(b []byte) json.RawMessage {
	clean := true
	for i := 0; i < len(b); i++ {
		if c := b[i]; c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return json.RawMessage(b)
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(out, `\u007f`...)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, `\ufffd`...)
		case (r >= 0x80 && r < 0xa0) || source.Invisible(r):
			out = append(out, `\u`...)
			h := strconv.FormatInt(int64(r), 16)
			for k := len(h); k < 4; k++ {
				out = append(out, '0')
			}
			out = append(out, h...)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return json.RawMessage(out)
}

// rawOp is the whole CurrentOp as the API sent it, for the detail view: Query and Operation
// are embedded as JSON when they are JSON. OpId is written as a number, exactly.
func rawOp(op *currentOp) json.RawMessage {
	type field struct {
		k string
		v json.RawMessage
	}
	str := func(p *string) json.RawMessage {
		if p == nil {
			return nil
		}
		b, _ := json.Marshal(*p)
		return b
	}
	var fields []field
	add := func(k string, v json.RawMessage) {
		if v != nil {
			fields = append(fields, field{k, v})
		}
	}
	if op.OpId != nil {
		add("OpId", json.RawMessage(strconv.FormatInt(*op.OpId, 10)))
	}
	add("ReplicaSetName", str(op.ReplicaSetName))
	add("NodeName", str(op.NodeName))
	add("State", str(op.State))
	add("Op", str(op.Op))
	add("Ns", str(op.Ns))
	if op.MicrosecsRunning != nil {
		add("MicrosecsRunning", json.RawMessage(strconv.FormatUint(*op.MicrosecsRunning, 10)))
	}
	if op.Query != nil {
		add("Query", jsonText(*op.Query))
	}
	if op.Operation != nil {
		add("Operation", jsonText(*op.Operation))
	}
	add("ExecNode", str(op.ExecNode))
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		if len(f.v) == 0 {
			b.WriteString(`""`)
		} else {
			b.Write(f.v)
		}
	}
	b.WriteByte('}')
	return safeJSON(b.Bytes())
}
