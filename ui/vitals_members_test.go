package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// memberSample is a member's serverStatus sample: uptime in seconds, every operation so far
// (half queries, half commands) and its queued readers.
func memberSample(uptimeS, ops, queued int64) *source.Sample {
	return &source.Sample{
		UptimeMS: uptimeS * 1000,
		Counters: map[string]int64{
			source.CounterInsert: 0, source.CounterQuery: ops / 2, source.CounterUpdate: 0,
			source.CounterDelete: 0, source.CounterGetmore: 0, source.CounterCommand: ops - ops/2,
		},
		Gauges: map[string]int64{source.GaugeQueueReaders: queued, source.GaugeQueueWriters: 0},
	}
}

// membersAt is replSetSnapshot (db3 down) at refresh i: db1 serves 1,200 ops/s, db2 340/s
// with 3 queued readers from the third refresh; each member's own sample.
func membersAt(i int64) *source.Snapshot {
	snap := replSetSnapshot()
	snap.Members[0].Sample = memberSample(5000+2*i, 9_000_000+2400*i, 0)
	q := int64(0)
	if i >= 3 {
		q = 3
	}
	snap.Members[1].Sample = memberSample(7000+2*i, 4_000_000+680*i, q)
	return snap
}

func TestMemberVitalsStrip(t *testing.T) {
	h, src := startedWith(t, membersAt(0), 120, 36)
	strip := strings.Split(screen(h), "\n")[2]
	if strings.Contains(strip, "/s") {
		t.Errorf("first answer: strip %q shows a rate before two samples", strip)
	}
	for i := int64(1); i <= 3; i++ {
		h.refresh(src, membersAt(i), 2*time.Second)
	}
	strip = strings.Split(screen(h), "\n")[2]
	for _, want := range []string{"P db1 412c 17op 1.2k/s 8.0.4", "S db2 96c 3op 340/s q 3", "✗ db3 down: refused"} {
		if !strings.Contains(strip, want) {
			t.Errorf("strip %q lacks %q", strip, want)
		}
	}
	// Narrower cells drop the version first, then ops/s, then lag.
	for _, c := range []struct {
		w    int
		want string
	}{
		{40, "P db1 412c 17op 1.2k/s 8.0.4"},
		{26, "P db1 412c 17op 1.2k/s"},
		{20, "P db1 412c 17op"},
	} {
		ops, queue := h.m.memberRate(&membersAt(3).Members[0])
		mb := membersAt(3).Members[0]
		if got := plainCell(&mb, "db1", memberFigs{ops, queue}, c.w, &h.m.st); got != c.want {
			t.Errorf("cell in %d cells: %q, want %q", c.w, got, c.want)
		}
	}
	if got := plainCell(&membersAt(3).Members[1], "db2", memberFigs{"340/s", "q 3"}, 24, &h.m.st); got != "S db2 96c 3op q 3 lag 2s" {
		t.Errorf("secondary in 24 cells: %q", got)
	}
}

// plainCell is memberCell without its styling.
func plainCell(mb *source.Member, host string, f memberFigs, w int, st *styles) string {
	return ansi.Strip(memberCell(mb, host, f, w, st))
}

func TestMemberVitalsRestartAndLeave(t *testing.T) {
	h, src := startedWith(t, membersAt(0), 120, 36)
	h.refresh(src, membersAt(1), 2*time.Second)
	// db1 restarts: its uptime and counters go down. No rate for that interval, none negative.
	snap := membersAt(2)
	snap.Members[0].Sample = memberSample(3, 100, 0)
	h.refresh(src, snap, 2*time.Second)
	s := h.m.vitals.members.of(&snap.Members[0])
	if s == nil {
		t.Fatal("db1 has no history")
	}
	if v, ok := s.last(s.ops); ok {
		t.Errorf("after a restart db1 shows %v ops/s, want none until its next sample", v)
	}
	for _, v := range s.window(nil, s.ops) {
		if v < 0 {
			t.Errorf("negative ops/s recorded: %v", v)
		}
	}
	// db2 leaves the deployment: its history goes with it.
	gone := membersAt(3)
	db2 := gone.Members[1]
	gone.Members = append(gone.Members[:1], gone.Members[2:]...)
	h.refresh(src, gone, 2*time.Second)
	if h.m.vitals.members.of(&db2) != nil {
		t.Error("db2 left but its history is kept")
	}
	if n := len(h.m.vitals.members.byKey); n != 2 {
		t.Errorf("%d member histories, want 2", n)
	}
}

func TestMemberVitalsBounded(t *testing.T) {
	mv := newMemberVitals(300)
	ms := make([]source.Member, maxMemberSeries+50)
	for i := range ms {
		ms[i] = source.Member{Host: "n" + itoa(i), OK: true, Sample: memberSample(int64(10+i), 10, 0)}
	}
	for range 3 {
		mv.record(ms)
	}
	if n := len(mv.byKey); n != maxMemberSeries {
		t.Errorf("%d member histories, want at most %d", n, maxMemberSeries)
	}
	for range 400 {
		mv.record(ms[:2])
	}
	if s := mv.of(&ms[0]); s.ops.Len() != 300 || len(mv.byKey) != 2 {
		t.Errorf("history of %d rows (want 300), %d members (want 2)", s.ops.Len(), len(mv.byKey))
	}
}

func TestMemberVitalsPauseFreezes(t *testing.T) {
	h, src := startedWith(t, membersAt(0), 120, 36)
	h.refresh(src, membersAt(1), 2*time.Second)
	h.keys("p")
	faster := membersAt(2)
	faster.Members[0].Sample = memberSample(5004, 9_000_000+2400+20_000, 0) // 10k/s
	h.refresh(src, faster, 2*time.Second)
	if strip := strings.Split(screen(h), "\n")[2]; !strings.Contains(strip, "1.2k/s") {
		t.Errorf("paused: strip %q, want the frozen 1.2k/s", strip)
	}
	h.keys("p")
	if strip := strings.Split(screen(h), "\n")[2]; !strings.Contains(strip, "10k/s") {
		t.Errorf("resumed: strip %q, want 10k/s", strip)
	}
}

func TestCompactRate(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0/s"}, {0.5, "0.5/s"}, {7, "7/s"}, {412.4, "412/s"}, {999.4, "999/s"}, {999.6, "1.0k/s"},
		{1234, "1.2k/s"}, {9949, "9.9k/s"}, {9951, "10k/s"}, {35_000, "35k/s"}, {1_234_567, "1.2M/s"}, {42e6, "42M/s"},
	} {
		if got := compactRate(c.v); got != c.want {
			t.Errorf("compactRate(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestMemberVitalsGolden pins the strip with per-member rates and the vitals view's member
// section.
func TestMemberVitalsGolden(t *testing.T) {
	for _, st := range []struct {
		name string
		keys []string
	}{{"members-vitals", nil}, {"members-vitals-view", []string{"v"}}} {
		for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
			name := st.name + "-" + itoa(size.w) + "x" + itoa(size.h)
			t.Run(name, func(t *testing.T) {
				h, src := startedWith(t, membersAt(0), size.w, size.h)
				for i := int64(1); i <= 6; i++ {
					snap := membersAt(i)
					snap.Members[0].Sample = memberSample(5000+2*i, 9_000_000+2400*i+300*i*i, 0) // rising
					h.refresh(src, snap, 2*time.Second)
				}
				h.keys(st.keys...)
				if st.keys != nil {
					h.keys("G") // the member section is at the end
				}
				got := screen(h)
				checkScreen(t, got, size.w, size.h)
				golden(t, name, got)
			})
		}
	}
}

// TestMemberVitalsSummary: a cluster too large for cells names its busiest data-bearing
// member in the summary, when the line has room.
func TestMemberVitalsSummary(t *testing.T) {
	at := func(i int64) *source.Snapshot {
		snap := shardedSnapshot()
		for j := range snap.Members {
			snap.Members[j].Sample = memberSample(1000+2*i, int64(1000+j)*i, 0)
		}
		snap.Members = append([]source.Member{{Host: "mongos.db.example.net:27018", State: "MONGOS", Kind: "mongos", OK: true,
			Sample: memberSample(1000+2*i, 1_000_000*i, 0)}}, snap.Members...)
		return snap
	}
	h, src := startedWith(t, at(0), 180, 40)
	h.refresh(src, at(1), 2*time.Second)
	first := strings.Split(screen(h), "\n")[2]
	// Member 47 (sh16-2) grows fastest: 1,047 per 2 s. The mongos's 500k/s is not a member's load.
	if !strings.Contains(first, "busiest shard16/sh16-2 524/s") {
		t.Errorf("summary %q does not name the busiest member", first)
	}
}
