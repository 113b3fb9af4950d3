package tencentapi

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxEcho bounds what an error message repeats of a request or of the deployment's errors.
const maxEcho = 1024

// clean makes text from a request or the deployment safe to repeat in an error message:
// control and format characters (escape sequences, bidi overrides) become U+FFFD, and it is
// cut at maxEcho bytes. The emulator is a simulator, yet its answers reach a terminal.
func clean(s string) string {
	if len(s) > maxEcho {
		s = s[:maxEcho] // may split a rune: ToValidUTF8 marks it
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}
