//go:build unix

package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pileShape is the shape of the demo's pile-up (internal/sim/workload/pileup.go).
const pileShape = "find shop.orders {status: ?, qty: {$gt: ?}}"

// TestEndToEndGroups drives the grouped view of `currentop --demo` under tmux: it waits for the
// demo's pile-up, switches the sessions pane to groups (t) and sees the pile-up as one row,
// opens it (enter) and sees only its sessions, goes back (esc), kills the group (k, y) and sees
// its sessions end.
func TestEndToEndGroups(t *testing.T) {
	e := newE2E(t)
	e.start("--demo")
	e.send("t")
	titleRe := regexp.MustCompile(`^ GROUPS (\d+) shapes? of ([\d,]+) sessions`)
	// A burst fires at start and every 60–75 s and lasts 40 s or more: 90 s covers a burst
	// missed at start.
	s := e.waitFor("the groups by shape with the pile-up as one row of 30 or more sessions", 90*time.Second, func(s string) bool {
		rows := groupRows(s)
		n := 0
		for _, r := range rows {
			if r.key == pileShape {
				n++
			}
		}
		g, ok := groupRow(s, pileShape)
		return titleRe.MatchString(groupsTitle(s)) && n == 1 && ok && g.count >= 30
	})
	pile, _ := groupRow(s, pileShape)
	t.Logf("the pile-up: %d sessions in one row; screen:\n%s", pile.count, s)

	// Select it: g, then down until the selected row is the pile-up's.
	e.send("g")
	for range 20 {
		s = e.waitFor("a selected group row", 10*time.Second, func(s string) bool { _, ok := selectedGroup(s); return ok })
		if r, _ := selectedGroup(s); r.key == pileShape {
			break
		}
		e.send("Down")
	}
	if r, _ := selectedGroup(s); r.key != pileShape {
		t.Fatalf("could not select the pile-up's row; screen:\n%s", s)
	}

	// Enter lists its sessions only: every one a COLLSCAN query from the storefront.
	e.send("Enter")
	openRe := regexp.MustCompile(`^ SESSIONS (\d+) of [\d,]+ · shape ` + regexp.QuoteMeta(pileShape))
	e.waitFor("the pile-up's sessions, narrowed", 10*time.Second, func(s string) bool {
		m := openRe.FindStringSubmatch(sessionsTitle(s))
		rows, ok := sessionRows(s)
		if m == nil || !ok || len(rows) == 0 {
			return false
		}
		for _, r := range rows {
			if r.op != "query" || !hasPlan(s, r, "COLLSCAN") {
				return false
			}
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 30
	})
	e.send("Escape")
	e.waitFor("back to the groups, the pile-up selected", 10*time.Second, func(s string) bool {
		r, ok := selectedGroup(s)
		return titleRe.MatchString(groupsTitle(s)) && ok && r.key == pileShape
	})

	// k asks to kill the group's sessions, naming the shape; y kills them.
	e.send("k")
	dialogRe := regexp.MustCompile(`Kill (\d+) operations\?`)
	s = e.waitFor("the kill dialog for the group", 10*time.Second, func(s string) bool {
		return dialogRe.MatchString(s) && strings.Contains(s, "of shape "+pileShape) && strings.Contains(s, "y kill")
	})
	n, _ := strconv.Atoi(dialogRe.FindStringSubmatch(s)[1])
	if n < 30 {
		t.Fatalf("the dialog offers %d operations, want the pile-up's 30 or more; screen:\n%s", n, s)
	}
	before, _ := groupRow(s, pileShape) // the dialog covers the panes: use the row seen last
	if before.count == 0 {
		before = pile
	}
	e.send("y")
	s = e.waitFor("the status line reporting the kills", 60*time.Second, func(s string) bool {
		return strings.HasPrefix(statusLine(s), "kill: ") && strings.Contains(statusLine(s), " killed")
	})
	t.Logf("dialog: %d operations; status: %q", n, statusLine(s))
	if st := statusLine(s); strings.Contains(st, "refused") || strings.Contains(st, "failed") || strings.Contains(st, "not permitted") {
		t.Fatalf("group kill: %q", st)
	}
	// Its sessions end: the row goes, or holds only sessions younger than the killed ones (the
	// next burst), or fewer than were killed: the pile-up may grow after the snapshot the
	// dialog was built from (refreshes are slow on a loaded machine), and those newcomers, of
	// about the same age, were not offered for killing.
	if s, ok := e.poll(30*time.Second, func(s string) bool {
		if !titleRe.MatchString(groupsTitle(s)) {
			return false
		}
		r, ok := groupRow(s, pileShape)
		return !ok || r.max < pile.max || r.count < n
	}); !ok {
		// The status line is cut at the screen's width: the event log has every outcome.
		e.send("e")
		log, _ := e.poll(5*time.Second, func(s string) bool { return strings.Contains(s, " EVENTS ") })
		t.Fatalf("timed out waiting for the pile-up's sessions gone; last screen:\n%s\nevent log:\n%s", s, log)
	}
	e.send("q")
	e.waitFor("EXIT=0 on the normal screen", exitGuard, func(s string) bool {
		return strings.Contains(s, "EXIT=0")
	})
}

// groupLine is one row of the grouped view.
type groupLine struct {
	key, mark string
	count     int
	max       time.Duration
}

func groupsTitle(s string) string {
	for _, l := range lines(s) {
		if strings.HasPrefix(l, " GROUPS") {
			return l
		}
	}
	return ""
}

// groupRows reads the grouped view's rows by its column header (SHAPE … COUNT … MAX).
func groupRows(s string) []groupLine {
	l := lines(s)
	i := -1
	for k, x := range l {
		if strings.HasPrefix(x, " GROUPS") {
			i = k
		}
	}
	if i < 0 || i+1 >= len(l) {
		return nil
	}
	hdr := l[i+1]
	countAt, maxAt := runeIndex(hdr, "COUNT"), runeIndex(hdr, " MAX")
	if countAt < 0 || maxAt < 0 {
		return nil
	}
	countEnd, maxEnd := countAt+len("COUNT"), maxAt+len(" MAX")
	var out []groupLine
	for _, row := range l[i+2 : len(l)-2] { // up to the status line
		r := []rune(row)
		if len(r) < maxEnd+1 || strings.TrimSpace(row) == "" {
			break
		}
		keyEnd := countAt - 1
		// The key column is left-aligned from column 2; the numbers are right-aligned under
		// their titles (the titles carry an arrow cell when sorted).
		key := strings.TrimSpace(string(r[2:min(len(r), keyEnd)]))
		count, _ := strconv.Atoi(strings.ReplaceAll(lastField(string(r[:min(len(r), countEnd+1)])), ",", ""))
		d, _ := time.ParseDuration(lastField(string(r[:min(len(r), maxEnd+1)])))
		out = append(out, groupLine{key: key, mark: string(r[:2]), count: count, max: d})
	}
	return out
}

// runeIndex is the cell (rune) index of sub in s, -1 when absent.
func runeIndex(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return len([]rune(s[:i]))
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func groupRow(s, key string) (groupLine, bool) {
	for _, r := range groupRows(s) {
		if r.key == key {
			return r, true
		}
	}
	return groupLine{}, false
}

func selectedGroup(s string) (groupLine, bool) {
	for _, r := range groupRows(s) {
		if strings.Contains(r.mark, "▸") {
			return r, true
		}
	}
	return groupLine{}, false
}
