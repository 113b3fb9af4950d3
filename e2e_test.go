//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/currentop/currentop/source"
)

// TestEndToEnd builds the binary and drives `currentop --demo` under tmux the way a person
// would: it types keys with send-keys and reads the screen with capture-pane. It covers the
// first screen (both panes filled), the filter bar and its "N of M" count, clearing the filter
// with esc, sorting by another column and reversing it, the detail view, killing an operation
// after the confirmation dialog, the STALE state during a simulated outage (SIGUSR1: header,
// pane titles, dimmed rows) and the recovery to LIVE with its note, and quitting back to
// the normal screen with exit status 0.
//
// It runs on a private tmux server (-L currentop-e2e-<pid>) so it never touches a user's tmux.
func TestEndToEnd(t *testing.T) {
	e := newE2E(t)
	// 1. Both panes fill within 3 s.
	start := time.Now()
	e.start("--demo")
	if d := time.Since(start); d > 3*time.Second {
		t.Logf("SLOW: the panes took %s to fill (expected within 3s)", d.Round(time.Millisecond))
	} else {
		t.Logf("step 1: panes filled in %s", d.Round(time.Millisecond))
	}
	// The sessions pane has the focus at start: the footer offers its keys.
	e.waitFor("the sessions pane focused (footer offers kill)", 5*time.Second, func(s string) bool {
		return strings.Contains(lastLine(s), "k kill") && strings.Contains(lastLine(s), "enter details")
	})

	// 2. Filter: every row is a query running for more than a second.
	const filter = "op:query running>1s"
	e.send("/")
	e.sendLiteral(filter)
	countRe := regexp.MustCompile(`^ SESSIONS (\d+) of (\d+) · filter ` + regexp.QuoteMeta(filter))
	barRe := regexp.MustCompile(`^/ ` + regexp.QuoteMeta(filter) + `  \d+ of \d+ sessions`)
	e.waitFor("the filter bar with 'N of M sessions' and only queries running >1s", 10*time.Second, func(s string) bool {
		if !barRe.MatchString(statusLine(s)) || countRe.FindStringSubmatch(sessionsTitle(s)) == nil {
			return false
		}
		rows, ok := sessionRows(s)
		if !ok || len(rows) == 0 {
			return false
		}
		for _, r := range rows {
			if r.op != "query" || r.running < time.Second {
				return false
			}
		}
		return true
	})
	e.send("Enter")
	e.waitFor("the filter kept and the bar closed", 5*time.Second, func(s string) bool {
		return countRe.MatchString(sessionsTitle(s)) && !strings.HasPrefix(statusLine(s), "/ ")
	})

	// 3. Esc (no marks, no client narrowing) clears the filter: other ops come back.
	e.send("Escape")
	// The title may carry the scroll position and notes on what every row shares ("client
	// 127.0.0.1:… for all"), not N of M.
	plainRe := regexp.MustCompile(`^ SESSIONS \d+(?: · \d+/\d+)?(?: · (?:id|client|shard|plan|app|user|desc) [^·]+)*$`)
	e.waitFor("the filter cleared: no 'N of M', rows of other ops back", 10*time.Second, func(s string) bool {
		rows, ok := sessionRows(s)
		return ok && plainRe.MatchString(sessionsTitle(s)) &&
			anyRow(rows, func(r sessRow) bool { return r.op != "query" && r.op != "" })
	})

	// 4. Sort by CLIENT, then reverse. Sessions start sorted by RUNNING▼; CLIENT is two
	// columns to the right.
	e.waitFor("the initial sort RUNNING▼", 5*time.Second, func(s string) bool { return sortColumn(s) == "RUNNING▼" })
	e.send(">")
	e.waitFor("the sort on PLAN", 5*time.Second, func(s string) bool { return strings.HasPrefix(sortColumn(s), "PLAN") })
	e.send(">")
	var firstDir string
	e.waitFor("the sort indicator on CLIENT and rows ordered by client", 5*time.Second, func(s string) bool {
		col := sortColumn(s)
		if col != "CLIENT▲" && col != "CLIENT▼" {
			return false
		}
		firstDir = col
		return clientsOrdered(s, col == "CLIENT▲")
	})
	t.Logf("step 4: sorted by %s", firstDir)
	e.send("r")
	flipped := "CLIENT▼"
	if firstDir == "CLIENT▼" {
		flipped = "CLIENT▲"
	}
	e.waitFor("the sort reversed to "+flipped+" and rows in reverse client order", 5*time.Second, func(s string) bool {
		return sortColumn(s) == flipped && clientsOrdered(s, flipped == "CLIENT▲")
	})

	// 5. Detail view of a selected session.
	e.openDetail()
	e.send("Escape")
	e.waitFor("back to the panes after esc", 5*time.Second, func(s string) bool {
		return strings.Contains(s, " CLIENTS ") && sessionsTitle(s) != "" && !strings.Contains(s, " SESSION ")
	})

	// 6. Kill a long-running COLLSCAN operation.
	e.send("<", "<")
	e.waitFor("the sort back on RUNNING▼", 5*time.Second, func(s string) bool { return sortColumn(s) == "RUNNING▼" })
	e.send("/")
	e.sendLiteral("plan:COLLSCAN running>1s")
	e.send("Enter")
	e.waitFor("the COLLSCAN filter kept", 5*time.Second, func(s string) bool {
		return strings.Contains(sessionsTitle(s), "· filter plan:COLLSCAN running>1s") && !strings.HasPrefix(statusLine(s), "/ ")
	})
	id := e.killOne()

	// 7. Outage: STALE in the header with a failure line, both pane titles say STALE and the
	// rows are dimmed; then back to LIVE with the recovery noted in the status line.
	staleRe := regexp.MustCompile(`STALE \S+$`)
	e.signal(syscall.SIGUSR1)
	outage := time.Now()
	s := e.waitFor("STALE in the header and pane titles, and a failure line", 20*time.Second, func(s string) bool {
		l := lines(s)
		f := failureLine(l)
		return len(l) > 2 && staleRe.MatchString(l[1]) && strings.Contains(f, "refresh failed") && paneTitlesStale(s) == 2
	})
	failing := time.Now() // the failure streak began before this
	t.Logf("step 7: STALE after %s", time.Since(outage).Round(time.Millisecond))
	e.waitForStyled("the stale session rows dimmed: one muted colour, no plan colour or selection", 10*time.Second, func(s string) bool {
		return paneTitlesStale(stripSGR(s)) == 2 && sessionRowsDimmed(s)
	})
	e.signal(syscall.SIGUSR1)
	recovery := time.Now()
	noteRe := regexp.MustCompile(`^recovered after (\S+)$`)
	s = e.waitFor("LIVE again, no STALE title, and the 'recovered after' note", 30*time.Second, func(s string) bool {
		l := lines(s)
		return len(l) > 2 && strings.HasSuffix(l[1], "● LIVE") && failureLine(l) == "" &&
			paneTitlesStale(s) == 0 && noteRe.MatchString(statusLine(s))
	})
	t.Logf("step 7: LIVE again after %s; status %q", time.Since(recovery).Round(time.Millisecond), statusLine(s))
	// The streak lasted at least from the failure seen to the recovery signal (less a second
	// for the note's rounding): a bound from the order of events, not from speed.
	if d := parseRunning(noteRe.FindStringSubmatch(statusLine(s))[1]); d < recovery.Sub(failing)-time.Second {
		t.Errorf("the note says %q but the failures lasted at least %s", statusLine(s), recovery.Sub(failing).Round(time.Millisecond))
	}
	e.waitForStyled("the live session rows no longer dimmed", 10*time.Second, func(s string) bool {
		rows, ok := sessionRows(stripSGR(s))
		return ok && len(rows) > 0 && !sessionRowsDimmed(s)
	})
	if s := e.capture(); rowWithID(s, id) {
		t.Errorf("killed session %s is listed again after the outage:\n%s", id, s)
	}

	// 8. Quit: exit status 0 and the alternate screen left.
	e.send("q")
	e.waitFor("EXIT=0 on the normal screen", exitGuard, func(s string) bool {
		return strings.Contains(s, "EXIT=0") && !strings.Contains(s, "currentop ·")
	})
	t.Logf("whole run: %s", time.Since(start).Round(time.Millisecond))
}

// TestEndToEndStableHeader: at 120x36 on the demo, once the columns have seen the workload's
// values, the sessions header line is byte-identical across 30 refreshes, although plans,
// namespaces and lock waits come and go between them. A refresh is seen as a new sessions
// body (running times move on every one), read twice in a row so a half-drawn frame does not
// count. Widths grow at once when a wider value first shows: a few changes are allowed at the
// start (they are logged), none once settled.
func TestEndToEndStableHeader(t *testing.T) {
	e := newE2E(t)
	e.start("--demo", "--interval", "500ms")
	const want, settle = 30, 30
	var headers []string
	last, pending := "", ""
	run, changes := 0, 0
	deadline := time.Now().Add(2 * time.Minute)
	for run < want {
		if time.Now().After(deadline) || len(headers) >= want+settle {
			t.Fatalf("after %d refreshes the sessions header has not held for %d in a row (%d changes); headers seen:\n%s",
				len(headers), want, changes, strings.Join(headers, "\n"))
		}
		l := lines(e.capture())
		i := sessionsTitleIndex(l)
		if i < 0 || i+2 > len(l)-2 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		hdr, body := l[i+1], strings.Join(l[i+2:len(l)-2], "\n")
		if body == pending && body != last {
			last = body
			switch {
			case len(headers) == 0:
				run = 1
			case hdr == headers[len(headers)-1]:
				run++
			default:
				run, changes = 1, changes+1
				t.Logf("refresh %d: the header changed to %q", len(headers)+1, hdr)
			}
			headers = append(headers, hdr)
		}
		pending = body
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("header identical across %d refreshes (%d refreshes seen, %d changes while settling): %q",
		run, len(headers), changes, headers[len(headers)-1])
}

// TestEndToEndFilterCommit: enter commits a valid filter; a broken one typed over it is
// explained in the bar while the committed filter stays in force (the rows do not empty),
// enter on it keeps the last valid filter and says so, and esc then clears the filter.
func TestEndToEndFilterCommit(t *testing.T) {
	e := newE2E(t)
	e.start("--demo")
	onlyQueries := func(s string) bool {
		rows, ok := sessionRows(s)
		return ok && len(rows) > 0 && !anyRow(rows, func(r sessRow) bool { return r.op != "query" })
	}
	committedRe := regexp.MustCompile(`^ SESSIONS \d+ of \d+ · filter op:query(?: ·|$)`)

	e.send("/")
	e.sendLiteral("op:query")
	e.send("Enter")
	e.waitFor("op:query committed: 'N of M · filter op:query', the bar closed, only queries", 10*time.Second, func(s string) bool {
		return committedRe.MatchString(sessionsTitle(s)) && !strings.HasPrefix(statusLine(s), "/ ") && onlyQueries(s)
	})

	// The bar opens on the committed text; " running>5x" makes it invalid.
	e.send("/")
	e.sendLiteral(" running>5x")
	s := e.waitFor("the bar explaining the invalid duration, op:query still in force", 10*time.Second, func(s string) bool {
		st := statusLine(s)
		return strings.HasPrefix(st, "/ op:query running>5x  ") && strings.Contains(st, `✗ invalid duration "5x"`) &&
			strings.Contains(st, "the last valid filter stays") && committedRe.MatchString(sessionsTitle(s)) && onlyQueries(s)
	})
	t.Logf("bar: %q; title: %q", statusLine(s), sessionsTitle(s))

	e.send("Enter")
	s = e.waitFor("the note that the last valid filter was kept", 10*time.Second, func(s string) bool {
		return strings.HasPrefix(statusLine(s), `kept the last valid filter "op:query": invalid duration`) &&
			committedRe.MatchString(sessionsTitle(s)) && onlyQueries(s)
	})
	t.Logf("status: %q", statusLine(s))

	// Esc (no marks, no client narrowing) clears the filter: other ops come back.
	e.send("Escape")
	plainRe := regexp.MustCompile(`^ SESSIONS \d+(?: · \d+/\d+)?(?: · (?:id|client|shard|plan|app|user|desc) [^·]+)*$`)
	e.waitFor("'filter cleared' in place of the note, no 'N of M', rows of other ops back", 10*time.Second, func(s string) bool {
		rows, ok := sessionRows(s)
		return ok && statusLine(s) == "filter cleared" && plainRe.MatchString(sessionsTitle(s)) &&
			anyRow(rows, func(r sessRow) bool { return r.op != "query" && r.op != "" })
	})
}

// e2e is one private tmux server running the program in session "e2e".
type e2e struct {
	t      *testing.T
	tmux   string
	bin    string
	socket string
	pid    int // the program's process, a child of the pane's shell
}

// TestEndToEndCloudKill kills an operation through each cloud API's emulator from the UI:
// the dialog, the result in the status line, and the row gone.
func TestEndToEndCloudKill(t *testing.T) {
	for _, src := range []string{"tencent", "huawei"} {
		t.Run(src, func(t *testing.T) {
			e := newE2E(t)
			e.start("--demo", "--source", src)
			e.send("/")
			e.sendLiteral("plan:COLLSCAN running>1s")
			e.send("Enter")
			e.waitFor("the COLLSCAN filter kept", 10*time.Second, func(s string) bool {
				return strings.Contains(sessionsTitle(s), "· filter plan:COLLSCAN running>1s") && !strings.HasPrefix(statusLine(s), "/ ")
			})
			e.killOne()
			e.send("q")
			e.waitFor("EXIT=0 on the normal screen", exitGuard, func(s string) bool {
				return strings.Contains(s, "EXIT=0") && !strings.Contains(s, "currentop ·")
			})
		})
	}
}

// newE2E builds the binary and prepares a private tmux server for it (-L currentop-e2e-<pid>,
// so it never touches a user's tmux).
// exitGuard bounds the wait for the program's exit after q: a hang guard. The demo's teardown
// lets each workload's clients disconnect (up to 5 s), which a loaded machine can stretch.
const exitGuard = 30 * time.Second

func newE2E(t *testing.T) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is not on PATH; CI must install it (.ci/run does) for the end-to-end test")
		}
		t.Skip("tmux is not on PATH: install tmux to run the end-to-end UI test")
	}
	bin := filepath.Join(t.TempDir(), "currentop")
	buildStart := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(buildStart).Round(time.Millisecond))
	e := &e2e{t: t, tmux: tmuxPath, bin: bin, socket: fmt.Sprintf("currentop-e2e-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))}
	t.Cleanup(e.close)
	return e
}

// start runs the binary with args in a 120x36 session and waits for both panes to fill with
// a COLLSCAN session.
func (e *e2e) start(args ...string) {
	e.t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	e.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "36",
		"TERM=xterm-256color "+shellQuote(e.bin)+" "+strings.Join(quoted, " ")+"; echo EXIT=$?; sleep 30")
	e.findPid()
	e.waitFor("both panes filled with a COLLSCAN session", 10*time.Second, func(s string) bool {
		rows, _ := sessionRows(s)
		return strings.Contains(s, " CLIENTS ") && strings.Contains(s, " SESSIONS ") &&
			anyRow(rows, func(r sessRow) bool { return strings.Contains(r.line, "COLLSCAN") })
	})
}

func (e *e2e) cmd(args ...string) *exec.Cmd {
	c := exec.Command(e.tmux, append([]string{"-L", e.socket}, args...)...)
	env := []string{"TERM=xterm-256color"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_PANE=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	c.Env = env
	return c
}

func (e *e2e) run(args ...string) string {
	e.t.Helper()
	out, err := e.cmd(args...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// close kills the private tmux server, removes its socket and makes sure the program is gone.
func (e *e2e) close() {
	sock := strings.TrimSpace(func() string {
		out, _ := e.cmd("display-message", "-p", "#{socket_path}").Output()
		return string(out)
	}())
	_ = e.cmd("kill-server").Run()
	if sock != "" && strings.Contains(sock, e.socket) {
		_ = os.Remove(sock)
	}
	if e.pid > 0 {
		deadline := time.Now().Add(3 * time.Second)
		for syscall.Kill(e.pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(e.pid, 0) == nil {
			_ = syscall.Kill(e.pid, syscall.SIGKILL)
		}
	}
}

// capture is the visible screen as plain text.
func (e *e2e) capture() string {
	e.t.Helper()
	return e.run("capture-pane", "-p", "-t", "e2e")
}

// captureStyled is the visible screen with its colours and attributes as SGR escapes. tmux
// writes only the changes, so a style may carry on from an earlier line (see cellStyles).
func (e *e2e) captureStyled() string {
	e.t.Helper()
	return e.run("capture-pane", "-p", "-e", "-t", "e2e")
}

// send types keys by tmux name ("Enter", "Escape", "q").
func (e *e2e) send(keys ...string) {
	e.t.Helper()
	e.run(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// sendLiteral types text as it is.
func (e *e2e) sendLiteral(text string) {
	e.t.Helper()
	e.run("send-keys", "-t", "e2e", "-l", text)
}

// waitFor polls the screen every 100 ms until ok holds on two captures in a row (so a frame
// caught half drawn cannot pass or fail a check), and fails with the last screen on timeout.
func (e *e2e) waitFor(desc string, timeout time.Duration, ok func(screen string) bool) string {
	e.t.Helper()
	s, done := e.poll(timeout, ok)
	if !done {
		e.t.Fatalf("timed out after %s waiting for %s; last screen:\n%s", timeout, desc, s)
	}
	return s
}

// waitForStyled is waitFor on the screen with its SGR escapes (captureStyled).
func (e *e2e) waitForStyled(desc string, timeout time.Duration, ok func(screen string) bool) string {
	e.t.Helper()
	s, done := e.pollWith(e.captureStyled, timeout, ok)
	if !done {
		e.t.Fatalf("timed out after %s waiting for %s; last screen:\n%s", timeout, desc, strconv.Quote(s))
	}
	return s
}

// poll is waitFor without the failure: it reports whether ok held in time.
func (e *e2e) poll(timeout time.Duration, ok func(screen string) bool) (string, bool) {
	e.t.Helper()
	return e.pollWith(e.capture, timeout, ok)
}

func (e *e2e) pollWith(capture func() string, timeout time.Duration, ok func(screen string) bool) (string, bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	hits := 0
	for {
		s := capture()
		if ok(s) {
			if hits++; hits == 2 {
				return s, true
			}
		} else {
			hits = 0
		}
		if time.Now().After(deadline) {
			return s, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findPid finds the program: the child of the pane's shell.
func (e *e2e) findPid() {
	e.t.Helper()
	shell, err := strconv.Atoi(strings.TrimSpace(e.run("list-panes", "-t", "e2e", "-F", "#{pane_pid}")))
	if err != nil {
		e.t.Fatalf("pane pid: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("ps", "-A", "-o", "pid=,ppid=,comm=").Output()
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) < 3 || f[1] != strconv.Itoa(shell) || !strings.Contains(f[2], "currentop") {
				continue
			}
			if e.pid, err = strconv.Atoi(f[0]); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no currentop process under the pane's shell %d; ps:\n%s", shell, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *e2e) signal(sig syscall.Signal) {
	e.t.Helper()
	if err := syscall.Kill(e.pid, sig); err != nil {
		e.t.Fatalf("signal %v to %d: %v", sig, e.pid, err)
	}
}

// commandKeys are the first keys the commands of the demo's workload can have ("q": an update
// or delete shows its statement {q, u, …}, as real servers do).
var commandKeys = map[string]bool{"find": true, "update": true, "aggregate": true, "insert": true, "delete": true,
	"count": true, "distinct": true, "getMore": true, "createIndexes": true, "findAndModify": true, "commitTransaction": true, "q": true}

// openDetail selects a long-running query or update, opens it with enter and checks the detail view
// shows that session's ID and its command as pretty-printed JSON. The selected row can end
// before enter arrives, so it tries a few times.
func (e *e2e) openDetail() {
	e.t.Helper()
	firstKey := regexp.MustCompile(`(?m)^command \(Extended JSON.*\n  \{\n    "(\w+)": `)
	for attempt := 1; ; attempt++ {
		// Select the first long-running query or update (its command is a "find" or an
		// "update"): g, then ↓ down to it.
		e.send("g")
		s := e.waitFor("a selected session row (▸) and a COLLSCAN query or update", 10*time.Second, func(s string) bool {
			rows, _ := sessionRows(s)
			_, ok := selectedRow(s)
			return ok && anyRow(rows, func(r sessRow) bool { return isLongQueryOrUpdate(s, r) })
		})
		rows, _ := sessionRows(s)
		var target sessRow
		for j, r := range rows {
			if isLongQueryOrUpdate(s, r) {
				target = r
				for range j {
					e.send("Down")
				}
				break
			}
		}
		s, ok := e.poll(3*time.Second, func(s string) bool {
			r, ok := selectedRow(s)
			return ok && r.id == target.id
		})
		if !ok {
			if attempt < 3 {
				continue // the row ended or moved meanwhile
			}
			e.t.Fatalf("could not select session %s; screen:\n%s", target.id, s)
		}
		sel, _ := selectedRow(s)
		e.send("Enter")
		// A long ID ("127.0.0.1:41193/3000061") is cut from the left in the pane ("…/3000061")
		// and shown whole in the detail view.
		idRe := idPattern(sel.id)
		title := regexp.MustCompile(`^ SESSION ` + idRe + ` · `)
		idLine := regexp.MustCompile(`(?m)^  id +` + idRe + `$`)
		s, opened := e.poll(3*time.Second, func(s string) bool {
			l := lines(s)
			return detailTitle(l, title)
		})
		if !opened {
			if attempt < 3 {
				continue // the row ended between the selection and enter
			}
			e.t.Fatalf("enter on session %s did not open its detail view; screen:\n%s", sel.id, s)
		}
		s = e.waitFor("the detail of session "+sel.id+" with its command", 5*time.Second, func(s string) bool {
			l := lines(s)
			m := firstKey.FindStringSubmatch(s)
			return detailTitle(l, title) && idLine.MatchString(s) && m != nil && commandKeys[m[1]]
		})
		key := firstKey.FindStringSubmatch(s)[1]
		want := map[string]string{"query": "find", "update": "q", "insert": "insert"}[sel.op]
		if want != "" && key != want {
			e.t.Fatalf("session %s is op %s but its command starts with %q; screen:\n%s", sel.id, sel.op, key, s)
		}
		e.t.Logf("step 5: detail of session %s (op %s) shows command %q", sel.id, sel.op, key)
		return
	}
}

// failureLine is the header's failure line ("✗ refresh failed …"): below the two header lines,
// after the members strip when it shows; "" when there is none.
func failureLine(l []string) string {
	for i := 2; i < min(len(l), 5); i++ {
		if strings.HasPrefix(l[i], "✗ ") {
			return l[i]
		}
	}
	return ""
}

// detailTitle says the detail view's title is the first line below the header (two lines,
// then the members strip's one or two and the vitals line when they show).
func detailTitle(l []string, title *regexp.Regexp) bool {
	for i := 2; i < min(len(l), 6); i++ {
		if strings.HasPrefix(l[i], " ") {
			return title.MatchString(l[i])
		}
	}
	return false
}

// killOne selects a COLLSCAN operation that has run for more than 1 s but less than 4 s (the
// workload's COLLSCANs hold for 5 s or more, so it is likely to be still running when the kill
// arrives), kills it through the dialog and checks its ID leaves the sessions pane. On a busy
// machine the operation may still end on its own first: the row goes before k arrives (no
// dialog), or the kill finds it already gone. Either way another one is tried.
func (e *e2e) killOne() string {
	e.t.Helper()
	for attempt := 1; ; attempt++ {
		if attempt > 100 {
			e.t.Fatalf("no COLLSCAN operation killed in %d tries; screen:\n%s", attempt-1, e.capture())
		}
		// The youngest row is last in RUNNING▼ order. It may end between two screens, and a
		// picked row that ends leaves nothing selected: then pick again.
		e.send("G")
		s, ok := e.poll(2*time.Second, func(s string) bool {
			r, ok := selectedRow(s)
			return ok && hasPlan(s, r, "COLLSCAN")
		})
		if !ok {
			continue
		}
		sel, _ := selectedRow(s)
		if sel.running >= 4*time.Second {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		e.send("k")
		// Long IDs (Tencent's) are cut from the left, to different widths in the pane and the
		// dialog; their last characters (the opid) identify them.
		tail := idTail(sel.id)
		rowRe := regexp.MustCompile(`│ \S*` + regexp.QuoteMeta(tail) + ` +` + regexp.QuoteMeta(sel.op) + ` `)
		s, ok = e.poll(10*time.Second, func(s string) bool {
			return strings.Contains(s, "Kill 1 operation?") && rowRe.MatchString(s) && strings.Contains(s, "y kill")
		})
		if !ok {
			if strings.Contains(statusLine(s), "no longer listed") {
				e.t.Logf("session %s ended before k arrived; trying another", sel.id)
				continue
			}
			e.t.Fatalf("timed out waiting for the kill dialog listing session %s; last screen:\n%s", sel.id, s)
		}
		e.send("y")
		s = e.waitFor("the status line reporting the kill of "+sel.id, 30*time.Second, func(s string) bool {
			st := statusLine(s)
			return strings.HasPrefix(st, "kill: ") && strings.Contains(st, tail+" ")
		})
		if st := statusLine(s); strings.Contains(st, tail+" "+string(source.KillAlreadyGone)) {
			e.t.Logf("session %s ended on its own before the kill arrived; trying another", sel.id)
			continue
		} else if !strings.Contains(st, tail+" "+string(source.KillGone)) {
			e.t.Fatalf("kill of session %s: %q; screen:\n%s", sel.id, st, s)
		}
		e.waitFor("session "+sel.id+" gone from the sessions pane", 10*time.Second, func(s string) bool {
			_, ok := sessionRows(s)
			return ok && !rowWithID(s, sel.id) && !strings.Contains(s, "Kill 1 operation?")
		})
		e.t.Logf("step 6: killed session %s (%s, running %s)", sel.id, sel.op, sel.running)
		return sel.id
	}
}

func isLongQueryOrUpdate(s string, r sessRow) bool {
	return (r.op == "query" || r.op == "update") && hasPlan(s, r, "COLLSCAN")
}

// hasPlan reports whether row r of screen s has the plan: in its PLAN cell, or, when every row
// shown has it and the column stepped aside, in the title's note ("plan COLLSCAN for all").
func hasPlan(s string, r sessRow, plan string) bool {
	return strings.Contains(r.line, plan) || strings.Contains(sessionsTitle(s), " · plan "+plan+" for all")
}

// sessRow is one row of the sessions pane.
type sessRow struct {
	line, mark, id, op, client string
	running                    time.Duration
}

func lines(s string) []string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range l {
		l[i] = strings.TrimRight(l[i], " ")
	}
	return l
}

func lastLine(s string) string {
	l := lines(s)
	return l[len(l)-1]
}

// statusLine is the line above the footer.
func statusLine(s string) string {
	l := lines(s)
	if len(l) < 2 {
		return ""
	}
	return l[len(l)-2]
}

func sessionsTitleIndex(l []string) int {
	for i, x := range l {
		if x == " SESSIONS" || strings.HasPrefix(x, " SESSIONS ") {
			return i
		}
	}
	return -1
}

// sessionsTitle is the sessions pane's title bar (" SESSIONS 2 of 7 · filter …").
func sessionsTitle(s string) string {
	l := lines(s)
	if i := sessionsTitleIndex(l); i >= 0 {
		return l[i]
	}
	return ""
}

// sortColumn is the sessions column header cell with the sort indicator, e.g. "RUNNING▼",
// or "" when there is none or more than one.
func sortColumn(s string) string {
	l := lines(s)
	i := sessionsTitleIndex(l)
	if i < 0 || i+1 >= len(l) {
		return ""
	}
	var found []string
	for _, f := range strings.Fields(l[i+1]) {
		if strings.HasSuffix(f, "▲") || strings.HasSuffix(f, "▼") {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// sessionRows parses the rows of the sessions pane by the positions of the column titles;
// ok is false when the pane or its header is not on screen.
func sessionRows(s string) (rows []sessRow, ok bool) {
	l := lines(s)
	i := sessionsTitleIndex(l)
	if i < 0 || i+1 >= len(l) {
		return nil, false
	}
	hdr := []rune(l[i+1])
	type span struct{ start, end int }
	cols := map[string]span{}
	var order []string
	for j := 0; j < len(hdr); {
		if hdr[j] == ' ' {
			j++
			continue
		}
		k := j
		for k < len(hdr) && hdr[k] != ' ' {
			k++
		}
		name := strings.TrimRight(string(hdr[j:k]), "▲▼")
		cols[name] = span{j, k}
		order = append(order, name)
		j = k
	}
	need := []string{"ID", "OP", "NS", "RUNNING", "CLIENT"}
	for _, n := range need {
		if _, ok := cols[n]; !ok {
			return nil, false
		}
	}
	next := func(name string) int { // where the column after name starts
		for j, n := range order {
			if n == name && j+1 < len(order) {
				return cols[order[j+1]].start
			}
		}
		return len(hdr) + 1000
	}
	cell := func(r []rune, from, to int) string {
		from, to = min(from, len(r)), min(to, len(r))
		return strings.TrimSpace(string(r[from:to]))
	}
	// The pane ends above the status line.
	for _, x := range l[i+2 : max(i+2, len(l)-2)] {
		if strings.TrimSpace(x) == "" {
			break
		}
		r := []rune(x)
		row := sessRow{line: x, mark: cell(r, 0, cols["ID"].start), id: cell(r, cols["ID"].start, next("ID")),
			op: cell(r, cols["OP"].start, next("OP")), client: cell(r, cols["CLIENT"].start, next("CLIENT"))}
		if row.id == "" || strings.Contains(row.id, " ") || row.op == "" || strings.Contains(row.op, " ") {
			continue // a message such as "no session matches the filter"
		}
		// NS is left-aligned and RUNNING right-aligned: the running time is the last word.
		if f := strings.Fields(cell(r, cols["NS"].start, cols["RUNNING"].end)); len(f) > 0 {
			row.running = parseRunning(f[len(f)-1])
		}
		rows = append(rows, row)
	}
	return rows, true
}

func anyRow(rows []sessRow, f func(sessRow) bool) bool {
	for _, r := range rows {
		if f(r) {
			return true
		}
	}
	return false
}

func selectedRow(s string) (sessRow, bool) {
	rows, _ := sessionRows(s)
	for _, r := range rows {
		if strings.Contains(r.mark, "▸") {
			return r, true
		}
	}
	return sessRow{}, false
}

func rowWithID(s, id string) bool {
	rows, _ := sessionRows(s)
	if tail := idTail(id); tail != id {
		return anyRow(rows, func(r sessRow) bool { return strings.HasSuffix(r.id, tail) })
	}
	return anyRow(rows, func(r sessRow) bool { return r.id == id })
}

// idPattern matches the whole ID of a session shown as id in the pane, cut or not.
func idPattern(id string) string {
	if rest, cut := strings.CutPrefix(id, "…"); cut {
		return `\S*` + regexp.QuoteMeta(rest)
	}
	return regexp.QuoteMeta(id)
}

// idTail is what identifies an ID shown cut ("…rs0-a:37915/53"): its last ten characters.
func idTail(id string) string {
	rest, cut := strings.CutPrefix(id, "…")
	if !cut {
		return id
	}
	return rest[max(0, len(rest)-10):]
}

// parseRunning reads the RUNNING column ("850ms", "7.4s", "1m23s", "2h05m", "3d04h"); -1
// when it cannot.
func parseRunning(t string) time.Duration {
	var days time.Duration
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.Atoi(t[:i])
		if err != nil {
			return -1
		}
		days, t = time.Duration(n)*24*time.Hour, t[i+1:]
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return -1
	}
	return days + d
}

// clientsOrdered reports whether the session rows are ordered by client, naturally, and
// there are at least two different clients (so that the order says something).
func clientsOrdered(s string, asc bool) bool {
	rows, ok := sessionRows(s)
	if !ok {
		return false
	}
	distinct := map[string]bool{}
	for i, r := range rows {
		distinct[r.client] = true
		if i == 0 {
			continue
		}
		a, b := rows[i-1].client, r.client
		if !asc {
			a, b = b, a
		}
		if naturalLess(b, a) {
			return false
		}
	}
	return len(distinct) >= 2
}

// naturalLess compares text with runs of digits compared as numbers ("conn9" < "conn10",
// "127.0.0.1:9" < "127.0.0.1:10"), case-insensitively.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, ra := chunk(a)
		cb, rb := chunk(b)
		if ca != cb {
			da, db := unicode.IsDigit(rune(ca[0])), unicode.IsDigit(rune(cb[0]))
			if da && db {
				na, _ := strconv.ParseUint(ca, 10, 64)
				nb, _ := strconv.ParseUint(cb, 10, 64)
				if na != nb {
					return na < nb
				}
			} else if la, lb := strings.ToLower(ca), strings.ToLower(cb); la != lb {
				return la < lb
			}
		}
		a, b = ra, rb
	}
	return a == "" && b != ""
}

// chunk splits off the leading run of digits or of non-digits.
func chunk(s string) (string, string) {
	digit := unicode.IsDigit(rune(s[0]))
	i := 1
	for i < len(s) && unicode.IsDigit(rune(s[i])) == digit {
		i++
	}
	return s[:i], s[i:]
}

// shellQuote quotes a path for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var sgrRe = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

func stripSGR(s string) string { return sgrRe.ReplaceAllString(s, "") }

// cellStyle is what tmux's SGR escapes say of a cell: its colours as the escape's parameters
// ("" is the default) and whether it is bold or reversed.
type cellStyle struct {
	fg, bg         string
	bold, reversed bool
}

// cellStyles replays the SGR escapes of a styled capture and gives, line by line, the style of
// every visible character.
func cellStyles(styled string) [][]cellStyle {
	var out [][]cellStyle
	var cur cellStyle
	for _, line := range strings.Split(strings.TrimRight(styled, "\n"), "\n") {
		var cells []cellStyle
		for line != "" {
			if m := sgrRe.FindStringSubmatchIndex(line); m != nil && m[0] == 0 {
				cur = applySGR(cur, line[m[2]:m[3]])
				line = line[m[1]:]
				continue
			}
			_, size := utf8.DecodeRuneInString(line)
			cells = append(cells, cur)
			line = line[size:]
		}
		out = append(out, cells)
	}
	return out
}

func applySGR(c cellStyle, params string) cellStyle {
	p := strings.Split(params, ";")
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case "", "0":
			c = cellStyle{}
		case "1":
			c.bold = true
		case "22":
			c.bold = false
		case "7":
			c.reversed = true
		case "27":
			c.reversed = false
		case "39":
			c.fg = ""
		case "49":
			c.bg = ""
		case "38", "48":
			n := 3 // 38;5;N
			if i+1 < len(p) && p[i+1] == "2" {
				n = 5 // 38;2;R;G;B
			}
			end := min(len(p), i+n)
			v := strings.Join(p[i:end], ";")
			if p[i] == "38" {
				c.fg = v
			} else {
				c.bg = v
			}
			i = end - 1
		default:
			if len(p[i]) == 2 && (p[i][0] == '3' || p[i][0] == '9') {
				c.fg = p[i]
			} else if len(p[i]) == 2 && p[i][0] == '4' || len(p[i]) == 3 && p[i][:2] == "10" {
				c.bg = p[i]
			}
		}
	}
	return c
}

// paneTitlesStale counts the pane titles that say their data is stale.
func paneTitlesStale(s string) int {
	n := 0
	for _, l := range lines(s) {
		if (strings.HasPrefix(l, " CLIENTS") || strings.HasPrefix(l, " SESSIONS")) && strings.Contains(l, " · STALE (last good data)") {
			n++
		}
	}
	return n
}

// sessionRowsDimmed reports whether every visible character of the session rows is drawn in
// the muted colour of the column titles, with no background, bold or reverse: stale rows are
// dimmed whole, so neither a plan's colour nor the selection shows. Live rows are in the
// default colour.
func sessionRowsDimmed(styled string) bool {
	styles := cellStyles(styled)
	plain := strings.Split(strings.TrimRight(styled, "\n"), "\n") // line for line with styles
	for k := range plain {
		plain[k] = strings.TrimRight(stripSGR(plain[k]), " ")
	}
	i := sessionsTitleIndex(plain)
	if i < 0 || i+2 >= len(plain) {
		return false
	}
	muted := ""
	for j, r := range []rune(plain[i+1]) {
		if r != ' ' && j < len(styles[i+1]) {
			muted = styles[i+1][j].fg
			break
		}
	}
	if muted == "" {
		return false // the column titles are in the default colour: nothing to compare with
	}
	rows := 0
	for k := i + 2; k < len(plain)-2 && strings.TrimSpace(plain[k]) != ""; k++ {
		rows++
		for j, r := range []rune(plain[k]) {
			if r == ' ' || j >= len(styles[k]) {
				continue
			}
			if c := styles[k][j]; c.fg != muted || c.bg != "" || c.bold || c.reversed {
				return false
			}
		}
	}
	return rows > 0
}
