// Package report prints one snapshot for scripts and incident tickets: the stable JSON of
// DESIGN.md, CSV, or an aligned text table.
package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// Formats are the accepted --format values.
var Formats = []string{"json", "csv", "table"}

// Panes are the accepted --pane values for csv and table.
var Panes = []string{"all", "sessions", "clients"}

// Write prints snap in the given format. pane selects what csv and table print
// ("sessions", "clients", or "all"; csv treats "all" as "sessions", since one CSV holds one table).
func Write(w io.Writer, format, pane string, snap *source.Snapshot) error {
	switch format {
	case "json":
		return JSON(w, snap)
	case "csv":
		if pane == "clients" {
			return ClientsCSV(w, snap)
		}
		return SessionsCSV(w, snap)
	case "table":
		return Table(w, pane, snap)
	default:
		return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
}

// document is the stable one-shot JSON: snake_case, arrays never null, taken_at in UTC.
type document struct {
	Source   string           `json:"source"`
	Target   string           `json:"target"`
	TakenAt  string           `json:"taken_at"`
	Server   source.Server    `json:"server"`
	Vitals   *source.Vitals   `json:"vitals,omitempty"`
	Members  []source.Member  `json:"members,omitempty"`
	Clients  []source.Client  `json:"clients"`
	Sessions []source.Session `json:"sessions"`
}

// JSON writes the snapshot as one JSON document followed by a newline. Sessions are encoded
// one at a time, so a snapshot of tens of thousands of them is never held twice in memory.
func JSON(w io.Writer, snap *source.Snapshot) error {
	head := document{
		Source:   snap.Source,
		Target:   snap.Target,
		TakenAt:  snap.TakenAt.UTC().Format(time.RFC3339),
		Server:   snap.Server,
		Vitals:   snap.Vitals,
		Members:  snap.Members,
		Clients:  make([]source.Client, len(snap.Clients)),
		Sessions: []source.Session{},
	}
	for i, c := range snap.Clients {
		c.Apps, c.Users, c.Drivers = nonNil(c.Apps), nonNil(c.Users), nonNil(c.Drivers)
		head.Clients[i] = c
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// The document with an empty sessions array, which is its last field: the sessions go
	// where the closing "]}" is.
	if err := enc.Encode(head); err != nil {
		return err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("]}\n"))
	if _, err := bw.Write(b); err != nil {
		return err
	}
	for i, s := range snap.Sessions {
		if len(s.Command) == 0 {
			s.Command = json.RawMessage("null")
		}
		buf.Reset()
		if err := enc.Encode(s); err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		if _, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			return err
		}
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var sessionColumns = []string{"id", "type", "active", "op", "ns", "running_us", "plan_summary", "client", "app", "user", "driver", "host", "shard", "desc", "connection_id", "waiting_for_lock", "num_yields", "command_name", "summary", "progress_done", "progress_total", "command"}

// SessionsCSV writes one row per session with a header row. Cells a spreadsheet would
// evaluate are neutralised (see csvSafe).
func SessionsCSV(w io.Writer, snap *source.Snapshot) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(sessionColumns); err != nil {
		return err
	}
	for _, s := range snap.Sessions {
		if err := cw.Write(csvSafeRow(sessionRow(&s))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// sessionRow is one session's CSV cells: numbers raw, progress empty when unknown.
func sessionRow(s *source.Session) []string {
	done, total := "", ""
	if p := s.Progress; p != nil {
		done, total = strconv.FormatInt(p.Done, 10), strconv.FormatInt(p.Total, 10)
	}
	return []string{s.ID, s.Type, strconv.FormatBool(s.Active), s.Op, s.NS,
		strconv.FormatInt(s.RunningUS, 10), s.PlanSummary, s.Client, s.App, s.User, s.Driver,
		s.Host, s.Shard, s.Desc, strconv.FormatInt(s.ConnectionID, 10),
		strconv.FormatBool(s.WaitingForLock), strconv.FormatInt(s.NumYields, 10),
		s.CommandName, s.Summary, done, total, string(s.Command)}
}

// ClientsCSV writes one row per client IP with a header row. A list cell (apps, users,
// drivers) is a JSON array of strings, ["orders-api","mongosh 2.3.1"]: no separator can be
// confused with a value (driver names contain "|", app names anything), and every language
// reads it back. Cells a spreadsheet would evaluate are neutralised (see csvSafe).
func ClientsCSV(w io.Writer, snap *source.Snapshot) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"ip", "count", "active", "internal", "apps", "users", "drivers"}); err != nil {
		return err
	}
	for _, c := range snap.Clients {
		row := []string{c.IP, strconv.Itoa(c.Count), strconv.Itoa(c.Active), strconv.FormatBool(c.Internal),
			csvList(c.Apps), csvList(c.Users), csvList(c.Drivers)}
		if err := cw.Write(csvSafeRow(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvList is a list cell: a JSON array of the strings ([] when empty).
func csvList(l []string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(nonNil(l)) != nil {
		return "[]"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// csvSafe neutralises a cell that a spreadsheet would evaluate as a formula, as OWASP
// recommends: any client chooses its own appName, and "=HYPERLINK(…)" or "+cmd|…" must stay
// text. A cell starting with '=', '+', '-', '@', tab, CR or LF (or a full-width '＝', '＋',
// '－', '＠', which some spreadsheets read the same way) gets a leading "'", except a plain
// number such as -5 or 3.2, which a spreadsheet reads as that number.
func csvSafe(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠':
		if !plainNumber(s) {
			return "'" + s
		}
	}
	return s
}

func csvSafeRow(row []string) []string {
	for i, c := range row {
		row[i] = csvSafe(c)
	}
	return row
}

// plainNumber reports a decimal number with an optional sign, fraction and exponent.
func plainNumber(s string) bool {
	if s == "" || strings.ContainsAny(s, "_xXoObBpP") {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	if err == nil {
		return !strings.ContainsAny(strings.ToLower(s), "nfi") // not NaN, Inf, Infinity
	}
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

// Table writes a human-readable summary: the server line, then the clients and/or sessions,
// in columns aligned by display width (a CJK character takes two cells), counts with
// thousands separators. Every text is cleaned (source.Clean): no control character reaches
// the terminal.
func Table(w io.Writer, pane string, snap *source.Snapshot) error {
	sv := snap.Server
	up := ""
	if sv.UptimeS > 0 { // 0: unknown (cloud sources) or not yet a second
		up = "  up " + Uptime(sv.UptimeS)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s  %s %s%s  conns %s current / %s available, %s active  at %s\n",
		source.Clean(snap.Source), source.Clean(snap.Target), source.Clean(sv.Kind), source.Clean(sv.Version), up,
		connCount(sv.Connections, source.ConnCurrent), connCount(sv.Connections, source.ConnAvailable),
		connCount(sv.Connections, source.ConnActive),
		snap.TakenAt.UTC().Format(time.RFC3339))
	for _, line := range vitalsLines(snap.Vitals) {
		fmt.Fprintf(bw, "%s\n", line)
	}
	for _, warn := range snap.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", source.Clean(warn))
	}
	if len(snap.Members) > 0 {
		bw.WriteString("\n")
		if err := WriteAligned(bw, memberRows(snap.Members), 6, 7, 8); err != nil {
			return err
		}
	}
	if pane != "sessions" {
		rows := [][]string{{"CLIENT", "CONNS", "ACTIVE", "INTERNAL", "APPS", "USERS", "DRIVERS"}}
		for _, c := range snap.Clients {
			rows = append(rows, []string{dash(c.IP), Thousands(int64(c.Count)), Thousands(int64(c.Active)), yes(c.Internal),
				list(c.Apps), list(c.Users), list(c.Drivers)})
		}
		bw.WriteString("\n")
		if err := WriteAligned(bw, rows, 1, 2); err != nil {
			return err
		}
	}
	if pane != "clients" {
		rows := [][]string{{"ID", "OP", "COMMAND", "NS", "RUNNING", "PLAN", "CLIENT", "APP", "USER", "DESC", "LOCK", "PROGRESS", "SUMMARY"}}
		for _, s := range snap.Sessions {
			running := "-"
			if s.Active {
				running = source.FormatDuration(s.Running())
			}
			lock, progress := "-", "-"
			if s.WaitingForLock {
				lock = "waiting"
			}
			if p := s.Progress; p != nil {
				progress = strconv.Itoa(p.Percent()) + "%"
			}
			rows = append(rows, []string{dash(s.ID), dash(s.Op), dash(s.CommandName), dash(s.NS), running,
				dash(s.PlanSummary), dash(s.Client), dash(s.App), dash(s.User), dash(s.Desc), lock, progress, dash(s.Summary)})
		}
		bw.WriteString("\n")
		if err := WriteAligned(bw, rows, 4, 11); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// connCount is one connection counter, or "-" when the source could not read it.
func connCount(c source.Connections, k source.ConnCounters) string {
	if !c.Known(k) {
		return "-"
	}
	switch k {
	case source.ConnCurrent:
		return Thousands(c.Current)
	case source.ConnAvailable:
		return Thousands(c.Available)
	case source.ConnActive:
		return Thousands(c.Active)
	}
	return Thousands(c.TotalCreated)
}

// memberRows are the deployment's members, one a line: whether each answered, and why not.
func memberRows(ms []source.Member) [][]string {
	rows := [][]string{{"MEMBER", "SET", "KIND", "STATE", "VERSION", "OK", "CONNS", "OPS", "LAG", "ERROR"}}
	for _, m := range ms {
		ok, conns, ops, lag := "yes", Thousands(int64(m.Connections)), Thousands(int64(m.Ops)), "-"
		if !m.OK {
			ok = "no"
		}
		if !m.OK || m.Kind == "arbiter" { // not read: nothing counted
			conns, ops = "-", "-"
		}
		if m.LagS != nil {
			lag = lagString(*m.LagS)
		}
		rows = append(rows, []string{dash(m.Host), dash(m.Set), dash(m.Kind),
			dash(m.State), dash(m.Version), ok, conns, ops, lag, dash(m.Error)})
	}
	return rows
}

// lagString is a replication lag: tenths of a second under a minute, then whole seconds.
func lagString(secs float64) string {
	switch {
	case math.IsNaN(secs) || secs < 0:
		return "?"
	case secs < 60:
		return strconv.FormatFloat(math.Round(secs*10)/10, 'f', -1, 64) + "s"
	case secs > 1e9:
		return ">30y"
	}
	return source.FormatDuration(time.Duration(secs) * time.Second)
}

// WriteAligned writes rows in columns two spaces apart, each as wide as its widest cell in
// terminal cells (ansi.StringWidth: wide characters count two), with no trailing blanks.
// The columns in right are right-aligned (numbers, durations, percentages). Cells are
// written as they are: clean them first.
func WriteAligned(w io.Writer, rows [][]string, right ...int) error {
	bw := bufio.NewWriter(w)
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], ansi.StringWidth(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-ansi.StringWidth(c))
			if slices.Contains(right, i) {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		bw.WriteString(strings.TrimRight(line.String(), " "))
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// Thousands writes n with thousands separators: 838,587.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Uptime renders a server's uptime in whole seconds: 42s, 3m12s, 2h05m, 1d0h.
func Uptime(secs int64) string {
	if secs < 60 {
		return strconv.FormatInt(max(secs, 0), 10) + "s"
	}
	return source.FormatDuration(time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// dash is s cleaned for the table, or "-" when empty.
func dash(s string) string {
	if s = source.Clean(s); s == "" {
		return "-"
	}
	return s
}

func list(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	clean := make([]string, len(s))
	for i, v := range s {
		clean[i] = source.Clean(v)
	}
	return strings.Join(clean, ", ")
}
