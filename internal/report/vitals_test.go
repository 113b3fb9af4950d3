package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

func TestVitalsHeaderBlock(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		name string
		v    *source.Vitals
		want []string // lines, in order
	}{
		{"none known", nil, nil},
		{"8.0 secondary", &source.Vitals{
			Tickets:   &source.Tickets{ReadOut: i(2), ReadAvailable: i(126)},
			Admission: &source.Admission{Queued: i(17), Out: i(9), Available: i(0)},
			Repl:      &source.Repl{State: "SECONDARY", LagS: f(7)},
		}, []string{
			"load      tickets read 2 out 126 free, write - out - free  admission 17 queued 9 out 0 free",
			"repl      SECONDARY  lag 7s",
		}},
		{"repl state without a known lag", &source.Vitals{Repl: &source.Repl{State: "ARBITER"}},
			[]string{"repl      ARBITER  lag -"}},
		{"a cloud source's session list", &source.Vitals{InFlight: &source.InFlight{Total: i(6), Active: i(4), Idle: i(2),
			ByType: &source.OpCounts{Query: i(3), Insert: i(0)}}},
			[]string{"in flight 6  active 4  idle 2  waiting for lock -  insert 0  query 3  update -  delete -  getmore -  command -"}},
		{"a cut list: total only", &source.Vitals{InFlight: &source.InFlight{Total: i(250)}},
			[]string{"in flight 250  active -  idle -  waiting for lock -"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := vitalsLines(tc.v)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// The JSON names of the new figures are snake_case and unknown ones are omitted.
func TestVitalsJSONNames(t *testing.T) {
	i := func(n int64) *int64 { return &n }
	lag := 0.0
	snap := designSnapshot()
	snap.Vitals = &source.Vitals{
		Admission: &source.Admission{Queued: i(3)},
		Repl:      &source.Repl{State: "PRIMARY", LagS: &lag},
		InFlight:  &source.InFlight{Total: i(5), ByType: &source.OpCounts{Getmore: i(1)}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, "json", "", snap); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vitals map[string]json.RawMessage `json:"vitals"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"admission": `{"queued":3}`,
		"repl":      `{"state":"PRIMARY","lag_s":0}`,
		"in_flight": `{"total":5,"by_type":{"getmore":1}}`,
	} {
		if got := string(doc.Vitals[k]); got != want {
			t.Errorf("vitals.%s = %s, want %s", k, got, want)
		}
	}
	if len(doc.Vitals) != 3 {
		t.Errorf("vitals has %d keys, want 3 (unknown figures omitted): %v", len(doc.Vitals), doc.Vitals)
	}
}
