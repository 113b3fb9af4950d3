package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

func openDetailOn(t *testing.T, reading bool) (*detailView, *sessRow) {
	t.Helper()
	snap := smallSnapshot()
	r := newSessRow(&snap.Sessions[2])
	d := newDetailView(false)
	d.text.setSize(80, 10)
	d.open(&r, baseTime, reading)
	return &d, &r
}

func detailScreen(d *detailView, h int) string {
	st := newStyles(true, true)
	var b strings.Builder
	d.view(&b, 80, h, &st, baseTime.Add(3*time.Second))
	return ansi.Strip(b.String())
}

func TestDetailViewShowsACopy(t *testing.T) {
	d, r := openDetailOn(t, false)
	r.s.NS = "changed.after"
	s := detailScreen(d, 12)
	if !strings.Contains(s, "SESSION 103 · as of 3s ago · esc back") || !strings.Contains(s, "shop.orders") {
		t.Fatalf("detail:\n%s", s)
	}
	if strings.Count(s, "\n") != 12 {
		t.Fatalf("%d lines, want 12", strings.Count(s, "\n"))
	}
	d.listed = false
	if s := detailScreen(d, 12); !strings.Contains(s, "no longer listed") {
		t.Fatalf("a session gone from the panes is not said:\n%s", s)
	}
}

func TestDetailViewWholeDocument(t *testing.T) {
	whole := smallSnapshot().Sessions[2]
	whole.ID = "shard01:103" // the view keeps the ID the user opened
	whole.Raw = json.RawMessage(`{"opid":103,"locks":{"Global":"r"}}`)
	tests := []struct {
		name string
		s    *source.Session
		err  error
		want string
	}{
		{"whole", &whole, nil, `"Global": "r"`},
		{"ended", nil, fmt.Errorf("x: %w", source.ErrEnded), "the session has ended"},
		{"failed", nil, errors.New("server went away"), "cannot read the whole document: server went away"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openDetailOn(t, true)
			if !strings.Contains(strings.Join(d.lines, "\n"), "reading the whole document") {
				t.Fatal("no note that the whole document is being read")
			}
			d.whole(tc.s, tc.err, baseTime.Add(time.Second))
			text := strings.Join(d.lines, "\n")
			if !strings.Contains(text, tc.want) || strings.Contains(text, "reading the whole document") {
				t.Fatalf("detail lacks %q or still says it is reading:\n%s", tc.want, text)
			}
			if d.row.s.ID != "103" {
				t.Fatalf("the ID changed to %q", d.row.s.ID)
			}
		})
	}
}

func TestDetailViewRequestsAreNumbered(t *testing.T) {
	d, r := openDetailOn(t, true)
	src := &fakeDetailer{whole: map[string]source.Session{"103": *r.s}}
	first := d.request(src, *r.s, false)
	second := d.request(src, *r.s, true)
	a, b := first().(detailMsg), second().(detailMsg)
	if a.seq == b.seq || b.seq != d.seq || !b.copy || a.copy {
		t.Fatalf("requests %+v %+v, newest %d", a, b, d.seq)
	}
}

func TestDetailViewScrolls(t *testing.T) {
	d, _ := openDetailOn(t, false)
	d.text.setSize(80, 5)
	d.text.scroll(stepLast)
	bottom := d.text.vp.YOffset()
	if bottom == 0 || bottom != d.text.vp.TotalLineCount()-5 {
		t.Fatalf("bottom offset %d of %d lines", bottom, d.text.vp.TotalLineCount())
	}
	d.text.scroll(stepDown)
	if d.text.vp.YOffset() != bottom {
		t.Fatal("scrolled past the end")
	}
	d.text.scroll(stepPageUp)
	if d.text.vp.YOffset() != bottom-4 {
		t.Fatalf("a page up from %d went to %d, want one line of overlap", bottom, d.text.vp.YOffset())
	}
	d.text.scroll(stepFirst)
	d.text.scroll(stepUp)
	if d.text.vp.YOffset() != 0 {
		t.Fatal("scrolled above the top")
	}
	d.text.setSize(80, 1000)
	if d.text.vp.YOffset() != 0 {
		t.Fatal("a taller screen left the text scrolled")
	}
}
