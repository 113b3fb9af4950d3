package history

import (
	"math"
	"time"
)

// Table is several figures recorded in step: each Push adds one row, a value per column and
// the time it was taken. Columns are named once, when the table is made.
type Table struct {
	names []string
	cols  []*Ring
	times *Ring // Unix seconds of each row
}

// NewTable returns a table of the named columns that keeps the last capacity rows.
func NewTable(capacity int, names ...string) *Table {
	t := &Table{names: names, cols: make([]*Ring, len(names)), times: NewRing(capacity)}
	for i := range names {
		t.cols[i] = NewRing(capacity)
	}
	return t
}

// Push adds one row taken at at: row[i] is column i's value (NaN when absent); columns past
// the end of row are absent.
func (t *Table) Push(at time.Time, row []float64) {
	t.times.Push(float64(at.UnixNano()) / 1e9)
	for i, c := range t.cols {
		v := Absent
		if i < len(row) {
			v = row[i]
		}
		c.Push(v)
	}
}

// Names are the columns' names, in order.
func (t *Table) Names() []string { return t.names }

// Col is column i's ring.
func (t *Table) Col(i int) *Ring { return t.cols[i] }

// Len is how many rows are held; Cap how many can be.
func (t *Table) Len() int { return t.times.Len() }

// Cap is how many rows the table keeps.
func (t *Table) Cap() int { return t.times.Cap() }

// Pushed is how many rows were ever pushed (see Ring.Tail).
func (t *Table) Pushed() uint64 { return t.times.Pushed() }

// Span is the time between the oldest row held and row number upto (Ring.Tail's sense).
func (t *Table) Span(upto uint64) time.Duration {
	ts := t.times.Tail(nil, t.times.Len(), upto)
	if len(ts) < 2 {
		return 0
	}
	return time.Duration(math.Round((ts[len(ts)-1] - ts[0]) * 1e9))
}
