package ui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// benchModel is a 120×40 UI showing a synthetic snapshot of n sessions.
func benchModel(b *testing.B, n int) *Model {
	b.Helper()
	src := &fakeKiller{}
	snap := synthSnapshot(n, 42)
	src.set(snap)
	m := New(Options{Source: src, Now: newClock().now})
	m.loop.schedule = func(time.Duration, tea.Msg) tea.Cmd { return nil }
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.loop.inFlight = true
	m.Update(snapshotMsg{id: m.loop.fetchID, gen: m.loop.gen, snap: snap})
	if len(m.panes.sess.rows) != n {
		b.Fatalf("%d rows shown, want %d", len(m.panes.sess.rows), n)
	}
	return m
}

// BenchmarkView100k: drawing the screen must not grow with the number of sessions.
func BenchmarkView100k(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(count(n), func(b *testing.B) {
			m := benchModel(b, n)
			m.panes.sess.move(n / 2) // somewhere in the middle
			m.fixScroll()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkSort100k re-sorts 100 000 sessions (the 'r' key: every press is a full sort).
func BenchmarkSort100k(b *testing.B) {
	for _, col := range []string{"running", "ns", "client", "id"} {
		b.Run(col, func(b *testing.B) {
			m := benchModel(b, 100_000)
			m.panes.sess.setSort(col)
			r := keyMsg("r")
			for b.Loop() {
				m.Update(r)
			}
		})
	}
}

// BenchmarkSort100kCold is the first sort by a column after a snapshot arrived: the column's
// keys are built (text columns: distinct values ranked), then sorted.
func BenchmarkSort100kCold(b *testing.B) {
	for _, col := range []string{"running", "ns", "client", "desc"} {
		b.Run(col, func(b *testing.B) {
			m := benchModel(b, 100_000)
			for b.Loop() {
				m.panes.sess.keys = make([][]uint64, len(m.panes.sess.cols))
				m.panes.sess.setSort(col)
			}
		})
	}
}

// BenchmarkFilter100k re-filters (and re-sorts) 100 000 sessions as a filter is edited.
func BenchmarkFilter100k(b *testing.B) {
	for _, f := range []string{"op:query", "shop", "running>5m", "ns:/^shop\\./", "!app:orders"} {
		b.Run(f, func(b *testing.B) {
			m := benchModel(b, 100_000)
			texts := []string{f, ""}
			i := 0
			for b.Loop() {
				m.applyFilterText(texts[i%2])
				i++
			}
		})
	}
}

// BenchmarkSnapshot100k: a new snapshot of 100 000 sessions arriving (rows built, measured,
// filtered, sorted, selection found).
func BenchmarkSnapshot100k(b *testing.B) {
	m := benchModel(b, 100_000)
	snap := synthSnapshot(100_000, 43)
	for b.Loop() {
		m.loop.inFlight = true
		m.Update(snapshotMsg{id: m.loop.fetchID, gen: m.loop.gen, snap: snap})
	}
}
