package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/currentop/currentop/source"
)

// Instances prints what `--list` found: a JSON array, or a table with one row per instance.
func Instances(w io.Writer, format string, insts []source.Instance) error {
	if format == "json" {
		if insts == nil {
			insts = []source.Instance{}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(insts)
	}
	if len(insts) == 0 {
		_, err := fmt.Fprintln(w, "no instances in this region")
		return err
	}
	// Aligned by display width: instance names are often Chinese.
	rows := [][]string{{"ID", "NAME", "REGION", "VERSION", "TYPE", "STATUS", "NODES"}}
	for _, in := range insts {
		nodes := "-"
		if len(in.Nodes) > 0 {
			// Each node is cleaned on its own: a large cluster's list is longer than one field.
			clean := make([]string, len(in.Nodes))
			for i, n := range in.Nodes {
				clean[i] = source.Clean(n)
			}
			nodes = strings.Join(clean, ",")
		}
		rows = append(rows, []string{instanceCell(in.ID), instanceCell(in.Name), instanceCell(in.Region),
			instanceCell(in.Version), instanceCell(in.Type), instanceCell(in.Status), nodes})
	}
	return WriteAligned(w, rows)
}

// instanceCell is one cleaned cell of the instance table; "-" when empty, so columns stay aligned.
func instanceCell(s string) string {
	if s = source.Clean(s); s == "" {
		return "-"
	}
	return s
}
