// Package history keeps the recent past of a few figures in fixed memory: a Ring is one
// figure's last N samples, a Table is several rings filled in step (one row per refresh).
// Absent samples are NaN, so that a figure a server stopped reporting leaves a gap rather
// than a made-up zero.
package history

import "math"

// MaxCapacity bounds any ring, whatever it is asked for: history is for the screen, and a
// screen is at most a few hundred cells wide.
const MaxCapacity = 1 << 14

// Absent is the value pushed for a figure that is unknown at that sample.
var Absent = math.NaN()

// Ring is a bounded series of float64 samples, oldest first. Its zero value holds nothing;
// make one with NewRing. Pushing past the capacity drops the oldest sample: memory never
// grows after the first Cap pushes.
type Ring struct {
	buf    []float64
	head   int    // where the next sample goes
	n      int    // how many samples are held
	pushed uint64 // how many were ever pushed
}

// NewRing returns a ring that holds the last capacity samples (at least 1, at most MaxCapacity).
func NewRing(capacity int) *Ring {
	return &Ring{buf: make([]float64, min(max(capacity, 1), MaxCapacity))}
}

// Push appends v, dropping the oldest sample when the ring is full.
func (r *Ring) Push(v float64) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.head] = v
	r.head = (r.head + 1) % len(r.buf)
	if r.n < len(r.buf) {
		r.n++
	}
	r.pushed++
}

// Len is how many samples are held.
func (r *Ring) Len() int { return r.n }

// Cap is how many samples the ring can hold.
func (r *Ring) Cap() int { return len(r.buf) }

// Pushed is how many samples were ever pushed: a sequence number that says which samples a
// reader has seen.
func (r *Ring) Pushed() uint64 { return r.pushed }

// At is the i-th sample held, 0 the oldest; NaN outside [0, Len).
func (r *Ring) At(i int) float64 {
	if i < 0 || i >= r.n {
		return Absent
	}
	return r.buf[(r.head-r.n+i+len(r.buf))%len(r.buf)]
}

// Last is the newest sample; false when the ring is empty or it is absent.
func (r *Ring) Last() (float64, bool) {
	v := r.At(r.n - 1)
	return v, !math.IsNaN(v)
}

// Tail appends to dst the last n samples pushed up to and including push number upto (as
// returned by Pushed then), oldest first, and returns it: a reader that froze at upto keeps
// seeing the same samples while newer ones arrive, for as long as the ring still holds them.
func (r *Ring) Tail(dst []float64, n int, upto uint64) []float64 {
	skip := int(min(r.pushed-min(upto, r.pushed), uint64(r.n))) // newer samples than upto
	end := r.n - skip
	for i := max(0, end-n); i < end; i++ {
		dst = append(dst, r.At(i))
	}
	return dst
}

// MinMax is the least and greatest sample present among vs; false when none is.
func MinMax(vs []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		lo, hi, ok = min(lo, v), max(hi, v), true
	}
	return lo, hi, ok
}
