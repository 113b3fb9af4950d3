// Package mongod is a MongoDB wire-protocol simulator for tests, benchmarks and the demo.
// The real Go driver connects to it over loopback sockets; it answers like mongod (or
// mongos) 4.4, 6.0, 7.0 or 8.0 where a monitor looks: the legacy OP_QUERY isMaster
// handshake, OP_MSG hello with awaitable (streaming) heartbeats, ping, buildInfo,
// serverStatus, connectionStatus, whatsmyuri, aggregate with $currentOp (followed by any
// stages sim/mongod/agg evaluates), the legacy currentOp command, cursors (getMore,
// killCursors), killOp, endSessions/killSessions, SCRAM-SHA-256 authentication with
// built-in roles, and plausible instant replies to plain data commands (it stores no data).
//
// $currentOp reports one document per real connection — its real peer address, connection
// id, handshake metadata and users — with the field order, BSON types and presence rules of
// a real server (shared/reference/mongodb-currentop.md §2.5). Clearly labelled SYNTHETIC
// documents add scale and realism: idle connections from documentation address ranges
// (Options.Synthetic, AddSynthetic), internal threads and peer-member traffic on a
// replica-set primary (Options.ReplicaSet), and the shard view on mongos (Options.Mongos).
//
// # Hold convention
//
// Any command whose comment is a document with a "sim" sub-document is held in flight before
// the server replies:
//
//	comment: {sim: {
//	    holdMS:         <number>,  // how long to keep the op in flight (capped at 10 min)
//	    planSummary:    "COLLSCAN", // reported as planSummary (omitted when empty)
//	    waitingForLock: <bool>,     // reported as waitingForLock; numYields then stays 0
//	    msg:            "Index Build: scanning collection", // progress message
//	    progressTotal:  <number>,  // with msg: msg + progress {done,total} advancing with time
//	    openCursor:     <bool>,    // find only: leave an (empty) cursor open, an idleCursor
//	}}
//
// While held, the command is a real active operation of its connection: $currentOp shows
// its real running time, op, ns, the full command (comment included), planSummary, growing
// numYields and locks. killOp marks it killPending:true; about 20 ms later it ends and the
// client receives error 11601 Interrupted. A held command also ends, without a reply, when
// its client disconnects or the server closes. Commands without the convention reply at once.
//
// Transactions (txnNumber + autocommit:false + startTransaction) are tracked per session and
// shown as idleSession documents between statements, until commit/abort/endSessions or the
// 60 s transaction lifetime of a real server.
//
// Profiles also model servers that speak the protocol without the $currentOp stage:
// ProfileFerretDB answers buildInfo, collection-less aggregates and the currentOp command as
// FerretDB 1.x does; ProfileNoCurrentOpStage and ProfileNoCurrentOp refuse the stage the same
// way and keep, or lose, the currentOp command.
//
// On mongos, synthetic connections are clients of the mongos: they show with localOps:true
// (and count in serverStatus), while the default fan-out shows the shard view.
//
// Replica sets and sharded clusters of real listeners: StartReplicaSet runs N members (each
// its own address, connections, opids and counters; hello, serverStatus.repl and
// replSetGetStatus from one shared view; StepDown, Stop, Restart, SetLag for faults) and
// StartCluster a mongos routing to shard replica sets (see cluster.go).
//
// Simplifications: users' roles apply to every database; a single Options.ReplicaSet server
// lists only itself in hello.hosts (its peers are synthetic) and the single-process
// Options.Mongos emulation reports synthetic shards whose opid equals the simulator's; data
// is not replicated (a secondary's optime is the clock minus its lag); the server never
// compresses.
package mongod
