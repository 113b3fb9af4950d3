package mongodb

import (
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// self is what identifies the monitor's own activity in $currentOp output.
type self struct {
	connIDs []int64  // server connection IDs seen in CommandStartedEvent (mongod/localOps only)
	addrs   []string // local "ip:port" of every socket the monitor opened
	mongos  bool     // fan-out docs carry shard connection IDs, which must not be compared
	// allNodes: the mongos fan-out reaches every shard member (targetAllNodes, 7.1+), not
	// only each shard's primary.
	allNodes bool
}

// sessionsPipeline is the sessions pane's aggregate: $currentOp with the query's idle toggles,
// then a $match that drops the monitor's own work and, unless q.System, internal activity, and
// pushes down the filter terms that map exactly onto document fields. Every condition is a
// pure optimisation: convert/isInternal/isOwn and source.Apply decide again client-side.
func sessionsPipeline(q source.Query, me self) bson.A {
	// On mongos the fan-out's idle connections are the mongos's pool connections to the
	// shards, not applications: idle application connections come from idleLocalPipeline.
	idleConns := q.IdleConnections && !me.mongos
	opts := bson.D{
		{Key: "allUsers", Value: true},
		{Key: "idleConnections", Value: idleConns},
		{Key: "idleSessions", Value: q.IdleSessions},
		{Key: "idleCursors", Value: q.IdleCursors},
	}
	if me.allNodes {
		opts = append(opts, bson.E{Key: "targetAllNodes", Value: true})
	}
	if q.Lean && q.Commands {
		// The one-shot output prints commands: the server cuts long ones to 1 KB
		// ({$truncated: "…", comment}) rather than sending megabytes of them.
		opts = append(opts, bson.E{Key: "truncateOps", Value: true})
	}
	var and bson.A
	if !idleConns && !q.IdleSessions && !q.IdleCursors {
		and = append(and, bson.D{{Key: "active", Value: true}})
	}
	and = append(and, ownMatch(me)...)
	if !q.System {
		and = append(and, internalMatch())
	}
	and = append(and, filterMatch(q.Filter)...)
	return bson.A{
		bson.D{{Key: "$currentOp", Value: opts}},
		matchAll(and),
	}
}

// ownMatch excludes the monitor's own operations and connections.
func ownMatch(me self) bson.A {
	var m bson.A
	if me.mongos {
		// Only through mongos: on mongod the connections identify the monitor exactly, and a
		// comment is something any client can send.
		m = append(m, bson.D{{Key: "command.comment", Value: bson.D{{Key: "$ne", Value: ownComment}}}})
	}
	addrs := bson.A{}
	for _, a := range me.addrs {
		addrs = append(addrs, a)
	}
	if len(addrs) > 0 {
		m = append(m, bson.D{{Key: "client", Value: bson.D{{Key: "$nin", Value: addrs}}}})
		if me.mongos {
			m = append(m, bson.D{{Key: "clientMetadata.mongos.client", Value: bson.D{{Key: "$nin", Value: addrs}}}})
		}
	}
	if !me.mongos && len(me.connIDs) > 0 {
		ids := bson.A{}
		for _, id := range me.connIDs {
			ids = append(ids, id)
		}
		m = append(m, bson.D{{Key: "connectionId", Value: bson.D{{Key: "$nin", Value: ids}}}})
	}
	return m
}

// internalMatch is the server-side twin of isInternal: it keeps only documents isInternal
// would call external.
func internalMatch() bson.D {
	exists := bson.D{{Key: "$exists", Value: true}}
	return bson.D{{Key: "$nor", Value: bson.A{
		bson.D{{Key: "connectionId", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "type", Value: bson.D{{Key: "$ne", Value: source.TypeIdleCursor}}}},
		bson.D{{Key: "effectiveUsers.user", Value: "__system"}},
		bson.D{{Key: "clientMetadata.driver.name", Value: bson.D{{Key: "$regex", Value: "^NetworkInterfaceTL"}}}},
		bson.D{{Key: "op", Value: "getmore"}, {Key: "ns", Value: "local.oplog.rs"}},
		bson.D{{Key: "command.replSetHeartbeat", Value: exists}},
		bson.D{{Key: "command.replSetUpdatePosition", Value: exists}},
		bson.D{{Key: "command.hello", Value: exists}, {Key: "command.topologyVersion", Value: exists}},
		bson.D{{Key: "command.isMaster", Value: exists}, {Key: "command.topologyVersion", Value: exists}},
		bson.D{{Key: "command.ismaster", Value: exists}, {Key: "command.topologyVersion", Value: exists}},
	}}}
}

// pushPaths maps filter fields onto the document path their Session field is copied from
// verbatim. Fields whose value is derived (id, type, client, user, driver, app) are not pushed.
var pushPaths = map[string]string{
	"op":    "op",
	"ns":    "ns",
	"plan":  "planSummary",
	"host":  "host",
	"shard": "shard",
	"desc":  "desc",
}

// filterMatch translates the filter terms that map cleanly: substring terms on verbatim
// fields (as a case-insensitive $regex of the escaped needle, negated with $not), the app
// (positive terms only: it may come from appName or clientMetadata.application.name), and
// running-time comparisons on microsecs_running. Regex terms (Go syntax, not PCRE) and
// any-column terms stay client-side, and so do needles with non-ASCII letters (Go and PCRE
// fold case differently). The regex sees the server's string before source.Clean, which
// only differs for strings with control characters.
func filterMatch(f source.Filter) bson.A {
	var out bson.A
	for _, t := range f.Terms {
		if t.Kind == source.Contains && !isASCII(t.Value) {
			continue // Unicode case folding differs between Go and PCRE: keep it local
		}
		switch {
		case t.Kind == source.Contains && t.Value != "" && pushPaths[t.Field] != "":
			re := bson.D{{Key: "$regex", Value: regexp.QuoteMeta(t.Value)}, {Key: "$options", Value: "i"}}
			if t.Not {
				out = append(out, bson.D{{Key: pushPaths[t.Field], Value: bson.D{{Key: "$not", Value: re}}}})
			} else {
				out = append(out, bson.D{{Key: pushPaths[t.Field], Value: re}})
			}
		case t.Kind == source.Contains && t.Value != "" && t.Field == "app" && !t.Not:
			re := bson.D{{Key: "$regex", Value: regexp.QuoteMeta(t.Value)}, {Key: "$options", Value: "i"}}
			out = append(out, bson.D{{Key: "$or", Value: bson.A{
				bson.D{{Key: "appName", Value: re}},
				bson.D{{Key: "clientMetadata.application.name", Value: re}},
			}}})
		case t.Kind == source.Compare && t.Field == "running":
			if m, ok := runningMatch(t); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// runningMatch pushes a running-time comparison. Documents without microsecs_running (idle
// connections, sessions, cursors) count as 0 locally, so when 0 satisfies the term they are
// kept explicitly.
func runningMatch(t source.Term) (bson.D, bool) {
	op, ok := map[string]string{">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}[t.Cmp]
	if !ok {
		return nil, false // "=" depends on the local rounding rule; leave it client-side
	}
	us := int64(t.Dur / time.Microsecond)
	var cond any = bson.D{{Key: op, Value: us}}
	if t.Not {
		cond = bson.D{{Key: "$not", Value: cond}}
	}
	m := bson.D{{Key: "microsecs_running", Value: cond}}
	if compare(0, t.Cmp, us) != t.Not {
		m = bson.D{{Key: "$or", Value: bson.A{m, bson.D{{Key: "microsecs_running", Value: bson.D{{Key: "$exists", Value: false}}}}}}}
	}
	return m, true
}

func compare(a int64, cmp string, b int64) bool {
	switch cmp {
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	}
	return a == b
}

// clientsPipeline groups every connection by client IP on the server, so the reply grows
// with distinct client addresses, not with connections. The IP is the client string up to
// its port: "[2001:db8::5]:443" → "2001:db8::5", "10.0.0.7:5123" → "10.0.0.7". Users are
// collected as documents and rendered client-side, drivers as "name version" when both are
// strings (driverExpr). On mongos the app connections are the mongos's own (localOps);
// fan-out would list mongos→shard pool connections instead.
//
// grouped, the per-IP groups are grouped again by their sets of apps, users and drivers, so
// that each set is sent once rather than once per IP (many hosts run the same application):
// {_id: {p, u, d}, c: [[ip, count], [ip, count, active], …]}. Otherwise each IP is one
// document {_id: ip, n: count, a: active, p: apps, u: users, d: drivers}, a and the sets
// sent only when not 0 or empty. decodeClients reads both.
func clientsPipeline(me self, grouped bool) bson.A {
	opts := bson.D{
		{Key: "allUsers", Value: true},
		{Key: "idleConnections", Value: true},
		{Key: "idleSessions", Value: false},
	}
	if me.mongos {
		opts = append(opts, bson.E{Key: "localOps", Value: true})
	}
	local := me
	local.mongos, local.allNodes = false, false // localOps docs are the mongos's own connections
	and := bson.A{
		bson.D{{Key: "client", Value: bson.D{{Key: "$type", Value: "string"}}}},
		bson.D{{Key: "connectionId", Value: bson.D{{Key: "$exists", Value: true}}}},
	}
	and = append(and, ownMatch(local)...)
	ip := bson.D{{Key: "$cond", Value: bson.A{
		bson.D{{Key: "$eq", Value: bson.A{bson.D{{Key: "$substrCP", Value: bson.A{"$client", 0, 1}}}, "["}}},
		bson.D{{Key: "$substrCP", Value: bson.A{
			bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$split", Value: bson.A{"$client", "]"}}}, 0}}},
			1, 255,
		}}},
		bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$split", Value: bson.A{"$client", ":"}}}, 0}}},
	}}}
	// An awaitable hello is a driver's heartbeat waiting, not work: not counted as active.
	busy := bson.D{{Key: "$cond", Value: bson.A{
		bson.D{{Key: "$and", Value: bson.A{
			bson.D{{Key: "$eq", Value: bson.A{"$active", true}}},
			bson.D{{Key: "$eq", Value: bson.A{bson.D{{Key: "$type", Value: "$command.topologyVersion"}}, "missing"}}},
		}}},
		1, 0,
	}}}
	pipeline := bson.A{
		bson.D{{Key: "$currentOp", Value: opts}},
		matchAll(and),
		bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: ip},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}},
			{Key: "a", Value: bson.D{{Key: "$sum", Value: busy}}},
			{Key: "p", Value: bson.D{{Key: "$addToSet", Value: "$appName"}}},
			{Key: "u", Value: bson.D{{Key: "$addToSet", Value: "$effectiveUsers"}}},
			{Key: "d", Value: bson.D{{Key: "$addToSet", Value: driverExpr()}}},
		}}},
	}
	if grouped {
		return append(pipeline, bson.D{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "p", Value: "$p"}, {Key: "u", Value: "$u"}, {Key: "d", Value: "$d"}}},
			{Key: "c", Value: bson.D{{Key: "$push", Value: cond(eq("$a", 0), bson.A{"$_id", "$n"}, bson.A{"$_id", "$n", "$a"})}}},
		}}})
	}
	unlessEmpty := func(f string) bson.D {
		return cond(eq(bson.D{{Key: "$size", Value: f}}, 0), "$$REMOVE", f)
	}
	return append(pipeline, bson.D{{Key: "$project", Value: bson.D{
		{Key: "n", Value: 1},
		{Key: "a", Value: cond(eq("$a", 0), "$$REMOVE", "$a")},
		{Key: "p", Value: unlessEmpty("$p")},
		{Key: "u", Value: unlessEmpty("$u")},
		{Key: "d", Value: unlessEmpty("$d")},
	}}})
}

// matchAll is a $match stage requiring every condition. A real server rejects an empty $and.
func matchAll(conds bson.A) bson.D {
	if len(conds) == 0 {
		return bson.D{{Key: "$match", Value: bson.D{}}}
	}
	return bson.D{{Key: "$match", Value: bson.D{{Key: "$and", Value: conds}}}}
}
