package source

import (
	"math"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "?"},
		{math.MinInt64, "?"},
		{0, "0µs"},
		{250 * time.Microsecond, "250µs"},
		{850 * time.Millisecond, "850ms"},
		{7391 * time.Millisecond, "7.3s"},
		{7391022 * time.Microsecond, "7.3s"},
		{9999 * time.Millisecond, "9.9s"}, // cut, not rounded up to a "10.0s"
		{10 * time.Second, "10s"},
		{42 * time.Second, "42s"},
		{83 * time.Second, "1m23s"},
		{3*time.Minute + 12*time.Second, "3m12s"},
		{2*time.Hour + 5*time.Minute, "2h05m"},
		{24 * time.Hour, "1d00h"},
		{76*time.Hour + 10*time.Minute, "3d04h"},
		{99*24*time.Hour + 23*time.Hour, "99d23h"},
		{100 * 24 * time.Hour, "100d"},
		{150 * 24 * time.Hour, "150d"},
		{999 * 24 * time.Hour, "999d"},
		{1000 * 24 * time.Hour, "2y"},
		{5 * 365 * 24 * time.Hour, "5y"},
		{99*365*24*time.Hour + 364*24*time.Hour, "99y"},
		{100 * 365 * 24 * time.Hour, ">100y"},
		{math.MaxInt64, ">100y"},
	}
	for _, tc := range tests {
		got := FormatDuration(tc.d)
		if got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > 6 {
			t.Errorf("FormatDuration(%v) = %q is %d cells wide, more than 6", tc.d, got, n)
		}
	}
}
