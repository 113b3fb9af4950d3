package huaweiapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/currentop/currentop/internal/sim/deployment"
)

// operationText renders a session's command the way ListSessions' operation field carries it
// (shared/seeds/huawei-dds-ListSessions.txt): the command with the client's "$client" metadata,
// as text written by a Java JSON library — every number a double ("batchSize":101.0,
// "getMore":4.9473050217983027E18) and "=" escaped as "\=". So the demo exercises the same
// repairs the source needs for the real API.
func operationText(s deployment.Op) string {
	if len(s.Command) == 0 || !json.Valid(s.Command) {
		return string(s.Command)
	}
	var b bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(s.Command))
	dec.UseNumber()
	if err := javaValue(&b, dec, 0, clientMeta(s)); err != nil {
		return string(s.Command)
	}
	return b.String()
}

// clientMeta is the "$client" document, or nil when the session has no app or driver.
func clientMeta(s deployment.Op) map[string]any {
	if s.App == "" && s.Driver == "" {
		return nil
	}
	m := map[string]any{}
	if s.Driver != "" {
		name, version := s.Driver, ""
		if i := strings.LastIndexByte(s.Driver, ' '); i > 0 {
			name, version = s.Driver[:i], s.Driver[i+1:]
		}
		m["driver"] = map[string]any{"name": name, "version": version}
	}
	if s.App != "" {
		m["application"] = map[string]any{"name": s.App}
	}
	return m
}

// javaValue copies one JSON value from dec to b in the Java style; client is added as
// "$client" at the end of the top-level object.
func javaValue(b *bytes.Buffer, dec *json.Decoder, depth int, client map[string]any) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteByte('{')
			n := 0
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				if n > 0 {
					b.WriteByte(',')
				}
				n++
				javaString(b, key.(string))
				b.WriteByte(':')
				if err := javaValue(b, dec, depth+1, nil); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
			if depth == 0 && client != nil {
				if n > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"$client":`)
				enc, _ := json.Marshal(client)
				cd := json.NewDecoder(bytes.NewReader(enc))
				cd.UseNumber()
				if err := javaValue(b, cd, 1, nil); err != nil {
					return err
				}
			}
			b.WriteByte('}')
			return nil
		case '[':
			b.WriteByte('[')
			for n := 0; dec.More(); n++ {
				if n > 0 {
					b.WriteByte(',')
				}
				if err := javaValue(b, dec, depth+1, nil); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ']'
			b.WriteByte(']')
			return err
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return err
		}
		b.WriteString(javaDouble(f))
	case string:
		javaString(b, t)
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

func javaString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(bytes.ReplaceAll(enc, []byte("="), []byte(`\=`)))
}

// javaDouble formats f in the shape of Java's Double.toString: plain with at least one decimal
// for 1e-3 <= |f| < 1e7, otherwise computerized scientific notation ("4.947305021798303E18";
// the digits are Go's shortest, which older Java versions sometimes extend by one).
func javaDouble(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 4.9473050217983027E+18
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "E" + exp
}
