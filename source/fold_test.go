package source

import (
	"strings"
	"testing"
)

func TestAppendLower(t *testing.T) {
	for _, s := range []string{
		"", "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{", "MixedCase-Orders-API 2.9.3 shop.ORDERS",
		"ÄPP Bïlling ÜNICODE", "Kelvin \u212a and İ", "12345678ABCDEFGH\xffINVALID",
	} {
		want := strings.Map(func(r rune) rune { return toLowerRune(r) }, s)
		if got := string(appendLower(nil, s)); got != want {
			t.Errorf("appendLower(%q) = %q, want %q", s, got, want)
		}
	}
}

func toLowerRune(r rune) rune { return []rune(strings.ToLower(string(r)))[0] }

// Folding changes how free text is searched, never what it finds.
func FuzzMatchFolded(f *testing.F) {
	f.Add("orders", "Orders-API", "SHOP.orders", "find", "{status: \"A\"}")
	f.Add("k", "\u212a", "", "", "")
	f.Add("a\x00b", "a", "b", "", "")
	f.Add("İ", "i\u0307", "İSTANBUL", "", "")
	f.Fuzz(func(t *testing.T, needle, app, ns, cmd, summary string) {
		fl, err := ParseFilter(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(needle) + `"`)
		if err != nil {
			return
		}
		s := Session{ID: "1", App: app, NS: ns, CommandName: cmd, Summary: summary, Desc: app + ns}
		if got, want := fl.MatchFolded(&s, FoldSession(&s)), fl.Match(&s); got != want {
			t.Fatalf("%q in %+v: MatchFolded %v, Match %v", needle, s, got, want)
		}
	})
}
