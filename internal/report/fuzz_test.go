package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/currentop/currentop/source"
)

// FuzzWriters: whatever text a server sends, the CSV stays parseable by encoding/csv with one
// record per row and the header's number of fields, each cell reads back as written, no cell
// can start a formula unless neutralised, and the table holds no control character.
func FuzzWriters(f *testing.F) {
	for _, s := range []string{"orders-api", `=HYPERLINK("x")`, "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "-5", "a,\"b\"\nc", "\r\n", "\t=1", "\x1b[2J", "\xff", " lead", `\.`, ""} {
		f.Add(s, s, int64(-5))
	}
	f.Fuzz(func(t *testing.T, text, other string, n int64) {
		snap := designSnapshot()
		s := &snap.Sessions[0]
		s.ID, s.App, s.User, s.NS, s.Desc, s.Op, s.Client, s.Host = text, text, other, text, other, other, text, other
		s.RunningUS, s.NumYields, s.ConnectionID = n, n, n
		snap.Sessions = append(snap.Sessions, *s)
		snap.Sessions[1].App = other
		snap.Clients[0].IP, snap.Clients[0].Apps, snap.Clients[0].Users = text, []string{other, text}, []string{text}
		snap.Target, snap.Warnings = text, []string{other}

		checkCSV(t, "sessions", snap, len(sessionColumns), len(snap.Sessions))
		checkCSV(t, "clients", snap, 7, len(snap.Clients))

		var buf bytes.Buffer
		if err := Write(&buf, "table", "all", snap); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !utf8.ValidString(out) {
			t.Fatalf("table is not valid UTF-8: %q", out)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("table keeps %U: %q", r, out)
			}
		}
	})
}

func checkCSV(t *testing.T, pane string, snap *source.Snapshot, fields, rows int) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, "csv", pane, snap); err != nil {
		t.Fatal(err)
	}
	written := buf.String()
	r := csv.NewReader(&buf)
	r.FieldsPerRecord = fields
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s CSV does not parse: %v\n%q", pane, err, written)
	}
	if len(records) != rows+1 {
		t.Fatalf("%s CSV has %d records, want %d:\n%q", pane, len(records), rows+1, written)
	}
	want := sessionRow(&snap.Sessions[0])
	if pane == "clients" {
		c := snap.Clients[0]
		want = []string{c.IP, "", "", "", csvList(c.Apps), csvList(c.Users), ""}
		// A list cell is a JSON array that reads back as the list (invalid UTF-8 aside).
		for i, l := range [][]string{c.Apps, c.Users} {
			var got []string
			if err := json.Unmarshal([]byte(records[1][4+i]), &got); err != nil || len(got) != len(l) {
				t.Fatalf("list cell %q is not the JSON array of %q: %v", records[1][4+i], l, err)
			}
			for j := range l {
				if got[j] != strings.ToValidUTF8(l[j], "\uFFFD") {
					t.Fatalf("list cell %q item %d reads %q, want %q", records[1][4+i], j, got[j], l[j])
				}
			}
		}
	}
	for i, cell := range records[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r\n", rune(cell[0])) && !plainNumber(cell) {
			t.Fatalf("%s CSV cell %q can start a formula", pane, cell)
		}
		if strings.HasPrefix(cell, "＝") || strings.HasPrefix(cell, "＋") || strings.HasPrefix(cell, "－") || strings.HasPrefix(cell, "＠") {
			t.Fatalf("%s CSV cell %q can start a formula", pane, cell)
		}
		// Each cell reads back as written (the reader turns \r\n into \n inside quotes).
		if want[i] != "" || i == 0 {
			if exp := strings.ReplaceAll(csvSafe(want[i]), "\r\n", "\n"); cell != exp {
				t.Fatalf("%s CSV cell %d reads %q, want %q", pane, i, cell, exp)
			}
		}
	}
}
