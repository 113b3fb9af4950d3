package mongodb

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// Sample reads one serverStatus sample for vitals: a rate needs two of them, this one and
// the next snapshot's (source.ComputeVitals).
func (s *Source) Sample(ctx context.Context) (*source.Sample, error) {
	raw, err := s.serverStatusRaw(ctx)
	if err != nil {
		return nil, err
	}
	return decodeSample(raw, time.Now()), nil
}

// sampleCounters maps serverStatus paths to the sample's counters; opcounters are read apart,
// since a secondary's work shows in opcountersRepl.
var sampleCounters = []struct {
	key  string
	path []string
}{
	{source.CounterReadsUS, []string{"opLatencies", "reads", "latency"}},
	{source.CounterReadsOps, []string{"opLatencies", "reads", "ops"}},
	{source.CounterWritesUS, []string{"opLatencies", "writes", "latency"}},
	{source.CounterWritesOps, []string{"opLatencies", "writes", "ops"}},
	{source.CounterCommandsUS, []string{"opLatencies", "commands", "latency"}},
	{source.CounterCommandsOps, []string{"opLatencies", "commands", "ops"}},
	{source.CounterNetIn, []string{"network", "bytesIn"}},
	{source.CounterNetOut, []string{"network", "bytesOut"}},
	{source.CounterRequests, []string{"network", "numRequests"}},
	{source.CounterConnsCreated, []string{"connections", "totalCreated"}},
}

var sampleGauges = []struct {
	key  string
	path []string
}{
	{source.GaugeQueueReaders, []string{"globalLock", "currentQueue", "readers"}},
	{source.GaugeQueueWriters, []string{"globalLock", "currentQueue", "writers"}},
	{source.GaugeActiveReaders, []string{"globalLock", "activeClients", "readers"}},
	{source.GaugeActiveWriters, []string{"globalLock", "activeClients", "writers"}},
	{source.GaugeCacheBytes, []string{"wiredTiger", "cache", "bytes currently in the cache"}},
	{source.GaugeCacheDirty, []string{"wiredTiger", "cache", "tracked dirty bytes in the cache"}},
	{source.GaugeCacheMax, []string{"wiredTiger", "cache", "maximum bytes configured"}},
}

// decodeSample reads the figures vitals need from a serverStatus document; what is missing
// stays missing.
func decodeSample(raw bson.Raw, clientAt time.Time) *source.Sample {
	sm := &source.Sample{ClientAt: clientAt, Counters: map[string]int64{}, Gauges: map[string]int64{}}
	if v, ok := lookup(raw, "localTime"); ok {
		if dt, ok := v.DateTimeOK(); ok && dt > 0 {
			sm.ServerAt = time.UnixMilli(dt)
		}
	}
	if n, ok := num(raw, "uptimeMillis"); ok && n > 0 {
		sm.UptimeMS = n
	}
	sm.ReplState = replState(raw)
	// A secondary's writes are the ones it applies from the primary (opcountersRepl); its
	// reads and commands are its own clients' (opcounters): analytics on a secondary are its
	// load. mongostat reads a secondary the same way (insert/update/delete as "*N").
	for _, k := range []string{source.CounterInsert, source.CounterQuery, source.CounterUpdate,
		source.CounterDelete, source.CounterGetmore, source.CounterCommand} {
		ops := "opcounters"
		if sm.ReplState == "SECONDARY" && (k == source.CounterInsert || k == source.CounterUpdate || k == source.CounterDelete) {
			ops = "opcountersRepl"
		}
		if n, ok := num(raw, ops, k); ok {
			sm.Counters[k] = n
		}
	}
	for _, c := range sampleCounters {
		if n, ok := num(raw, c.path...); ok {
			sm.Counters[c.key] = n
		}
	}
	for _, g := range sampleGauges {
		if n, ok := num(raw, g.path...); ok {
			sm.Gauges[g.key] = n
		}
	}
	tickets(raw, sm.Gauges)
	admission(raw, sm.Gauges)
	return sm
}

// tickets reads the execution tickets: queues.execution from 8.0 (the 8.0 manual adds the
// queues section), wiredTiger.concurrentTransactions before.
func tickets(raw bson.Raw, g map[string]int64) {
	base := []string{"queues", "execution"}
	if _, ok := lookup(raw, base...); !ok {
		base = []string{"wiredTiger", "concurrentTransactions"}
	}
	for _, t := range []struct{ key, rw, field string }{
		{source.GaugeReadOut, "read", "out"}, {source.GaugeReadAvailable, "read", "available"},
		{source.GaugeWriteOut, "write", "out"}, {source.GaugeWriteAvailable, "write", "available"},
	} {
		if n, ok := num(raw, append(base[:len(base):len(base)], t.rw, t.field)...); ok {
			g[t.key] = n
		}
	}
}

// replState names the member's state from serverStatus.repl; "" outside a replica set.
func replState(raw bson.Raw) string {
	if _, ok := lookup(raw, "repl", "setName"); !ok {
		return ""
	}
	flag := func(k string) bool {
		v, ok := lookup(raw, "repl", k)
		if !ok {
			return false
		}
		b, _ := v.BooleanOK()
		return b
	}
	switch {
	case flag("isWritablePrimary") || flag("ismaster"):
		return "PRIMARY"
	case flag("secondary"):
		return "SECONDARY"
	case flag("arbiterOnly"):
		return "ARBITER"
	}
	return "OTHER"
}

// admission reads 8.0's ingress admission queue, as the 8.0 serverStatus reference lays it
// out: queues.ingress {out, available, totalTickets, exempt{…}, normalPriority{queueLength,
// …}}. Exempt operations bypass the queue, so the queue is normalPriority's.
func admission(raw bson.Raw, g map[string]int64) {
	for _, a := range []struct {
		key  string
		path []string
	}{
		{source.GaugeAdmissionOut, []string{"queues", "ingress", "out"}},
		{source.GaugeAdmissionAvailable, []string{"queues", "ingress", "available"}},
		{source.GaugeAdmissionQueued, []string{"queues", "ingress", "normalPriority", "queueLength"}},
	} {
		if n, ok := num(raw, a.path...); ok {
			g[a.key] = n
		}
	}
}
