package ui

import (
	"errors"
	"math"
	"time"

	"github.com/currentop/currentop/internal/history"
	"github.com/currentop/currentop/source"
)

// History keeps the last historyWindow of vitals, one row per answer, in at least
// minHistory rows (more at short intervals) and never more than maxHistory.
const (
	historyWindow = 10 * time.Minute
	minHistory    = 300
	maxHistory    = 2400
)

// Figures the history records, in the order the vitals view lists them; the header shows
// the first four.
const (
	figOps = iota // operations per second, every type together
	figActive
	figConns
	figQueue
	figInsert
	figQuery
	figUpdate
	figDelete
	figGetmore
	figCommand
	figLatReads
	figLatWrites
	figLatCommands
	figNetIn
	figNetOut
	figRequests
	figConnsCreated
	figCacheUsed
	figCacheDirty
	figTicketsRead
	figTicketsWrite
	figLag
	nFigs
)

// unit says how a figure's value is written.
type unit int

const (
	unitRate    unit = iota // per second: "3.5", "1,234"
	unitCount               // "412"
	unitMicros              // latency: "850µs", "1.2ms"
	unitBytes               // bytes per second: "12.3 KB/s"
	unitPercent             // "42.0%"
	unitSeconds             // "1.5s"
)

// figure is one recorded figure: its short name for the header and its name in the view.
// A relative figure's sparkline spans its least to its greatest value (connections move by
// a few percent around a large level); the others' start at 0, so that 0 looks like 0.
type figure struct {
	short, name string
	unit        unit
	relative    bool
}

var figures = [nFigs]figure{
	figOps:          {"ops/s", "ops/s, all types", unitRate, false},
	figActive:       {"active", "active operations", unitCount, false},
	figConns:        {"conns", "connections", unitCount, true},
	figQueue:        {"queue", "queued readers+writers", unitCount, false},
	figInsert:       {"insert/s", "  insert/s", unitRate, false},
	figQuery:        {"query/s", "  query/s", unitRate, false},
	figUpdate:       {"update/s", "  update/s", unitRate, false},
	figDelete:       {"delete/s", "  delete/s", unitRate, false},
	figGetmore:      {"getmore/s", "  getmore/s", unitRate, false},
	figCommand:      {"command/s", "  command/s", unitRate, false},
	figLatReads:     {"reads", "latency reads", unitMicros, false},
	figLatWrites:    {"writes", "latency writes", unitMicros, false},
	figLatCommands:  {"commands", "latency commands", unitMicros, false},
	figNetIn:        {"net in", "network in", unitBytes, false},
	figNetOut:       {"net out", "network out", unitBytes, false},
	figRequests:     {"req/s", "requests/s", unitRate, false},
	figConnsCreated: {"new conns/s", "connections created/s", unitRate, false},
	figCacheUsed:    {"cache", "cache used", unitPercent, true},
	figCacheDirty:   {"dirty", "cache dirty", unitPercent, false},
	figTicketsRead:  {"read tickets", "read tickets in use", unitCount, false},
	figTicketsWrite: {"write tickets", "write tickets in use", unitCount, false},
	figLag:          {"lag", "replication lag", unitSeconds, false},
}

// vitals is the vitals part of the UI: the previous sample (rates are deltas against it),
// the history of every figure, and what the header shows. Every answer is recorded, paused
// or not; while paused the header and the vitals view stay on the row they showed (upto),
// so the display freezes while the history keeps recording.
type vitals struct {
	prev     *source.Sample
	prevHost string // the server prev came from: counters of another one are not comparable
	hist     *history.Table
	row      [nFigs]float64 // scratch for one answer's figures

	// What the display shows, updated with each answer unless paused.
	upto      uint64 // the history row the display ends at (history.Ring.Tail)
	known     bool   // some answer had vitals: the header has a vitals line
	measuring bool   // the newest sample has no rates yet (first answer, or after a restart)
	refused   error  // the source could not read vitals: why (Snapshot.VitalsErr)
	paused    bool
	held      vitalsShown // what the answers since the pause would show, applied on resume
	alert     string      // the storms named at the last answer (stormText), unstyled

	members memberVitals // each member's own figures
}

// vitalsShown is the display state an answer leaves.
type vitalsShown struct {
	upto             uint64
	known, measuring bool
	refused          error
}

// newVitals keeps the last historyWindow at interval, in [minHistory, maxHistory] rows.
func newVitals(interval time.Duration) vitals {
	n := minHistory
	if interval > 0 {
		n = max(n, int(historyWindow/interval))
	}
	names := make([]string, nFigs)
	for i, f := range figures {
		names[i] = f.short
	}
	n = min(n, maxHistory)
	return vitals{hist: history.NewTable(n, names...), members: newMemberVitals(n)}
}

// record takes one answer taken at at: its vitals are the source's own (Snapshot.Vitals), or
// computed from its sample against the previous one.
func (v *vitals) record(snap *source.Snapshot, at time.Time) {
	cur := snap.Server.Sample
	vit := snap.Vitals
	if v.prevHost != snap.Server.Host {
		v.prev = nil // another server (a new primary): its counters start a new series
	}
	if vit == nil && cur != nil {
		vit = source.ComputeVitals(v.prev, cur)
	}
	measuring := cur != nil && (vit == nil || vit.OpsPerS == nil) && (v.prev == nil || restarted(v.prev, cur))
	if cur != nil {
		v.prev, v.prevHost = cur, snap.Server.Host
	}
	v.fill(snap, vit)
	v.hist.Push(at, v.row[:])
	v.members.record(snap.Members)
	s := vitalsShown{upto: v.hist.Pushed(), known: v.known || vit != nil || cur != nil,
		measuring: measuring, refused: snap.VitalsErr}
	if s.refused != nil {
		s.known = true
	}
	if v.paused {
		v.held = s
		return
	}
	v.apply(s)
}

func (v *vitals) apply(s vitalsShown) {
	v.upto, v.known, v.measuring, v.refused = s.upto, s.known, s.measuring, s.refused
}

// pause freezes the display, or brings it up to date with what was recorded meanwhile.
func (v *vitals) pause(on bool) {
	if !on && v.paused && v.held.upto > v.upto {
		v.apply(v.held)
	}
	v.paused = on
	v.members.pause(on)
	v.held = vitalsShown{upto: v.upto, known: v.known, measuring: v.measuring, refused: v.refused}
}

// restarted says the server restarted between the samples (its uptime went down).
func restarted(prev, cur *source.Sample) bool {
	return prev.UptimeMS > 0 && cur.UptimeMS > 0 && cur.UptimeMS < prev.UptimeMS
}

// fill sets v.row to the answer's figures, NaN where unknown.
func (v *vitals) fill(snap *source.Snapshot, vit *source.Vitals) {
	r := &v.row
	for i := range r {
		r[i] = history.Absent
	}
	r[figActive] = float64(activeOps(snap))
	if c := snap.Server.Connections; c.Current > 0 && c.Known(source.ConnCurrent) {
		r[figConns] = float64(c.Current)
	}
	if vit == nil {
		return
	}
	if o := vit.OpsPerS; o != nil {
		for i, p := range []*float64{o.Insert, o.Query, o.Update, o.Delete, o.Getmore, o.Command} {
			r[figInsert+i] = f64(p)
		}
		r[figOps] = sum(r[figInsert : figCommand+1])
	}
	if l := vit.LatencyUS; l != nil {
		r[figLatReads], r[figLatWrites], r[figLatCommands] = f64(l.Reads), f64(l.Writes), f64(l.Commands)
	}
	r[figNetIn], r[figNetOut] = f64(vit.NetInBytesPerS), f64(vit.NetOutBytesPerS)
	r[figRequests], r[figConnsCreated] = f64(vit.RequestsPerS), f64(vit.ConnsCreatedPerS)
	if q := vit.Queue; q != nil {
		r[figQueue] = sum([]float64{i64(q.Readers), i64(q.Writers)})
	}
	r[figCacheUsed], r[figCacheDirty] = f64(vit.CacheUsedPct), f64(vit.CacheDirtyPct)
	if t := vit.Tickets; t != nil {
		r[figTicketsRead], r[figTicketsWrite] = i64(t.ReadOut), i64(t.WriteOut)
	}
	if rp := vit.Repl; rp != nil {
		r[figLag] = f64(rp.LagS)
	}
}

// activeOps counts the operations in flight the answer lists (stale rows of a member that
// did not answer are not current).
func activeOps(snap *source.Snapshot) int {
	n := 0
	for i := range snap.Sessions {
		s := &snap.Sessions[i]
		if s.Active && !s.Stale && (s.Type == source.TypeOp || s.Type == "") {
			n++
		}
	}
	return n
}

// f64 and i64 read an optional figure; NaN when absent, or not a sane value.
func f64(p *float64) float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0 {
		return history.Absent
	}
	return *p
}

func i64(p *int64) float64 {
	if p == nil || *p < 0 {
		return history.Absent
	}
	return float64(*p)
}

// sum adds the values present; NaN when none is.
func sum(vs []float64) float64 {
	t, any := 0.0, false
	for _, x := range vs {
		if !math.IsNaN(x) {
			t, any = t+x, true
		}
	}
	if !any {
		return history.Absent
	}
	return t
}

// series appends to dst the last n values of figure f the display shows.
func (v *vitals) series(dst []float64, f, n int) []float64 {
	return v.hist.Col(f).Tail(dst, n, v.upto)
}

// current is figure f's value at the row shown; false when absent.
func (v *vitals) current(f int) (float64, bool) {
	var one [1]float64
	s := v.series(one[:0], f, 1)
	if len(s) == 0 || math.IsNaN(s[0]) {
		return 0, false
	}
	return s[0], true
}

// refusedNote is the header's line when the source could not read vitals.
func refusedNote(err error) string {
	if source.KindOf(err) == source.ErrPermission {
		return "vitals unavailable: serverStatus not permitted (needs clusterMonitor)"
	}
	var se *source.Error
	if errors.As(err, &se) && se.Hint != "" {
		return "vitals unavailable: " + source.Clean(se.Hint)
	}
	return "vitals unavailable: " + source.Clean(err.Error())
}
