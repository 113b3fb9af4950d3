package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/currentop/currentop/source"
)

// groupsDocument is the stable grouped JSON: the snapshot's header and its groups, longest
// total running time first.
type groupsDocument struct {
	Source  string         `json:"source"`
	Target  string         `json:"target"`
	TakenAt string         `json:"taken_at"`
	Server  source.Server  `json:"server"`
	GroupBy string         `json:"group_by"`
	Groups  []source.Group `json:"groups"`
}

// WriteGroups prints the snapshot's sessions rolled up by by (one of source.GroupBys) in the
// given format. The sessions are grouped as given: narrow them first.
func WriteGroups(w io.Writer, format, by string, snap *source.Snapshot) error {
	groups := source.GroupSessions(snap.Sessions, by)
	switch format {
	case "json":
		doc := groupsDocument{Source: snap.Source, Target: snap.Target, TakenAt: snap.TakenAt.UTC().Format(time.RFC3339),
			Server: snap.Server, GroupBy: by, Groups: groups}
		if doc.Groups == nil {
			doc.Groups = []source.Group{}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(doc)
	case "csv":
		return groupsCSV(w, by, groups)
	case "table":
		return groupsTable(w, by, snap, groups)
	default:
		return fmt.Errorf("unknown format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
}

var groupColumns = []string{"key", "count", "active", "waiting_for_lock", "running_us_total", "running_us_max", "collscan", "apps", "clients", "example_id"}

// groupsCSV writes one row per group; the first column's header is what was grouped by
// ("shape", "app", …), lists are JSON arrays as in the clients CSV.
func groupsCSV(w io.Writer, by string, groups []source.Group) error {
	cw := csv.NewWriter(w)
	head := append([]string{by}, groupColumns[1:]...)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, g := range groups {
		row := []string{g.Key, strconv.Itoa(g.Count), strconv.Itoa(g.Active), strconv.Itoa(g.WaitingForLock),
			strconv.FormatInt(g.RunningUSTotal, 10), strconv.FormatInt(g.RunningUSMax, 10), strconv.Itoa(g.Collscan),
			csvList(g.Apps), csvList(g.Clients), g.ExampleID}
		if err := cw.Write(csvSafeRow(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// groupsTable writes the server line, "N shapes of M sessions", then one aligned row per group.
func groupsTable(w io.Writer, by string, snap *source.Snapshot, groups []source.Group) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s %s  %s %s  at %s\n", source.Clean(snap.Source), source.Clean(snap.Target),
		source.Clean(snap.Server.Kind), source.Clean(snap.Server.Version), snap.TakenAt.UTC().Format(time.RFC3339))
	for _, warn := range snap.Warnings {
		fmt.Fprintf(bw, "warning: %s\n", source.Clean(warn))
	}
	fmt.Fprintf(bw, "%s %s of %s sessions\n\n", Thousands(int64(len(groups))), groupNoun(by, len(groups)), Thousands(int64(len(snap.Sessions))))
	rows := [][]string{{strings.ToUpper(by), "COUNT", "ACTIVE", "LOCK", "TOTAL", "MAX", "COLLSCAN", "APPS", "CLIENTS", "EXAMPLE"}}
	for _, g := range groups {
		rows = append(rows, []string{dash(g.Key), Thousands(int64(g.Count)), Thousands(int64(g.Active)),
			Thousands(int64(g.WaitingForLock)), usDuration(g.RunningUSTotal), usDuration(g.RunningUSMax),
			Thousands(int64(g.Collscan)), list(g.Apps), list(g.Clients), dash(g.ExampleID)})
	}
	if err := WriteAligned(bw, rows, 1, 2, 3, 4, 5, 6); err != nil {
		return err
	}
	return bw.Flush()
}

// groupNoun names groups: "12 shapes", "1 app", "3 namespaces".
func groupNoun(by string, n int) string {
	noun := map[string]string{"shape": "shape", "app": "app", "ns": "namespace", "client": "client",
		"user": "user", "op": "op", "plan": "plan", "host": "host"}[by]
	if noun == "" {
		noun = "group"
	}
	if n != 1 {
		noun += "s"
	}
	return noun
}

func usDuration(us int64) string {
	if us <= 0 {
		return "-"
	}
	return source.FormatDuration((&source.Session{RunningUS: us}).Running())
}
