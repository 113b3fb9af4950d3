package ui

import (
	"strings"

	"github.com/currentop/currentop/source"
)

// viewPane writes a pane of h lines: its title, then a line to wait on before the first
// snapshot, empty's message under the header when no row is left, else the rows. The title
// and the message are asked for once the pane is settled at this size (the title says which
// columns it hid). The clients, sessions and groups panes are all drawn this way.
func viewPane[R any](b *strings.Builder, v paneView, h int, p *panes, pn *pane[R], focused bool,
	title, empty func() string, decor func() rowDecor[R]) {
	pn.settle(v.width, h-2, v.now)
	b.WriteString(p.title(v, focused, title()))
	b.WriteByte('\n')
	switch {
	case p.shown == nil:
		viewWaiting(b, v, h-1)
	case len(pn.rows) == 0:
		viewNoRows(b, v, h, empty(), func(b *strings.Builder) {
			pn.render(b, v.width, 1, focused, v.st, v.now, rowDecor[R]{})
		})
	default:
		rowsView(b, v, func(b *strings.Builder) {
			pn.render(b, v.width, h-1, focused, v.st, v.now, decor())
		})
	}
}

// sessionNotes are what the sessions or groups pane's title says after its counts: what narrows
// the sessions, the sort column when it is hidden, the marks, whether the source sent only some
// (the groups too are of those), and what the query and the layout add.
func (p *panes) sessionNotes(v paneView, sortedBy string, marked int) string {
	var t string
	if p.narrowIP != "" {
		t += " · client " + p.narrowIP
	}
	if !v.q.Filter.Empty() {
		t += " · filter " + source.Clean(v.q.Filter.Text)
	}
	if sortedBy != "" {
		t += " · sorted by " + sortedBy
	}
	if marked > 0 {
		t += " · " + count(marked) + " marked"
	}
	if snap := p.shown; snap != nil && snap.TotalSessions > len(snap.Sessions) {
		t += " · the source sent " + count(len(snap.Sessions)) + " of " + count(snap.TotalSessions)
	}
	if v.q.IdleConnections {
		t += " · +idle"
	}
	if v.q.System {
		t += " · +system"
	}
	if p.maximised {
		t += " · maximised (z)"
	}
	return t
}
