package ui

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
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

// BenchmarkView100kVitals: the same screen with the vitals line in the header and the
// history full (every row of it pushed), and with the vitals view open over it.
func BenchmarkView100kVitals(b *testing.B) {
	for _, view := range []string{"header", "vitals-view"} {
		b.Run(view, func(b *testing.B) {
			m := benchModel(b, 100_000)
			snap := synthSnapshot(100_000, 42)
			at := baseTime
			for i := range int64(m.vitals.hist.Cap() + 10) {
				snap.Server.Sample = &source.Sample{UptimeMS: 1000 + 2000*i, Counters: map[string]int64{
					source.CounterQuery: i * i * 10, source.CounterInsert: i * 50, source.CounterNetIn: i * 1e6},
					Gauges: map[string]int64{source.GaugeQueueReaders: i % 7}}
				at = at.Add(2 * time.Second)
				m.vitals.record(snap, at)
			}
			if m.vitals.hist.Len() != m.vitals.hist.Cap() || m.vitalsLines() != 1 {
				b.Fatalf("history %d of %d rows, vitals line %d", m.vitals.hist.Len(), m.vitals.hist.Cap(), m.vitalsLines())
			}
			m.panes.sess.move(50_000)
			if view == "vitals-view" {
				m.openVitals()
			}
			m.fixScroll()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// shuffled is rows in an order unrelated to any column's, the same for every run.
func shuffled(rows []int32) []int32 {
	out := slices.Clone(rows)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// BenchmarkSort100k re-sorts 100 000 sessions from an unrelated order (the keys built): only
// the sort is timed, not putting the rows back in disorder.
func BenchmarkSort100k(b *testing.B) {
	for _, col := range []string{"running", "ns", "client", "id", "command"} {
		b.Run(col, func(b *testing.B) {
			m := benchModel(b, 100_000)
			p := &m.panes.sess
			p.setSort(col)
			mixed := shuffled(p.rows)
			for b.Loop() {
				b.StopTimer()
				copy(p.rows, mixed)
				b.StartTimer()
				p.sort()
			}
		})
	}
}

// BenchmarkSort100kCold is the first sort by a column after a snapshot arrived, from an
// unrelated order: the column's keys are built (text columns: distinct values ranked), then
// sorted.
func BenchmarkSort100kCold(b *testing.B) {
	for _, col := range []string{"running", "ns", "client", "desc"} {
		b.Run(col, func(b *testing.B) {
			m := benchModel(b, 100_000)
			p := &m.panes.sess
			mixed := shuffled(p.rows)
			for b.Loop() {
				b.StopTimer()
				copy(p.rows, mixed)
				p.keys = make([][]uint64, len(p.cols))
				p.sortKey, p.desc = col, false
				b.StartTimer()
				p.sort()
			}
		})
	}
}

// BenchmarkFilter100k applies a filter to 100 000 unfiltered sessions (filter and sort of
// what passes); clearing it again between runs is not timed. The haystacks are folded by the
// first run, as by the first filter after a snapshot (BenchmarkSnapshot100k/filtered).
func BenchmarkFilter100k(b *testing.B) {
	for _, f := range []string{"op:query", "shop", "orders api", "running>5m", "ns:/^shop\\./", "!app:orders"} {
		b.Run(f, func(b *testing.B) {
			m := benchModel(b, 100_000)
			for b.Loop() {
				b.StopTimer()
				m.applyFilterText("")
				b.StartTimer()
				m.applyFilterText(f)
			}
		})
	}
}

// BenchmarkSnapshot100k: a new snapshot of 100 000 sessions arriving (rows built, measured,
// filtered, sorted, selection found); with a free-text filter set, the haystacks are folded.
func BenchmarkSnapshot100k(b *testing.B) {
	for _, f := range []string{"", "shop"} {
		name := "unfiltered"
		if f != "" {
			name = "filtered"
		}
		b.Run(name, func(b *testing.B) {
			m := benchModel(b, 100_000)
			m.applyFilterText(f)
			snap := synthSnapshot(100_000, 43)
			for b.Loop() {
				m.loop.inFlight = true
				m.Update(snapshotMsg{id: m.loop.fetchID, gen: m.loop.gen, snap: snap})
			}
		})
	}
}
