package ui

import (
	"testing"
	"time"
)

// TestGroupsGolden pins the grouped view and the group-kill dialog (regenerate with
// go test ./ui -run TestGroupsGolden -update).
func TestGroupsGolden(t *testing.T) {
	states := []struct {
		name string
		keys []string
	}{
		{"groups", []string{"t"}},
		{"groups-kill", []string{"t", "k"}},
	}
	for _, st := range states {
		for _, size := range []struct{ w, h int }{{80, 24}, {120, 36}} {
			name := st.name + "-" + itoa(size.w) + "x" + itoa(size.h)
			t.Run(name, func(t *testing.T) {
				h, _ := startedWith(t, pileSnapshot(), size.w, size.h)
				h.clock.advance(1500 * time.Millisecond)
				h.keys(st.keys...)
				got := screen(h)
				checkScreen(t, got, size.w, size.h)
				golden(t, name, got)
			})
		}
	}
}
