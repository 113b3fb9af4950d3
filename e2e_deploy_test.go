//go:build unix

package main

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// deployGuard bounds the waits on the simulated deployment: a member's backoff (up to 15 s)
// and the workload's holds (up to a minute) decide when things show, not the machine's speed.
const deployGuard = 90 * time.Second

// TestEndToEndReplicaSet drives `currentop --demo --topology replset` under tmux: the members
// strip shows the three members; SIGUSR2 stops a secondary: the strip says it is down and its
// rows, and only its rows, go stale (named in the sessions title, drawn dimmed); a second
// SIGUSR2 restarts it and the same process shows it answering again with no stale rows left;
// then an operation running on a secondary is killed from the UI and ends there.
func TestEndToEndReplicaSet(t *testing.T) {
	e := newE2E(t)
	e.start("--demo", "--topology", "replset")
	s := e.waitFor("the members strip with a primary and two secondaries, all answering", 30*time.Second, func(s string) bool {
		return healthyStrip(stripMembers(s))
	})
	t.Logf("strip: %q", stripLine(s))
	pid := e.pid

	downHost, stale := e.stopSecondaryWithRows()
	t.Logf("stopped %s: %d of its rows stale", downHost, stale)

	// Restart it: it answers again, no row is stale, and it is the same process.
	e.signal(syscall.SIGUSR2)
	s = e.waitFor("the strip showing "+downHost+" answering again and no stale rows", deployGuard, func(s string) bool {
		ms := stripMembers(s)
		m, ok := findMember(ms, downHost)
		return healthyStrip(ms) && ok && m.state == "S" && !strings.Contains(sessionsTitle(s), "stale (member down)")
	})
	t.Logf("recovered: %q", stripLine(s))
	if e.pid != pid || syscall.Kill(pid, 0) != nil {
		t.Fatalf("currentop (pid %d) is not the process that started", pid)
	}
	e.filter("host:" + downHost)
	e.waitForStyled("the rows of "+downHost+" live: none dimmed, no stale note", deployGuard, func(styled string) bool {
		s := stripSGR(styled)
		dim, live := rowsDimmed(styled)
		return strings.Contains(sessionsTitle(s), "· filter host:"+downHost) && !strings.Contains(sessionsTitle(s), "stale") && dim == 0 &&
			(live > 0 || strings.Contains(s, "no session matches the filter"))
	})

	e.killOnSecondary()
	e.send("q")
	e.waitFor("EXIT=0 on the normal screen", exitGuard, func(s string) bool {
		return strings.Contains(s, "EXIT=0") && !strings.Contains(s, "currentop ·")
	})
}

// stopSecondaryWithRows waits until both secondaries run operations, stops one (SIGUSR2) and
// checks the strip says it is down and its rows, and only its, are stale and dimmed. A member
// whose operations all ended just before it stopped has no rows to go stale: it is restarted
// and stopped again.
func (e *e2e) stopSecondaryWithRows() (host string, stale int) {
	e.t.Helper()
	staleRe := regexp.MustCompile(`· (\d+) stale \(member down\)`)
	for attempt := 1; ; attempt++ {
		e.filter("")
		// Two operations each, when the workload gets there, so that a stale row shows
		// beside the selected one (the selection is drawn as such, never dimmed).
		busy := func(least int) func(string) bool {
			return func(s string) bool {
				ms := stripMembers(s)
				return healthyStrip(ms) && !anyMember(ms, func(m stripMember) bool { return m.state == "S" && m.ops < least })
			}
		}
		if _, ok := e.poll(30*time.Second, busy(2)); !ok {
			e.waitFor("both secondaries running operations", deployGuard, busy(1))
		}
		e.signal(syscall.SIGUSR2)
		s := e.waitFor("one secondary down in the strip, the other members answering", deployGuard, func(s string) bool {
			ms := stripMembers(s)
			return len(ms) == 3 && countState(ms, "P") == 1 && countState(ms, "S") == 1 && countState(ms, "✗") == 1
		})
		for _, m := range stripMembers(s) {
			if m.state == "✗" {
				host = m.host
			}
		}
		// All the stale rows are the stopped member's: the count in the whole list is the
		// count among its rows, and every one of its rows is dimmed.
		s = e.waitFor("the sessions title counting the stale rows", 30*time.Second, func(s string) bool {
			return staleRe.MatchString(sessionsTitle(s)) || strings.Contains(sessionsTitle(s), "SESSIONS") && !strings.Contains(sessionsTitle(s), "stale")
		})
		all := 0
		if m := staleRe.FindStringSubmatch(sessionsTitle(s)); m != nil {
			all, _ = strconv.Atoi(m[1])
		}
		e.filter("host:" + host)
		ofRe := regexp.MustCompile(`^ SESSIONS (\d+) of \d+ · filter host:` + regexp.QuoteMeta(host))
		styled := e.waitForStyled("the rows of "+host, 30*time.Second, func(styled string) bool {
			return ofRe.MatchString(sessionsTitle(stripSGR(styled)))
		})
		s = stripSGR(styled)
		m := ofRe.FindStringSubmatch(sessionsTitle(s))
		n, _ := strconv.Atoi(m[1])
		if n == 0 {
			if attempt == 3 {
				e.t.Fatalf("the stopped member %s had no rows in %d tries; screen:\n%s", host, attempt, s)
			}
			e.t.Logf("%s stopped with no operation listed: restarting it and trying again", host)
			e.signal(syscall.SIGUSR2)
			e.waitFor(host+" answering again", deployGuard, func(s string) bool { return healthyStrip(stripMembers(s)) })
			continue
		}
		if sm := staleRe.FindStringSubmatch(sessionsTitle(s)); sm == nil || sm[1] != m[1] || all != n {
			e.t.Fatalf("%s has %d rows; the title says %v stale among them and %d in all, want %d and %d; screen:\n%s", host, n, sm, all, n, n, s)
		}
		styled = e.waitForStyled("every row of "+host+" dimmed but the selected one", 10*time.Second, func(styled string) bool {
			dim, live := rowsDimmed(styled)
			return dim == min(n, sessionRowsRoom(stripSGR(styled)))-1 && live == 0
		})
		e.t.Logf("the stale rows of %s:\n%s", host, stripSGR(styled))
		e.checkOthersLive(host)
		return host, n
	}
}

// sessionRowsRoom is how many rows the sessions pane shows.
func sessionRowsRoom(s string) int {
	l := lines(s)
	i := sessionsTitleIndex(l)
	if i < 0 {
		return 0
	}
	return max(0, len(l)-2-(i+2))
}

// checkOthersLive checks the rows of the members still answering are drawn live.
func (e *e2e) checkOthersLive(down string) {
	e.t.Helper()
	for _, m := range stripMembers(e.capture()) {
		if m.host == down {
			continue
		}
		e.filter("host:" + m.host)
		e.waitForStyled("the rows of "+m.host+" live", 30*time.Second, func(styled string) bool {
			s := stripSGR(styled)
			dim, live := rowsDimmed(styled)
			return strings.Contains(sessionsTitle(s), "· filter host:"+m.host) && !strings.Contains(sessionsTitle(s), "stale") &&
				dim == 0 && (live > 0 || strings.Contains(s, "no session matches the filter"))
		})
	}
	e.filter("")
}

// killOnSecondary kills one of the analytics reads (they run on the secondaries) from the UI
// and checks the kill went to the member that runs it: the status line names its ID on that
// member and says it was killed (source.KillSafely re-reads that member: had the kill gone
// anywhere else, the operation would still run there and the outcome would not be "killed"),
// and the row leaves while the member keeps answering.
func (e *e2e) killOnSecondary() {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		if attempt > 10 {
			e.t.Fatalf("no analytics read killed in %d tries; screen:\n%s", attempt-1, e.capture())
		}
		var sec string
		for _, m := range stripMembers(e.capture()) {
			if m.state == "S" && m.ops > 0 {
				sec = m.host
			}
		}
		if sec == "" {
			e.waitFor("a secondary running operations", deployGuard, func(s string) bool {
				return anyMember(stripMembers(s), func(m stripMember) bool { return m.state == "S" && m.ops > 0 })
			})
			continue
		}
		e.filter("host:" + sec + " app:analytics-etl")
		e.send("g")
		s, ok := e.poll(10*time.Second, func(s string) bool { _, ok := selectedRow(s); return ok })
		if !ok {
			continue // its reads ended meanwhile
		}
		sel, _ := selectedRow(s)
		e.send("k")
		s, ok = e.poll(10*time.Second, func(s string) bool {
			return strings.Contains(s, "Kill 1 operation?") && strings.Contains(s, "y kill")
		})
		if !ok {
			e.t.Logf("no kill dialog for %s (it ended first?); trying another", sel.id)
			continue
		}
		e.send("y")
		s = e.waitFor("the status line reporting the kill", 30*time.Second, func(s string) bool {
			return strings.HasPrefix(statusLine(s), "kill: ")
		})
		st := statusLine(s)
		idRe := regexp.MustCompile(`^kill: (\S+` + regexp.QuoteMeta(sec) + `/\d+) (.+)$`)
		m := idRe.FindStringSubmatch(st)
		if m == nil {
			e.t.Fatalf("the kill of a read on %s reports %q: want one ID on that member; screen:\n%s", sec, st, s)
		}
		if strings.HasPrefix(m[2], "already gone") {
			e.t.Logf("%s ended on its own before the kill; trying another", m[1])
			continue
		}
		if m[2] != "killed" {
			e.t.Fatalf("kill of %s: %q; screen:\n%s", m[1], st, s)
		}
		e.waitFor(m[1]+" gone from the sessions while "+sec+" answers", 15*time.Second, func(s string) bool {
			_, ok := sessionRows(s)
			mb, found := findMember(stripMembers(s), sec)
			return ok && found && mb.state == "S" && !rowWithID(s, sel.id) && !strings.Contains(s, "Kill 1 operation?")
		})
		e.t.Logf("killed %s on %s", m[1], sec)
		e.filter("")
		return
	}
}

// TestEndToEndShardedMembers: `--demo --topology sharded` shows every member of every shard:
// the strip counts the mongos and both shards' three members, all answering, and the m key
// walks through each of them.
func TestEndToEndShardedMembers(t *testing.T) {
	e := newE2E(t)
	e.start("--demo", "--topology", "sharded")
	s := e.waitFor("the strip counting a mongos and two shards of three members, all answering", 30*time.Second, func(s string) bool {
		l := lines(s)
		i := stripIndex(l)
		return i >= 0 && i+1 < len(l) && strings.Contains(l[i], "7 in 2 sets · 1 M 2 P 4 S") && strings.Contains(l[i+1], "✓ all 7 answered")
	})
	t.Logf("strip:\n%s\n%s", stripLine(s), lines(s)[stripIndex(lines(s))+1])
	// m: all → primaries → each member → all; the strip's label names the scope.
	labelRe := regexp.MustCompile(`^members (\S+)  `)
	label := func(s string) string {
		if m := labelRe.FindStringSubmatch(stripLine(s)); m != nil {
			return m[1]
		}
		return ""
	}
	seen := map[string]bool{}
	prev := "all"
	for range 12 {
		e.send("m")
		s := e.waitFor("the members scope after "+prev, 10*time.Second, func(s string) bool {
			l := label(s)
			return l != "" && l != prev
		})
		prev = label(s)
		if prev == "all" {
			break
		}
		if prev != "primary" {
			seen[prev] = true
		}
	}
	if prev != "all" || len(seen) != 7 {
		t.Fatalf("the m key named %d members (%v) and ended on %q, want the 7 the strip counts (the mongos and six shard members) and back to all", len(seen), seen, prev)
	}
	t.Logf("members named by m: %v", seen)
}

// stripMember is one cell of the members strip: "P :46789 237c 119op 8.0.4", or
// "✗ :44533 down: refused" (state ✗).
type stripMember struct {
	state, host string
	ops         int
}

var (
	memberCellRe = regexp.MustCompile(`(?:^|\s)([PSAM]) (\S+) [\d,]+c ([\d,]+)op`)
	memberDownRe = regexp.MustCompile(`✗ (\S+) down`)
)

func stripIndex(l []string) int {
	for i, x := range l {
		if strings.HasPrefix(x, "members ") {
			return i
		}
	}
	return -1
}

// stripLine is the strip's first line.
func stripLine(s string) string {
	l := lines(s)
	if i := stripIndex(l); i >= 0 {
		return l[i]
	}
	return ""
}

// stripMembers parses the strip's cells (its grid form: up to two lines after the label).
func stripMembers(s string) []stripMember {
	l := lines(s)
	i := stripIndex(l)
	if i < 0 {
		return nil
	}
	text := strings.TrimPrefix(l[i], "members ")
	if i+1 < len(l) && strings.HasPrefix(l[i+1], "        ") && strings.TrimSpace(l[i+1]) != "" {
		text += "  " + l[i+1]
	}
	var out []stripMember
	for _, m := range memberCellRe.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(strings.ReplaceAll(m[3], ",", ""))
		out = append(out, stripMember{state: m[1], host: m[2], ops: n})
	}
	for _, m := range memberDownRe.FindAllStringSubmatch(text, -1) {
		out = append(out, stripMember{state: "✗", host: m[1]})
	}
	return out
}

// healthyStrip: a primary and two secondaries, all answering.
func healthyStrip(ms []stripMember) bool {
	return len(ms) == 3 && countState(ms, "P") == 1 && countState(ms, "S") == 2
}

func countState(ms []stripMember, state string) int {
	n := 0
	for _, m := range ms {
		if m.state == state {
			n++
		}
	}
	return n
}

func findMember(ms []stripMember, host string) (stripMember, bool) {
	for _, m := range ms {
		if m.host == host {
			return m, true
		}
	}
	return stripMember{}, false
}

func anyMember(ms []stripMember, f func(stripMember) bool) bool {
	for _, m := range ms {
		if f(m) {
			return true
		}
	}
	return false
}

// filter sets the sessions filter (esc first clears any) and waits for it to take effect.
// Esc is sent alone and seen through before "/": a terminal reads esc followed at once by
// another key as alt+key.
func (e *e2e) filter(text string) {
	e.t.Helper()
	noFilter := func(s string) bool {
		return sessionsTitle(s) != "" && !strings.Contains(sessionsTitle(s), "· filter ") && !strings.HasPrefix(statusLine(s), "/ ")
	}
	if !noFilter(e.capture()) {
		e.send("Escape")
		e.waitFor("no filter", 10*time.Second, noFilter)
	}
	if text == "" {
		return
	}
	e.send("/")
	e.sendLiteral(text)
	e.send("Enter")
	e.waitFor("the filter "+text+" in force", 10*time.Second, func(s string) bool {
		return strings.Contains(sessionsTitle(s), "· filter "+text) && !strings.HasPrefix(statusLine(s), "/ ")
	})
}

// rowsDimmed counts the session rows drawn whole in the column titles' muted colour (stale)
// and the others, leaving out the selected row (drawn as the selection, never dimmed).
func rowsDimmed(styled string) (dim, live int) {
	styles := cellStyles(styled)
	plain := strings.Split(strings.TrimRight(styled, "\n"), "\n")
	for k := range plain {
		plain[k] = strings.TrimRight(stripSGR(plain[k]), " ")
	}
	i := sessionsTitleIndex(plain)
	if i < 0 || i+2 >= len(plain) {
		return 0, 0
	}
	muted := ""
	for j, r := range []rune(plain[i+1]) {
		if r != ' ' && j < len(styles[i+1]) {
			muted = styles[i+1][j].fg
			break
		}
	}
	for k := i + 2; k < len(plain)-2 && strings.TrimSpace(plain[k]) != ""; k++ {
		r := []rune(plain[k])
		if strings.ContainsRune(string(r[:min(2, len(r))]), '▸') || strings.ContainsRune(string(r[:min(2, len(r))]), '›') {
			continue
		}
		if strings.Contains(plain[k], "no session matches the filter") {
			continue
		}
		faint := muted != ""
		for j, c := range r {
			if c == ' ' || j >= len(styles[k]) {
				continue
			}
			if st := styles[k][j]; st.fg != muted || st.bg != "" || st.bold || st.reversed {
				faint = false
				break
			}
		}
		if faint {
			dim++
		} else {
			live++
		}
	}
	return dim, live
}
