package source

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "orders-api", "orders-api"},
		{"empty", "", ""},
		{"unicode kept", "Bïlling 日本 ✓", "Bïlling 日本 ✓"},
		{"CSI colour", "\x1b[31mred\x1b[0m text", "\uFFFDred\uFFFD text"},
		{"CSI with private params", "a\x1b[?1049hb\x1b[2J", "a\uFFFDb\uFFFD"},
		{"CSI cursor movement", "x\x1b[10;20Hy", "x\uFFFDy"},
		{"CSI cut by a control char", "a\x1b[31\nb", "a\uFFFD b"},
		{"unterminated CSI", "abc\x1b[12", "abc\uFFFD"},
		{"OSC title with BEL", "\x1b]0;evil title\x07safe", "\uFFFDsafe"},
		{"OSC hyperlink with ST", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\uFFFDlink\uFFFD"},
		{"OSC 52 clipboard", "a\x1b]52;c;ZXZpbA==\x07b", "a\uFFFDb"},
		{"unterminated OSC", "a\x1b]0;title", "a\uFFFD"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "a\uFFFDb"},
		{"APC and PM", "a\x1b_x\x1b\\b\x1b^y\x07c", "a\uFFFDb\uFFFDc"},
		{"C1 CSI", "a\u009b31mb", "a\uFFFDb"},
		{"C1 OSC ended by C1 ST", "a\u009d0;t\u009cb", "a\uFFFDb"},
		{"C1 OSC ended by BEL", "a\u009d0;t\x07b", "a\uFFFDb"},
		{"C1 SOS", "a\u0098hidden\u009cb", "a\uFFFDb"},
		{"other C1 marked", "a\u0085b\u0084c", "a\uFFFDb\uFFFDc"},
		{"two-char escapes", "a\x1bcb\x1b7c\x1b(Bd", "a\uFFFDb\uFFFDc\uFFFDd"},
		{"trailing ESC", "abc\x1b", "abc\uFFFD"},
		{"tabs and newlines become spaces", "a\tb\nc\rd", "a b c d"},
		{"other C0 and DEL marked", "a\x00b\x07c\x7fd\x08e", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe"},
		{"a run of removed characters is one mark", "shop.ord\x1b[41m\x1b[0m\x07ers", "shop.ord\uFFFDers"},
		{"bidi controls marked", "user\u202eexe.txt\u202c \u2066x\u2069 \u200ey\u200f \u061cz", "user\uFFFDexe.txt\uFFFD \uFFFDx\uFFFD \uFFFDy\uFFFD \uFFFDz"},
		{"zero-width space cannot pass for the name", "zw.\u200b", "zw.\uFFFD"},
		{"zero-width run is one mark", "a\u200b\u200c\u200d\u2060\ufeffb", "a\uFFFDb"},
		{"word joiner and invisible operators", "a\u2060b\u2061c\u2062d\u2063e\u2064f", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf"},
		{"BOM", "\ufeffshop.orders", "\uFFFDshop.orders"},
		{"soft hyphen", "shop.or\u00adders", "shop.or\uFFFDders"},
		{"line and paragraph separators", "a\u2028b\u2029c", "a\uFFFDb\uFFFDc"},
		{"tag characters", "a\U000E0041\U000E0042b", "a\uFFFDb"},
		{"blank fillers", "a\u3164b\u115fc", "a\uFFFDb\uFFFDc"},
		{"a mix of controls and invisibles is one mark", "a\x07\u200b\x1b[0m\u2028b", "a\uFFFDb"},
		{"visible non-ASCII kept", "caf\u00e9 \u00a0nbsp \u2014 \u00e9", "caf\u00e9 \u00a0nbsp \u2014 \u00e9"},
		{"invalid UTF-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"lone C1 byte is invalid UTF-8", "a\x9bb", "a\uFFFDb"},
		{"valid replacement char kept", "a\uFFFDb", "a\uFFFDb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in); got != tc.want {
				t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanLongInput(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"plain ASCII", strings.Repeat("a", 5000)},
		{"with escapes", strings.Repeat("\x1b[1mab", 3000)},
		// A multi-byte character straddles the limit: the cut must not split it.
		{"multibyte at the limit", "\x01" + strings.Repeat("a", MaxField-2) + strings.Repeat("€", 10)},
		{"four-byte characters", strings.Repeat("😀", 1000)},
		{"invalid bytes", strings.Repeat("\xff", 2000)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in)
			if len(got) > MaxField {
				t.Errorf("len %d > MaxField %d", len(got), MaxField)
			}
			if len(got) < MaxField-4 {
				t.Errorf("len %d: cut far below MaxField %d", len(got), MaxField)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result is not valid UTF-8")
			}
			if strings.ContainsAny(got, "\x1b\x01") {
				t.Errorf("result keeps control characters")
			}
			if tc.name == "multibyte at the limit" && strings.HasSuffix(got, "\uFFFD") {
				t.Errorf("cut left a broken character: %q", got[len(got)-8:])
			}
		})
	}
}

func TestCleanPlainFastPath(t *testing.T) {
	s := strings.Repeat("shop.orders ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = Clean(s) }); n != 0 {
		t.Errorf("Clean of plain text allocates %v times", n)
	}
	if got := Clean(s); got != s {
		t.Errorf("plain text changed")
	}
}

// FuzzClean: the result is always valid UTF-8, at most MaxField bytes, without control
// characters or invisible (format, separator) characters, and cleaning is idempotent.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"abc", "\x1b[31mx", "\x1b]0;t\x07", "\u009b1m", "\xff\xfe", "\u202e", strings.Repeat("é", 600), "zw.\u200b", "\ufeff\u2028\u00ad"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if len(got) > MaxField || !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q: len %d, valid %v", s, got, len(got), utf8.ValidString(got))
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || Invisible(r) {
				t.Fatalf("Clean(%q) keeps %U", s, r)
			}
		}
		if again := Clean(got); again != got {
			t.Fatalf("Clean is not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
