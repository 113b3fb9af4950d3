package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/currentop/currentop/source"
)

// maxEvents bounds the event log: the session keeps the last maxEvents events.
const maxEvents = 1000

// maxEventText bounds one event's text (an error from a server can be long).
const maxEventText = 400

// eventKind says what happened; it is the log's second column.
type eventKind string

const (
	evStart    eventKind = "START"   // the first snapshot: what is watched
	evOutage   eventKind = "OUTAGE"  // refreshing began to fail
	evError    eventKind = "ERROR"   // refreshing still fails, for another reason
	evRecover  eventKind = "RECOVER" // refreshing works again
	evKill     eventKind = "KILL"    // a kill's outcome, per operation
	evStorm    eventKind = "STORM"   // a client's connections began to grow fast
	evStormEnd eventKind = "CALM"    // that growth stopped
	evPrimary  eventKind = "PRIMARY" // a member became primary
	evHost     eventKind = "HOST"    // the source now reads another server
	evVersion  eventKind = "VERSION" // a server's version changed
	evRestart  eventKind = "RESTART" // a server's uptime went back
	evMember   eventKind = "MEMBER"  // a member stopped or started answering
	kindColumn           = len("RECOVER") + 1
)

// event is one line of the log.
type event struct {
	at   time.Time
	kind eventKind
	text string // cleaned
}

// eventLog is the session's log of what happened, bounded to maxEvents (a ring), and the e
// overlay that shows it most recent first.
type eventLog struct {
	ring  []event
	next  int // where the next event goes once the ring is full
	total int // events ever logged

	// What the next events are measured against.
	streak  int    // failed refreshes in a row
	lastErr string // the error the log last reported
	prev    *source.Snapshot

	keys eventKeys
	text textView
}

func newEventLog() eventLog { return eventLog{keys: newEventKeys(), text: newTextView()} }

// add logs one event at at.
func (l *eventLog) add(at time.Time, kind eventKind, text string) {
	text = source.Clean(text)
	if textWidth(text) > maxEventText {
		text = fit(text, maxEventText, false)
	}
	e := event{at: at, kind: kind, text: text}
	l.total++
	if len(l.ring) < maxEvents {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % maxEvents
}

// newestFirst lists the events kept, most recent first.
func (l *eventLog) newestFirst() []event {
	out := make([]event, 0, len(l.ring))
	for i := range l.ring {
		out = append(out, l.ring[(l.next-1-i+2*len(l.ring))%len(l.ring)])
	}
	return out
}

// lines is the overlay's text.
func (l *eventLog) lines(st *styles) []string {
	if len(l.ring) == 0 {
		return []string{"", "  nothing has happened yet: outages, recoveries, kills, connection storms, primary and", "  version changes are logged here as they happen"}
	}
	out := make([]string, 0, len(l.ring))
	for _, e := range l.newestFirst() {
		kind := fit(string(e.kind), kindColumn, false)
		out = append(out, "  "+st.dim.Render(e.at.Format("15:04:05"))+"  "+eventStyle(st, e.kind).Render(kind)+e.text)
	}
	return out
}

func eventStyle(st *styles, k eventKind) lipgloss.Style {
	switch k {
	case evOutage, evError, evRestart:
		return st.errText
	case evStorm, evPrimary, evHost, evMember, evVersion:
		return st.warn
	case evRecover, evStormEnd:
		return st.ok
	}
	return st.label
}

// title is the overlay's title line.
func (l *eventLog) title() string {
	t := fmt.Sprintf(" EVENTS %s · most recent first · the session's last %s are kept", count(len(l.ring)), count(maxEvents))
	if l.total > len(l.ring) {
		t += fmt.Sprintf(" (%s dropped)", count(l.total-len(l.ring)))
	}
	return t
}

// onAnswer logs what one refresh answer means: an outage beginning, its error changing, a
// recovery; and for a good snapshot what changed since the last one.
func (m *Model) onAnswer(res answer, at time.Time) {
	l := &m.events
	switch res {
	case answerFailed:
		l.streak++
		msg := errorText(m.loop.lastErr)
		switch {
		case l.streak == 1:
			l.add(at, evOutage, "refresh failed: "+msg)
		case msg != l.lastErr:
			l.add(at, evError, fmt.Sprintf("refresh still failing (%d in a row), now: %s", l.streak, msg))
		}
		l.lastErr = msg
	case answerGood, answerCapped, answerRecovered:
		if res == answerRecovered || l.streak > 0 {
			l.add(at, evRecover, fmt.Sprintf("refreshing works again after %s and %d failed refresh%s",
				ageString(m.loop.recoveredAfter.Round(time.Second)), l.streak, plurals(l.streak, "es")))
		}
		l.streak, l.lastErr = 0, ""
		m.observe(m.loop.latest, at)
	default:
		return
	}
	m.eventsChanged()
}

func plurals(n int, s string) string {
	if n == 1 {
		return ""
	}
	return s
}

// observe follows a good snapshot: connection storms, and changes of primary, server,
// version and members since the previous one.
func (m *Model) observe(snap *source.Snapshot, at time.Time) {
	l := &m.events
	for _, ch := range m.churn.Observe(at, snap.Clients) {
		if ch.Started {
			l.add(at, evStorm, fmt.Sprintf("%s: connections growing %s over %d refreshes, %s now",
				ch.IP, rateText(ch.Rate), m.churnSustain(), count(ch.Count)))
		} else {
			l.add(at, evStormEnd, fmt.Sprintf("%s: the connection storm is over after %s (peak %s), %s connections now",
				ch.IP, ageString(ch.Lasted.Round(time.Second)), rateText(ch.Rate), count(ch.Count)))
		}
	}
	prev := l.prev
	l.prev = snap
	if prev == nil {
		l.add(at, evStart, "watching "+describeServer(snap))
		return
	}
	for _, e := range serverChanges(prev, snap) {
		l.add(at, e.kind, e.text)
	}
}

func (m *Model) churnSustain() int {
	if m.churn.Sustain > 0 {
		return m.churn.Sustain
	}
	return 3
}

// describeServer is "mongod 8.0.4 at db1:27017 (3 members)".
func describeServer(s *source.Snapshot) string {
	sv := s.Server
	parts := []string{}
	if k := strings.TrimSpace(sv.Kind + " " + sv.Version); k != "" {
		parts = append(parts, k)
	}
	if sv.Host != "" {
		parts = append(parts, "at "+sv.Host)
	}
	if s.Target != "" {
		parts = append(parts, "("+s.Target+")")
	}
	if n := len(s.Members); n > 0 {
		parts = append(parts, fmt.Sprintf("with %d member%s", n, plural(n)))
	}
	if len(parts) == 0 {
		return s.Source
	}
	return strings.Join(parts, " ")
}

// serverChanges are the events between two snapshots: the server's host, version and
// restarts, and with members, who became primary, versions, and who stopped or started
// answering. Texts are not yet cleaned (add cleans them).
func serverChanges(prev, cur *source.Snapshot) []event {
	var out []event
	ps, cs := prev.Server, cur.Server
	if ps.Host != "" && cs.Host != "" && ps.Host != cs.Host && len(cur.Members) == 0 {
		out = append(out, event{kind: evHost, text: fmt.Sprintf("now reading %s (was %s)", cs.Host, ps.Host)})
	}
	if ps.Host == cs.Host && ps.Version != "" && cs.Version != "" && ps.Version != cs.Version {
		out = append(out, event{kind: evVersion, text: fmt.Sprintf("%s: version %s → %s", cs.Host, ps.Version, cs.Version)})
	}
	if ps.Host == cs.Host && cs.UptimeS > 0 && cs.UptimeS < ps.UptimeS {
		out = append(out, event{kind: evRestart, text: fmt.Sprintf("%s restarted: up %s", cs.Host, source.FormatDuration(time.Duration(cs.UptimeS)*time.Second))})
	}
	return append(out, memberChanges(prev.Members, cur.Members)...)
}

// memberChanges compares members by host; a member new since the previous snapshot is news
// only when it is the primary.
func memberChanges(prev, cur []source.Member) []event {
	if len(prev) == 0 || len(cur) == 0 {
		return nil
	}
	was := make(map[string]source.Member, len(prev))
	oldPrimary := map[string]string{} // per set
	for _, p := range prev {
		was[p.Host] = p
		if p.State == "PRIMARY" {
			oldPrimary[p.Set] = p.Host
		}
	}
	var out []event
	for _, c := range cur {
		p, seen := was[c.Host]
		if c.State == "PRIMARY" && (!seen || p.State != "PRIMARY") {
			t := c.Host + " is primary"
			if c.Set != "" {
				t += " of " + c.Set
			}
			if o := oldPrimary[c.Set]; o != "" && o != c.Host {
				t += " (was " + o + ")"
			}
			out = append(out, event{kind: evPrimary, text: t})
		}
		if !seen {
			continue
		}
		if p.Version != "" && c.Version != "" && p.Version != c.Version {
			out = append(out, event{kind: evVersion, text: fmt.Sprintf("%s: version %s → %s", c.Host, p.Version, c.Version)})
		}
		switch {
		case p.OK && !c.OK:
			t := c.Host + " does not answer"
			if c.Error != "" {
				t += ": " + c.Error
			}
			out = append(out, event{kind: evMember, text: t})
		case !p.OK && c.OK:
			out = append(out, event{kind: evMember, text: c.Host + " answers again"})
		}
	}
	return out
}

// logKills logs each kill's outcome.
func (m *Model) logKills(results []source.KillResult) {
	now := m.now()
	if len(results) == 0 {
		m.events.add(now, evKill, "the source reported no result")
	}
	for _, r := range results {
		t := r.ID + ": " + string(r.Outcome)
		if r.Err != nil {
			t += ": " + r.Err.Error()
		}
		m.events.add(now, evKill, t)
	}
	m.eventsChanged()
}

// eventsChanged redraws the open log: the newest event is at the top.
func (m *Model) eventsChanged() {
	if m.overlay == overlayEvents {
		m.events.text.setLines(m.events.lines(&m.st))
	}
}

// openEvents shows the log from its newest event.
func (m *Model) openEvents() {
	m.overlay = overlayEvents
	m.events.text.setLines(m.events.lines(&m.st))
	m.events.text.top()
}

// onEventsKey handles keys while the log is open.
func (m *Model) onEventsKey(msg tea.KeyPressMsg) {
	if key.Matches(msg, m.events.keys.Close) {
		m.overlay = overlayNone
		return
	}
	m.events.text.scroll(m.events.keys.step(msg))
}

// viewEvents draws the log in the body.
func (m *Model) viewEvents(b *strings.Builder, bodyH int) {
	b.WriteString(m.st.paneFocused.Render(fit(m.events.title(), m.width, false)))
	b.WriteByte('\n')
	m.events.text.view(b, bodyH-1)
}

// eventKeys are the event log's keys.
type eventKeys struct {
	moveKeys
	Scroll, Close key.Binding
}

func newEventKeys() eventKeys {
	k := eventKeys{moveKeys: scrollKeys(), Close: newBinding("esc/e", "close", "esc", "e", "q")}
	k.Scroll = anyOf("↑↓", "scroll", k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End)
	return k
}

func (k eventKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Scroll, k.Close} }
func (k eventKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k eventKeys) groups() []helpGroup {
	return []helpGroup{{"In the event log (e)", []key.Binding{k.spelledAll("scroll"), spelled(k.Close, "close")}}}
}
