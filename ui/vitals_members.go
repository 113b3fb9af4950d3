package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/currentop/currentop/internal/history"
	"github.com/currentop/currentop/source"
)

// Per-member vitals: each member's own serverStatus sample (source.Member.Sample, read by
// the fan-out with its connections) gives its operations per second and its queue, computed
// like the deployment's (source.ComputeVitals against the member's previous sample) and kept
// in a bounded history per member, which is dropped when the member leaves the deployment.
// A member that did not answer records a gap; its previous sample stays, so that its next
// answer gives a rate over the longer interval (or none after a restart).

// maxMemberSeries bounds the members followed: a cloud API's node list is untrusted.
const maxMemberSeries = 256

// memberSeries is one member's history.
type memberSeries struct {
	prev       *source.Sample
	ops, queue *history.Ring
	upto       uint64 // the ring row the display ends at (frozen while paused)
	seen       uint64 // the answer that last listed the member
}

// memberVitals are the members' histories, by memberKey.
type memberVitals struct {
	byKey    map[string]*memberSeries
	capacity int
	answers  uint64
	paused   bool
}

func newMemberVitals(capacity int) memberVitals {
	return memberVitals{byKey: map[string]*memberSeries{}, capacity: capacity}
}

// memberKey names a member across answers: its set and host (a cloud node's name is unique
// within its replica set only).
func memberKey(mb *source.Member) string { return strings.ToLower(mb.Set + "/" + mb.Host) }

// record takes one answer's members.
func (mv *memberVitals) record(ms []source.Member) {
	mv.answers++
	for i := range ms {
		mb := &ms[i]
		k := memberKey(mb)
		s := mv.byKey[k]
		if s == nil {
			if len(mv.byKey) >= maxMemberSeries {
				continue
			}
			s = &memberSeries{ops: history.NewRing(mv.capacity), queue: history.NewRing(mv.capacity)}
			mv.byKey[k] = s
		}
		if s.seen == mv.answers { // listed twice in one answer: once is enough
			continue
		}
		s.seen = mv.answers
		ops, queue := history.Absent, history.Absent
		if cur := mb.Sample; cur != nil && mb.OK {
			if vit := source.ComputeVitals(s.prev, cur); vit != nil {
				ops, queue = opsOf(vit), queueOf(vit)
			}
			s.prev = cur
		}
		s.ops.Push(ops)
		s.queue.Push(queue)
		if !mv.paused {
			s.upto = s.ops.Pushed()
		}
	}
	for k, s := range mv.byKey {
		if s.seen != mv.answers {
			delete(mv.byKey, k) // it left the deployment
		}
	}
}

// pause freezes what the strip and the view show of the members, or brings it up to date.
func (mv *memberVitals) pause(on bool) {
	mv.paused = on
	if !on {
		for _, s := range mv.byKey {
			s.upto = s.ops.Pushed()
		}
	}
}

// opsOf is every type's operations per second together; NaN when unknown.
func opsOf(vit *source.Vitals) float64 {
	o := vit.OpsPerS
	if o == nil {
		return history.Absent
	}
	return sum([]float64{f64(o.Insert), f64(o.Query), f64(o.Update), f64(o.Delete), f64(o.Getmore), f64(o.Command)})
}

// queueOf is the queued readers and writers; NaN when unknown.
func queueOf(vit *source.Vitals) float64 {
	q := vit.Queue
	if q == nil {
		return history.Absent
	}
	return sum([]float64{i64(q.Readers), i64(q.Writers)})
}

// of is mb's history, or nil.
func (mv *memberVitals) of(mb *source.Member) *memberSeries {
	if mv.byKey == nil {
		return nil
	}
	return mv.byKey[memberKey(mb)]
}

// last is r's value at the row shown; false when absent.
func (s *memberSeries) last(r *history.Ring) (float64, bool) {
	var one [1]float64
	vs := r.Tail(one[:0], 1, s.upto)
	if len(vs) == 0 || math.IsNaN(vs[0]) {
		return 0, false
	}
	return vs[0], true
}

// window appends to dst r's values up to the row shown.
func (s *memberSeries) window(dst []float64, r *history.Ring) []float64 {
	return r.Tail(dst, r.Len(), s.upto)
}

// memberRate is what the strip shows of a member's vitals: its operations per second
// ("1.2k/s") and its queue ("q 3", only when something waits); "" when unknown.
func (m *Model) memberRate(mb *source.Member) (ops, queue string) {
	s := m.vitals.members.of(mb)
	if s == nil || !mb.OK {
		return "", ""
	}
	if v, ok := s.last(s.ops); ok {
		ops = compactRate(v)
	}
	if v, ok := s.last(s.queue); ok && v > 0 {
		queue = "q " + count(int64(math.Round(v)))
	}
	return ops, queue
}

// compactRate is a rate in at most six cells: "0.5/s", "412/s", "1.2k/s", "35k/s", "1.2M/s".
func compactRate(v float64) string {
	switch {
	case v < 10 && v != math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	case v < 999.5:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "/s"
	case v < 9950:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k/s"
	case v < 999.5e3:
		return strconv.FormatFloat(math.Round(v/1e3), 'f', 0, 64) + "k/s"
	case v < 9.95e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M/s"
	}
	return strconv.FormatFloat(math.Round(v/1e6), 'f', 0, 64) + "M/s"
}

// memberViewLines are the vitals view's section per member: each member's ops/s now, least
// and greatest over the window with its sparkline over sw cells, and its queue when one
// formed in the window; none for a single node.
func (m *Model) memberViewLines(sw int) []string {
	ms := m.stripMembers()
	if len(ms) == 0 {
		return nil
	}
	st := &m.st
	lines := []string{"", st.colHeader.Render("  " + fit("member ops/s", vvName, false) + fit("now", vvValue, true) +
		fit("min", vvValue, true) + fit("max", vvValue, true) + "  " + fit("over the window", sw, false))}
	short := shortHosts(ms)
	var buf []float64
	row := func(name string, s *memberSeries, r *history.Ring, u unit, now string) string {
		lo, hi := "—", "—"
		if s != nil {
			buf = s.window(buf[:0], r)
			if a, b, ok := history.MinMax(buf); ok {
				lo, hi = formatFigure(a, u), formatFigure(b, u)
			}
			if v, ok := s.last(r); ok && now == "" {
				now = formatFigure(v, u)
			}
		} else {
			buf = buf[:0]
		}
		if now == "" {
			now = "—"
		}
		line := "  " + fit(name, vvName, false) + st.value.Render(fit(now, vvValue, true)) +
			fit(lo, vvValue, true) + fit(hi, vvValue, true)
		if sw > 0 {
			line += "  " + st.spark.Render(sparkline(buf, sw, m.ascii, false, true))
		}
		return line
	}
	for i := range ms {
		mb := &ms[i]
		s := m.vitals.members.of(mb)
		name := stateAbbrev(mb.State, mb.Kind) + " " + memberName(mb, short[i])
		now := ""
		if !mb.OK {
			name, now = "✗ "+memberName(mb, short[i]), "down"
		}
		lines = append(lines, row(name, s, s.opsRing(), unitRate, now))
		if s != nil && s.queued() {
			lines = append(lines, row("    queue", s, s.queue, unitCount, ""))
		}
	}
	return lines
}

// opsRing is s's ops/s history; nil for no member.
func (s *memberSeries) opsRing() *history.Ring {
	if s == nil {
		return nil
	}
	return s.ops
}

// queued says something waited on the member within the window shown.
func (s *memberSeries) queued() bool {
	_, hi, ok := history.MinMax(s.window(nil, s.queue))
	return ok && hi > 0
}

// busiestMember is the summary's part naming the data-bearing member with the most
// operations per second ("busiest shard02/h2 7.7k/s"); "" when no rate is known. A mongos is
// left out: every operation it routes is counted again on a shard.
func (m *Model) busiestMember(ms []source.Member, short []string) string {
	best, at := -1.0, -1
	for i := range ms {
		mb := &ms[i]
		s := m.vitals.members.of(mb)
		if s == nil || !mb.OK || strings.EqualFold(mb.Kind, "mongos") {
			continue
		}
		if v, ok := s.last(s.ops); ok && v > best {
			best, at = v, i
		}
	}
	if at < 0 {
		return ""
	}
	return m.st.label.Render("busiest ") + memberName(&ms[at], short[at]) + " " + compactRate(best)
}
