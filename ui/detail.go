package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// maxDetailLines bounds the detail view of a pathological document.
const maxDetailLines = 20000

// scroller is a vertically scrollable block of pre-wrapped lines.
type scroller struct {
	lines   []string // as built, unwrapped
	wrapped []string // wrapped to the screen width
	off     int
}

func (s *scroller) wrap(width int) {
	s.wrapped = s.wrapped[:0]
	for _, l := range s.lines {
		if width <= 0 || ansi.StringWidth(l) <= width {
			s.wrapped = append(s.wrapped, l)
			continue
		}
		// Continuation lines hang under the line's own indentation (two more), so wrapped
		// help entries and JSON values stay readable as one item.
		body := strings.TrimLeft(l, " ")
		indent := min(len(l)-len(body), width/3)
		pad := strings.Repeat(" ", indent+2)
		for i, part := range strings.Split(ansi.Wrap(body, max(10, width-len(pad)), " ,"), "\n") {
			if i == 0 {
				s.wrapped = append(s.wrapped, strings.Repeat(" ", indent)+part)
			} else {
				s.wrapped = append(s.wrapped, pad+part)
			}
		}
	}
}

func (s *scroller) scroll(d, h int) {
	s.off += d
	s.clamp(h)
}

func (s *scroller) clamp(h int) {
	s.off = max(0, min(s.off, len(s.wrapped)-h))
}

func (s *scroller) render(b *strings.Builder, h int) {
	off := max(0, min(s.off, len(s.wrapped)-h))
	end := min(len(s.wrapped), off+h)
	for i := off; i < end; i++ {
		b.WriteString(s.wrapped[i])
		b.WriteByte('\n')
	}
	for i := end - off; i < h; i++ {
		b.WriteByte('\n')
	}
}

// rewrap re-wraps the text overlays for the current width.
func (m *Model) rewrap() {
	m.detail.wrap(m.width)
	m.help.lines = helpLines(m, m.width)
	m.help.wrap(m.width)
}

// openDetail shows every field of r and its command as Extended JSON; with a Detailer it
// also reads r whole, showing what the row has until it arrives.
func (m *Model) openDetail(r *sessRow) tea.Cmd {
	cp := *r
	s := *r.s
	cp.s = &s
	m.detailRow = &cp
	m.detailAt = m.shownAt
	m.detailListed = true
	m.detailNote = ""
	m.detail.off = 0
	var cmd tea.Cmd
	if m.detailer != nil {
		m.detailNote = "reading the whole document from the server…"
		cmd = m.readWhole(&cp, false)
	}
	m.setDetailLines()
	m.overlay = overlayDetail
	return cmd
}

func (m *Model) setDetailLines() {
	off := m.detail.off
	m.detail = scroller{lines: detailLines(m.detailRow.s, m.detailNote), off: off}
	m.detail.wrap(m.width)
	m.detail.clamp(m.layout().bodyH - 1)
}

// readWhole asks the Detailer for r whole, for the detail view or (copy) for y.
func (m *Model) readWhole(r *sessRow, copy bool) tea.Cmd {
	m.detailSeq++
	d, seq, saw := m.detailer, m.detailSeq, *r.s
	if copy {
		m.setStatus("reading the command of "+source.Clean(saw.ID)+"…", false)
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		s, err := detailOf(ctx, d, saw)
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

// onDetail shows (or copies) a session read whole; answers to older requests are dropped.
func (m *Model) onDetail(msg detailMsg) tea.Cmd {
	if msg.seq != m.detailSeq {
		return nil
	}
	if msg.copy {
		if msg.err != nil {
			m.setStatus("cannot copy the command: "+source.Clean(msg.err.Error()), true)
			return nil
		}
		return m.copyCommand(&sessRow{s: msg.s})
	}
	if m.overlay != overlayDetail || m.detailRow == nil {
		return nil
	}
	switch {
	case errors.Is(msg.err, source.ErrEnded):
		m.detailNote = "the session has ended: this is what the last refresh saw"
	case msg.err != nil:
		m.detailNote = "cannot read the whole document: " + msg.err.Error()
	default:
		s := *msg.s
		s.ID = m.detailRow.s.ID
		m.detailRow.s = &s
		m.detailAt = m.now()
		m.detailNote = ""
	}
	m.setDetailLines()
	return nil
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
		{"id", s.ID}, {"type", s.Type}, {"active", yes(s.Active)}, {"op", s.Op}, {"ns", s.NS},
		{"running", running}, {"plan", s.PlanSummary}, {"client", s.Client}, {"app", s.App},
		{"user", s.User}, {"driver", s.Driver}, {"host", s.Host}, {"shard", s.Shard},
		{"desc", s.Desc}, {"connection id", connID(s.ConnectionID)},
		{"waiting for lock", yes(s.WaitingForLock)}, {"yields", count(s.NumYields)},
		{"internal", yes(s.Internal)}, {"kill pending", yes(s.KillPending)}, {"progress", s.Msg},
	}
	lines := make([]string, 0, 64)
	for _, f := range fields {
		v := source.Clean(f[1])
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

func connID(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
