package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// onKillKey kills the marked sessions, or else the selected one, after confirmation.
func (m *Model) onKillKey() tea.Cmd {
	if m.focus != focusSessions && len(m.marked) == 0 {
		m.setStatus("kill works on sessions: press tab to go to the sessions pane", true)
		return nil
	}
	var rows []*sessRow
	if len(m.marked) > 0 {
		for i := range m.sess.data {
			if r := &m.sess.data[i]; m.marked[r.s.ID] {
				rows = append(rows, r)
			}
		}
	} else if r := m.sess.selected(); r != nil {
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		if m.sess.gone && m.sess.selID != "" {
			m.setStatus("the selected session is no longer listed; nothing to kill", true)
		} else {
			m.setStatus("no session selected", true)
		}
		return nil
	}
	return m.askKill(rows)
}

// askKill opens the confirmation dialog for rows, or says why kill is not available.
func (m *Model) askKill(rows []*sessRow) tea.Cmd {
	switch {
	case m.readonly:
		m.setStatus("read-only mode: kill is disabled", true)
		return nil
	case m.killer == nil:
		m.setStatus("kill is not supported by the "+m.sourceName()+" source", true)
		return nil
	case m.killing:
		m.setStatus("a kill is already in progress", true)
		return nil
	}
	m.confirm = m.confirm[:0]
	why := ""
	for _, r := range rows {
		if r.s.NotKillable != "" {
			why = r.s.NotKillable
			continue
		}
		m.confirm = append(m.confirm, *r.s)
	}
	switch skipped := len(rows) - len(m.confirm); {
	case len(m.confirm) == 0:
		m.setStatus("not killable: "+source.Clean(why), true)
		return nil
	case skipped > 0:
		m.setStatus(fmt.Sprintf("%d of the marked sessions cannot be killed and are left out: %s", skipped, source.Clean(why)), true)
	}
	m.overlay = overlayConfirm
	return nil
}

// runKill sends the confirmed kill. The sessions go as last seen so the Killer can refuse
// when an operation ID has been reused meanwhile.
func (m *Model) runKill() tea.Cmd {
	targets := m.confirm
	m.overlay, m.confirm, m.detailRow = overlayNone, nil, nil
	if len(targets) == 0 || m.killer == nil {
		return nil
	}
	for _, t := range targets {
		delete(m.marked, t.ID)
	}
	m.killing = true
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

// onKillDone reports the outcome in the status line and refreshes so the result is visible.
func (m *Model) onKillDone(msg killDoneMsg) tea.Cmd {
	m.killing = false
	bad, refused := false, false
	parts := make([]string, 0, len(msg.results))
	for _, r := range msg.results {
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
	status := "kill: " + strings.Join(parts, " · ")
	if refused {
		// The ID now names another operation: following it would offer that one next.
		m.sess.unselect()
		status += " — no row is selected now: move to pick one"
	}
	m.setStatus(status, bad)
	if m.inFlight {
		return nil
	}
	return m.fetch()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (m *Model) sourceName() string {
	if m.latest != nil && m.latest.Source != "" {
		return source.Clean(m.latest.Source)
	}
	return "current"
}
