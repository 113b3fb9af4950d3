package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestKillDialogAsk(t *testing.T) {
	snap := smallSnapshot()
	snap.Sessions[0].NotKillable = "idle sessions cannot be killed through this API"
	rows := make([]*sessRow, 3)
	for i := range rows {
		r := newSessRow(&snap.Sessions[i])
		rows[i] = &r
	}
	tests := []struct {
		name    string
		rows    []*sessRow
		open    bool
		targets int
		status  string
	}{
		{"all killable", rows[1:], true, 2, ""},
		{"some not", rows, true, 2, "1 of the marked sessions cannot be killed and are left out: idle sessions"},
		{"none", rows[:1], false, 0, "not killable: idle sessions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newKillDialog()
			open, status := d.ask(tc.rows)
			if open != tc.open || len(d.targets) != tc.targets || !strings.HasPrefix(status, tc.status) || (tc.status == "") != (status == "") {
				t.Fatalf("open %v targets %d status %q", open, len(d.targets), status)
			}
			if got := d.take(); len(got) != tc.targets || d.targets != nil {
				t.Fatalf("take gave %d, left %d", len(got), len(d.targets))
			}
		})
	}
}

func TestKillDialogView(t *testing.T) {
	st := newStyles(true, true)
	d := newKillDialog()
	var rows []*sessRow
	snap := synthSnapshot(30, 1)
	for i := range snap.Sessions {
		r := newSessRow(&snap.Sessions[i])
		rows = append(rows, &r)
	}
	d.ask(rows)
	s := ansi.Strip(d.view(100, 20, &st, newKeyHelp(&st), baseTime))
	lines := strings.Split(s, "\n")
	if len(lines) > 20 {
		t.Fatalf("the dialog is %d lines in a body of 20:\n%s", len(lines), s)
	}
	for _, want := range []string{"Kill 30 operations?", "… and 19 more", "y kill  n/esc cancel"} {
		if !strings.Contains(s, want) {
			t.Errorf("dialog lacks %q:\n%s", want, s)
		}
	}
}
