package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// slowAnswer is how long a refresh may take before the header says it is waiting.
const slowAnswer = 3 * time.Second

func (m *Model) headerHeight() int {
	return 2 + m.memberStripHeight() + m.vitalsLines() + len(m.failureLines(m.now()))
}

// failureLines are the error lines while failing: the error wrapped over at most two lines,
// so that the reason is not cut at the screen's edge (the detail is in the second line).
func (m *Model) failureLines(now time.Time) []string {
	if m.loop.lastErr == nil {
		return nil
	}
	msg := m.failureLine(now)
	w := max(20, m.width)
	if textWidth(msg) <= w {
		return []string{msg}
	}
	lines := strings.Split(ansi.Wrap(msg, w, " "), "\n")
	if len(lines) > 2 {
		lines = []string{lines[0], fit(strings.Join(lines[1:], " "), w, false)}
	}
	return lines
}

// viewHeader draws what is monitored, the counters with the refresh state, and while failing
// the error.
func (m *Model) viewHeader(b *strings.Builder, now time.Time) {
	b.WriteString(fitStyled(m.headerTarget(now), m.width))
	b.WriteByte('\n')
	b.WriteString(m.headerCounters(now))
	b.WriteByte('\n')
	m.viewMembers(b)
	for _, l := range m.failureLines(now) {
		b.WriteString(m.st.errText.Render(fit(l, m.width, false)))
		b.WriteByte('\n')
	}
	if m.vitalsLines() > 0 { // below the failure: what is wrong now comes first
		b.WriteString(m.vitalsLine())
		b.WriteByte('\n')
	}
}

// headerTarget is the first line: what is monitored.
func (m *Model) headerTarget(now time.Time) string {
	st := &m.st
	parts := []string{st.appName.Render("currentop")}
	if m.readonly {
		parts = append(parts, st.paused.Render("READ-ONLY"))
	}
	snap := m.loop.latest
	if snap == nil {
		return strings.Join(append(parts, st.dim.Render(m.connectingText(now))), st.dim.Render(" · "))
	}
	if snap.Source != "" {
		parts = append(parts, st.value.Render(source.Clean(snap.Source)))
	}
	sv := snap.Server
	if sv.Version != "" || sv.Kind != "" {
		parts = append(parts, strings.TrimSpace(source.Clean(sv.Kind)+" "+source.Clean(sv.Version)))
	}
	if sv.UptimeS > 0 {
		parts = append(parts, st.label.Render("up ")+source.FormatDuration(time.Duration(sv.UptimeS)*time.Second))
	}
	if sv.Host != "" {
		parts = append(parts, source.Clean(sv.Host))
	}
	// The target goes last: it is the longest part and the one cut on narrow screens.
	if snap.Target != "" {
		parts = append(parts, st.dim.Render(source.Clean(snap.Target)))
	}
	return strings.Join(parts, st.dim.Render(" · "))
}

// headerSeg is one counter of the second line, in a full and a compact form; optional ones
// are dropped first when the line is too narrow, then the compact forms are used.
type headerSeg struct {
	full, compact string
	optional      bool
}

func (m *Model) headerSegs(now time.Time) []headerSeg {
	st := &m.st
	sep := st.dim.Render(" · ")
	var segs []headerSeg
	if snap := m.loop.latest; snap != nil {
		c := snap.Server.Connections
		// Without serverStatus (VitalsErr), or a cloud source's client list, the connection
		// counters are unknown, not 0.
		if c.Known(source.ConnCurrent) && (snap.VitalsErr == nil || c != (source.Connections{})) {
			cur := st.label.Render("conns ") + st.value.Render(count(c.Current))
			sg := headerSeg{full: cur, compact: cur}
			if c.Available > 0 && c.Known(source.ConnAvailable) {
				sg.full += sep + st.label.Render("available ") + count(c.Available)
				sg.compact += st.label.Render(" avail ") + count(c.Available)
			}
			segs = append(segs, sg)
		}
		if c.Active > 0 && c.Known(source.ConnActive) {
			a := st.label.Render("active conns ") + count(c.Active)
			segs = append(segs, headerSeg{a, a, true})
		}
		ops := st.label.Render("ops ") + st.value.Render(count(m.panes.totalOps)) +
			st.label.Render(" ("+count(m.panes.activeOps)+" running)")
		segs = append(segs, headerSeg{full: ops, compact: ops})
	}
	every := st.label.Render("every ") + intervalString(m.loop.interval)
	segs = append(segs, headerSeg{every, every, false})
	if m.panes.shown != nil {
		age := ageString(now.Sub(m.panes.shownAt))
		segs = append(segs, headerSeg{st.label.Render("updated ") + age + st.label.Render(" ago"), age + st.label.Render(" ago"), false})
	}
	return segs
}

// headerCounters is the second line: the counters on the left, the refresh state on the right.
func (m *Model) headerCounters(now time.Time) string {
	segs := m.headerSegs(now)
	sep := m.st.dim.Render(" · ")
	join := func(compact bool) string {
		parts := make([]string, len(segs))
		for i, sg := range segs {
			parts[i] = sg.full
			if compact {
				parts[i] = sg.compact
			}
		}
		return strings.Join(parts, sep)
	}
	badge := m.badge(now)
	bw := lipgloss.Width(badge)
	room := m.width - bw - 1
	line := join(false)
	if lipgloss.Width(line) > room {
		segs = slices.DeleteFunc(segs, func(sg headerSeg) bool { return sg.optional })
		if line = join(false); lipgloss.Width(line) > room {
			line = join(true)
		}
	}
	line = fitStyled(line, max(0, room))
	gap := max(1, m.width-lipgloss.Width(line)-bw)
	return line + strings.Repeat(" ", gap) + badge
}

// failureLine is the third line while failing: the error, its age and the next retry.
func (m *Model) failureLine(now time.Time) string {
	r := &m.loop
	msg := "✗ refresh failed"
	if r.failures > 1 {
		msg += fmt.Sprintf(" %d times in %s", r.failures, ageString(now.Sub(r.errSince)))
	}
	if r.inFlight {
		msg += ", retrying now"
	} else if d := r.nextRetry.Sub(now); d > 0 {
		msg += ", retry in " + ageString(d.Round(time.Second))
	}
	return msg + ": " + errorText(r.lastErr)
}

// connectingText says what is being connected to, and for how long once it is slow.
func (m *Model) connectingText(now time.Time) string {
	s := "connecting…"
	if m.target != "" {
		s = "connecting to " + source.Clean(m.target) + "…"
	}
	if d := m.loop.waited(now); d >= slowAnswer {
		s += " " + ageString(d)
	}
	return s
}

// errorText is an error for the header. The target is already on the first line, so an
// error the source explained is shown as its kind and hint, which do not repeat it.
func errorText(err error) string {
	var se *source.Error
	if errors.As(err, &se) && se.Hint != "" {
		return source.Clean(se.Kind.String() + ": " + se.Hint)
	}
	return source.Clean(err.Error())
}

// badge is the refresh state: LIVE, PAUSED or STALE with the data's age.
func (m *Model) badge(now time.Time) string {
	st, r := &m.st, &m.loop
	switch {
	case r.lastErr != nil && m.panes.shown != nil:
		return st.stale.Render("STALE " + ageString(now.Sub(r.latestAt)))
	case r.lastErr != nil:
		return st.stale.Render("NO DATA")
	case m.panes.paused:
		s := "PAUSED"
		if r.latest != m.panes.shown {
			s += " · new data"
		}
		return st.paused.Render(s)
	case m.panes.shown == nil:
		return st.dim.Render("loading…")
	case r.inFlight && now.Sub(r.fetchedAt) >= slowAnswer:
		// Between a server going away and the refresh timing out, LIVE would be a lie.
		return st.paused.Render("WAITING " + ageString(now.Sub(r.fetchedAt)) + " for an answer")
	}
	return st.live.Render("● LIVE")
}
