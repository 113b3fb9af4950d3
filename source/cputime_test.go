package source

import (
	"testing"
	"time"
)

// cpuMeter adds the CPU time per operation to a benchmark's results ("cpu-ms/op"): on a
// machine shared with other work, wall time per operation says how busy the machine was,
// CPU time what the operation costs. Like the timer, it counts only what runs between
// start and stop (the measured code, not its per-round setup).
type cpuMeter struct {
	b            *testing.B
	total, since time.Duration
	running      bool
}

// meterCPU starts counting; call it just before the benchmark loop.
func meterCPU(b *testing.B) *cpuMeter {
	m := &cpuMeter{b: b, since: processCPU(), running: true}
	b.Cleanup(func() {
		if m.running {
			m.total += processCPU() - m.since
		}
		if b.N > 0 && m.total > 0 {
			b.ReportMetric(float64(m.total)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	})
	return m
}

func (m *cpuMeter) stop() {
	m.b.StopTimer()
	m.total += processCPU() - m.since
	m.running = false
}

func (m *cpuMeter) start() {
	m.running, m.since = true, processCPU()
	m.b.StartTimer()
}
