package ui

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// sampled is smallSnapshot with a serverStatus sample: uptime in seconds, queries done so
// far (every other counter follows from it) and queued readers.
func sampled(uptimeS, queries, queued int64) *source.Snapshot {
	snap := smallSnapshot()
	snap.Server.Sample = &source.Sample{
		UptimeMS: uptimeS * 1000,
		Counters: map[string]int64{
			source.CounterInsert: queries / 2, source.CounterQuery: queries, source.CounterUpdate: 0,
			source.CounterDelete: 0, source.CounterGetmore: 0, source.CounterCommand: queries / 2,
			source.CounterReadsUS: queries * 1500, source.CounterReadsOps: queries,
			source.CounterNetIn: queries * 1000, source.CounterNetOut: queries * 4000,
			source.CounterConnsCreated: queries / 10,
		},
		Gauges: map[string]int64{
			source.GaugeQueueReaders: queued, source.GaugeQueueWriters: 0,
			source.GaugeCacheBytes: 50, source.GaugeCacheMax: 200,
		},
	}
	return snap
}

// vitalsHarness starts a UI of w×h cells on snaps[0]; the other snapshots are the next
// refreshes (refreshTo).
func vitalsHarness(t *testing.T, w, h int, first *source.Snapshot) (*harness, *fakeKiller) {
	t.Helper()
	return startedWith(t, first, w, h)
}

// headerLine is the screen's line i, styling stripped.
func headerLine(h *harness, i int) string {
	return strings.Split(screen(h), "\n")[i]
}

func TestVitalsHeaderMeasuringThenRates(t *testing.T) {
	h, src := vitalsHarness(t, 80, 24, sampled(1000, 10_000, 3))
	line := headerLine(h, 2)
	for _, want := range []string{"ops/s measuring…", "active 6", "conns 412", "queue 3"} {
		if !strings.Contains(line, want) {
			t.Errorf("first frame: vitals line %q lacks %q", line, want)
		}
	}
	// 2 s later, 200 more queries: 100 query/s, 50 insert/s, 50 command/s.
	h.refresh(src, sampled(1002, 10_200, 1), 2*time.Second)
	line = headerLine(h, 2)
	if !strings.Contains(line, "ops/s 200") || strings.Contains(line, "measuring") {
		t.Errorf("second frame: vitals line %q, want ops/s 200 and no measuring…", line)
	}
	if !strings.Contains(line, "queue 1") {
		t.Errorf("second frame: vitals line %q, want queue 1", line)
	}
	if w := ansi.StringWidth(line); w > 80 {
		t.Errorf("vitals line is %d cells wide at 80 columns: %q", w, line)
	}
}

// sparkOf is the sparkline that follows label in line ("ops/s 200 ▁█": "▁█").
func sparkOf(line, label string) string {
	i := strings.Index(line, label+" ")
	if i < 0 {
		return ""
	}
	f := strings.Fields(line[i+len(label)+1:])
	if len(f) < 2 {
		return ""
	}
	if strings.ContainsAny(f[1], string(sparkBlocks)) {
		return f[1]
	}
	return ""
}

func TestVitalsSparklineGrows(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(1000, 0, 0))
	var lens []int
	for i := int64(1); i <= 20; i++ {
		h.refresh(src, sampled(1000+2*i, 100*i*i, 0), 2*time.Second) // a rising rate
		lens = append(lens, len([]rune(sparkOf(headerLine(h, 2), "ops/s"))))
	}
	for i := 1; i < len(lens); i++ {
		if lens[i] < lens[i-1] || lens[i] > maxSpark {
			t.Fatalf("ops/s sparkline lengths %v: want them to grow up to %d cells", lens, maxSpark)
		}
	}
	if lens[0] != 1 || lens[len(lens)-1] != maxSpark {
		t.Errorf("ops/s sparkline lengths %v: want 1 cell on the first rate, %d once history is long", lens, maxSpark)
	}
	if sp := []rune(sparkOf(headerLine(h, 2), "ops/s")); sp[len(sp)-1] != '█' || sp[0] == '█' {
		t.Errorf("a rising rate draws %q: want it to end at the top", string(sp))
	}
}

// TestVitalsRestartNeverNegative: the server restarts (its uptime and counters go down):
// no rate is shown for that interval, nothing recorded is negative, and the rates return.
func TestVitalsRestartNeverNegative(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(5000, 900_000, 0))
	h.refresh(src, sampled(5002, 900_400, 0), 2*time.Second)
	h.refresh(src, sampled(3, 50, 0), 2*time.Second) // restarted 3 s ago
	line := headerLine(h, 2)
	if !strings.Contains(line, "ops/s measuring…") || strings.Contains(line, "-") {
		t.Errorf("after a restart: vitals line %q, want ops/s measuring… and no negative figure", line)
	}
	h.refresh(src, sampled(5, 250, 0), 2*time.Second)
	if line := headerLine(h, 2); !strings.Contains(line, "ops/s 200") {
		t.Errorf("after a restart and one more sample: vitals line %q, want ops/s 200", line)
	}
	for f := range nFigs {
		for _, v := range h.m.vitals.series(nil, f, 100) {
			if v < 0 {
				t.Errorf("%s recorded %v", figures[f].name, v)
			}
		}
	}
	h.keys("v")
	if s := screen(h); strings.Contains(s, " -") {
		t.Errorf("vitals view shows a negative figure:\n%s", s)
	}
}

func TestVitalsRefusedNote(t *testing.T) {
	snap := smallSnapshot()
	snap.VitalsErr = &source.Error{Kind: source.ErrPermission, Hint: "grant role clusterMonitor",
		Err: errors.New("not authorized on admin to execute command serverStatus")}
	h, _ := vitalsHarness(t, 80, 24, snap)
	s := screen(h)
	lines := strings.Split(s, "\n")
	want := "vitals unavailable: serverStatus not permitted (needs clusterMonitor)"
	if strings.TrimRight(lines[2], " ") != want {
		t.Errorf("header line 3 %q, want %q", lines[2], want)
	}
	if !strings.Contains(s, "shop.orders") || !strings.Contains(s, "10.20.3.17") {
		t.Errorf("the panes are not shown under the note:\n%s", s)
	}
}

// TestVitalsNoneKnown: a source without vitals or samples gets no vitals line.
func TestVitalsNoneKnown(t *testing.T) {
	h, _ := started(t, Options{})
	if h.m.vitalsLines() != 0 || strings.Contains(screen(h), "ops/s") {
		t.Errorf("a source without vitals has a vitals line:\n%s", screen(h))
	}
}

func TestVitalsPauseFreezesDisplayNotHistory(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(1000, 0, 0))
	h.refresh(src, sampled(1002, 200, 0), 2*time.Second) // 200 ops/s
	h.keys("p")
	before := headerLine(h, 2)
	h.refresh(src, sampled(1004, 1200, 0), 2*time.Second) // 1,000 ops/s while paused
	h.refresh(src, sampled(1006, 2200, 0), 2*time.Second)
	if got := headerLine(h, 2); got != before {
		t.Errorf("paused, the vitals line changed:\n%q\n%q", before, got)
	}
	if n := h.m.vitals.hist.Len(); n != 4 {
		t.Errorf("paused, the history holds %d rows, want 4 (recording goes on)", n)
	}
	h.keys("p")
	if got := headerLine(h, 2); !strings.Contains(got, "ops/s 1,000") {
		t.Errorf("resumed, vitals line %q, want ops/s 1,000", got)
	}
}

func TestVitalsView(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(1000, 0, 2))
	h.refresh(src, sampled(1002, 100, 4), 2*time.Second)  // 100 ops/s
	h.refresh(src, sampled(1004, 700, 6), 2*time.Second)  // 600 ops/s
	h.refresh(src, sampled(1006, 1100, 0), 2*time.Second) // 400 ops/s
	h.keys("v")
	s := screen(h)
	if !strings.Contains(s, "VITALS") || !strings.Contains(s, "last 6s · 4 samples") {
		t.Fatalf("v does not open the vitals view with its window:\n%s", s)
	}
	row := func(name string) []string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "  "+name+" ") {
				return strings.Fields(strings.TrimPrefix(l, "  "+name))
			}
		}
		t.Fatalf("no %q row in the vitals view:\n%s", name, s)
		return nil
	}
	tests := []struct {
		name        string
		now, lo, hi string
	}{
		{"ops/s, all types", "400", "100", "600"},
		{"queued readers+writers", "0", "0", "6"},
		{"cache used", "25.0%", "25.0%", "25.0%"},
		{"latency reads", "1.5ms", "1.5ms", "1.5ms"},
		{"network out", "800.0 KB/s", "200.0 KB/s", "1.2 MB/s"},
	}
	for _, tt := range tests {
		f := row(tt.name)
		got := strings.Join(f, " ")
		want := tt.now + " " + tt.lo + " " + tt.hi
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want now/min/max %q", tt.name, got, want)
		}
	}
	if f := row("replication lag"); f[0] != "—" {
		t.Errorf("replication lag (not reported) shows %v, want —", f)
	}
	h.keys("v")
	if strings.Contains(screen(h), "VITALS") {
		t.Error("v does not close the vitals view")
	}
	h.keys("v", "esc")
	if h.m.overlay != overlayNone {
		t.Error("esc does not close the vitals view")
	}
}

func TestVitalsHeaderFitsNarrow(t *testing.T) {
	snap := sampled(1000, 0, 123_456)
	snap.Server.Connections.Current = 1_234_567
	for _, w := range []int{80, 60, 40} {
		h, src := vitalsHarness(t, w, 24, snap)
		next := sampled(1002, 2_000_000, 123_456)
		next.Server.Connections.Current = 1_234_567
		h.refresh(src, next, 2*time.Second)
		line := headerLine(h, 2)
		if lw := ansi.StringWidth(line); lw > w {
			t.Errorf("%d columns: vitals line %d wide: %q", w, lw, line)
		}
		if !strings.Contains(line, "ops/s 2,000,000") {
			t.Errorf("%d columns: vitals line %q lost the first figure", w, line)
		}
	}
}

func TestSparkline(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		vs       []float64
		width    int
		ascii    bool
		relative bool
		pad      bool
		want     string
	}{
		{"zero-based", []float64{0, 6, 14}, 8, false, false, false, "▁▄█"},
		{"padded", []float64{0, 14}, 4, false, false, true, "  ▁█"},
		{"absent is blank", []float64{1, nan, 1}, 3, false, false, false, "█ █"},
		{"flat zero", []float64{0, 0}, 2, false, false, false, "▁▁"},
		{"relative", []float64{100, 106, 114}, 3, false, true, false, "▁▄█"},
		{"relative flat", []float64{5, 5}, 2, false, true, false, "▄▄"},
		{"ascii", []float64{0, 5, 10}, 3, true, false, false, "_=#"},
		{"folded keeps the peak", []float64{0, 0, 0, 9, 0, 0}, 3, false, false, false, "▁█▁"},
		{"no room", []float64{1}, 0, false, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sparkline(tt.vs, tt.width, tt.ascii, tt.relative, tt.pad); got != tt.want {
				t.Errorf("sparkline(%v) = %q, want %q", tt.vs, got, tt.want)
			}
		})
	}
}

func TestAsciiTerminal(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"LANG": "en_US.UTF-8"}, false},
		{map[string]string{"LANG": "C.utf8"}, false},
		{map[string]string{"LANG": "C"}, true},
		{map[string]string{"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, false},
		{map[string]string{"TERM": "linux", "LANG": "en_US.UTF-8"}, true},
		{map[string]string{}, false},
	}
	for _, tt := range tests {
		if got := asciiTerminal(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("asciiTerminal(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestHistoryCapacity(t *testing.T) {
	for _, tt := range []struct {
		interval time.Duration
		want     int
	}{{2 * time.Second, 300}, {time.Second, 600}, {500 * time.Millisecond, 1200}, {time.Minute, 300}} {
		if got := newVitals(tt.interval).hist.Cap(); got != tt.want {
			t.Errorf("interval %v: history of %d rows, want %d", tt.interval, got, tt.want)
		}
	}
}

// TestGoldenVitals pins the vitals line and the vitals view after a few refreshes, and the
// note when serverStatus is refused. Regenerate with: go test ./ui -run TestGoldenVitals -update
func TestGoldenVitals(t *testing.T) {
	refused := smallSnapshot()
	refused.VitalsErr = &source.Error{Kind: source.ErrPermission, Err: errors.New("not authorized")}
	refused.Server = source.Server{Version: "8.0.4", Kind: "mongod"} // what is known without serverStatus
	states := []struct {
		name  string
		first *source.Snapshot
		keys  []string
	}{
		{"vitals-header", sampled(1000, 0, 0), nil},
		{"vitals-view", sampled(1000, 0, 0), []string{"v"}},
		{"vitals-refused", refused, nil},
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		for _, st := range states {
			name := st.name + "-" + itoa(size.w) + "x" + itoa(size.h)
			t.Run(name, func(t *testing.T) {
				h, src := vitalsHarness(t, size.w, size.h, st.first)
				if st.first.Server.Sample != nil {
					q := int64(0)
					for i := int64(1); i <= 8; i++ {
						q += 100 * i * (i%3 + 1) // counters only grow; their rates go up and down
						h.refresh(src, sampled(1000+2*i, q, i%4), 2*time.Second)
					}
				}
				h.keys(st.keys...)
				got := screen(h)
				if n := len(strings.Split(got, "\n")); n != size.h {
					t.Errorf("%d lines, want %d", n, size.h)
				}
				golden(t, name, got)
			})
		}
	}
}

// TestVitalsOddSizes: below 80×24 nothing is promised, but the vitals line and view never
// draw past the screen.
func TestVitalsOddSizes(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {10, 5}, {40, 10}, {79, 23}, {300, 100}} {
		h, src := vitalsHarness(t, sz[0], sz[1], sampled(1000, 0, 1))
		h.refresh(src, sampled(1002, 500, 2), 2*time.Second)
		for _, k := range []string{"", "v", "down", "G", "v"} {
			if k != "" {
				h.keys(k)
			}
			lines := strings.Split(screen(h), "\n")
			if len(lines) > sz[1] {
				t.Fatalf("%dx%d after %q: %d lines", sz[0], sz[1], k, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Fatalf("%dx%d after %q: line %d is %d cells wide: %q", sz[0], sz[1], k, i, w, l)
				}
			}
		}
	}
}

// TestVitalsOtherServer: the next sample comes from another server (a new primary): its
// counters are not compared with the last one's, whatever they are.
func TestVitalsOtherServer(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(1000, 10, 0))
	next := sampled(900_000, 5_000_000, 0) // up far longer, with far more queries
	next.Server.Host = "db2:27017"
	h.refresh(src, next, 2*time.Second)
	if line := headerLine(h, 2); !strings.Contains(line, "ops/s measuring…") {
		t.Errorf("after a change of server: vitals line %q, want ops/s measuring…", line)
	}
}

// TestVitalsBelowFailure: while refreshes fail, the failure line comes first, the vitals line
// (as last seen) after it.
func TestVitalsBelowFailure(t *testing.T) {
	h, src := vitalsHarness(t, 120, 40, sampled(1000, 10, 0))
	h.refresh(src, sampled(1002, 210, 0), 2*time.Second)
	src.fail(errors.New("connection refused"))
	h.clock.advance(2 * time.Second)
	h.fireTick()
	if l := headerLine(h, 2); !strings.HasPrefix(l, "✗ refresh failed") {
		t.Errorf("header line 3 %q, want the failure", l)
	}
	if l := headerLine(h, 3); !strings.HasPrefix(l, "ops/s 200") {
		t.Errorf("header line 4 %q, want the vitals line", l)
	}
}
