package source

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// FilterError is a filter the user typed that cannot be understood. Pos and Len locate the
// offending text (byte offsets into the filter text) so a UI can underline it.
type FilterError struct {
	Pos int
	Len int
	Msg string // plain words, e.g. `unknown field "nss"`
	// Col is the 1-based character column of Pos, for messages.
	Col int
}

func (e *FilterError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// fieldAliases maps accepted spellings (lower case) to the canonical FilterFields name.
var fieldAliases = map[string]string{
	"plansummary": "plan",
	"application": "app",
	"appname":     "app",
	"ip":          "client",
	"namespace":   "ns",
	"opid":        "id",
	"cmd":         "command",
}

// canonicalField returns the FilterFields name for a typed field name (case-insensitive).
func canonicalField(name string) (string, bool) {
	l := strings.ToLower(name)
	for _, f := range FilterFields {
		if f == l {
			return f, true
		}
	}
	f, ok := fieldAliases[l]
	return f, ok
}

// ParseFilter parses the filter language the user types in the filter bar:
//
//	orders                  free text: any column contains "orders" (case-insensitive)
//	"orders api"            quoted text may contain spaces
//	app:orders              one column contains the text (fields: FilterFields, plus the
//	                        aliases planSummary, application, appName, ip, namespace, opid, cmd;
//	                        field names are case-insensitive)
//	app=orders-api          one column equals the text (case-insensitive)
//	ns:/^shop\./  /coll$/   regular expressions (case-insensitive), on one or any column
//	running>5s              running time comparisons: > >= < <= =, with us, ms, s, m, h
//	                        (units case-insensitive: RUNNING>5S, running>200Ms)
//	running>=1.5  running<200ms   a bare number is seconds
//	-op:getmore  !app:mongosh     a leading - or ! negates a term
//
// Terms are separated by spaces and must all match. Empty or blank text gives the zero
// Filter, which matches everything. A lone "-" or "!" and a field with no value yet ("ns:",
// as when the user is still typing) are ignored. Errors are *FilterError and say what is wrong and where.
func ParseFilter(text string) (Filter, error) {
	p := parser{text: text}
	var terms []Term
	for {
		p.skipSpace()
		if p.i >= len(p.text) {
			break
		}
		t, ok, err := p.term()
		if err != nil {
			return Filter{}, err
		}
		if ok {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return Filter{}, nil
	}
	return Filter{Text: text, Terms: terms}, nil
}

type parser struct {
	text string
	i    int
}

func (p *parser) errAt(pos, n int, format string, args ...any) *FilterError {
	if pos > len(p.text) {
		pos = len(p.text)
	}
	if n < 1 {
		n = 1
	}
	return &FilterError{Pos: pos, Len: n, Col: utf8.RuneCountInString(p.text[:pos]) + 1, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (p *parser) skipSpace() {
	for p.i < len(p.text) && isSpace(p.text[p.i]) {
		p.i++
	}
}

func (p *parser) atEndOfTerm() bool { return p.i >= len(p.text) || isSpace(p.text[p.i]) }

// term parses one term at p.i (not at a space). ok is false for a lone negation sign.
func (p *parser) term() (t Term, ok bool, err error) {
	start := p.i
	if c := p.text[p.i]; c == '-' || c == '!' {
		p.i++
		if p.atEndOfTerm() {
			return Term{}, false, nil // still typing
		}
		t.Not = true
	}
	switch p.text[p.i] {
	case '"':
		v, err := p.quoted()
		if err != nil {
			return Term{}, false, err
		}
		if err := p.endOfTerm(start); err != nil {
			return Term{}, false, err
		}
		t.Kind, t.Value = Contains, strings.ToLower(v)
		return t, true, nil
	case '/':
		re, err := p.regex("")
		if err != nil {
			return Term{}, false, err
		}
		if err := p.endOfTerm(start); err != nil {
			return Term{}, false, err
		}
		t.Kind, t.Re = Regex, re
		return t, true, nil
	}
	// field<op>value?
	j := p.i
	for j < len(p.text) && isIdentByte(p.text[j], j == p.i) {
		j++
	}
	if j > p.i && j < len(p.text) && strings.IndexByte(":=<>", p.text[j]) >= 0 {
		return p.fieldTerm(t, p.i, j)
	}
	// Plain word: free text up to the next space.
	for !p.atEndOfTerm() {
		p.i++
	}
	t.Kind, t.Value = Contains, strings.ToLower(p.text[start+boolInt(t.Not):p.i])
	return t, true, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isIdentByte(c byte, first bool) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || (!first && c >= '0' && c <= '9')
}

// endOfTerm checks that the term that began at start ends here (a closing quote or slash
// must be followed by a space or the end).
func (p *parser) endOfTerm(start int) error {
	if p.atEndOfTerm() {
		return nil
	}
	return p.errAt(p.i, 1, "unexpected %q after %s (separate terms with a space)", p.text[p.i:p.i+1], p.text[start:p.i])
}

func (p *parser) fieldTerm(t Term, nameStart, nameEnd int) (Term, bool, error) {
	name := p.text[nameStart:nameEnd]
	field, ok := canonicalField(name)
	if !ok {
		msg := fmt.Sprintf("unknown field %q (fields: %s)", name, strings.Join(FilterFields, ", "))
		if s := suggestField(name); s != "" {
			msg = fmt.Sprintf("unknown field %q: did you mean %q? (fields: %s)", name, s, strings.Join(FilterFields, ", "))
		}
		if p.text[nameEnd] == ':' {
			msg += `; to search for text containing ":" put it in double quotes`
		}
		return Term{}, false, p.errAt(nameStart, nameEnd-nameStart, "%s", msg)
	}
	t.Field = field
	p.i = nameEnd
	opStart := p.i
	op := p.text[p.i : p.i+1]
	p.i++
	if p.i < len(p.text) && p.text[p.i] == '=' && (op == ">" || op == "<" || op == "=") {
		if op != "=" {
			op += "="
		}
		p.i++
	}
	if field == "running" {
		if op == ":" {
			return Term{}, false, p.errAt(opStart, 1, "running is compared, not searched: write running>5s, running>=1.5s or running<200ms")
		}
		d, err := p.duration()
		if err != nil {
			return Term{}, false, err
		}
		t.Kind, t.Cmp, t.Dur = Compare, op, d
		return t, true, nil
	}
	if op != ":" && op != "=" {
		return Term{}, false, p.errAt(opStart, len(op), "only running can be compared with %s; use %s:text or %s=text", op, field, field)
	}
	// The value: quoted, a /regex/, or a word.
	var val string
	switch {
	case p.i < len(p.text) && p.text[p.i] == '"':
		v, err := p.quoted()
		if err != nil {
			return Term{}, false, err
		}
		if err := p.endOfTerm(nameStart); err != nil {
			return Term{}, false, err
		}
		val = v
	case p.i < len(p.text) && p.text[p.i] == '/':
		re, err := p.regex(field)
		if err != nil {
			return Term{}, false, err
		}
		if err := p.endOfTerm(nameStart); err != nil {
			return Term{}, false, err
		}
		t.Kind, t.Re = Regex, re
		return t, true, nil
	default:
		s := p.i
		for !p.atEndOfTerm() {
			p.i++
		}
		val = p.text[s:p.i]
		if val == "" {
			// "ns:" is a term still being typed, not "ns contains nothing" (which matches
			// everything); write ns="" for an empty value.
			return Term{}, false, nil
		}
	}
	if op == "=" {
		t.Kind, t.Value = Equals, val
		return t, true, nil
	}
	t.Kind, t.Value = Contains, strings.ToLower(val)
	return t, true, nil
}

// quoted reads a double-quoted string at p.i; \" and \\ are escapes.
func (p *parser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.text) {
		c := p.text[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.text) && (p.text[p.i+1] == '"' || p.text[p.i+1] == '\\'):
			b.WriteByte(p.text[p.i+1])
			p.i += 2
		case c == '"':
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errAt(start, len(p.text)-start, "unterminated quote: add a closing \"")
}

// regex reads /pattern/ at p.i and compiles it case-insensitive; \/ stands for a slash.
func (p *parser) regex(field string) (*regexp.Regexp, error) {
	start := p.i
	p.i++ // opening slash
	var b strings.Builder
	for p.i < len(p.text) {
		c := p.text[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.text):
			if p.text[p.i+1] == '/' {
				b.WriteByte('/')
			} else {
				b.WriteByte(c)
				b.WriteByte(p.text[p.i+1])
			}
			p.i += 2
		case c == '/':
			p.i++
			re, err := regexp.Compile("(?i)" + b.String())
			if err != nil {
				return nil, p.errAt(start, p.i-start, "invalid regular expression %s: %s", p.text[start:p.i], reason(err))
			}
			return re, nil
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return nil, p.errAt(start, len(p.text)-start, "unterminated regular expression: add a closing /")
}

// reason says what is wrong with a pattern, without Go's "error parsing regexp" prefix.
func reason(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s: %s", se.Code, se.Expr)
	}
	return err.Error()
}

// duration reads the comparison value of running: a Go duration (5s, 1.5s, 200ms, 2m, 1h30m,
// µs/us) or a bare number of seconds.
func (p *parser) duration() (time.Duration, error) {
	start := p.i
	for !p.atEndOfTerm() {
		p.i++
	}
	s := p.text[start:p.i]
	if s == "" {
		return 0, p.errAt(start, 1, "missing duration after running comparison (e.g. running>5s)")
	}
	bad := func() (time.Duration, error) {
		return 0, p.errAt(start, len(s), "invalid duration %q (use e.g. 5s, 1.5s, 200ms, 2m, or a number of seconds)", s)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && isDecimal(s) {
		if f < 0 || f > (1<<63-1)/1e9 {
			return bad()
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return bad()
	}
	// Units are case-insensitive ("5S", "200Ms"); "m" is minutes, "ms" milliseconds either way.
	d, err := time.ParseDuration(strings.ToLower(s))
	if err != nil || d < 0 {
		return bad()
	}
	return d, nil
}

// isDecimal reports whether s is a plain decimal number (no sign, exponent, hex, inf or nan).
func isDecimal(s string) bool {
	dot := false
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// suggestField returns the field name closest to a mistyped one (edit distance ≤ 2).
func suggestField(name string) string {
	name = strings.ToLower(name)
	best, bestD := "", 3
	try := func(cand, canon string) {
		if d := editDistance(name, cand); d < bestD {
			best, bestD = canon, d
		}
	}
	for _, f := range FilterFields {
		try(f, f)
	}
	for a, f := range fieldAliases {
		try(a, f)
	}
	if bestD >= min(3, len(name)) {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 32 || len(b) > 32 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// String renders the filter's terms in the filter language, canonically: parsing the result
// gives the same terms.
func (f Filter) String() string {
	var b strings.Builder
	for i, t := range f.Terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// String renders one term in the filter language.
func (t Term) String() string {
	var b strings.Builder
	if t.Not {
		b.WriteByte('-')
	}
	if t.Field != "" {
		b.WriteString(t.Field)
	}
	switch t.Kind {
	case Compare:
		b.WriteString(t.Cmp)
		b.WriteString(t.Dur.String())
	case Regex:
		if t.Field != "" {
			b.WriteByte(':')
		}
		b.WriteByte('/')
		pat := ""
		if t.Re != nil {
			pat = strings.TrimPrefix(t.Re.String(), "(?i)")
		}
		for i := 0; i < len(pat); i++ {
			switch c := pat[i]; {
			case c == '\\' && i+1 < len(pat):
				b.WriteByte(c)
				b.WriteByte(pat[i+1])
				i++
			case c == '/':
				b.WriteString(`\/`)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('/')
	default:
		if t.Kind == Equals {
			b.WriteByte('=')
		} else if t.Field != "" {
			b.WriteByte(':')
		}
		b.WriteByte('"')
		for i := 0; i < len(t.Value); i++ {
			if c := t.Value[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(t.Value[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}
