package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// stormSampled is sampled(…) with n connections from 10.0.0.7.
func stormSampled(uptimeS, queries int64, n int) *source.Snapshot {
	s := sampled(uptimeS, queries, 2)
	s.Clients = append(s.Clients, source.Client{IP: "10.0.0.7", Count: n, Apps: []string{"checkout-lambda"}})
	return s
}

// TestStormAlertLeadsVitalsLine: the storm is named in one place, first on the vitals line;
// on a narrow terminal the figures and sparklines give way, the alert stays whole.
func TestStormAlertLeadsVitalsLine(t *testing.T) {
	for _, w := range []int{120, 80, 44} {
		t.Run(itoa(w), func(t *testing.T) {
			h, src := vitalsHarness(t, w, 24, stormSampled(1000, 0, 0))
			for i := int64(1); i <= 3; i++ {
				h.refresh(src, stormSampled(1000+2*i, 200*i, int(50*i)), 2*time.Second)
			}
			lines := strings.Split(screen(h), "\n")
			if got := strings.Count(strings.Join(lines[:4], "\n"), "storm:"); got != 1 {
				t.Errorf("the storm is named %d times in the header, want once:\n%s", got, strings.Join(lines[:4], "\n"))
			}
			vl := lines[2]
			if !strings.HasPrefix(vl, "storm: 10.0.0.7 +25/s") {
				t.Errorf("vitals line %q does not lead with the storm", vl)
			}
			if !strings.Contains(vl, "ops/s 200") {
				t.Errorf("vitals line %q lost ops/s, the first figure", vl)
			}
			if ww := ansi.StringWidth(vl); ww > w {
				t.Errorf("vitals line %d cells wide at %d: %q", ww, w, vl)
			}
			if w == 44 && strings.Contains(vl, "conns") {
				t.Errorf("at 44 columns the last figures should have given way to the alert: %q", vl)
			}
		})
	}
}

// TestStormAlertWithRefusedVitals: without serverStatus the vitals line is the note; the
// storm still leads it.
func TestStormAlertWithRefusedVitals(t *testing.T) {
	refused := func(n int) *source.Snapshot {
		s := withStormClient(n)
		s.VitalsErr = &source.Error{Kind: source.ErrPermission, Hint: "grant role clusterMonitor"}
		return s
	}
	h, src := vitalsHarness(t, 120, 24, refused(0))
	for i := 1; i <= 3; i++ {
		h.refresh(src, refused(50*i), 2*time.Second)
	}
	vl := strings.Split(screen(h), "\n")[2]
	if !strings.HasPrefix(vl, "storm: 10.0.0.7 +25/s  vitals unavailable: serverStatus not permitted") {
		t.Errorf("vitals line %q", vl)
	}
}
