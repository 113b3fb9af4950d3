package ui

import (
	"strings"
	"testing"

	"github.com/currentop/currentop/source"
)

// TestHeaderUnknownConnections: a cloud source whose client list failed does not know its
// connections: the header leaves them out rather than saying "conns 0", and shows no limit
// it does not know.
func TestHeaderUnknownConnections(t *testing.T) {
	for _, c := range []struct {
		name    string
		conns   source.Connections
		want    []string
		notWant []string
	}{
		{"cloud, list read", source.Connections{Current: 45, Active: 3, Unknown: source.ConnAvailable | source.ConnTotalCreated},
			[]string{"conns 45", "active conns 3"}, []string{"available"}},
		{"cloud, list failed", source.Connections{Active: 3, Unknown: source.ConnCurrent | source.ConnAvailable | source.ConnTotalCreated},
			[]string{"active conns 3"}, []string{"conns 0", "available"}},
		{"nothing known", source.Connections{Current: 9, Available: 9, Active: 9, Unknown: source.ConnAll},
			nil, []string{"conns", "available"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap := smallSnapshot()
			snap.Source, snap.Server.Kind = "tencent", "cloud"
			snap.Server.Connections = c.conns
			h, _ := startedWith(t, snap, 120, 36)
			l := strings.Split(screen(h), "\n")[1]
			for _, w := range c.want {
				if !strings.Contains(l, w) {
					t.Errorf("counters line %q lacks %q", l, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(l, w) {
					t.Errorf("counters line %q shows %q", l, w)
				}
			}
			if _, ok := h.m.vitals.current(figConns); ok && !c.conns.Known(source.ConnCurrent) {
				t.Error("unknown connections recorded in the history")
			}
		})
	}
}
