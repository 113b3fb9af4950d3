package source

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait between retries: Base, doubled per retry up to Max, spread by ±Jitter
// (a fraction: 0.2 is ±20 %) so that clients sharing an account do not retry in step.
type Backoff struct {
	Base, Max time.Duration
	Jitter    float64
}

// Delay is the wait before retry n (0 is the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Base
	for i := 0; i < n && d < b.Max && d > 0; i++ {
		d *= 2
	}
	d = min(d, max(b.Max, b.Base))
	if b.Jitter > 0 {
		d = time.Duration(float64(d) * (1 - b.Jitter + 2*b.Jitter*rand.Float64()))
	}
	return d
}
