// Package source defines what a monitored MongoDB deployment looks like to currentop: the data
// model every backend fills (Snapshot, Server, Client, Session), the Source contract, its
// optional capabilities, and the filter language shared by the UI and the backends.
//
// Data flows one way: a Source produces a Snapshot, the UI or a one-shot printer consumes it.
// Nothing in this package knows about terminals.
package source

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Source produces snapshots of one deployment.
//
// Snapshot must return correct results whatever the Query pushes down: a backend that cannot
// filter server-side returns everything and lets Query.Filter be applied locally (see Apply).
// Errors are wrapped with %w and say what the user should do.
type Source interface {
	Snapshot(ctx context.Context, q Query) (*Snapshot, error)
}

// Killer is the optional capability of ending operations, found by type assertion.
//
// Kill receives the sessions exactly as the caller last saw them, not bare IDs: operation IDs
// are reused by servers, so a Killer re-reads each operation first and refuses when the ID now
// belongs to a different connection or operation (KillRefused).
type Killer interface {
	Kill(ctx context.Context, targets []Session) []KillResult
}

// Detailer is the optional capability of reading one session whole, found by type assertion.
// A source whose snapshots are lean (Query.Lean: only the fields the panes show) reads the
// whole document of one session when its detail view opens.
//
// Detail receives the session as the caller last saw it and returns it as it is now, with
// Command and Raw complete. It returns an error wrapping ErrEnded when the session is gone or
// its ID now belongs to another one (IDs are reused).
type Detailer interface {
	Detail(ctx context.Context, s Session) (*Session, error)
}

// ErrEnded says a session a Detailer was asked for is no longer there.
var ErrEnded = errors.New("it has ended")

// Lister is the optional capability of listing the instances a source can monitor
// (cloud sources: `currentop --source tencent --list`).
type Lister interface {
	List(ctx context.Context) ([]Instance, error)
}

// Pacer is the optional capability of a source whose provider limits how often and how much
// it may be read (the Huawei Cloud API pages by 20 and throttles): the live view refreshes
// every DefaultInterval unless the user chose an interval, and asks for at most ViewLimit
// sessions (Query.Limit; 0 = no limit). One-shot output reads all it can.
type Pacer interface {
	DefaultInterval() time.Duration
	ViewLimit() int
}

// Instance is one monitorable deployment as a cloud API lists it.
type Instance struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Region  string   `json:"region,omitempty"`
	Version string   `json:"version,omitempty"`
	Type    string   `json:"type,omitempty"` // replica set, sharded cluster, single node
	Status  string   `json:"status,omitempty"`
	Nodes   []string `json:"nodes,omitempty"`
}

// Query carries what a source may push down. Every field is a hint about what the caller will
// show; a source returns a correct superset when it cannot honour one, and the caller applies
// Filter locally anyway.
type Query struct {
	// IdleConnections includes connections with no operation in flight (Session.Type "idle").
	IdleConnections bool
	// IdleSessions includes inactive sessions holding transaction resources ("idleSession").
	IdleSessions bool
	// IdleCursors includes open cursors not currently in a getMore ("idleCursor").
	IdleCursors bool
	// System includes internal threads, replication traffic, other cluster members' operations
	// and drivers' awaitable hello heartbeats — hidden by default.
	System bool
	// Filter is the user's filter; a source may push some of its terms down.
	Filter Filter
	// Limit is a paging hint: the caller shows at most this many sessions (0 = no hint).
	Limit int
	// Lean says the caller shows only the sessions' fields and reads a session's whole
	// document through Detailer: a source may then leave Raw out and send a short Command
	// (e.g. only the command's name) to keep each refresh small.
	Lean bool
	// Commands says the caller prints each operation's command (one-shot output): a lean
	// source then sends it too, truncated where the server truncates long ones.
	Commands bool
	// Members is the deployment scope the caller wants (--members, the m key): "" or
	// MembersAll for every data-bearing member, MembersPrimary for primaries only, else a
	// comma-separated list of host:port. Sources that watch one node ignore it.
	Members string
}

// Member scopes of Query.Members.
const (
	MembersAll     = "all"
	MembersPrimary = "primary"
)

// Snapshot is one observation of a deployment.
type Snapshot struct {
	Source   string    `json:"source"` // "mongodb", "tencent", "huawei"
	Target   string    `json:"target"` // what was monitored, secrets masked
	TakenAt  time.Time `json:"taken_at"`
	Server   Server    `json:"server"`
	Clients  []Client  `json:"clients"`
	Sessions []Session `json:"sessions"`
	// Members are the deployment's nodes this snapshot covers (replica-set members, shards'
	// members, a cloud instance's nodes), each with whether it answered; nil when the source
	// watches a single node and knows of no others.
	Members []Member `json:"members,omitempty"`
	// Vitals are rates and gauges over the last interval; nil when unknown.
	Vitals *Vitals `json:"vitals,omitempty"`
	// VitalsErr says why there are no vitals (no Vitals, no Server.Sample) when the source
	// knows: e.g. serverStatus refused, a *Error of kind ErrPermission. The rest of the
	// snapshot is whole.
	VitalsErr error `json:"-"`

	// TotalSessions is how many sessions the source knows of when it returned fewer (paging);
	// 0 when Sessions is complete.
	TotalSessions int `json:"-"`
	// Partial is set when the source could not provide everything; Warnings say what.
	Partial  bool     `json:"-"`
	Warnings []string `json:"-"`
}

// Member is one node of the deployment: a replica-set member, a shard's member, a mongos, or
// a cloud instance's node. Counts are what the member reported in this snapshot.
type Member struct {
	Host    string `json:"host"`    // host:port, or the cloud node's name
	State   string `json:"state"`   // PRIMARY, SECONDARY, ARBITER, MONGOS, STANDALONE, …; "" when unknown
	Version string `json:"version"` // "8.0.4"; "" when unknown
	Kind    string `json:"kind"`    // "mongod", "mongos", "arbiter", "config", "cloud"
	// Set is the replica set (a shard's name through mongos) the member belongs to.
	Set string `json:"set,omitempty"`
	// OK says the member answered this refresh; Error says why not, cleaned of secrets.
	OK          bool     `json:"ok"`
	Error       string   `json:"error,omitempty"`
	Connections int      `json:"connections"` // its current connections
	Ops         int      `json:"ops"`         // its active operations
	LagS        *float64 `json:"lag_s,omitempty"`
	// Stale: the member did not answer and its sessions in this snapshot are the last ones
	// seen (Session.Stale).
	Stale bool `json:"-"`
	// Sample is the member's counters for vitals; nil when unknown.
	Sample *Sample `json:"-"`
}

// Server is what is known about the monitored process or instance.
type Server struct {
	Host        string      `json:"host"`
	Version     string      `json:"version"`
	Kind        string      `json:"kind"` // "mongod", "mongos", "cloud"
	UptimeS     int64       `json:"uptime_s"`
	Connections Connections `json:"connections"`
	// Sample is the raw counters this observation read, for vitals; nil when unknown.
	Sample *Sample `json:"-"`
}

// Connections are the server's connection counters (serverStatus.connections).
type Connections struct {
	Current      int64 `json:"current"`
	Available    int64 `json:"available"`
	Active       int64 `json:"active"`
	TotalCreated int64 `json:"total_created"`
	// Unknown are the counters the source could not read (a cloud API has no "available",
	// a client list that failed gives no "current"): left out of the JSON and shown as
	// unknown, never as 0. The zero value knows all four, as serverStatus gives them.
	Unknown ConnCounters `json:"-"`
}

// ConnCounters is a set of Connections' counters.
type ConnCounters uint8

// Connections' counters, for Connections.Unknown.
const (
	ConnCurrent ConnCounters = 1 << iota
	ConnAvailable
	ConnActive
	ConnTotalCreated
	ConnAll = ConnCurrent | ConnAvailable | ConnActive | ConnTotalCreated
)

// Known reports whether every counter of k was read.
func (c Connections) Known(k ConnCounters) bool { return c.Unknown&k == 0 }

// MarshalJSON writes the known counters in the stable order of the one-shot JSON
// ({"current","available","active","total_created"}), leaving the unknown ones out.
func (c Connections) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 96)
	b = append(b, '{')
	for _, f := range []struct {
		k    ConnCounters
		name string
		v    int64
	}{{ConnCurrent, "current", c.Current}, {ConnAvailable, "available", c.Available},
		{ConnActive, "active", c.Active}, {ConnTotalCreated, "total_created", c.TotalCreated}} {
		if !c.Known(f.k) {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, f.v, 10)
	}
	return append(b, '}'), nil
}

// Client is one client IP address with everything connected from it.
type Client struct {
	IP       string   `json:"ip"`
	Count    int      `json:"count"`
	Active   int      `json:"active"`
	Internal bool     `json:"internal"` // another cluster member or the provider's own service
	Apps     []string `json:"apps"`
	Users    []string `json:"users"`
	Drivers  []string `json:"drivers"`
}

// Session types.
const (
	TypeOp          = "op"          // an operation in flight
	TypeIdle        = "idle"        // a connection with nothing in flight
	TypeIdleSession = "idleSession" // an inactive session holding transaction resources
	TypeIdleCursor  = "idleCursor"  // an open cursor between getMores
)

// Session is one operation, idle connection, idle session or idle cursor.
//
// ID is a string because backends disagree: "4119786" on mongod, "shard01:4119786" through
// mongos, "shard_1:7201646" on Huawei, "ReplicaSetName/NodeName/OpId" on Tencent. It is what a
// Killer is given back.
type Session struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Active         bool   `json:"active"`
	Op             string `json:"op"`
	NS             string `json:"ns"`
	RunningUS      int64  `json:"running_us"`
	PlanSummary    string `json:"plan_summary"`
	Client         string `json:"client"` // ip:port
	App            string `json:"app"`
	User           string `json:"user"` // user@db
	Driver         string `json:"driver"`
	Host           string `json:"host"`
	Shard          string `json:"shard"`
	Desc           string `json:"desc"`
	ConnectionID   int64  `json:"connection_id"`
	WaitingForLock bool   `json:"waiting_for_lock"`
	// LockUnknown: the source cannot say whether the operation waits for a lock (Huawei's API
	// has no such flag); WaitingForLock is then false without meaning "not blocked".
	LockUnknown bool            `json:"-"`
	NumYields   int64           `json:"num_yields"`
	CommandName string          `json:"command_name,omitempty"` // find, aggregate, createIndexes, getMore, update, …
	Summary     string          `json:"summary,omitempty"`      // one cleaned line of the query (QueryPart.Summary)
	Progress    *Progress       `json:"progress,omitempty"`     // when the server reports it (index builds, …)
	Command     json.RawMessage `json:"command"`                // relaxed Extended JSON; a JSON string when the provider's text is not JSON
	// QueryShapeHash is the server's hash of the query's shape (MongoDB 8.0+), its first 12
	// hex digits; "" when absent.
	QueryShapeHash string `json:"query_shape_hash,omitempty"`

	// Fields below are not part of the stable one-shot JSON.

	// Internal marks internal threads, replication and cluster-member traffic and awaitable
	// hello heartbeats: hidden unless Query.System.
	Internal    bool `json:"-"`
	KillPending bool `json:"-"`
	// Stale: the session's member did not answer this refresh; this is how it was last seen.
	Stale bool `json:"-"`
	// NotKillable says why the source cannot kill this session ("" = it can try), so that a
	// UI can say so before asking for a confirmation.
	NotKillable string `json:"-"`
	Msg         string `json:"-"` // progress message, e.g. an index build's
	// Raw is the whole document as the provider sent it (relaxed Extended JSON), shown by the
	// detail view; nil when the provider has nothing more than the fields above.
	Raw json.RawMessage `json:"-"`
}

// ClientIP is the address of the session's client without its port (see HostOf).
func (s *Session) ClientIP() string { return HostOf(s.Client) }

// HostOf strips the port from "ip:port" or "[v6]:port", and the brackets from "[v6]"; other
// text ("2001:db8::5", "10.0.0.7", "") is returned as it is.
func HostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		return addr[1 : len(addr)-1]
	}
	return addr
}

// Running is the session's running time. It saturates at the longest time.Duration
// (about 292 years) instead of wrapping: a hostile or broken 2^63-1 µs must not read as 0s.
func (s *Session) Running() time.Duration {
	switch {
	case s.RunningUS > math.MaxInt64/int64(time.Microsecond):
		return math.MaxInt64
	case s.RunningUS < math.MinInt64/int64(time.Microsecond):
		return math.MinInt64
	}
	return time.Duration(s.RunningUS) * time.Microsecond
}

// Kill outcomes.
type KillOutcome string

const (
	KillGone         KillOutcome = "killed"        // the operation ended
	KillPending      KillOutcome = "kill pending"  // marked; it stops at its next interrupt point
	KillStillRunning KillOutcome = "still running" // the server accepted the kill but the op runs on
	KillAlreadyGone  KillOutcome = "already gone"  // it had ended before the kill was sent
	KillRefused      KillOutcome = "refused"       // the ID now belongs to another operation
	KillNotPermitted KillOutcome = "not permitted" // the server or API refused the privilege
	KillNotKillable  KillOutcome = "not killable"  // e.g. idle sessions on Huawei
	KillFailed       KillOutcome = "failed"        // any other error
)

// KillResult is the outcome of killing one session.
type KillResult struct {
	ID      string
	Outcome KillOutcome
	// Err explains refusals and failures in words the user can act on.
	Err error
}
