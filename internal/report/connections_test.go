package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

// TestUnknownConnections: counters a source could not read are left out of the JSON and
// written "-" in the table, never 0; known ones keep the stable format.
func TestUnknownConnections(t *testing.T) {
	snap := &source.Snapshot{Source: "tencent", Target: "tencent:ap-guangzhou/cmgo-demo0001",
		Server: source.Server{Kind: "cloud", Version: "8.0", Connections: source.Connections{Active: 3,
			Unknown: source.ConnCurrent | source.ConnAvailable | source.ConnTotalCreated}}}
	var buf bytes.Buffer
	if err := JSON(&buf, snap); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"connections":{"active":3}`) {
		t.Errorf("JSON %s: want connections with active alone", buf.String())
	}
	buf.Reset()
	if err := Table(&buf, "all", snap); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(buf.String(), "\n", 2)[0]; !strings.Contains(first, "conns - current / - available, 3 active") {
		t.Errorf("table header %q: want unknown counters as -", first)
	}
}
