package source

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// termSpec is a compact expectation for one parsed term.
type termSpec struct {
	field string
	kind  TermKind
	value string // Contains: lower-cased needle; Equals: as typed; Regex: the compiled pattern
	cmp   string
	dur   time.Duration
	not   bool
}

func specOf(t Term) termSpec {
	s := termSpec{field: t.Field, kind: t.Kind, cmp: t.Cmp, dur: t.Dur, not: t.Not}
	switch t.Kind {
	case Contains, Equals:
		s.value = t.Value
	case Regex:
		s.value = t.Re.String()
	}
	return s
}

func TestParseFilter(t *testing.T) {
	cases := []struct {
		in   string
		want []termSpec
	}{
		{"", nil},
		{"   \t ", nil},
		{"orders", []termSpec{{kind: Contains, value: "orders"}}},
		{"Orders  API", []termSpec{{kind: Contains, value: "orders"}, {kind: Contains, value: "api"}}},
		{`"orders api"`, []termSpec{{kind: Contains, value: "orders api"}}},
		{`"say \"hi\" \\ \n"`, []termSpec{{kind: Contains, value: `say "hi" \ \n`}}},
		{"op:getmore", []termSpec{{field: "op", kind: Contains, value: "getmore"}}},
		{"OP:GetMore", []termSpec{{field: "op", kind: Contains, value: "getmore"}}},
		{`app:"orders api"`, []termSpec{{field: "app", kind: Contains, value: "orders api"}}},
		{"app:", nil}, // still typing: no term yet
		{"ns:shop app:", []termSpec{{field: "ns", kind: Contains, value: "shop"}}},
		{`app=""`, []termSpec{{field: "app", kind: Equals, value: ""}}},
		{"planSummary:COLLSCAN", []termSpec{{field: "plan", kind: Contains, value: "collscan"}}},
		{"application:x appName:y ip:10.0 namespace:shop opid:12", []termSpec{
			{field: "app", kind: Contains, value: "x"}, {field: "app", kind: Contains, value: "y"},
			{field: "client", kind: Contains, value: "10.0"}, {field: "ns", kind: Contains, value: "shop"},
			{field: "id", kind: Contains, value: "12"}}},
		{"client:10.0.0.1:5000", []termSpec{{field: "client", kind: Contains, value: "10.0.0.1:5000"}}},
		{"10.0.0.1:5000", []termSpec{{kind: Contains, value: "10.0.0.1:5000"}}},
		{"[::1]:27017", []termSpec{{kind: Contains, value: "[::1]:27017"}}},
		{"ns:/^shop\\./", []termSpec{{field: "ns", kind: Regex, value: `(?i)^shop\.`}}},
		{"/coll$/", []termSpec{{kind: Regex, value: `(?i)coll$`}}},
		{`/a\/b/`, []termSpec{{kind: Regex, value: `(?i)a/b`}}},
		{"app=Orders-API", []termSpec{{field: "app", kind: Equals, value: "Orders-API"}}},
		{`app="a.b c"`, []termSpec{{field: "app", kind: Equals, value: "a.b c"}}},
		{`-op=Query`, []termSpec{{field: "op", kind: Equals, value: "Query", not: true}}},
		{"running>5s", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 5 * time.Second}}},
		{"running>=1.5s", []termSpec{{field: "running", kind: Compare, cmp: ">=", dur: 1500 * time.Millisecond}}},
		{"running<200ms", []termSpec{{field: "running", kind: Compare, cmp: "<", dur: 200 * time.Millisecond}}},
		{"running<=2m", []termSpec{{field: "running", kind: Compare, cmp: "<=", dur: 2 * time.Minute}}},
		{"running>5", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 5 * time.Second}}},
		{"running>0.25", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 250 * time.Millisecond}}},
		{"running=1h30m", []termSpec{{field: "running", kind: Compare, cmp: "=", dur: 90 * time.Minute}}},
		{"running>500us", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 500 * time.Microsecond}}},
		{"-op:getmore", []termSpec{{field: "op", kind: Contains, value: "getmore", not: true}}},
		{"!app:mongosh", []termSpec{{field: "app", kind: Contains, value: "mongosh", not: true}}},
		{"-running>1s", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: time.Second, not: true}}},
		{"-/hello/", []termSpec{{kind: Regex, value: "(?i)hello", not: true}}},
		{`!"idle conn"`, []termSpec{{kind: Contains, value: "idle conn", not: true}}},
		{"--x", []termSpec{{kind: Contains, value: "-x", not: true}}},
		{"op:query -", []termSpec{{field: "op", kind: Contains, value: "query"}}},
		{"!", nil},
		{"orders-api", []termSpec{{kind: Contains, value: "orders-api"}}},
		{"op:query running>1s", []termSpec{{field: "op", kind: Contains, value: "query"}, {field: "running", kind: Compare, cmp: ">", dur: time.Second}}},
		{"ÄPP", []termSpec{{kind: Contains, value: "äpp"}}},
		// Units are case-insensitive, like field names; "m" stays minutes, "ms" milliseconds.
		{"RUNNING>5S", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 5 * time.Second}}},
		{"running>5Ms", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 5 * time.Millisecond}}},
		{"Running>=2M", []termSpec{{field: "running", kind: Compare, cmp: ">=", dur: 2 * time.Minute}}},
		{"running<1H30M", []termSpec{{field: "running", kind: Compare, cmp: "<", dur: 90 * time.Minute}}},
		{"running>500US", []termSpec{{field: "running", kind: Compare, cmp: ">", dur: 500 * time.Microsecond}}},
		{"command:aggregate", []termSpec{{field: "command", kind: Contains, value: "aggregate"}}},
		{"CMD=createIndexes", []termSpec{{field: "command", kind: Equals, value: "createIndexes"}}},
		{`summary:"$match"`, []termSpec{{field: "summary", kind: Contains, value: "$match"}}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			f, err := ParseFilter(tc.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.in, err)
			}
			if len(f.Terms) != len(tc.want) {
				t.Fatalf("ParseFilter(%q) = %d terms %+v, want %d", tc.in, len(f.Terms), f.Terms, len(tc.want))
			}
			for i, term := range f.Terms {
				if got := specOf(term); got != tc.want[i] {
					t.Errorf("term %d = %+v, want %+v", i, got, tc.want[i])
				}
			}
			if len(tc.want) == 0 && (f.Text != "" || !f.Empty()) {
				t.Errorf("blank filter is not the zero Filter: %+v", f)
			}
			if len(tc.want) > 0 && f.Text != tc.in {
				t.Errorf("Text = %q, want %q", f.Text, tc.in)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	cases := []struct {
		in   string
		pos  int
		msgs []string // substrings of the message
	}{
		{"nss:shop", 0, []string{`unknown field "nss"`, `did you mean "ns"`, "fields: id, type, op, ns"}},
		{"op:query bogus:1", 9, []string{`unknown field "bogus"`, "double quotes"}},
		{"localhost:27017", 0, []string{`unknown field "localhost"`, `put it in double quotes`}},
		{"xyz>5", 0, []string{`unknown field "xyz"`}},
		{`app:"orders`, 4, []string{"unterminated quote", `closing "`}},
		{`"abc`, 0, []string{"unterminated quote"}},
		{"ns:/shop", 3, []string{"unterminated regular expression", "closing /"}},
		{`/a\/`, 0, []string{"unterminated regular expression"}},
		{"/a(b/", 0, []string{"invalid regular expression /a(b/", "missing closing )"}},
		{"ns:/[z-a]/", 3, []string{"invalid regular expression", "invalid character class range"}},
		{"running>5x", 8, []string{`invalid duration "5x"`, "5s"}},
		{"RUNNING>5X", 8, []string{`invalid duration "5X"`}},
		{"running>5sx", 8, []string{`invalid duration "5sx"`}},
		{"command>5", 7, []string{"only running can be compared"}},
		{"running>", 8, []string{"missing duration"}},
		{"running>-5s", 8, []string{"invalid duration"}},
		{"running>1e3", 8, []string{"invalid duration"}},
		{"running:5s", 7, []string{"running is compared, not searched", "running>5s"}},
		{"op>5", 2, []string{"only running can be compared with >", "op:text"}},
		{`app:"x"y`, 7, []string{`unexpected "y"`, "space"}},
		{`/x/y`, 3, []string{`unexpected "y"`}},
		{"éé nss:x", 5, []string{`unknown field "nss"`}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			f, err := ParseFilter(tc.in)
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %+v, want an error", tc.in, f)
			}
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FilterError", err)
			}
			if fe.Pos != tc.pos {
				t.Errorf("Pos = %d, want %d (%v)", fe.Pos, tc.pos, err)
			}
			for _, m := range tc.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "column ") {
				t.Errorf("error %q does not say where", err)
			}
		})
	}
	// Columns count characters, not bytes.
	_, err := ParseFilter("éé nss:x")
	var fe *FilterError
	if errors.As(err, &fe) && fe.Col != 4 {
		t.Errorf("Col = %d, want 4", fe.Col)
	}
}

func TestFilterStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		`op:query running>1.5s -app:mongosh "two words" /a\/b/ app="x y" ns:/^shop\./ !"q\"uote\\" running<=200ms`,
		`--x client:10.0.0.1:5000 id:"" -running=1h0m0s`,
	} {
		f, err := ParseFilter(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseFilter(f.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", f.String(), err)
		}
		if len(again.Terms) != len(f.Terms) {
			t.Fatalf("round trip %q -> %q changed the term count", in, f.String())
		}
		for i := range f.Terms {
			if specOf(f.Terms[i]) != specOf(again.Terms[i]) {
				t.Errorf("term %d: %+v became %+v via %q", i, specOf(f.Terms[i]), specOf(again.Terms[i]), f.String())
			}
		}
	}
}

// FuzzParseFilter: ParseFilter never panics, errors are *FilterError pointing inside the text,
// and a parsed filter renders (String) to text that parses back to the same terms.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "orders", `"a b"`, "op:query running>1s -app:mongosh", "ns:/^shop\\./", `/a\/b/`,
		"app=Orders-API", "running>=1.5", "!plan:COLLSCAN", "nss:x", `app:"x`, "running>5x", "--x",
		"client:[::1]:5000", `"\\\""`, "é:x", "running<200ms desc:conn1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		filt, err := ParseFilter(text)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FilterError", err)
			}
			if fe.Pos < 0 || fe.Pos > len(text) || fe.Msg == "" || fe.Col < 1 {
				t.Fatalf("bad error position/message: %+v for %q", fe, text)
			}
			return
		}
		s := &Session{ID: "1", Op: text, NS: "shop.orders", RunningUS: 1500000}
		_ = filt.Match(s)
		_ = filt.MatchClient(&Client{IP: text, Apps: []string{text}})
		again, err := ParseFilter(filt.String())
		if err != nil {
			t.Fatalf("%q rendered as %q which does not parse: %v", text, filt.String(), err)
		}
		if len(again.Terms) != len(filt.Terms) {
			t.Fatalf("%q rendered as %q: %d terms became %d", text, filt.String(), len(filt.Terms), len(again.Terms))
		}
		for i := range filt.Terms {
			a, b := specOf(filt.Terms[i]), specOf(again.Terms[i])
			if a.kind == Contains {
				a.value, b.value = strings.ToLower(a.value), strings.ToLower(b.value)
			}
			if a != b {
				t.Fatalf("%q rendered as %q: term %d %+v became %+v", text, filt.String(), i, a, b)
			}
			if filt.Match(s) != again.Match(s) {
				t.Fatalf("%q and its rendering %q match differently", text, filt.String())
			}
		}
	})
}
