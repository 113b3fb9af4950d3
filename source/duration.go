package source

import (
	"strconv"
	"time"
)

// FormatDuration formats a running time or an uptime the way a DBA reads it at a glance, the
// same on the screen and in one-shot reports: at most three significant units and never wider
// than 6 cells ("250µs", "850ms", "7.3s", "42s", "1m23s", "2h05m", "3d04h", "365d", "12y").
// Tenths of seconds are cut, not rounded, so 9.99 s stays "9.9s" rather than jumping to a
// "10.0s" no other value has. It saturates instead of growing: anything from 100 years up is
// ">100y". A negative time is not a running time: "?".
func FormatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "?"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < 10*time.Second:
		tenths := d.Milliseconds() / 100
		return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10) + "s"
	case d < time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Hour:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m" + pad2(int64(d%time.Minute/time.Second)) + "s"
	case d < 24*time.Hour:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h" + pad2(int64(d%time.Hour/time.Minute)) + "m"
	}
	days := int64(d / (24 * time.Hour))
	switch {
	case days < 100:
		return strconv.FormatInt(days, 10) + "d" + pad2(int64(d%(24*time.Hour)/time.Hour)) + "h"
	case days < 1000:
		return strconv.FormatInt(days, 10) + "d"
	case days < 100*365:
		return strconv.FormatInt(days/365, 10) + "y"
	default:
		return ">100y"
	}
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}
