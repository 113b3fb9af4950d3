package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// onGroupKey handles the grouped view's keys among the panes' keys; ok says it did.
func (m *Model) onGroupKey(msg tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	k := &m.keys
	p := &m.panes
	switch {
	case key.Matches(msg, k.Groups):
		p.toggleGroups(m.query)
		if p.grouped {
			m.setStatus("sessions grouped by "+p.by+" — T groups by another, t shows rows", false)
		} else {
			m.setStatus("sessions as rows — t groups them", false)
		}
	case key.Matches(msg, k.GroupBy):
		p.cycleGroupBy(m.query)
		m.setStatus("sessions grouped by "+p.by, false)
	case p.focus != focusSessions || !p.showingGroups():
		return nil, false
	case key.Matches(msg, k.Enter):
		if label := p.openSelectedGroup(m.query); label != "" {
			m.setStatus("sessions of "+groupNoun(p.by, 1)+" "+source.Clean(label)+" (esc returns to the groups)", false)
		}
	case key.Matches(msg, k.Kill):
		m.killGroup()
	case key.Matches(msg, k.Copy):
		m.setStatus("y copies a session's command: enter opens the group's sessions", true)
	default:
		return nil, false
	}
	m.rowsChanged()
	return nil, true
}

// escGroup is esc in the grouped view: it clears the marked groups, else leaves an open
// group for the groups. ok says it did something.
func (m *Model) escGroup() bool {
	p := &m.panes
	switch {
	case p.showingGroups() && len(p.markedGroups) > 0:
		p.markedGroups = map[string]bool{}
		m.setStatus("marks cleared", false)
	case p.open != "":
		p.closeGroup(m.query)
		m.setStatus("back to the groups", false)
		m.rowsChanged()
	default:
		return false
	}
	return true
}

// leaveGroups is esc in the grouped view once there is nothing to clear: back to the rows,
// as esc from a group's sessions is back to the groups.
func (m *Model) leaveGroups() {
	m.panes.toggleGroups(m.query)
	m.setStatus("sessions as rows — t groups them", false)
	m.rowsChanged()
}

// killGroup is k on the groups: the sessions of the marked groups (or of the selected one)
// are marked and go through the kill dialog, which names the group and shows a sample.
func (m *Model) killGroup() {
	p := &m.panes
	groups := p.killGroups()
	if len(groups) == 0 {
		m.setStatus("no group selected", true)
		return
	}
	if !m.canKill() {
		m.askKill(nil) // says why not
		return
	}
	want := map[string]bool{}
	for _, g := range groups {
		for _, id := range g.g.IDs {
			want[id] = true
		}
	}
	var rows []*sessRow
	var marked []string
	for _, ri := range p.sess.rows { // in the sessions pane's order: the dialog's sample
		if r := &p.sess.data[ri]; want[r.s.ID] {
			rows = append(rows, r)
			if !p.marked[r.s.ID] {
				p.marked[r.s.ID] = true
				marked = append(marked, r.s.ID)
			}
		}
	}
	if len(rows) == 0 {
		m.setStatus("the group has no session left to kill", true)
		return
	}
	m.askKill(rows)
	if m.overlay == overlayConfirm {
		m.confirm.about, m.confirm.groupMarked = groupsAbout(p.by, groups), marked
		return
	}
	for _, id := range marked { // no dialog: nothing to keep them marked for
		delete(p.marked, id)
	}
}

// groupsAbout is the kill dialog's line naming the groups: "shape find shop.orders {…}", or
// "3 shapes: a; b; c".
func groupsAbout(by string, groups []*groupRow) string {
	if len(groups) == 1 {
		return groupNoun(by, 1) + " " + source.Clean(groups[0].g.Key)
	}
	keys := make([]string, len(groups))
	for i, g := range groups {
		keys[i] = source.Clean(g.g.Key)
	}
	return fmt.Sprintf("%d %s: %s", len(groups), groupNoun(by, len(groups)), strings.Join(keys, "; "))
}
