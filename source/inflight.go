package source

import "time"

// Gauge keys of what a session list shows. The cloud sources have no serverStatus: their
// APIs list operations (Tencent DescribeCurrentOp, Huawei ListSessions), so their sample
// holds only these counts. Figures the list cannot give (rates, latency, queues, tickets,
// cache) stay absent from their vitals, never zero. (Both providers publish per-minute
// instance metrics through their monitoring services, Tencent Cloud Monitor GetMonitorData
// namespace QCE/CMONGO and Huawei Cloud Eye namespace SYS.DDS: another API, signer and
// permission, not read here.)
const (
	GaugeInFlightTotal   = "inflight.total" // every operation/session the API counted
	GaugeInFlightActive  = "inflight.active"
	GaugeInFlightIdle    = "inflight.idle"
	GaugeInFlightWaiting = "inflight.waiting_for_lock"
	GaugeInFlightInsert  = "inflight.op.insert" // active operations by type
	GaugeInFlightQuery   = "inflight.op.query"
	GaugeInFlightUpdate  = "inflight.op.update"
	GaugeInFlightDelete  = "inflight.op.delete"
	GaugeInFlightGetmore = "inflight.op.getmore"
	GaugeInFlightCommand = "inflight.op.command"
)

// InFlight counts the operations of one refresh's session list, by state and, for the
// active ones, by type.
type InFlight struct {
	Total          *int64    `json:"total,omitempty"`
	Active         *int64    `json:"active,omitempty"`
	Idle           *int64    `json:"idle,omitempty"`
	WaitingForLock *int64    `json:"waiting_for_lock,omitempty"`
	ByType         *OpCounts `json:"by_type,omitempty"`
}

// OpCounts are operations by type.
type OpCounts struct {
	Insert  *int64 `json:"insert,omitempty"`
	Query   *int64 `json:"query,omitempty"`
	Update  *int64 `json:"update,omitempty"`
	Delete  *int64 `json:"delete,omitempty"`
	Getmore *int64 `json:"getmore,omitempty"`
	Command *int64 `json:"command,omitempty"`
}

// opGauge maps $currentOp's op values to the by-type gauges ("remove" is a delete).
var opGauge = map[string]string{
	"insert": GaugeInFlightInsert, "query": GaugeInFlightQuery, "update": GaugeInFlightUpdate,
	"remove": GaugeInFlightDelete, "delete": GaugeInFlightDelete, "getmore": GaugeInFlightGetmore,
	"command": GaugeInFlightCommand,
}

// SessionSample is the sample of a source whose API lists sessions but has no server
// counters. sessions is what the API returned this refresh, before the display's own
// toggles; total is the API's count of them (more than len(sessions) when the list was cut
// short). A cut list gives the total only: counts by state or type of a part would be
// wrong. Lock waits are counted only when every session could say (Huawei's cannot).
func SessionSample(at time.Time, sessions []Session, total int) *Sample {
	g := map[string]int64{}
	if total < len(sessions) {
		total = len(sessions)
	}
	g[GaugeInFlightTotal] = int64(total)
	if total > len(sessions) {
		return &Sample{ClientAt: at, Gauges: g}
	}
	lockKnown := true
	for _, k := range []string{GaugeInFlightActive, GaugeInFlightIdle, GaugeInFlightWaiting,
		GaugeInFlightInsert, GaugeInFlightQuery, GaugeInFlightUpdate, GaugeInFlightDelete,
		GaugeInFlightGetmore, GaugeInFlightCommand} {
		g[k] = 0
	}
	for i := range sessions {
		s := &sessions[i]
		lockKnown = lockKnown && !s.LockUnknown
		if !s.Active {
			g[GaugeInFlightIdle]++
			continue
		}
		g[GaugeInFlightActive]++
		if s.WaitingForLock {
			g[GaugeInFlightWaiting]++
		}
		if k, ok := opGauge[s.Op]; ok {
			g[k]++
		}
	}
	if !lockKnown {
		delete(g, GaugeInFlightWaiting)
	}
	return &Sample{ClientAt: at, Gauges: g}
}

// inFlight reads the session-list gauges of a sample; nil when it has none.
func inFlight(g func(string) *int64) *InFlight {
	by := OpCounts{Insert: g(GaugeInFlightInsert), Query: g(GaugeInFlightQuery), Update: g(GaugeInFlightUpdate),
		Delete: g(GaugeInFlightDelete), Getmore: g(GaugeInFlightGetmore), Command: g(GaugeInFlightCommand)}
	f := InFlight{Total: g(GaugeInFlightTotal), Active: g(GaugeInFlightActive), Idle: g(GaugeInFlightIdle),
		WaitingForLock: g(GaugeInFlightWaiting)}
	if by != (OpCounts{}) {
		f.ByType = &by
	}
	if f == (InFlight{}) {
		return nil
	}
	return &f
}
