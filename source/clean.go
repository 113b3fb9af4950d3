package source

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxField bounds a single text field from a server or API (appName, namespace, desc, …).
// Real servers cap appName at 128 bytes; anything far longer is hostile or broken.
const MaxField = 1024

// Clean makes untrusted text from a server or API safe to draw on a terminal: escape
// sequences (CSI, OSC, DCS, …) are removed whole and other C0/C1 control characters and DEL
// are removed (tabs and newlines become spaces), each run of them shown as one U+FFFD so that
// "shop.ord\x1b[41mers" reads "shop.ord�ers" rather than passing for shop.orders;
// invisible characters (zero-width spaces and joiners, the soft hyphen, the BOM, bidi
// controls, line and paragraph separators: Unicode Cf, Zl, Zp and blank fillers) are marked
// the same way, so "zw.\u200b" cannot read as "zw."; invalid UTF-8 becomes U+FFFD; and the
// result is cut to MaxField bytes.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), MaxField))
	marked := false // the last rune written is the marker of removed characters
	mark := func() {
		if !marked {
			b.WriteRune(utf8.RuneError)
			marked = true
		}
	}
	for i := 0; i < len(s) && b.Len() < MaxField; {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			marked = false
			i++
			continue
		case r == 0x1b: // ESC: skip the whole sequence
			i = skipEscape(s, i+1)
			mark()
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			mark()
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			mark()
			continue
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
			marked = false
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || Invisible(r):
			mark()
		default:
			b.WriteString(s[i : i+size])
			marked = false
		}
		i += size
	}
	out := b.String()
	if len(out) > MaxField {
		// Cut on a character boundary: cutting inside one would leave a broken character
		// that becomes U+FFFD and pushes the result past MaxField.
		cut := MaxField
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut]
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

// isPlain reports whether s is short printable ASCII, the common case, so Clean can return it
// without allocating.
func isPlain(s string) bool {
	if len(s) > MaxField {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// Invisible reports characters that draw nothing (or reorder or break what is drawn), so
// that text containing them could pass for other text: format characters (Cf: U+200B–U+200F,
// U+2060–U+2064, U+FEFF, U+00AD, bidi controls, tags), the line and paragraph separators, the
// combining grapheme joiner and the Hangul fillers that render as blanks. Clean marks them;
// encoders of untrusted text (JSON shown on a terminal) escape them.
func Invisible(r rune) bool {
	if r < 0xa0 {
		return false
	}
	switch r {
	case 0x034f, 0x115f, 0x1160, 0x3164, 0xffa0:
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// skipEscape returns the index after the escape sequence whose ESC was just before i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', '^', '_', 'X': // OSC, DCS, PM, APC, SOS: strings ended by BEL or ST
		return skipString(s, i+1)
	default:
		// Two-character sequences (ESC c, ESC 7, ESC ( B …): skip intermediates and the final.
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) {
			i++
		}
		return i
	}
}

// skipCSI skips parameter and intermediate bytes and the final byte of a CSI sequence.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x7e { // malformed: stop at the intruder
			return i - 1
		}
	}
	return i
}

// skipString skips a control string up to and including BEL, ESC \ or C1 ST.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c: // U+009C ST
			return i + 2
		}
		i++
	}
	return i
}
