package source

import (
	"errors"
	"fmt"
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

func TestClientIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3:5555":         "10.1.2.3",
		"[2001:db8::5]:443":     "2001:db8::5",
		"[::1]":                 "::1",
		"2001:db8::5":           "2001:db8::5",
		"10.1.2.3":              "10.1.2.3",
		"anonymous unix socket": "anonymous unix socket",
		"":                      "",
	} {
		s := Session{Client: in}
		if got := s.ClientIP(); got != want {
			t.Errorf("ClientIP of %q = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 2 * time.Second, Max: 30 * time.Second}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for n, w := range want {
		if got := b.Delay(n); got != w {
			t.Errorf("Delay(%d) = %v, want %v", n, got, w)
		}
	}
	if got := (Backoff{Base: time.Minute, Max: 30 * time.Second}).Delay(3); got != time.Minute {
		t.Errorf("a base above the cap is kept: %v", got)
	}
	if got := b.Delay(1 << 20); got != 30*time.Second {
		t.Errorf("many retries: %v", got)
	}
	j := Backoff{Base: time.Second, Max: 8 * time.Second, Jitter: 0.2}
	for n := range 50 {
		ideal := min(time.Second<<min(n, 4), 8*time.Second)
		if got := j.Delay(n); got < ideal*8/10 || got > ideal*12/10 {
			t.Fatalf("Delay(%d) = %v, want %v ±20%%", n, got, ideal)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.1:27017: connect: connection refused")
	se := &Error{Kind: ErrUnreachable, Hint: "connection refused: check host and port", Err: fmt.Errorf("cannot reach db1: %w", cause)}
	wrapped := fmt.Errorf("snapshot: %w", se)
	if KindOf(wrapped) != ErrUnreachable || !errors.Is(wrapped, cause) {
		t.Errorf("KindOf %v, Is %v", KindOf(wrapped), errors.Is(wrapped, cause))
	}
	if wrapped.Error() != "snapshot: cannot reach db1: dial tcp 10.0.0.1:27017: connect: connection refused" {
		t.Errorf("text %q", wrapped)
	}
	if KindOf(cause) != ErrOther || KindOf(nil) != ErrOther {
		t.Error("an unexplained error has a kind")
	}
	for k := ErrOther; k <= ErrNotFound+1; k++ {
		if k.String() == "" {
			t.Errorf("kind %d has no name", k)
		}
	}
	if (&Error{Kind: ErrAuth, Hint: "check the password"}).Error() != "authentication failed: check the password" {
		t.Error("an Error without Err does not say its kind and hint")
	}
}
