package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/currentop/currentop/source"
)

// killDialog is the kill confirmation: the sessions it would kill, as last seen, and whether
// a kill is running.
type killDialog struct {
	keys    confirmKeys
	targets []source.Session
	killing bool
	// about names what the targets are when they were chosen as groups ("shape find …");
	// groupMarked are the sessions a group kill marked, unmarked again on cancel.
	about       string
	groupMarked []string
}

func newKillDialog() killDialog { return killDialog{keys: newConfirmKeys()} }

// ask makes the killable rows the targets. It returns whether the dialog opens, and what the
// status line should say when some or all of rows cannot be killed.
func (d *killDialog) ask(rows []*sessRow) (open bool, status string) {
	d.targets = d.targets[:0]
	why := ""
	for _, r := range rows {
		if r.s.NotKillable != "" {
			why = r.s.NotKillable
			continue
		}
		d.targets = append(d.targets, *r.s)
	}
	switch skipped := len(rows) - len(d.targets); {
	case len(d.targets) == 0:
		return false, "not killable: " + source.Clean(why)
	case skipped > 0:
		return true, fmt.Sprintf("%d of the marked sessions cannot be killed and are left out: %s", skipped, source.Clean(why))
	}
	return true, ""
}

// take returns the confirmed targets and closes the dialog.
func (d *killDialog) take() []source.Session {
	t := d.targets
	d.targets, d.about, d.groupMarked = nil, "", nil
	return t
}

// cancel closes the dialog; it returns the sessions a group kill marked, to unmark.
func (d *killDialog) cancel() []string {
	marked := d.groupMarked
	d.targets, d.about, d.groupMarked = nil, "", nil
	return marked
}

// view draws the dialog for a body of bodyH lines: the sessions (as many as fit) and its keys.
func (d *killDialog) view(width, bodyH int, st *styles, h help.Model, now time.Time) string {
	n := len(d.targets)
	w := min(width-4, 110)
	inner := w - 4
	lines := []string{st.dialogTitle.Render(fmt.Sprintf("Kill %d operation%s?", n, plural(n))), ""}
	if d.about != "" {
		lines = append(lines, strings.TrimRight(fit("of "+d.about, inner, false), " "), "")
	}
	hdr := fmt.Sprintf("%s %s %s %s %s", fit("ID", 16, false), fit("OP", 9, false), fit("RUNNING", 7, true), fit("CLIENT", 21, false), "NS")
	lines = append(lines, st.colHeader.Render(strings.TrimRight(fit(hdr, inner, false), " ")))
	room := max(1, bodyH-8)
	for i, s := range d.targets {
		if i == room-1 && n > room {
			lines = append(lines, fmt.Sprintf("… and %d more", n-i))
			break
		}
		row := fmt.Sprintf("%s %s %s %s %s", fitTail(source.Clean(s.ID), 16), fit(source.Clean(opText(&s)), 9, false),
			fit(runningText(&s), 7, true), fit(source.Clean(s.Client), 21, false), source.Clean(s.NS))
		lines = append(lines, strings.TrimRight(fit(row, inner, false), " "))
	}
	lines = append(lines, "", h.ShortHelpView(d.keys.ShortHelp()))
	widest := 0
	for _, l := range lines {
		widest = max(widest, lipgloss.Width(l))
	}
	return st.dialog.Width(min(w, max(44, widest+4))).Render(strings.Join(lines, "\n"))
}

// onKillKey kills the marked sessions, or else the selected one, after confirmation.
func (m *Model) onKillKey() {
	p := &m.panes
	if p.focus != focusSessions && len(p.marked) == 0 {
		m.setStatus("kill works on sessions: press tab to go to the sessions pane", true)
		return
	}
	var rows []*sessRow
	if len(p.marked) > 0 {
		rows = p.markedRows()
	} else if r := p.sess.selected(); r != nil {
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		if p.sess.gone && p.sess.selID != "" {
			m.setStatus("the selected session is no longer listed; nothing to kill", true)
		} else {
			m.setStatus("no session selected", true)
		}
		return
	}
	m.askKill(rows)
}

// askKill opens the confirmation dialog for rows, or says why kill is not available.
func (m *Model) askKill(rows []*sessRow) {
	switch {
	case m.readonly:
		m.setStatus("read-only mode: kill is disabled", true)
		return
	case m.killer == nil:
		m.setStatus("kill is not supported by the "+m.sourceName()+" source", true)
		return
	case m.confirm.killing:
		m.setStatus("a kill is already in progress", true)
		return
	}
	open, status := m.confirm.ask(rows)
	if status != "" {
		m.setStatus(status, true)
	}
	if open {
		m.overlay = overlayConfirm
	}
}

// runKill sends the confirmed kill. The sessions go as last seen so the Killer can refuse
// when an operation ID has been reused meanwhile.
func (m *Model) runKill() tea.Cmd {
	targets := m.confirm.take()
	m.overlay = overlayNone
	m.detail.close()
	if len(targets) == 0 || m.killer == nil {
		return nil
	}
	for _, t := range targets {
		delete(m.panes.marked, t.ID)
	}
	m.confirm.killing = true
	m.setStatus(fmt.Sprintf("killing %d operation%s…", len(targets), plural(len(targets))), false)
	k := m.killer
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		defer cancel()
		return killDoneMsg{results: killSafely(ctx, k, targets)}
	}
}

func killSafely(ctx context.Context, k source.Killer, targets []source.Session) (res []source.KillResult) {
	defer func() {
		if r := recover(); r != nil {
			res = nil
			for _, t := range targets {
				res = append(res, source.KillResult{ID: t.ID, Outcome: source.KillFailed, Err: fmt.Errorf("source failed: %v", r)})
			}
		}
	}()
	return k.Kill(ctx, targets)
}

// killReport is the status line for the results of a kill: whether it went wrong, and
// whether a kill was refused because the ID now names another operation.
func killReport(results []source.KillResult) (status string, bad, refused bool) {
	parts := make([]string, 0, len(results))
	for _, r := range results {
		refused = refused || r.Outcome == source.KillRefused
		p := source.Clean(r.ID) + " " + string(r.Outcome)
		if r.Err != nil {
			p += ": " + source.Clean(r.Err.Error())
		}
		switch r.Outcome {
		case source.KillGone, source.KillPending, source.KillAlreadyGone:
		default:
			bad = true
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		parts, bad = []string{"the source reported no result"}, true
	}
	return "kill: " + killTally(results) + strings.Join(parts, " · "), bad, refused
}

// killTally counts the outcomes of a kill of many ("52 killed, 1 refused — "), which the
// list of each that follows is too long to tell once the status line cuts it.
func killTally(results []source.KillResult) string {
	if len(results) <= 3 {
		return ""
	}
	var order []source.KillOutcome
	n := map[source.KillOutcome]int{}
	for _, r := range results {
		if n[r.Outcome] == 0 {
			order = append(order, r.Outcome)
		}
		n[r.Outcome]++
	}
	tally := make([]string, len(order))
	for i, o := range order {
		tally[i] = count(n[o]) + " " + string(o)
	}
	return strings.Join(tally, ", ") + " — "
}

// onKillDone reports the outcome in the status line and refreshes so the result is visible.
func (m *Model) onKillDone(msg killDoneMsg) tea.Cmd {
	m.confirm.killing = false
	m.logKills(msg.results)
	status, bad, refused := killReport(msg.results)
	if refused {
		// The ID now names another operation: following it would offer that one next.
		m.panes.sess.unselect()
		status += " — no row is selected now: move to pick one"
	}
	m.setStatus(status, bad)
	if m.loop.inFlight {
		return nil
	}
	return m.loop.fetch(m.query)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (m *Model) sourceName() string {
	if l := m.loop.latest; l != nil && l.Source != "" {
		return source.Clean(l.Source)
	}
	return "current"
}
