package source

import (
	"regexp"
	"strings"
	"testing"
)

func TestLiteral(t *testing.T) {
	for _, tc := range []struct {
		filter  string
		value   string
		anyCase bool
		ok      bool
	}{
		{"op=query", "query", true, true},
		{"op=Query", "Query", true, true}, // as typed
		{"-op=query", "query", true, true},
		{"ns=1.2", "1.2", false, true}, // nothing that changes case
		{`app=""`, "", false, true},
		{`ns:/(?-i)^shop\.orders$/`, "shop.orders", false, true},
		{`ns:/^1\.2$/`, "1.2", false, true},
		{`op:/^query$/`, "QUERY", true, true}, // one spelling of a case-folded pattern
		{`ns:/^shop\.(orders|carts)$/`, "", false, false},
		{`ns:/^shop\.orders/`, "", false, false},
		{`ns:/shop\.orders$/`, "", false, false},
		{"ns:/^$/", "", false, false},
		{"op:query", "", false, false},
		{"query", "", false, false},
		{"running>1s", "", false, false},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil || len(f.Terms) != 1 {
			t.Fatalf("ParseFilter(%q) = %+v, %v", tc.filter, f, err)
		}
		value, anyCase, ok := f.Terms[0].Literal()
		if value != tc.value || anyCase != tc.anyCase || ok != tc.ok {
			t.Errorf("Literal of %q = %q, %v, %v; want %q, %v, %v", tc.filter, value, anyCase, ok, tc.value, tc.anyCase, tc.ok)
		}
	}
}

func TestLiteralIn(t *testing.T) {
	vocab := []string{"primary", "secondary", "Primary2", "rs_A", "rs_a"}
	for _, tc := range []struct {
		filter, want string
		ok           bool
	}{
		{"desc=PRIMARY", "primary", true},
		{"desc=primary2", "Primary2", true},
		{"desc=prim", "", false},
		{"desc:primary", "", false},           // a substring is not a literal
		{"shard=rs_a", "", false},             // two words differ in case alone
		{"shard:/(?-i)^rs_a$/", "rs_a", true}, // a case-sensitive pattern tells them apart
		{"shard:/(?-i)^RS_A$/", "", false},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.Terms[0].LiteralIn(vocab)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LiteralIn(%q) = %q, %v; want %q, %v", tc.filter, got, ok, tc.want, tc.ok)
		}
	}
}

// field=value matches what its former compilation, the pattern (?i)^value$, matched: the same
// simple case folding, including letters whose fold orbit leaves ASCII.
func TestEqualsMatchesLikeAnchoredPattern(t *testing.T) {
	values := []string{"", "orders-api", "ORDERS-API", "Kelvin", "\u212aelvin", "straße", "STRASSE", "ǅ", "ǆ", "Ǆ", "a.b", "axb", "x\xffy", "x\uFFFDy", "σ", "ς", "Σ"}
	for _, v := range values {
		f, err := ParseFilter(`app="` + strings.ReplaceAll(v, `"`, `\"`) + `"`)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile("(?i)^" + regexp.QuoteMeta(strings.ToValidUTF8(v, "\uFFFD")) + "$")
		for _, app := range values {
			s := &Session{App: app}
			if got, want := f.Match(s), re.MatchString(app); got != want {
				t.Errorf("app=%q on %q: %v, the pattern says %v", v, app, got, want)
			}
		}
	}
}
