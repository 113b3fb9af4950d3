package source

import (
	"context"
	"time"
)

// Sample is one reading of a server's cumulative counters and current gauges (for MongoDB,
// one serverStatus document). A figure the server did not report is absent from its map,
// never zero, so that vitals computed from it stay absent too.
type Sample struct {
	ClientAt time.Time // the client's clock when the sample arrived
	ServerAt time.Time // the server's own clock (serverStatus.localTime); zero when unknown
	UptimeMS int64     // the server's uptime (serverStatus.uptimeMillis); 0 when unknown

	// Counters only grow while the process lives: keys are the Counter* constants.
	Counters map[string]int64
	// Gauges are point-in-time figures: keys are the Gauge* constants.
	Gauges map[string]int64

	ReplState string   // "PRIMARY", "SECONDARY", …; empty when unknown
	LagS      *float64 // replication lag behind the primary; nil when unknown
}

// Counter keys of a Sample.
const (
	CounterInsert       = "insert" // opcounters (a secondary's insert, update, delete: opcountersRepl)
	CounterQuery        = "query"
	CounterUpdate       = "update"
	CounterDelete       = "delete"
	CounterGetmore      = "getmore"
	CounterCommand      = "command"
	CounterReadsUS      = "reads.latency" // opLatencies.reads.latency, microseconds
	CounterReadsOps     = "reads.ops"
	CounterWritesUS     = "writes.latency"
	CounterWritesOps    = "writes.ops"
	CounterCommandsUS   = "commands.latency"
	CounterCommandsOps  = "commands.ops"
	CounterNetIn        = "net.bytesIn"
	CounterNetOut       = "net.bytesOut"
	CounterRequests     = "net.numRequests"
	CounterConnsCreated = "connections.totalCreated"
)

// Gauge keys of a Sample.
const (
	GaugeQueueReaders   = "queue.readers" // globalLock.currentQueue
	GaugeQueueWriters   = "queue.writers"
	GaugeActiveReaders  = "active.readers" // globalLock.activeClients
	GaugeActiveWriters  = "active.writers"
	GaugeReadOut        = "tickets.read.out" // concurrentTransactions / queues.execution
	GaugeReadAvailable  = "tickets.read.available"
	GaugeWriteOut       = "tickets.write.out"
	GaugeWriteAvailable = "tickets.write.available"
	GaugeCacheBytes     = "cache.bytes" // wiredTiger.cache "bytes currently in the cache"
	GaugeCacheDirty     = "cache.dirty" // "tracked dirty bytes in the cache"
	GaugeCacheMax       = "cache.max"   // "maximum bytes configured"

	// The ingress admission queue of MongoDB 8.0 (serverStatus.queues.ingress): operations
	// waiting to enter the server from the network, and the admission tickets held and left.
	GaugeAdmissionQueued    = "admission.queued" // queues.ingress.normalPriority.queueLength
	GaugeAdmissionOut       = "admission.out"
	GaugeAdmissionAvailable = "admission.available"
)

// Vitals are a server's rates over an interval and its gauges at the end of it.
// Every field is optional: absent means unknown, never zero.
type Vitals struct {
	OpsPerS          *OpRates   `json:"ops_per_s,omitempty"`
	LatencyUS        *Latency   `json:"latency_us,omitempty"`
	NetInBytesPerS   *float64   `json:"net_in_bytes_per_s,omitempty"`
	NetOutBytesPerS  *float64   `json:"net_out_bytes_per_s,omitempty"`
	RequestsPerS     *float64   `json:"requests_per_s,omitempty"`
	ConnsCreatedPerS *float64   `json:"conns_created_per_s,omitempty"`
	Queue            *ReadWrite `json:"queue,omitempty"`
	Active           *ReadWrite `json:"active,omitempty"`
	Tickets          *Tickets   `json:"tickets,omitempty"`
	CacheUsedPct     *float64   `json:"cache_used_pct,omitempty"`
	CacheDirtyPct    *float64   `json:"cache_dirty_pct,omitempty"`
	Repl             *Repl      `json:"repl,omitempty"`
	Admission        *Admission `json:"admission,omitempty"`
	InFlight         *InFlight  `json:"in_flight,omitempty"` // cloud sources: from the session list
}

// OpRates are operations per second by type.
type OpRates struct {
	Insert  *float64 `json:"insert,omitempty"`
	Query   *float64 `json:"query,omitempty"`
	Update  *float64 `json:"update,omitempty"`
	Delete  *float64 `json:"delete,omitempty"`
	Getmore *float64 `json:"getmore,omitempty"`
	Command *float64 `json:"command,omitempty"`
}

// Latency is the average latency per operation class over the interval, in microseconds.
type Latency struct {
	Reads    *float64 `json:"reads,omitempty"`
	Writes   *float64 `json:"writes,omitempty"`
	Commands *float64 `json:"commands,omitempty"`
}

// ReadWrite counts readers and writers (queued or active).
type ReadWrite struct {
	Readers *int64 `json:"readers,omitempty"`
	Writers *int64 `json:"writers,omitempty"`
}

// Tickets are the storage engine's concurrency tickets in use and left.
type Tickets struct {
	ReadOut        *int64 `json:"read_out,omitempty"`
	ReadAvailable  *int64 `json:"read_available,omitempty"`
	WriteOut       *int64 `json:"write_out,omitempty"`
	WriteAvailable *int64 `json:"write_available,omitempty"`
}

// Admission is MongoDB 8.0's ingress admission control (serverStatus.queues.ingress):
// operations queued for admission, and admission tickets held and left. Older servers
// have no such queue: absent, not zero.
type Admission struct {
	Queued    *int64 `json:"queued,omitempty"`
	Out       *int64 `json:"out,omitempty"`
	Available *int64 `json:"available,omitempty"`
}

// Repl is the member's replication state.
type Repl struct {
	State string   `json:"state,omitempty"`
	LagS  *float64 `json:"lag_s,omitempty"`
}

// ComputeVitals derives vitals from two samples of the same server, prev taken before cur.
// Rates are absent when the interval is unknown or the server restarted in between (its
// uptime went down), and each one is absent when its counter went down: never negative.
// Gauges come from cur alone, so a nil prev still gives them.
func ComputeVitals(prev, cur *Sample) *Vitals {
	if cur == nil {
		return nil
	}
	v := &Vitals{}
	if secs := interval(prev, cur); secs > 0 {
		v.rates(prev, cur, secs)
	}
	v.gauges(cur)
	if *v == (Vitals{}) {
		return nil
	}
	return v
}

// interval is the seconds between two samples by the server's own clocks when both samples
// have them (uptime first: it never jumps), else by the client's; 0 after a restart or when
// unknown.
func interval(prev, cur *Sample) float64 {
	if prev == nil {
		return 0
	}
	if prev.UptimeMS > 0 && cur.UptimeMS > 0 {
		return float64(cur.UptimeMS-prev.UptimeMS) / 1000 // ≤ 0 after a restart: no rates
	}
	if !prev.ServerAt.IsZero() && !cur.ServerAt.IsZero() {
		return cur.ServerAt.Sub(prev.ServerAt).Seconds()
	}
	if prev.ClientAt.IsZero() || cur.ClientAt.IsZero() {
		return 0
	}
	return cur.ClientAt.Sub(prev.ClientAt).Seconds()
}

// delta is how much counter k grew between the samples; false when either lacks it or it
// went down (a restart, or a counter that wrapped).
func delta(prev, cur *Sample, k string) (int64, bool) {
	a, ok := prev.Counters[k]
	if !ok {
		return 0, false
	}
	b, ok := cur.Counters[k]
	if !ok || b < a {
		return 0, false
	}
	return b - a, true
}

func (v *Vitals) rates(prev, cur *Sample, secs float64) {
	rate := func(k string) *float64 {
		d, ok := delta(prev, cur, k)
		if !ok {
			return nil
		}
		r := float64(d) / secs
		return &r
	}
	ops := OpRates{Insert: rate(CounterInsert), Query: rate(CounterQuery), Update: rate(CounterUpdate),
		Delete: rate(CounterDelete), Getmore: rate(CounterGetmore), Command: rate(CounterCommand)}
	if ops != (OpRates{}) {
		v.OpsPerS = &ops
	}
	avg := func(us, n string) *float64 {
		dus, ok1 := delta(prev, cur, us)
		dn, ok2 := delta(prev, cur, n)
		if !ok1 || !ok2 || dn == 0 { // no operations: no average, not 0 µs
			return nil
		}
		r := float64(dus) / float64(dn)
		return &r
	}
	lat := Latency{Reads: avg(CounterReadsUS, CounterReadsOps), Writes: avg(CounterWritesUS, CounterWritesOps),
		Commands: avg(CounterCommandsUS, CounterCommandsOps)}
	if lat != (Latency{}) {
		v.LatencyUS = &lat
	}
	v.NetInBytesPerS = rate(CounterNetIn)
	v.NetOutBytesPerS = rate(CounterNetOut)
	v.RequestsPerS = rate(CounterRequests)
	v.ConnsCreatedPerS = rate(CounterConnsCreated)
}

func (v *Vitals) gauges(cur *Sample) {
	g := func(k string) *int64 {
		n, ok := cur.Gauges[k]
		if !ok || n < 0 {
			return nil
		}
		return &n
	}
	if rw := (ReadWrite{Readers: g(GaugeQueueReaders), Writers: g(GaugeQueueWriters)}); rw != (ReadWrite{}) {
		v.Queue = &rw
	}
	if rw := (ReadWrite{Readers: g(GaugeActiveReaders), Writers: g(GaugeActiveWriters)}); rw != (ReadWrite{}) {
		v.Active = &rw
	}
	t := Tickets{ReadOut: g(GaugeReadOut), ReadAvailable: g(GaugeReadAvailable),
		WriteOut: g(GaugeWriteOut), WriteAvailable: g(GaugeWriteAvailable)}
	if t != (Tickets{}) {
		v.Tickets = &t
	}
	pct := func(k string) *float64 {
		n, ok1 := cur.Gauges[k]
		m, ok2 := cur.Gauges[GaugeCacheMax]
		if !ok1 || !ok2 || m <= 0 || n < 0 {
			return nil
		}
		p := 100 * float64(n) / float64(m)
		return &p
	}
	v.CacheUsedPct = pct(GaugeCacheBytes)
	v.CacheDirtyPct = pct(GaugeCacheDirty)
	v.InFlight = inFlight(g)
	if a := (Admission{Queued: g(GaugeAdmissionQueued), Out: g(GaugeAdmissionOut),
		Available: g(GaugeAdmissionAvailable)}); a != (Admission{}) {
		v.Admission = &a
	}
	if cur.ReplState != "" || cur.LagS != nil {
		v.Repl = &Repl{State: cur.ReplState, LagS: cur.LagS}
	}
}

// Sampler is the optional capability of reading a sample alone, cheaper than a snapshot,
// found by type assertion: --once takes one, waits, and computes vitals against its snapshot's.
type Sampler interface {
	Sample(ctx context.Context) (*Sample, error)
}
