package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/currentop/currentop/source"
)

// column describes one column of a pane: how to draw it, how wide it may be and how it sorts.
// Cells are computed only for visible rows (in View). Sorting uses per-row integer keys built
// in Update from num or str, so a re-sort of many rows compares integers, not strings.
//
// Widths (see layout.go): a column shown gets at least min (less when its longest cell is
// shorter), then, most important columns first, what its typical cell needs up to fair; space
// left over goes to its longest cell, up to max.
type column[R any] struct {
	key   string // stable name, used to remember the sort column
	title string
	// name is how pane title notes call it ("shard cmgo-d1 for all"); default: the title in
	// lower case.
	name  string
	min   int  // narrowest useful width: a column that cannot have it is left out
	fair  int  // what its typical cell gets before less important columns grow (0: max)
	max   int  // widest it grows to
	right bool // right-aligned (numbers, durations)
	// tail: when cut, keep the end ("…rs0-a:27017/53"): IDs differ in their last part.
	tail bool
	prio int // columns with the lowest prio are dropped first on narrow screens
	// descFirst: the first sort on this column is descending (counts, durations).
	descFirst bool
	// optional: the data may not have it at all (host, shard); the keyboard sort skips it
	// then.
	optional bool
	// hideEmpty: steps aside while no shown row has a value. same: steps aside while every
	// shown row (two or more) has one value, which the pane title names (quiet: does not).
	hideEmpty, same, quiet bool
	// trim lists separators: the longest prefix ending in one that every shown row shares
	// is cut off ("…/56" for Tencent's "cmgo-x_0/node-1:27017/56") and named in the title.
	// trimWhole: only the whole part before the last separator (the IP of "ip:port").
	trim      string
	trimWhole bool
	// counter: its values count up (opids, connection numbers), so it keeps min even while
	// they are shorter, rather than widening when they gain a digit.
	counter bool
	text    func(r *R, now time.Time) string
	// Sort key: num for numbers; else str, compared naturally ("conn9" < "conn10"); with
	// neither, the pane's tie order (the row ID) is the order.
	num func(r *R) int64
	str func(r *R) string
	// width of the cell's text for the row, used to size the column to its content.
	width func(r *R) int
}

// sessRow is one session plus keys precomputed when its snapshot arrives.
type sessRow struct {
	s        *source.Session
	idPrefix string // "shard01:" of "shard01:4119786"
	idNum    uint64 // 4119786
	idIsNum  bool
	clientIP string
	folded   string // lower-cased free-text haystack, built once per snapshot when a filter needs it
}

func newSessRow(s *source.Session) sessRow {
	r := sessRow{s: s, clientIP: s.ClientIP()}
	id := s.ID
	cut := len(id) - 1
	for cut >= 0 && id[cut] != ':' && id[cut] != '/' {
		cut--
	}
	r.idPrefix = id[:cut+1]
	if n, err := strconv.ParseUint(id[cut+1:], 10, 64); err == nil {
		r.idNum, r.idIsNum = n, true
	}
	return r
}

// compareID orders session IDs by their prefix, then numerically.
func compareID(a, b *sessRow) int {
	if c := strings.Compare(a.idPrefix, b.idPrefix); c != 0 {
		return c
	}
	if a.idIsNum && b.idIsNum {
		switch {
		case a.idNum < b.idNum:
			return -1
		case a.idNum > b.idNum:
			return 1
		}
		return 0
	}
	return naturalCompare(a.s.ID, b.s.ID)
}

// opText is what the op column shows: the operation, or the session type for idle entries.
func opText(s *source.Session) string {
	if s.Op != "" && s.Op != "none" {
		return s.Op
	}
	if s.Type != "" && s.Type != source.TypeOp {
		return s.Type
	}
	if s.Op != "" {
		return s.Op
	}
	return "-"
}

// runningText is the human running time; empty for idle entries that report none.
func runningText(s *source.Session) string {
	if s.RunningUS <= 0 && s.Type != source.TypeOp {
		return ""
	}
	return source.FormatDuration(s.Running())
}

func strCol(key, title string, min, max, prio int, get func(*source.Session) string) column[sessRow] {
	return column[sessRow]{
		key: key, title: title, min: min, max: max, prio: prio,
		text:  func(r *sessRow, _ time.Time) string { return get(r.s) },
		str:   func(r *sessRow) string { return get(r.s) },
		width: func(r *sessRow) int { return textWidth(get(r.s)) }, // cells, not bytes
	}
}

func natCol(key, title string, min, max, prio int, get func(*source.Session) string) column[sessRow] {
	return strCol(key, title, min, max, prio, get)
}

// sessionColumns is the sessions pane, in display order.
func sessionColumns() []column[sessRow] {
	id := natCol("id", "ID", 7, 40, 100, func(s *source.Session) string { return s.ID })
	id.str = nil // the tie order is the ID order
	id.tail, id.counter, id.fair = true, true, 22
	id.trim = "/:" // Tencent's replica set/node/opid, mongos' shard:opid
	op := strCol("op", "OP", 7, 14, 90, opText)
	ns := strCol("ns", "NS", 12, 64, 85, func(s *source.Session) string { return s.NS })
	ns.fair = 28
	running := column[sessRow]{
		key: "running", title: "RUNNING", min: 7, max: 7, right: true, prio: 95, descFirst: true,
		text:  func(r *sessRow, _ time.Time) string { return runningText(r.s) },
		num:   func(r *sessRow) int64 { return r.s.RunningUS },
		width: func(*sessRow) int { return 7 },
	}
	plan := strCol("plan", "PLAN", 8, 48, 72, func(s *source.Session) string { return s.PlanSummary })
	plan.fair, plan.hideEmpty, plan.same = 24, true, true
	client := natCol("client", "CLIENT", 16, 47, 80, func(s *source.Session) string { return s.Client })
	client.fair, client.trim, client.trimWhole = 22, ":", true
	app := strCol("app", "APP", 8, 48, 70, func(s *source.Session) string { return s.App })
	app.fair, app.hideEmpty, app.same = 20, true, true
	user := strCol("user", "USER", 8, 32, 40, func(s *source.Session) string { return s.User })
	user.fair, user.hideEmpty, user.same = 16, true, true
	desc := natCol("desc", "DESC", 8, 24, 30, func(s *source.Session) string { return s.Desc })
	desc.hideEmpty, desc.same, desc.counter = true, true, true
	// LOCK is there only while an operation waits, and then it matters.
	lock := column[sessRow]{
		key: "lock", title: "LOCK", min: 4, max: 4, prio: 75, descFirst: true, hideEmpty: true,
		text: func(r *sessRow, _ time.Time) string {
			if r.s.WaitingForLock {
				return "wait"
			}
			if r.s.LockUnknown {
				return "n/a" // the source cannot say: blank would read "not blocked"
			}
			return ""
		},
		num: func(r *sessRow) int64 { return b2i(r.s.WaitingForLock) - b2i(r.s.LockUnknown) },
		width: func(r *sessRow) int {
			switch {
			case r.s.WaitingForLock:
				return 4
			case r.s.LockUnknown:
				return 3
			}
			return 0
		},
	}
	// One host for every session is the server in the header: no note.
	host := natCol("host", "HOST", 10, 32, 45, func(s *source.Session) string { return s.Host })
	host.optional, host.hideEmpty, host.same, host.quiet = true, true, true, true
	shard := natCol("shard", "SHARD", 7, 24, 55, func(s *source.Session) string { return s.Shard })
	shard.optional, shard.hideEmpty, shard.same = true, true, true
	command := strCol("command", "COMMAND", 7, 14, 88, func(s *source.Session) string { return s.CommandName })
	command.optional, command.hideEmpty = true, true
	progress := column[sessRow]{
		key: "progress", title: "PROG", min: 4, max: 4, right: true, prio: 65, descFirst: true,
		optional: true, hideEmpty: true,
		text:  func(r *sessRow, _ time.Time) string { return progressText(r.s) },
		num:   func(r *sessRow) int64 { return progressKey(r.s) },
		width: func(r *sessRow) int { return len(progressText(r.s)) },
	}
	summary := strCol("summary", "SUMMARY", 10, 60, 20, func(s *source.Session) string { return s.Summary })
	summary.optional, summary.hideEmpty = true, true
	return []column[sessRow]{id, op, command, ns, running, plan, client, app, user, desc, lock, progress, shard, host, summary}
}

// progressText is "30%" for an operation that reports its progress, else empty.
func progressText(s *source.Session) string {
	if s.Progress == nil {
		return ""
	}
	return strconv.Itoa(s.Progress.Percent()) + "%"
}

// progressKey sorts operations without progress below 0 %.
func progressKey(s *source.Session) int64 {
	if s.Progress == nil {
		return -1
	}
	return int64(s.Progress.Percent())
}

// cliRow is one client plus its joined lists, computed when its snapshot arrives.
type cliRow struct {
	c                    *source.Client
	apps, users, drivers string
	ipKey                string // for natural IP order
	churn                churnOf
}

func newCliRow(c *source.Client) cliRow {
	return cliRow{c: c, apps: joinList(c.Apps), users: joinList(c.Users), drivers: joinList(c.Drivers)}
}

func joinList(l []string) string { return strings.Join(l, ", ") }

func intCliCol(key, title string, prio int, get func(*source.Client) int) column[cliRow] {
	return column[cliRow]{
		key: key, title: title, min: len(title), max: 8, right: true, prio: prio, descFirst: true,
		text: func(r *cliRow, _ time.Time) string { return count(get(r.c)) }, // 2,029 as in the header
		num:  func(r *cliRow) int64 { return int64(get(r.c)) },
		width: func(r *cliRow) int {
			return len(count(get(r.c)))
		},
	}
}

func listCliCol(key, title string, min, max, prio int, get func(*cliRow) string) column[cliRow] {
	return column[cliRow]{
		key: key, title: title, min: min, max: max, prio: prio,
		text:  func(r *cliRow, _ time.Time) string { return get(r) },
		str:   get,
		width: func(r *cliRow) int { return textWidth(get(r)) },
	}
}

// clientColumns is the clients pane, in display order. The drivers' versions matter more
// than the users' names: they get room first.
func clientColumns() []column[cliRow] {
	ip := column[cliRow]{
		key: "ip", title: "CLIENT IP", min: 9, max: 39, prio: 100,
		text:  func(r *cliRow, _ time.Time) string { return r.c.IP },
		str:   func(r *cliRow) string { return r.c.IP },
		width: func(r *cliRow) int { return len(r.c.IP) },
	}
	conns := intCliCol("conns", "CONNS", 95, func(c *source.Client) int { return c.Count })
	active := intCliCol("active", "ACTIVE", 90, func(c *source.Client) int { return c.Active })
	internal := column[cliRow]{
		key: "internal", title: "INTERNAL", min: 3, max: 8, prio: 50, descFirst: true, hideEmpty: true, same: true,
		text: func(r *cliRow, _ time.Time) string {
			if r.c.Internal {
				return "yes"
			}
			return ""
		},
		num: func(r *cliRow) int64 { return b2i(r.c.Internal) },
		width: func(r *cliRow) int {
			if r.c.Internal {
				return 3
			}
			return 0
		},
	}
	apps := listCliCol("apps", "APPS", 8, 80, 85, func(r *cliRow) string { return r.apps })
	apps.fair = 24
	users := listCliCol("users", "USERS", 10, 60, 55, func(r *cliRow) string { return r.users })
	users.fair = 20
	drivers := listCliCol("drivers", "DRIVERS", 10, 60, 65, func(r *cliRow) string { return r.drivers })
	drivers.fair = 28
	for _, c := range []*column[cliRow]{&apps, &users, &drivers} {
		c.hideEmpty, c.same = true, true
	}
	return []column[cliRow]{ip, conns, churnColumn(), active, internal, apps, users, drivers}
}
func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
