package history

import (
	"math"
	"slices"
	"testing"
	"time"
)

func nan() float64 { return math.NaN() }

// same compares sample lists, NaN equal to NaN.
func same(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

func TestRing(t *testing.T) {
	tests := []struct {
		name   string
		cap    int
		push   []float64
		want   []float64 // At(0..Len)
		last   float64
		lastOK bool
	}{
		{"empty", 3, nil, nil, nan(), false},
		{"partly filled", 3, []float64{1, 2}, []float64{1, 2}, 2, true},
		{"exactly full", 3, []float64{1, 2, 3}, []float64{1, 2, 3}, 3, true},
		{"wrapped drops the oldest", 3, []float64{1, 2, 3, 4, 5}, []float64{3, 4, 5}, 5, true},
		{"absent newest", 3, []float64{1, nan()}, []float64{1, nan()}, nan(), false},
		{"capacity below 1 holds one", 0, []float64{1, 2}, []float64{2}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.cap)
			for _, v := range tt.push {
				r.Push(v)
			}
			var got []float64
			for i := range r.Len() {
				got = append(got, r.At(i))
			}
			if !same(got, tt.want) {
				t.Errorf("samples %v, want %v", got, tt.want)
			}
			if last, ok := r.Last(); ok != tt.lastOK || ok && last != tt.last {
				t.Errorf("Last() = %v, %v; want %v, %v", last, ok, tt.last, tt.lastOK)
			}
			if r.Pushed() != uint64(len(tt.push)) {
				t.Errorf("Pushed() = %d, want %d", r.Pushed(), len(tt.push))
			}
			if !math.IsNaN(r.At(-1)) || !math.IsNaN(r.At(r.Len())) {
				t.Error("At outside the samples held is not NaN")
			}
		})
	}
}

func TestRingCapacityBounded(t *testing.T) {
	if c := NewRing(1 << 30).Cap(); c != MaxCapacity {
		t.Errorf("NewRing(1<<30).Cap() = %d, want the hard cap %d", c, MaxCapacity)
	}
}

func TestTail(t *testing.T) {
	r := NewRing(4)
	for v := 1.0; v <= 6; v++ {
		r.Push(v) // holds 3 4 5 6; pushed 6
	}
	tests := []struct {
		name string
		n    int
		upto uint64
		want []float64
	}{
		{"all up to now", 10, 6, []float64{3, 4, 5, 6}},
		{"last two", 2, 6, []float64{5, 6}},
		{"frozen at push 5", 10, 5, []float64{3, 4, 5}},
		{"frozen at push 5, last two", 2, 5, []float64{4, 5}},
		{"frozen before what is held", 10, 2, nil},
		{"upto in the future is now", 2, 99, []float64{5, 6}},
		{"none", 0, 6, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Tail(nil, tt.n, tt.upto); !same(got, tt.want) {
				t.Errorf("Tail(%d, %d) = %v, want %v", tt.n, tt.upto, got, tt.want)
			}
		})
	}
}

func TestMinMax(t *testing.T) {
	tests := []struct {
		name   string
		vs     []float64
		lo, hi float64
		ok     bool
	}{
		{"none", nil, 0, 0, false},
		{"all absent", []float64{nan(), nan()}, 0, 0, false},
		{"absent skipped", []float64{nan(), 3, -1, nan(), 7}, -1, 7, true},
		{"one", []float64{2}, 2, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, ok := MinMax(tt.vs)
			if ok != tt.ok || ok && (lo != tt.lo || hi != tt.hi) {
				t.Errorf("MinMax(%v) = %v, %v, %v; want %v, %v, %v", tt.vs, lo, hi, ok, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}

func TestTable(t *testing.T) {
	tb := NewTable(3, "ops", "conns")
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		tb.Push(t0.Add(time.Duration(i)*2*time.Second), []float64{float64(i)}) // conns absent
	}
	if tb.Len() != 3 || tb.Cap() != 3 || tb.Pushed() != 5 {
		t.Fatalf("Len, Cap, Pushed = %d, %d, %d; want 3, 3, 5", tb.Len(), tb.Cap(), tb.Pushed())
	}
	if got := tb.Col(0).Tail(nil, 3, tb.Pushed()); !same(got, []float64{2, 3, 4}) {
		t.Errorf("ops = %v, want [2 3 4]", got)
	}
	if _, ok := tb.Col(1).Last(); ok {
		t.Error("a column missing from the rows has a value")
	}
	if got := tb.Span(tb.Pushed()); got != 4*time.Second {
		t.Errorf("Span(now) = %v, want 4s (three rows 2 s apart)", got)
	}
	if got := tb.Span(4); got != 2*time.Second {
		t.Errorf("Span(frozen at row 4) = %v, want 2s", got)
	}
	if !slices.Equal(tb.Names(), []string{"ops", "conns"}) {
		t.Errorf("Names() = %v", tb.Names())
	}
}

// TestMemoryBounded: a million refreshes later the table holds what it held after its first
// Cap rows, in the same backing arrays, and the heap has not grown with the pushes.
func TestMemoryBounded(t *testing.T) {
	const capacity = 600
	tb := NewTable(capacity, "a", "b", "c", "d")
	row := []float64{1, 2, 3, 4}
	at := time.Unix(0, 0)
	for range capacity {
		tb.Push(at, row)
	}
	bufs := func() []*float64 {
		var ps []*float64
		for i := range tb.Names() {
			ps = append(ps, &tb.Col(i).buf[0])
		}
		return append(ps, &tb.times.buf[0])
	}
	before := bufs()
	if allocs := testing.AllocsPerRun(1000, func() { tb.Push(at, row) }); allocs != 0 {
		t.Errorf("Push allocates %v times per row, want 0", allocs)
	}
	pushed := tb.Pushed()
	for i := range 1_000_000 {
		row[0] = float64(i)
		tb.Push(at, row)
	}
	if tb.Len() != capacity || tb.Pushed() != pushed+1_000_000 {
		t.Errorf("Len() = %d, Pushed() = %d after a million pushes", tb.Len(), tb.Pushed())
	}
	for i := range tb.Names() {
		if c := tb.Col(i); len(c.buf) != capacity || cap(c.buf) != capacity {
			t.Errorf("column %d: len/cap %d/%d, want %d", i, len(c.buf), cap(c.buf), capacity)
		}
	}
	if !slices.Equal(before, bufs()) {
		t.Error("the backing arrays were replaced")
	}
	if v, _ := tb.Col(0).Last(); v != 999_999 {
		t.Errorf("newest sample %v, want 999999", v)
	}
}
