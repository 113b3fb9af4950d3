package source

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// Literal reports whether the term (its negation aside) matches one string only, or one string
// up to case: field=value, or a regular expression that is an anchored literal such as
// /^shop\.orders$/ (which ignores case, as every filter pattern does) or /(?-i)^shop\.orders$/.
//
// anyCase is set when other spellings of value's letters match too; it is clear when only
// value itself matches (a case-sensitive pattern, or a value with no letter that changes case,
// like "1.2"). When anyCase is set, value is one of the spellings that match, not necessarily
// the one typed.
//
// Backends decide what they push down to an API from Literal alone, so what "exact" means is
// decided here once: an API filter that compares for equality may receive value when anyCase is
// clear, and a value from a closed vocabulary when exactly one word of it matches.
func (t *Term) Literal() (value string, anyCase, ok bool) {
	switch t.Kind {
	case Equals:
		return t.Value, hasCase(t.Value), true
	case Regex:
		if t.Re == nil {
			return "", false, false
		}
		return anchoredLiteral(t.Re.String())
	}
	return "", false, false
}

// anchoredLiteral recognises a pattern that is ^literal$ once simplified.
func anchoredLiteral(pattern string) (value string, anyCase, ok bool) {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false, false
	}
	tree = tree.Simplify()
	if tree.Op != syntax.OpConcat || len(tree.Sub) != 3 ||
		tree.Sub[0].Op != syntax.OpBeginText || tree.Sub[2].Op != syntax.OpEndText ||
		tree.Sub[1].Op != syntax.OpLiteral {
		return "", false, false
	}
	lit := tree.Sub[1]
	value = string(lit.Rune)
	// A case-folded literal holds one spelling of each letter (the parser keeps the smallest
	// rune of its fold orbit): it matches other spellings only if some letter has them.
	return value, lit.Flags&syntax.FoldCase != 0 && hasCase(value), true
}

// hasCase reports whether s has a letter that changes under case folding.
func hasCase(s string) bool {
	for _, r := range s {
		if unicode.SimpleFold(r) != r {
			return true
		}
	}
	return false
}

// LiteralIn returns the one word of vocab that the term matches as a literal (see Literal).
// ok is false when the term is not a literal, or when no word or more than one matches (words
// that differ in case alone, for an anyCase literal). A backend may push the word to an API
// filter that compares for equality over that vocabulary.
func (t *Term) LiteralIn(vocab []string) (word string, ok bool) {
	value, anyCase, ok := t.Literal()
	if !ok {
		return "", false
	}
	found := false
	for _, w := range vocab {
		if w == value || anyCase && strings.EqualFold(w, value) {
			if found {
				return "", false
			}
			word, found = w, true
		}
	}
	return word, found
}
