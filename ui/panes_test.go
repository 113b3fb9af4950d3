package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

func shownPanes(t *testing.T, q source.Query) *panes {
	t.Helper()
	p := newPanes()
	p.show(smallSnapshot(), baseTime, q)
	return &p
}

func sessIDs(p *panes) []string {
	var ids []string
	for _, i := range p.sess.rows {
		ids = append(ids, p.sess.data[i].s.ID)
	}
	return ids
}

// The toggles decide what is counted and shown; the filter only what is shown.
func TestPanesCountWhatTheTogglesShow(t *testing.T) {
	f, err := source.ParseFilter("op:query")
	if err != nil {
		t.Fatal(err)
	}
	f.Text = "op:query"
	tests := []struct {
		name                     string
		q                        source.Query
		ids                      []string
		sessTotal, totalOps, cli int
		cliTotal, activeOps      int
	}{
		{"default", source.Query{}, []string{"103", "101", "105", "102", "104"}, 5, 5, 3, 3, 5},
		{"idle", source.Query{IdleConnections: true}, []string{"103", "101", "105", "102", "104", "106"}, 6, 5, 3, 3, 5},
		{"system", source.Query{System: true}, []string{"103", "101", "105", "107", "102", "104"}, 6, 6, 4, 4, 6},
		{"filtered", source.Query{Filter: f}, []string{"103", "101"}, 5, 5, 3, 3, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := shownPanes(t, tc.q)
			if got := sessIDs(p); !slices.Equal(got, tc.ids) {
				t.Errorf("sessions %v, want %v", got, tc.ids)
			}
			if p.sessTotal != tc.sessTotal || p.totalOps != tc.totalOps || p.activeOps != tc.activeOps {
				t.Errorf("sessTotal %d totalOps %d activeOps %d, want %d %d %d", p.sessTotal, p.totalOps, p.activeOps, tc.sessTotal, tc.totalOps, tc.activeOps)
			}
			if len(p.cli.rows) != tc.cli || p.cliTotal != tc.cliTotal {
				t.Errorf("clients %d of %d, want %d of %d", len(p.cli.rows), p.cliTotal, tc.cli, tc.cliTotal)
			}
		})
	}
}

func TestPanesNarrowToAClient(t *testing.T) {
	p := shownPanes(t, source.Query{})
	p.focus = focusClients
	p.narrow("10.20.3.18", source.Query{})
	if p.focus != focusSessions || !slices.Equal(sessIDs(p), []string{"103", "105"}) || p.sessTotal != 2 {
		t.Fatalf("focus %v sessions %v of %d", p.focus, sessIDs(p), p.sessTotal)
	}
	if p.totalOps != 5 {
		t.Errorf("the header's op count follows the toggles, not the narrowing: %d", p.totalOps)
	}
	p.narrow("", source.Query{})
	if len(sessIDs(p)) != 5 {
		t.Fatalf("narrowing removed: %v", sessIDs(p))
	}
}

func TestPanesMarksFollowIDs(t *testing.T) {
	p := shownPanes(t, source.Query{})
	p.toggleMark() // 103, the first row; the selection moves on to 101
	p.toggleMark()
	var ids []string
	for _, r := range p.markedRows() {
		ids = append(ids, r.s.ID)
	}
	if !slices.Equal(ids, []string{"101", "103"}) {
		t.Fatalf("marked %v, want 101 and 103 in data order", ids)
	}
	next := smallSnapshot()
	next.Sessions = slices.DeleteFunc(next.Sessions, func(s source.Session) bool { return s.ID == "103" })
	p.show(next, baseTime, source.Query{})
	if len(p.marked) != 1 || !p.marked["101"] {
		t.Fatalf("marks after 103 ended: %v", p.marked)
	}
	p.focus = focusClients
	p.toggleMark()
	if len(p.marked) != 1 {
		t.Fatal("the clients pane marked something")
	}
}

func TestPanesFocusedPaneMovesAndSorts(t *testing.T) {
	p := shownPanes(t, source.Query{})
	p.move(2)
	if p.sess.cursor != 2 || p.cli.cursor != 0 {
		t.Fatalf("cursors sess %d cli %d", p.sess.cursor, p.cli.cursor)
	}
	p.switchFocus()
	p.move(1)
	p.reverse()
	if r := p.cli.selected(); r == nil || r.c.IP != "10.20.3.18" || p.cli.cursor != 0 {
		t.Fatalf("the clients selection should follow 10.20.3.18 to the top of the reversed order: cursor %d sel %s", p.cli.cursor, p.cli.selID)
	}
	if p.cli.desc || !p.sess.desc {
		t.Fatalf("reverse reversed the wrong pane: cli desc %v sess desc %v", p.cli.desc, p.sess.desc)
	}
	p.shiftSort(-1, 120)
	if p.cli.sortKey != "ip" || p.sess.sortKey != "running" {
		t.Fatalf("sort keys cli %s sess %s", p.cli.sortKey, p.sess.sortKey)
	}
}

func TestPanesListedAndHidden(t *testing.T) {
	p := shownPanes(t, source.Query{})
	if !p.listed("101") || p.listed("106") || !p.inData("106") || p.inData("999") {
		t.Fatal("listed/inData disagree with the rows")
	}
	p.sess.move(1) // pick 101
	f, _ := source.ParseFilter("op:update")
	f.Text = "op:update"
	p.show(smallSnapshot(), baseTime, source.Query{Filter: f})
	if !p.sess.gone || !p.goneHidden {
		t.Fatalf("a picked session the filter hides: gone %v hidden %v", p.sess.gone, p.goneHidden)
	}
}

func TestPanesView(t *testing.T) {
	st := newStyles(true, true)
	v := paneView{width: 100, st: &st, now: baseTime, waiting: "  waiting…"}
	p := newPanes()
	var b strings.Builder
	p.viewSessions(&b, v, 6)
	if s := b.String(); strings.Count(s, "\n") != 6 || !strings.Contains(s, "waiting…") {
		t.Fatalf("before the first snapshot:\n%s", s)
	}
	p.show(smallSnapshot(), baseTime, source.Query{})
	p.narrowIP = "10.9.9.9"
	p.refilterSessions(source.Query{IdleConnections: true}, true)
	p.marked["101"] = true
	b.Reset()
	v.q = source.Query{IdleConnections: true}
	p.viewSessions(&b, v, 6)
	s := b.String()
	for _, want := range []string{"SESSIONS 0 · client 10.9.9.9", "+idle", "1 marked", "no session from 10.9.9.9"} {
		if !strings.Contains(s, want) {
			t.Errorf("sessions pane lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n"); n != 6 {
		t.Errorf("%d lines, want 6", n)
	}
}
