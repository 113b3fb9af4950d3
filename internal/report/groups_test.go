package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/source"
)

func groupSnap() *source.Snapshot {
	cmd := func(st string) json.RawMessage {
		return json.RawMessage(`{"find":"orders","filter":{"status":"` + st + `"}}`)
	}
	return &source.Snapshot{Source: "mongodb", Target: "h:27017", TakenAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Server: source.Server{Kind: "mongod", Version: "8.0.4"},
		Sessions: []source.Session{
			{ID: "1", Active: true, Op: "query", NS: "shop.orders", CommandName: "find", Command: cmd("A"), RunningUS: 2_000_000, Client: "10.0.0.1:1", App: "=orders", PlanSummary: "COLLSCAN"},
			{ID: "2", Active: true, Op: "query", NS: "shop.orders", CommandName: "find", Command: cmd("B"), RunningUS: 1_000_000, Client: "10.0.0.2:1", App: "=orders", PlanSummary: "COLLSCAN"},
			{ID: "3", Active: true, Op: "insert", NS: "shop.orders", CommandName: "insert", RunningUS: 5_000, Client: "10.0.0.1:2", App: "loader"},
		}}
}

func TestGroupsJSON(t *testing.T) {
	var out bytes.Buffer
	if err := WriteGroups(&out, "json", "shape", groupSnap()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Source, TakenAt string
		GroupBy         string                       `json:"group_by"`
		Groups          []map[string]json.RawMessage `json:"groups"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.GroupBy != "shape" || doc.Source != "mongodb" || len(doc.Groups) != 2 {
		t.Fatalf("%s", out.String())
	}
	g := doc.Groups[0]
	for k, want := range map[string]string{"key": `"find shop.orders {status: ?}"`, "count": "2", "active": "2",
		"waiting_for_lock": "0", "running_us_total": "3000000", "running_us_max": "2000000", "collscan": "2",
		"apps": `["=orders"]`, "clients": `["10.0.0.1","10.0.0.2"]`, "example_id": `"1"`} {
		if string(g[k]) != want {
			t.Errorf("%s = %s, want %s", k, g[k], want)
		}
	}
	if len(g) != 10 {
		t.Errorf("fields: %v", g)
	}
	out.Reset()
	if err := WriteGroups(&out, "json", "app", &source.Snapshot{}); err != nil || !strings.Contains(out.String(), `"groups":[]`) {
		t.Errorf("no sessions: %v %s", err, out.String())
	}
}

func TestGroupsCSVAndTable(t *testing.T) {
	var out bytes.Buffer
	if err := WriteGroups(&out, "csv", "app", groupSnap()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("%v %q", err, rows)
	}
	if strings.Join(rows[0], ",") != "app,count,active,waiting_for_lock,running_us_total,running_us_max,collscan,apps,clients,example_id" ||
		rows[1][0] != "'=orders" || rows[1][1] != "2" || rows[1][8] != `["10.0.0.1","10.0.0.2"]` {
		t.Errorf("%q", rows)
	}
	out.Reset()
	if err := WriteGroups(&out, "table", "shape", groupSnap()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if lines[1] != "2 shapes of 3 sessions" || !strings.HasPrefix(lines[3], "SHAPE") ||
		!strings.HasPrefix(lines[4], "find shop.orders {status: ?}  ") || !strings.Contains(lines[4], " 3.0s ") {
		t.Errorf("table:\n%s", out.String())
	}
	if err := WriteGroups(&out, "xml", "shape", groupSnap()); err == nil {
		t.Error("unknown format accepted")
	}
}
