package source

import (
	"math"
	"testing"
	"time"
)

// Running saturates: microseconds beyond what a time.Duration holds must not wrap to a small
// or negative duration (2^63-1 µs × 1000 wraps to -1000 ns, which used to read as "0s").
func TestRunningSaturates(t *testing.T) {
	tests := []struct {
		us   int64
		want time.Duration
	}{
		{0, 0},
		{7391022, 7391022 * time.Microsecond},
		{math.MaxInt64 / 1000, time.Duration(math.MaxInt64/1000) * time.Microsecond},
		{math.MaxInt64/1000 + 1, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64},
		{-5, -5 * time.Microsecond},
		{math.MinInt64, math.MinInt64},
	}
	for _, tt := range tests {
		s := Session{RunningUS: tt.us}
		if got := s.Running(); got != tt.want {
			t.Errorf("Running() with %d µs = %v, want %v", tt.us, got, tt.want)
		}
	}
	// The filter sees the saturated time too.
	f, err := ParseFilter("running>1h")
	if err != nil {
		t.Fatal(err)
	}
	s := Session{ID: "1", Type: TypeOp, Active: true, RunningUS: math.MaxInt64}
	if !f.Match(&s) {
		t.Error("running>1h does not match an operation running 2^63-1 µs")
	}
}
