package agg

import (
	"regexp"
	"strings"
)

// compileRegex compiles a MongoDB (PCRE) pattern with its options into Go's RE2. Patterns
// RE2 cannot express (look-arounds, back-references) fail with code 51091 as an invalid
// pattern would.
func compileRegex(pattern, options string) (*regexp.Regexp, error) {
	var flags strings.Builder
	extended := false
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			if !strings.ContainsRune(flags.String(), o) {
				flags.WriteRune(o)
			}
		case 'x':
			extended = true
		case 'u':
			// UTF-8 is the only mode RE2 has.
		default:
			return nil, errf(51108, "invalid flag in regex options: %c", o)
		}
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, errf(51109, "Regular expression cannot contain an embedded null byte")
	}
	if extended {
		pattern = stripExtended(pattern)
	}
	if flags.Len() > 0 {
		pattern = "(?" + flags.String() + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, errf(51091, "Regular expression is invalid: %v", err)
	}
	return re, nil
}

// stripExtended removes the whitespace and #-comments that the "x" option lets a pattern
// contain, outside character classes and escapes.
func stripExtended(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '#':
			for i < len(p) && p[i] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
