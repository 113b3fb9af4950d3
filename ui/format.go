package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// ageString is source.FormatDuration rounded to whole seconds above one second, for "updated 3s ago".
func ageString(d time.Duration) string {
	if d < time.Second {
		return "<1s"
	}
	if d < time.Minute {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return source.FormatDuration(d)
}

// intervalString shows a refresh interval compactly: "500ms", "2s", "1.5s", "60s".
func intervalString(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// count formats an integer with thousands separators: 1234567 → "1,234,567".
func count[T ~int | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	start := 0
	if s[0] == '-' {
		start = 1
	}
	if len(s)-start <= 3 {
		return s
	}
	b := make([]byte, 0, len(s)+len(s)/3)
	b = append(b, s[:start]...)
	for i := start; i < len(s); i++ {
		if i > start && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// fit truncates s to exactly w cells (with an ellipsis when cut) and pads it with spaces,
// on the left when right is set. s must be free of escape sequences.
func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := textWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if sw == w {
		return s
	}
	if right {
		return strings.Repeat(" ", w-sw) + s
	}
	return s + strings.Repeat(" ", w-sw)
}

// fitTail is fit for text whose end matters most (IDs such as "rs0/node-a:27017/4119786"):
// when cut, it keeps the end behind a leading ellipsis. It pads on the right.
func fitTail(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if textWidth(s) > w {
		s = "…" + ansi.TruncateLeft(s, textWidth(s)-(w-1), "")
	}
	return fit(s, w, false)
}

// textWidth is the display width of s, with a fast path for ASCII.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// naturalCompare orders strings with embedded numbers numerically (source.NaturalCompare).
func naturalCompare(a, b string) int { return source.NaturalCompare(a, b) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// truncateStyled cuts a string that may hold styling to w cells.
func truncateStyled(s string, w int) string { return ansi.Truncate(s, w, "…") }

// naturalKey encodes s so that plain byte comparison of keys orders strings with embedded
// numbers numerically: each run of digits becomes '0', its length (without leading zeros) as
// one byte, then the digits.
func naturalKey(s string) string {
	hasDigit := false
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			hasDigit = true
			break
		}
	}
	if !hasDigit {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			b = append(b, s[i])
			i++
			continue
		}
		for i < len(s)-1 && s[i] == '0' && isDigit(s[i+1]) {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		b = append(b, '0', byte(min(j-i, 255)))
		b = append(b, s[i:j]...)
		i = j
	}
	return string(b)
}
