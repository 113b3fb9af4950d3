package ui

import (
	"math"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// Sparkline glyphs, lowest to highest: block elements, or plain characters for terminals
// that cannot draw them.
var (
	sparkBlocks = []rune("▁▂▃▄▅▆▇█")
	sparkASCII  = []rune("_.-=*#")
)

// Header sparklines are at most maxSpark cells wide, and dropped below minSpark.
const (
	maxSpark = 16
	minSpark = 4
)

// asciiTerminal says the locale cannot show block elements: the first of LC_ALL, LC_CTYPE
// and LANG that is set names no UTF-8 encoding (POSIX rule of precedence), or TERM is the
// Linux console, whose font lacks most of them.
func asciiTerminal(getenv func(string) string) bool {
	if getenv("TERM") == "linux" {
		return true
	}
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(k); v != "" {
			v = strings.ToLower(v)
			return !strings.Contains(v, "utf-8") && !strings.Contains(v, "utf8")
		}
	}
	return false
}

// sparkline draws vs in at most width cells, newest at the right, each scaled between 0 (or
// the least value when relative, or when it is negative) and the greatest; a flat relative
// line sits in the middle. Absent values are blanks. With fewer values than cells the line is
// as long as the values (it grows as history does), or padded on the left to width when pad
// is set. More values than cells are folded, each cell showing the greatest of its share: a
// spike stays visible however long the window.
func sparkline(vs []float64, width int, ascii, relative, pad bool) string {
	if width <= 0 {
		return ""
	}
	glyphs := sparkBlocks
	if ascii {
		glyphs = sparkASCII
	}
	cells := foldMax(vs, width)
	lo, hi := 0.0, math.Inf(-1)
	if relative {
		lo = math.Inf(1)
	}
	for _, v := range cells {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	var b strings.Builder
	b.Grow(width * 3)
	if pad {
		for range width - len(cells) {
			b.WriteByte(' ')
		}
	}
	top := len(glyphs) - 1
	for _, v := range cells {
		switch {
		case math.IsNaN(v):
			b.WriteByte(' ')
		case hi <= lo && relative:
			b.WriteRune(glyphs[top/2])
		case hi <= lo:
			b.WriteRune(glyphs[0])
		default:
			b.WriteRune(glyphs[int(math.Round((v-lo)/(hi-lo)*float64(top)))])
		}
	}
	return b.String()
}

// foldMax returns vs when it fits in width, else width buckets of it, each its greatest value
// (NaN only when the whole bucket is absent).
func foldMax(vs []float64, width int) []float64 {
	if len(vs) <= width {
		return vs
	}
	out := make([]float64, width)
	for i := range out {
		a, b := i*len(vs)/width, (i+1)*len(vs)/width
		m := math.NaN()
		for _, v := range vs[a:b] {
			if !math.IsNaN(v) && (math.IsNaN(m) || v > m) {
				m = v
			}
		}
		out[i] = m
	}
	return out
}

// formatFigure writes a value in its unit.
func formatFigure(v float64, u unit) string {
	switch u {
	case unitRate:
		if v < 10 && v != math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return count(int64(math.Round(v)))
	case unitMicros:
		switch {
		case v < 1000:
			return strconv.FormatFloat(v, 'f', 0, 64) + "µs"
		case v < 1e6:
			return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "ms"
		}
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + "s"
	case unitBytes:
		return byteRate(v)
	case unitPercent:
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case unitSeconds:
		return strconv.FormatFloat(v, 'f', 1, 64) + "s"
	}
	return count(int64(math.Round(v)))
}

// byteRate writes bytes per second in binary-free decimal units: "950 B/s", "12.3 KB/s".
func byteRate(v float64) string {
	units := []string{"B/s", "KB/s", "MB/s", "GB/s", "TB/s"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[i]
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// vitalsLines is the header's vitals line, or none when no answer had vitals and there is
// no alert to show.
func (m *Model) vitalsLines() int {
	if m.vitals.known || m.headerAlert() != "" {
		return 1
	}
	return 0
}

// headerFigs are the figures the header's vitals line shows, most important first: the last
// ones are dropped first when the line is too narrow.
var headerFigs = []int{figOps, figActive, figConns, figQueue}

// vitalsLine is the header's third line: each figure with its sparkline over the last
// samples, or "measuring…" for the rates before there are two samples, or why there are
// no vitals. Sparklines narrow, then go, then figures go from the right, to fit the width.
// The alert (headerAlert) comes first and is never dropped.
func (m *Model) vitalsLine() string {
	st, v := &m.st, &m.vitals
	alert := m.headerAlert()
	if v.refused != nil {
		if alert == "" {
			return st.warn.Render(fit(refusedNote(v.refused), m.width, false))
		}
		return fitStyled(alert+"  "+st.warn.Render(refusedNote(v.refused)), m.width)
	}
	type seg struct {
		text  string // label and value, styled
		w     int
		f     int
		spark bool
	}
	var segs []seg
	for _, f := range headerFigs {
		val, ok := v.current(f)
		switch {
		case f == figOps && v.measuring && !ok:
			t := st.label.Render(figures[f].short+" ") + st.dim.Render("measuring…")
			segs = append(segs, seg{text: t, w: lipgloss.Width(t), f: f})
		case ok:
			t := st.label.Render(figures[f].short+" ") + st.value.Render(formatFigure(val, figures[f].unit))
			segs = append(segs, seg{text: t, w: lipgloss.Width(t), f: f, spark: true})
		}
	}
	const sep = "  "
	room := m.width - 1
	if alert != "" {
		room -= lipgloss.Width(alert) + len(sep)
	}
	width := func(n, sw int) int {
		w := 0
		for i, s := range segs[:n] {
			if i > 0 {
				w += len(sep)
			}
			w += s.w
			if s.spark && sw > 0 {
				w += 1 + sw
			}
		}
		return w
	}
	n, sw := len(segs), 0
	for sw = maxSpark; sw >= minSpark && width(n, sw) > room; sw-- {
	}
	if sw < minSpark {
		sw = 0
		for n > 1 && width(n, 0) > room {
			n--
		}
	}
	var b strings.Builder
	if alert != "" {
		b.WriteString(alert)
		b.WriteString(sep)
	}
	buf := make([]float64, 0, maxSpark)
	for i, s := range segs[:n] {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s.text)
		if s.spark && sw > 0 {
			b.WriteByte(' ')
			vs := v.series(buf[:0], s.f, sw)
			for len(vs) > 0 && math.IsNaN(vs[0]) { // before the first rate: nothing to draw yet
				vs = vs[1:]
			}
			b.WriteString(st.spark.Render(sparkline(vs, sw, m.ascii, figures[s.f].relative, false)))
		}
	}
	return fitStyled(b.String(), m.width)
}
