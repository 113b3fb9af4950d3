package mongodb

import (
	"encoding/json"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// The lean refresh (Query.Lean): the sessions pane's $currentOp ends in a $project that keeps
// only what the panes, the filter and the detail header show, under short names, and leaves
// out what is implied. An operation then costs about 150 bytes instead of the 1–2 KB of its
// whole document (command, locks, lsid, client metadata); the detail view reads the whole
// document of one operation with Detail.
//
//	name  field                                   sent when
//	i     opid                                    present
//	t     type                                    not "op" (convert reads missing as an op)
//	a     active                                  not (true with an opid: implied)
//	c     connectionId                            present
//	h     host                                    not the server's own (serverStatus.host)
//	d     desc                                    not "conn<connectionId>"; null when missing
//	o, n  op, ns                                  present
//	u     microsecs_running                       present
//	s     secs_running                            microsecs_running is not a number
//	x     transaction.timeOpenMicros              idle sessions
//	p     planSummary                             present
//	l     client                                  present
//	A     appName, else clientMetadata.application.name
//	e     the first of effectiveUsers as user@db  present
//	S     true: a user is __system                so
//	D     clientMetadata.driver as "name version" (the document itself unless both are strings)
//	w     waitingForLock                          true
//	y     numYields                               present
//	L     lsid.id                                 idle sessions (their ID)
//	K     cursor.cursorId                         idle cursors (their ID)
//	N     the command's first field name          the command (or originatingCommand) is a document
//	V     that field's value                      scalar; strings cut to 256 characters
//	T     true: the command has topologyVersion   so (awaitable hello)
//	M     clientMetadata.mongos.client            present (through mongos)
//	O     true: the command carries ownComment    on mongos only
//	C     the command (or originatingCommand)     Query.Commands (then truncated by the server)
//	Q     the query part (filter, q, query, first stage, first update's q, index key)
//	                                              a document of at most leanMaxPart bytes
//	F, Z  the query part's first field names, cut; its number of fields
//	                                              a larger document
//	P     the pipeline's length                   the query is a pipeline's first stage
//	H     queryShapeHash (8.0+), its first 12 hex digits   a string
//	shard, client_s, killPending, msg, progress: as sent
var lean = layout{
	lean: true, opid: path("i"), typ: path("t"), active: path("a"), connID: path("c"),
	host: path("h"), desc: path("d"), op: path("o"), ns: path("n"), micros: path("u"),
	secs: path("s"), txnOpen: path("x"), plan: path("p"), client: path("l"),
	mongosClient: path("M"), app: path("A"), users: path("e"), driver: path("D"),
	waiting: path("w"), yields: path("y"), lsidID: path("L"), cursorID: path("K"),
	shapeHash: path("H"),
}

// leanMaxValue bounds the command's first value in a lean document (a collection name is at
// most 255 bytes).
const leanMaxValue = 256

// leanProject is the $project stage of the lean sessions read; host is the server's own host
// ("" = unknown: always send it); commands adds the command.
func leanProject(me self, host string, commands bool) bson.D {
	remove := "$$REMOVE"
	orNull := func(f string) bson.D { return ifNull(f, nil) }
	p := bson.D{
		{Key: "_id", Value: 0},
		{Key: "i", Value: "$opid"},
		{Key: "t", Value: cond(eq("$type", "op"), remove, "$type")},
		{Key: "a", Value: cond(and(eq("$active", true), not(isType("$opid", "missing"))), remove, "$active")},
		{Key: "c", Value: "$connectionId"},
		{Key: "h", Value: "$host"},
		{Key: "d", Value: cond(isType("$connectionId", "int", "long"),
			cond(eq("$desc", concat("conn", toString("$connectionId"))), remove, orNull("$desc")),
			orNull("$desc"))},
		{Key: "o", Value: "$op"},
		{Key: "n", Value: "$ns"},
		{Key: "u", Value: "$microsecs_running"},
		{Key: "s", Value: cond(isType("$microsecs_running", "int", "long", "double"), remove, "$secs_running")},
		{Key: "x", Value: cond(eq("$type", source.TypeIdleSession), "$transaction.timeOpenMicros", remove)},
		{Key: "p", Value: "$planSummary"},
		{Key: "l", Value: "$client"},
		{Key: "M", Value: "$clientMetadata.mongos.client"},
		{Key: "A", Value: cond(and(isType("$appName", "string"), ne("$appName", "")), "$appName", "$clientMetadata.application.name")},
		{Key: "e", Value: userExpr()},
		{Key: "S", Value: cond(isArray("$effectiveUsers"),
			cond(bson.D{{Key: "$in", Value: bson.A{"__system", "$effectiveUsers.user"}}}, true, remove), remove)},
		{Key: "D", Value: driverExpr()},
		{Key: "w", Value: cond(eq("$waitingForLock", true), true, remove)},
		{Key: "y", Value: "$numYields"},
		{Key: "L", Value: cond(eq("$type", source.TypeIdleSession), "$lsid.id", remove)},
		{Key: "K", Value: cond(eq("$type", source.TypeIdleCursor), "$cursor.cursorId", remove)},
		{Key: "H", Value: cond(isType("$queryShapeHash", "string"), bson.D{{Key: "$substrCP", Value: bson.A{"$queryShapeHash", 0, shapeHashLen}}}, remove)},
	}
	if host != "" {
		p[5].Value = cond(eq("$host", host), remove, orNull("$host"))
	}
	p = append(p, leanCommandFields(me)...)
	p = append(p, leanPartFields(leanCmd)...)
	if commands {
		p = append(p, bson.E{Key: "C", Value: leanCmd})
	}
	// Top-level inclusions only: including a dotted path sends its parent even when the leaf
	// is missing ({clientMetadata: {}}).
	for _, f := range []string{"shard", "client_s", "killPending", "msg", "progress"} {
		p = append(p, bson.E{Key: f, Value: 1})
	}
	return bson.D{{Key: "$project", Value: p}}
}

// leanCmd is the command, or an idle cursor's originatingCommand.
var leanCmd = cond(isType("$command", "missing"), "$cursor.originatingCommand", "$command")

// leanCommandFields name the command without sending it: its first field (the command's name
// and, when small, its value), whether it is an awaitable hello, and on mongos whether it is
// the monitor's own.
func leanCommandFields(me self) bson.D {
	remove := "$$REMOVE"
	cmd := leanCmd
	withCmd := func(in any) bson.D {
		return bson.D{{Key: "$let", Value: bson.D{{Key: "vars", Value: bson.D{{Key: "cmd", Value: cmd}}}, {Key: "in", Value: in}}}}
	}
	first := bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$objectToArray", Value: "$$cmd"}}, 0}}}
	withFirst := func(in any) bson.D {
		return bson.D{{Key: "$let", Value: bson.D{{Key: "vars", Value: bson.D{{Key: "f", Value: first}}}, {Key: "in", Value: in}}}}
	}
	scalar := cond(isType("$$f.v", "string"),
		bson.D{{Key: "$substrCP", Value: bson.A{"$$f.v", 0, leanMaxValue}}},
		cond(isType("$$f.v", "int", "long", "double", "decimal", "bool", "null", "objectId", "date", "timestamp"), "$$f.v", remove))
	out := bson.D{
		{Key: "N", Value: withCmd(cond(isType("$$cmd", "object"), withFirst("$$f.k"), remove))},
		{Key: "V", Value: withCmd(cond(isType("$$cmd", "object"), withFirst(scalar), remove))},
		{Key: "T", Value: withCmd(cond(and(isType("$$cmd", "object"), not(isType("$$cmd.topologyVersion", "missing"))), true, remove))},
	}
	if me.mongos {
		out = append(out, bson.E{Key: "O", Value: cond(eq("$command.comment", ownComment), true, remove)})
	}
	return out
}

// userExpr is the first effective user as "user@db" (userString's rendering), or "user" when
// its db is not a non-empty string.
func userExpr() bson.D {
	remove := "$$REMOVE"
	first := cond(isArray("$effectiveUsers"), bson.D{{Key: "$arrayElemAt", Value: bson.A{"$effectiveUsers", 0}}}, remove)
	nonEmpty := func(f string) bson.D { return cond(isType(f, "string"), ne(f, ""), false) }
	in := cond(isType("$$u", "object"),
		cond(nonEmpty("$$u.user"), cond(nonEmpty("$$u.db"), concat("$$u.user", "@", "$$u.db"), "$$u.user"), remove),
		remove)
	return bson.D{{Key: "$let", Value: bson.D{{Key: "vars", Value: bson.D{{Key: "u", Value: first}}}, {Key: "in", Value: in}}}}
}

func isArray(x any) bson.D { return bson.D{{Key: "$isArray", Value: bson.A{x}}} }

// driverExpr is "name version" when both are strings, else clientMetadata.driver as sent
// (driverString reads either).
func driverExpr() bson.D {
	name, ver := "$clientMetadata.driver.name", "$clientMetadata.driver.version"
	return cond(and(isType(name, "string"), isType(ver, "string")), concat(name, " ", ver), "$clientMetadata.driver")
}

// leanCommand is a lean document's command: the command when it was sent (C), else
// {"<name>": <value>}, "…" standing for a value that was not sent; nil when the document
// named none.
func leanCommand(doc bson.Raw) json.RawMessage {
	if c, ok := lookup(doc, "C"); ok {
		return valueJSON(c)
	}
	name, ok := lookup(doc, "N")
	if !ok {
		return nil
	}
	n, ok := name.StringValueOK()
	if !ok {
		return nil
	}
	var v any = "…"
	if cv, ok := lookup(doc, "V"); ok {
		v = cv
	}
	b, err := bson.Marshal(bson.D{{Key: n, Value: v}})
	if err != nil {
		return nil
	}
	return docJSON(b)
}

// leanInternalCommand is isInternal's command test on a lean document: replication traffic or
// an awaitable hello, named by the command's first field as real servers do.
func leanInternalCommand(doc bson.Raw) bool {
	switch rawStr(doc, "N") {
	case "replSetHeartbeat", "replSetUpdatePosition":
		return true
	case "hello", "isMaster", "ismaster":
		tv, _ := boolOK(doc, "T")
		return tv
	}
	return false
}

// Aggregation expression builders, to keep the stages above readable.

func cond(ifExpr, then, els any) bson.D {
	return bson.D{{Key: "$cond", Value: bson.A{ifExpr, then, els}}}
}

func eq(a, b any) bson.D    { return bson.D{{Key: "$eq", Value: bson.A{a, b}}} }
func ne(a, b any) bson.D    { return bson.D{{Key: "$ne", Value: bson.A{a, b}}} }
func not(a any) bson.D      { return bson.D{{Key: "$not", Value: bson.A{a}}} }
func and(c ...any) bson.D   { return bson.D{{Key: "$and", Value: bson.A(c)}} }
func toString(a any) bson.D { return bson.D{{Key: "$toString", Value: a}} }

func concat(parts ...any) bson.D { return bson.D{{Key: "$concat", Value: bson.A(parts)}} }

func ifNull(a, b any) bson.D { return bson.D{{Key: "$ifNull", Value: bson.A{a, b}}} }

// isType is true when the value's $type is one of types ("missing" for an absent field).
func isType(v any, types ...string) bson.D {
	if len(types) == 1 {
		return eq(bson.D{{Key: "$type", Value: v}}, types[0])
	}
	list := bson.A{}
	for _, t := range types {
		list = append(list, t)
	}
	return bson.D{{Key: "$in", Value: bson.A{bson.D{{Key: "$type", Value: v}}, list}}}
}
