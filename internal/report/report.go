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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

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

var sessionColumns = []string{"id", "type", "active", "op", "ns", "running_us", "plan_summary", "client", "app", "user", "driver", "host", "shard", "desc", "connection_id", "waiting_for_lock", "num_yields", "command"}

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

func sessionRow(s *source.Session) []string {
	return []string{s.ID, s.Type, strconv.FormatBool(s.Active), s.Op, s.NS,
		strconv.FormatInt(s.RunningUS, 10), s.PlanSummary, s.Client, s.App, s.User, s.Driver,
		s.Host, s.Shard, s.Desc, strconv.FormatInt(s.ConnectionID, 10),
		strconv.FormatBool(s.WaitingForLock), strconv.FormatInt(s.NumYields, 10), string(s.Command)}
}

// ClientsCSV writes one row per client IP with a header row; list cells are joined with "|".
// Cells a spreadsheet would evaluate are neutralised (see csvSafe).
func ClientsCSV(w io.Writer, snap *source.Snapshot) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"ip", "count", "active", "internal", "apps", "users", "drivers"}); err != nil {
		return err
	}
	for _, c := range snap.Clients {
		row := []string{c.IP, strconv.Itoa(c.Count), strconv.Itoa(c.Active), strconv.FormatBool(c.Internal),
			strings.Join(c.Apps, "|"), strings.Join(c.Users, "|"), strings.Join(c.Drivers, "|")}
		if err := cw.Write(csvSafeRow(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
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

// Table writes a human-readable summary: the server line, then the clients and/or sessions.
// Every text is cleaned (source.Clean): no control character reaches the terminal, and no
// tab breaks the alignment.
func Table(w io.Writer, pane string, snap *source.Snapshot) error {
	sv := snap.Server
	fmt.Fprintf(w, "%s %s  %s %s  up %s  conns %d current / %d available, %d active  at %s\n",
		source.Clean(snap.Source), source.Clean(snap.Target), source.Clean(sv.Kind), source.Clean(sv.Version),
		source.FormatDuration(time.Duration(sv.UptimeS)*time.Second),
		sv.Connections.Current, sv.Connections.Available, sv.Connections.Active,
		snap.TakenAt.UTC().Format(time.RFC3339))
	for _, warn := range snap.Warnings {
		fmt.Fprintf(w, "warning: %s\n", source.Clean(warn))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if pane != "sessions" {
		fmt.Fprintf(tw, "\nCLIENT\tCONNS\tACTIVE\tINTERNAL\tAPPS\tUSERS\tDRIVERS\n")
		for _, c := range snap.Clients {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", dash(c.IP), c.Count, c.Active, yes(c.Internal),
				list(c.Apps), list(c.Users), list(c.Drivers))
		}
	}
	if pane != "clients" {
		fmt.Fprintf(tw, "\nID\tOP\tNS\tRUNNING\tPLAN\tCLIENT\tAPP\tUSER\tDESC\tLOCK\n")
		for _, s := range snap.Sessions {
			running := "-"
			if s.Active {
				running = source.FormatDuration(s.Running())
			}
			lock := ""
			if s.WaitingForLock {
				lock = "waiting"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(s.ID), dash(s.Op), dash(s.NS), running,
				dash(s.PlanSummary), dash(s.Client), dash(s.App), dash(s.User), dash(s.Desc), lock)
		}
	}
	return tw.Flush()
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
	return strings.Join(clean, ",")
}
