package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// maxDetailLines bounds the detail view of a pathological document.
const maxDetailLines = 20000

// detailView is the overlay showing one session whole: every field and its command. With a
// source.Detailer it reads the session whole when it opens, showing the row's fields until
// the answer arrives; the text scrolls in a viewport.
type detailView struct {
	keys   detailKeys
	row    *sessRow  // a copy of the row the view opened on; nil when closed
	at     time.Time // when what is shown was read
	seq    uint64    // the newest whole-document request; older answers are dropped
	note   string    // what the view says about the whole document ("" = it is shown)
	listed bool      // the session is still among the panes' rows
	ended  bool      // the session is no longer in the data: the fields are as last seen
	lines  []string  // the text, unwrapped
	text   textView
}

func newDetailView(readonly bool) detailView {
	return detailView{keys: newDetailKeys(readonly), text: newTextView()}
}

// open shows r as read at at, from the top; reading says the whole document was asked for.
func (d *detailView) open(r *sessRow, at time.Time, reading bool) {
	cp := *r
	s := *r.s
	cp.s = &s
	d.row, d.at, d.listed, d.note, d.ended = &cp, at, true, "", false
	if reading {
		d.note = "reading the whole document from the server…"
	}
	d.text.top()
	d.refresh()
}

func (d *detailView) close() { d.row = nil }

// refresh rebuilds the text from the row and the note, keeping the scroll position.
func (d *detailView) refresh() {
	note := d.note
	if d.ended {
		note = "this operation has ended: the fields are as the last refresh that listed it saw"
	}
	d.lines = detailLines(d.row.s, note)
	d.text.setLines(d.lines)
}

// follow brings the open view up to date with a refresh read at at: r is the session's row
// in the new data, nil when it is gone. What a refresh reads of a session (running time,
// yields, progress, lock wait…) is merged into what is shown; the command and the whole
// document stay as read.
func (d *detailView) follow(r *sessRow, at time.Time) {
	if d.row == nil {
		return
	}
	if r == nil {
		if !d.ended {
			d.ended = true
			d.refresh()
		}
		return
	}
	cp, n := *d.row.s, r.s
	cp.Active, cp.RunningUS, cp.NumYields, cp.Progress = n.Active, n.RunningUS, n.NumYields, n.Progress
	cp.WaitingForLock, cp.KillPending, cp.Msg = n.WaitingForLock, n.KillPending, n.Msg
	if n.Summary != "" {
		cp.Summary = n.Summary
	}
	d.row.s, d.at, d.ended = &cp, at, false
	d.refresh()
}

// request asks dt for the session saw whole, for the view or (copy) for y.
func (d *detailView) request(dt source.Detailer, saw source.Session, copy bool) tea.Cmd {
	d.seq++
	seq := d.seq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		s, err := detailOf(ctx, dt, saw)
		return detailMsg{seq: seq, copy: copy, s: s, err: err}
	}
}

// detailOf calls the Detailer and turns its misbehaviour (nil result, panic) into errors.
func detailOf(ctx context.Context, d source.Detailer, saw source.Session) (s *source.Session, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("source failed: %v", r)
		}
	}()
	s, err = d.Detail(ctx, saw)
	if err == nil && s == nil {
		err = errors.New("source returned no session")
	}
	return s, err
}

// whole shows the answer to the view's request: the session read whole at now, or why not.
func (d *detailView) whole(s *source.Session, err error, now time.Time) {
	if d.row == nil {
		return
	}
	switch {
	case errors.Is(err, source.ErrEnded):
		d.note = "the session has ended: this is what the last refresh saw"
	case err != nil:
		d.note = "cannot read the whole document: " + err.Error()
	default:
		cp := *s
		cp.ID = d.row.s.ID
		d.row.s = &cp
		d.at = now
		d.note = ""
	}
	d.refresh()
}

// view draws the title and the text in h lines.
func (d *detailView) view(b *strings.Builder, width, h int, st *styles, now time.Time) {
	if d.row == nil {
		blank(b, h)
		return
	}
	t := "SESSION " + source.Clean(d.row.s.ID)
	if c := d.row.s.CommandName; c != "" {
		t += " · " + source.Clean(c)
	}
	if p := progressText(d.row.s); p != "" {
		t += " " + p
	}
	t += " · as of " + ageString(now.Sub(d.at)) + " ago"
	switch {
	case d.ended:
		t += " · ended"
	case !d.listed:
		t += " · no longer listed"
	}
	t += " · " + d.keys.Close.Help().Key + " " + d.keys.Close.Help().Desc
	b.WriteString(st.paneFocused.Render(fit(" "+t, width, false)))
	b.WriteByte('\n')
	d.text.view(b, h-1)
}

func detailLines(s *source.Session, note string) []string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	running := "-"
	if s.RunningUS > 0 || s.Type == source.TypeOp {
		running = source.FormatDuration(s.Running()) + "  (" + count(s.RunningUS) + " µs)"
	}
	fields := [][2]string{
		{"id", s.ID}, {"type", s.Type}, {"active", yes(s.Active)}, {"op", s.Op},
		{"command name", s.CommandName}, {"summary", s.Summary}, {"ns", s.NS},
		{"running", running}, {"progress", progressLong(s.Progress)}, {"plan", s.PlanSummary}, {"client", s.Client}, {"app", s.App},
		{"user", s.User}, {"driver", s.Driver}, {"host", s.Host}, {"shard", s.Shard},
		{"desc", s.Desc}, {"connection id", connID(s.ConnectionID)},
		{"waiting for lock", lockText(s)}, {"yields", count(s.NumYields)},
		{"internal", yes(s.Internal)}, {"kill pending", yes(s.KillPending)}, {"message", s.Msg},
	}
	lines := make([]string, 0, 64)
	for _, f := range fields {
		v := source.Clean(f[1])
		if v == "" && (f[0] == "command name" || f[0] == "summary" || f[0] == "progress") {
			continue // what only some sources and some operations have: no line of "-"
		}
		if v == "" {
			v = "-"
		}
		lines = append(lines, fmt.Sprintf("  %-17s %s", f[0], v))
	}
	if note != "" {
		lines = append(lines, "", "  "+source.Clean(note))
	}
	lines = append(lines, "", "command (Extended JSON, y copies it):")
	lines = append(lines, indentLines(prettyJSON(s.Command), "  ")...)
	if len(s.Raw) > 0 {
		lines = append(lines, "", "whole document as the server sent it:")
		lines = append(lines, indentLines(prettyJSON(s.Raw), "  ")...)
	}
	if len(lines) > maxDetailLines {
		lines = append(lines[:maxDetailLines], "  … (cut: the document is too long to show)")
	}
	return lines
}

// prettyJSON indents relaxed Extended JSON for reading. A JSON string (a provider's command
// text that is not JSON) is shown as its text; anything invalid is shown as cleaned text.
func prettyJSON(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "(none)"
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	var b bytes.Buffer
	if json.Valid(raw) && json.Indent(&b, raw, "", "  ") == nil {
		return b.String()
	}
	return string(raw)
}

// indentLines splits text into cleaned lines. Clean bounds a field to source.MaxField bytes,
// so long lines are cleaned in pieces rather than cut.
func indentLines(text, prefix string) []string {
	raw := strings.Split(text, "\n")
	out := make([]string, 0, len(raw))
	for _, l := range raw {
		out = append(out, prefix+cleanLong(l))
		if len(out) > maxDetailLines {
			break
		}
	}
	return out
}

func cleanLong(s string) string {
	if len(s) <= source.MaxField {
		return source.Clean(s)
	}
	var b strings.Builder
	for len(s) > 0 {
		n := min(len(s), source.MaxField-8)
		for n < len(s) && n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		if n == 0 {
			n = min(len(s), source.MaxField-8)
		}
		b.WriteString(source.Clean(s[:n]))
		s = s[n:]
	}
	return b.String()
}

// commandText is what y copies: the command as indented Extended JSON.
func commandText(s *source.Session) string {
	t := prettyJSON(s.Command)
	return strings.Join(indentLines(t, ""), "\n")
}

// copyCommand puts r's command on the clipboard with OSC 52.
func (m *Model) copyCommand(r *sessRow) tea.Cmd {
	if r == nil {
		m.setStatus("no session selected", true)
		return nil
	}
	if len(bytes.TrimSpace(r.s.Command)) == 0 {
		m.setStatus("session "+source.Clean(r.s.ID)+" has no command to copy", true)
		return nil
	}
	m.setStatus("copied the command of "+source.Clean(r.s.ID)+" (OSC 52: the terminal must allow clipboard access)", false)
	return tea.SetClipboard(commandText(r.s))
}

// progressLong is "30% (3,000 of 10,000)", or "" when the operation reports no progress.
func progressLong(p *source.Progress) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(p.Percent()) + "% (" + count(p.Done) + " of " + count(p.Total) + ")"
}

func lockText(s *source.Session) string {
	switch {
	case s.WaitingForLock:
		return "yes"
	case s.LockUnknown:
		return "n/a (the source does not report lock waits)"
	}
	return "no"
}

func connID(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
