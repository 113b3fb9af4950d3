package ui

import (
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/currentop/currentop/source"
)

// The members strip: under the header, one cell per member of the deployment (state, host,
// connections, operations, lag, version, or why it did not answer), laid out as a grid of
// equal cells so that it keeps its height while values change. When the grid would take more
// than memberGridLines lines (a sharded cluster), it summarises in two lines: the counts,
// and the members that did not answer.

const (
	memberCellMin   = 30 // the narrowest grid cell
	memberCellMax   = 48 // wider cells would scatter a few members over the line
	memberGridLines = 2
	memberHostMax   = 28
	memberErrMax    = 32
	lagWarn         = 10 * time.Second
)

// stripMembers are the members the strip shows: none for a single node that answered,
// unless the user scoped the view (the strip then says to what).
func (m *Model) stripMembers() []source.Member {
	snap := m.panes.shown
	if snap == nil || len(snap.Members) == 0 {
		return nil
	}
	ms := snap.Members
	if len(ms) >= 2 || !ms[0].OK || scoped(m.query.Members) {
		return ms
	}
	return nil
}

// scoped reports whether scope narrows the deployment.
func scoped(scope string) bool { return scope != "" && scope != source.MembersAll }

// stripLabel starts the strip's first line: the scope the m key sets.
func (m *Model) stripLabel() string {
	s := m.query.Members
	if s == "" {
		s = source.MembersAll
	}
	if scoped(s) && s != source.MembersPrimary {
		hosts := strings.Split(s, ",")
		for i, h := range hosts {
			hosts[i] = source.Clean(strings.TrimSpace(h))
		}
		s = headOf(strings.Join(hosts, ","), 24)
	}
	return "members " + s + "  "
}

// memberGrid is how the strip lays out n members in width cells after the label: cells per
// line and lines; perLine 0 means the strip summarises instead.
func memberGrid(n, width int) (perLine, lines int) {
	room := max(1, width)
	perLine = max(1, room/memberCellMin)
	lines = (n + perLine - 1) / perLine
	if lines > memberGridLines {
		return 0, 2
	}
	return perLine, lines
}

// memberStripHeight is how many lines the strip takes (the header adds them to its own).
func (m *Model) memberStripHeight() int {
	ms := m.stripMembers()
	if len(ms) == 0 {
		return 0
	}
	_, lines := memberGrid(len(ms), m.width-textWidth(m.stripLabel()))
	return lines
}

// viewMembers draws the strip.
func (m *Model) viewMembers(b *strings.Builder) {
	for _, l := range m.memberLines() {
		b.WriteString(fitStyled(l, m.width))
		b.WriteByte('\n')
	}
}

// memberLines are the strip's lines, styled.
func (m *Model) memberLines() []string {
	ms := m.stripMembers()
	if len(ms) == 0 {
		return nil
	}
	st := &m.st
	label := m.stripLabel()
	lw := textWidth(label)
	room := max(1, m.width-lw)
	perLine, lines := memberGrid(len(ms), room)
	out := make([]string, lines)
	out[0] = st.label.Render(label)
	for i := 1; i < lines; i++ {
		out[i] = strings.Repeat(" ", lw)
	}
	if perLine == 0 {
		sum, down := m.memberSummary(ms, room)
		out[0] += sum
		out[1] += down
		return out
	}
	cellW := min(memberCellMax, room/min(len(ms), perLine))
	short := shortHosts(ms)
	for i := range ms {
		ops, queue := m.memberRate(&ms[i])
		cell := memberCell(&ms[i], short[i], memberFigs{ops, queue}, cellW-2, st)
		out[i/perLine] += cell + strings.Repeat(" ", max(0, cellW-lipgloss.Width(cell)))
	}
	return out
}

// piece is a run of a cell's text with its style; the pieces of least prio go first when
// the cell is too narrow.
type piece struct {
	text  string
	style *lipgloss.Style
	prio  int
}

// memberFigs are a member's own vitals as the strip writes them ("1.2k/s", "q 3"); "" when
// unknown.
type memberFigs struct{ ops, queue string }

func renderPieces(ps []piece) (plain, styled string) {
	var p, s strings.Builder
	for i, x := range ps {
		if i > 0 {
			p.WriteByte(' ')
			s.WriteByte(' ')
		}
		p.WriteString(x.text)
		if x.style != nil {
			s.WriteString(x.style.Render(x.text))
		} else {
			s.WriteString(x.text)
		}
	}
	return p.String(), s.String()
}

// memberCell is one member in at most w cells: "P db1:27017 412c 17op 1.2k/s lag 2s 8.0.4"
// (its own operations per second, and its queue when something waits, from its vitals), the
// least important parts (version, then ops/s, then lag, then the queue) dropped first;
// "✗ db3:27017 down: reason" for one that did not answer.
func memberCell(mb *source.Member, host string, figs memberFigs, w int, st *styles) string {
	if !mb.OK {
		text := "✗ " + host + " down: " + memberReason(mb.Error)
		if textWidth(text) > w {
			text = fit(text, w, false)
		}
		return st.warn.Render(strings.TrimRight(text, " "))
	}
	state := stateAbbrev(mb.State, mb.Kind)
	ps := []piece{{state, &st.value, 9}, {host, nil, 9}}
	if state != "A" { // an arbiter holds no data and is not polled
		ps = append(ps, piece{count(mb.Connections) + "c", nil, 6}, piece{count(mb.Ops) + "op", nil, 5})
		if figs.ops != "" {
			ps = append(ps, piece{figs.ops, nil, 2})
		}
		if figs.queue != "" {
			ps = append(ps, piece{figs.queue, &st.warn, 4})
		}
		if lag, ok := memberLag(mb); ok && state != "P" {
			p := piece{"lag " + ageString(lag), &st.dim, 3}
			if lag >= lagWarn {
				p.style = &st.warn
			}
			ps = append(ps, p)
		}
	}
	if v := source.Clean(mb.Version); v != "" {
		ps = append(ps, piece{v, &st.dim, 1})
	}
	for len(ps) > 2 {
		if plain, styled := renderPieces(ps); textWidth(plain) <= w {
			return styled
		}
		ps = dropLeast(ps)
	}
	ps[1].text = fit(ps[1].text, max(1, w-textWidth(ps[0].text)-1), false)
	_, styled := renderPieces(ps)
	return styled
}

// dropLeast removes the piece of least prio (the last of equals).
func dropLeast(ps []piece) []piece {
	at := len(ps) - 1
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].prio < ps[at].prio {
			at = i
		}
	}
	return append(ps[:at], ps[at+1:]...)
}

// memberLag is the member's replication lag, when it reports a sane one.
func memberLag(mb *source.Member) (time.Duration, bool) {
	if mb.LagS == nil || math.IsNaN(*mb.LagS) || *mb.LagS < 0 || *mb.LagS > 1e9 {
		return 0, false
	}
	return time.Duration(*mb.LagS * float64(time.Second)), true
}

// stateAbbrev is a member state in one to three letters: P, S, A, M…
func stateAbbrev(state, kind string) string {
	s := strings.ToUpper(strings.TrimSpace(source.Clean(state)))
	switch s {
	case "PRIMARY":
		return "P"
	case "SECONDARY":
		return "S"
	case "ARBITER":
		return "A"
	case "MONGOS":
		return "M"
	case "STANDALONE":
		return "SA"
	case "RECOVERING":
		return "REC"
	case "STARTUP", "STARTUP2":
		return "ST"
	case "ROLLBACK":
		return "RB"
	case "":
		if strings.EqualFold(kind, "mongos") {
			return "M"
		}
		return "?"
	}
	return headOf(s, 3)
}

// shortHosts are the members' hosts as the strip shows them: without the domain and the port
// they all share, each at most memberHostMax cells.
func shortHosts(ms []source.Member) []string {
	names := make([]string, len(ms))
	ports := make([]string, len(ms))
	samePort := true
	for i := range ms {
		h := source.Clean(ms[i].Host)
		if host, port, err := net.SplitHostPort(h); err == nil && port != "" {
			names[i], ports[i] = host, port
		} else {
			names[i] = h
		}
		samePort = samePort && ports[i] != "" && ports[i] == ports[0]
	}
	dom := commonDomain(names)
	// Members on one machine (a test or a demo deployment) differ only in their ports.
	sameName := len(ms) > 1 && !samePort
	for i := range names {
		sameName = sameName && names[i] == names[0] && ports[i] != ""
	}
	out := make([]string, len(ms))
	for i := range ms {
		h := strings.TrimSuffix(names[i], dom)
		switch {
		case h == "":
			h = names[i]
		case sameName:
			h = ""
		}
		if ports[i] != "" && (!samePort || len(ms) == 1) {
			h = net.JoinHostPort(h, ports[i])
		}
		out[i] = fit(h, min(memberHostMax, textWidth(h)), false)
	}
	return out
}

// commonDomain is the domain (".rs.example.net") every name ends with, when they are names
// rather than addresses and there are several; "" otherwise.
func commonDomain(names []string) string {
	if len(names) < 2 {
		return ""
	}
	var dom string
	for i, n := range names {
		if net.ParseIP(n) != nil {
			return ""
		}
		dot := strings.IndexByte(n, '.')
		if dot < 0 {
			return ""
		}
		d := n[dot:]
		if i == 0 {
			dom = d
			continue
		}
		for !strings.HasSuffix(d, dom) {
			next := strings.IndexByte(dom[1:], '.')
			if next < 0 {
				return ""
			}
			dom = dom[next+1:]
		}
	}
	return dom
}

// memberSummary is the strip of a deployment too large for cells: the counts on the first
// line, the members that did not answer on the second.
func (m *Model) memberSummary(ms []source.Member, w int) (string, string) {
	st := &m.st
	sep := st.dim.Render(" · ")
	sets := map[string]bool{}
	states := map[string]int{}
	var order []string
	conns, ops, answered := 0, 0, 0
	var maxLag time.Duration
	var lagOf string
	var down []string
	short := shortHosts(ms)
	for i := range ms {
		mb := &ms[i]
		if mb.Set != "" {
			sets[mb.Set] = true
		}
		name := memberName(mb, short[i])
		if !mb.OK {
			down = append(down, name+" ("+memberReason(mb.Error)+")")
			continue
		}
		answered++
		a := stateAbbrev(mb.State, mb.Kind)
		if states[a] == 0 {
			order = append(order, a)
		}
		states[a]++
		conns += mb.Connections
		ops += mb.Ops
		if lag, ok := memberLag(mb); ok && lag > maxLag {
			maxLag, lagOf = lag, name
		}
	}
	head := st.value.Render(count(len(ms))) + " members"
	if len(sets) > 1 { // the label says "members" already
		head = st.value.Render(count(len(ms))) + " in " + count(len(sets)) + " sets"
	}
	parts := []string{head}
	var counts []string
	for _, a := range order {
		counts = append(counts, count(states[a])+" "+a)
	}
	if len(counts) > 0 {
		parts = append(parts, strings.Join(counts, " "))
	}
	if lagOf != "" { // before the counts: a member falling behind matters more
		lag := "max lag " + ageString(maxLag) + " " + lagOf
		if maxLag >= lagWarn {
			lag = st.warn.Render(lag)
		}
		parts = append(parts, lag)
	}
	parts = append(parts, st.label.Render("conns ")+count(conns), st.label.Render("ops ")+count(ops))
	if b := m.busiestMember(ms, short); b != "" {
		parts = append(parts, b)
	}
	// Whole parts only: a number cut in the middle would read as another number.
	first := parts[0]
	for _, pt := range parts[1:] {
		if lipgloss.Width(first)+lipgloss.Width(sep)+lipgloss.Width(pt) > w {
			break
		}
		first += sep + pt
	}
	if len(down) == 0 {
		return first, st.ok.Render("✓ all " + count(answered) + " answered")
	}
	return first, downLine(down, w, st)
}

// downLine names the members that did not answer, as many as fit in w cells, and how many
// more there are.
func downLine(down []string, w int, st *styles) string {
	line := "✗ " + count(len(down)) + " down:"
	for i, d := range down {
		item := " " + d
		if i > 0 {
			item = "," + item
		}
		more := ""
		if rest := len(down) - i - 1; rest > 0 {
			more = " +" + strconv.Itoa(rest) + " more"
		}
		if textWidth(line)+textWidth(item)+textWidth(more) > w && i > 0 {
			line += " +" + strconv.Itoa(len(down)-i) + " more"
			break
		}
		line += item
	}
	return st.warn.Render(fit(line, min(w, textWidth(line)), false))
}

// memberName is "shard03/h3" (the set and the host as the strip shows it) or the host.
func memberName(mb *source.Member, h string) string {
	if mb.Set != "" {
		return source.Clean(mb.Set) + "/" + h
	}
	return h
}

// reasons are the usual causes of a member not answering, in the strip's few cells.
var reasons = []struct{ in, short string }{
	{"connection refused", "refused"},
	{"i/o timeout", "timeout"},
	{"deadline exceeded", "timeout"},
	{"connection reset", "reset"},
	{"no such host", "no such host"},
	{"no route to host", "no route"},
	{"network is unreachable", "no route"},
	{"authentication failed", "auth failed"},
	{"unauthorized", "not authorized"},
	{"not authorized", "not authorized"},
}

// memberReason is why a member did not answer, in a few words: a usual cause by name, else
// the last part of the error (Go errors end with their cause), at most memberErrMax cells.
func memberReason(err string) string {
	e := source.Clean(err)
	low := strings.ToLower(e)
	for _, r := range reasons {
		if strings.Contains(low, r.in) {
			return r.short
		}
	}
	if i := strings.LastIndex(e, ": "); i >= 0 && len(strings.TrimSpace(e[i+2:])) >= 4 {
		e = e[i+2:]
	}
	if e = strings.TrimSpace(e); e == "" {
		return "no answer"
	}
	return fit(e, min(memberErrMax, textWidth(e)), false)
}
