package ui

import (
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// How a pane's columns get their widths.
//
// What the rows have in common (a column empty or identical on every shown row, a prefix every
// ID shares) is found in Update whenever the rows change, over all the rows shown: a title note
// that says "for all" must be true of all. How wide the cells are is measured in View, over the
// rows in view only, so drawing costs the same for 100 or 100 000 rows; each column's need is
// held (grows at once, shrinks only after widthHold without needing it, or on a resize or a
// change the user made), so the columns hold still while values come and go between refreshes.
// The layout drawn is kept, and a header click is resolved against it: the click always hits
// the column under the pointer.

// widthHold is how long a column keeps width its rows no longer need.
const widthHold = time.Minute

// colFacts is what the shown rows have in common in one column.
type colFacts struct {
	empty bool   // no shown row has a value
	same  string // the one value every shown row has (same columns), else ""
	trim  string // the prefix cut off every cell, ending in a separator, else ""
}

// probe is one column's scan over some rows: its first value, whether a row had none or
// another, and the prefix (ending in a separator) all share.
type probe struct {
	ci             int
	first, head    string
	blank, differs bool
	rows           int
	least          int  // the head cannot get shorter than this: the snapshot's own
	sameDone       bool // sameness settled (or not asked)
	headDone       bool // head settled (or not asked)
}

// scanFacts probes the columns over rows (indices into data; all of data when all is set).
// It visits each row once for every column still open, and a column closes as soon as the
// rows differ in it: a scan of many rows costs little unless a column really is all alike.
// start gives each column's probe its initial state.
func (p *pane[R]) scanFacts(rows []int32, all bool, start func(ci int) probe) []probe {
	out := make([]probe, len(p.cols))
	var open []int
	for ci := range p.cols {
		out[ci] = start(ci)
		if !out[ci].sameDone || !out[ci].headDone {
			open = append(open, ci)
		}
	}
	n := len(rows)
	if all {
		n = len(p.data)
	}
	for k := 0; k < n && len(open) > 0; k++ {
		i := k
		if !all {
			i = int(rows[k])
		}
		r := &p.data[i]
		for j := 0; j < len(open); {
			pr, c := &out[open[j]], &p.cols[open[j]]
			v := c.text(r, time.Time{})
			pr.rows++
			if !pr.sameDone {
				switch {
				case v == "":
					pr.blank = true
				case pr.first == "":
					pr.first = v
				case v != pr.first:
					pr.differs = true
				}
				pr.sameDone = pr.first != "" && (pr.blank || pr.differs)
			}
			if !pr.headDone {
				pr.head, pr.headDone = nextHead(c, pr.head, v, pr.rows == 1)
				pr.headDone = pr.headDone || len(pr.head) <= pr.least
			}
			if pr.sameDone && pr.headDone {
				open = slices.Delete(open, j, j+1)
				continue
			}
			j++
		}
	}
	return out
}

// nextHead narrows head, the prefix ending in one of c.trim's separators that the values so
// far share, by the value v; done once nothing is left to share.
func nextHead[R any](c *column[R], head, v string, first bool) (string, bool) {
	switch {
	case first:
		head = v[:strings.LastIndexAny(v, c.trim)+1]
	case c.trimWhole:
		if !strings.HasPrefix(v, head) || strings.ContainsAny(v[len(head):], c.trim) {
			head = ""
		}
	case !strings.HasPrefix(v, head):
		n := 0
		for n < len(head) && n < len(v) && head[n] == v[n] {
			n++
		}
		head = head[:strings.LastIndexAny(head[:n], c.trim)+1]
	}
	return head, head == ""
}

// newProbe is column ci's probe before any row: what it needs to find out.
func (p *pane[R]) newProbe(ci int) probe {
	c := &p.cols[ci]
	return probe{ci: ci, sameDone: !c.hideEmpty && !c.same, headDone: c.trim == ""}
}

// findDataFacts probes every row of a new snapshot, so that filtering it later need not
// look again at the columns all its rows agree on.
func (p *pane[R]) findDataFacts() {
	p.dataProbe = p.scanFacts(nil, true, p.newProbe)
}

// findFacts finds what the shown rows have in common. What holds for every row of the
// snapshot holds for the rows shown: only the columns that vary are scanned again.
func (p *pane[R]) findFacts() {
	if len(p.facts) != len(p.cols) {
		p.facts = make([]colFacts, len(p.cols))
		p.present = make([]bool, len(p.cols))
		p.epoch++ // the first rows: what was held before them counts for nothing
	}
	known := len(p.dataProbe) == len(p.cols)
	pr := p.scanFacts(p.rows, false, func(ci int) probe {
		q := p.newProbe(ci)
		if !known {
			return q
		}
		d := &p.dataProbe[ci]
		if !q.sameDone && (d.first == "" || !d.blank && !d.differs) {
			q.first, q.sameDone = d.first, true // empty, or one value, everywhere
		}
		if !q.headDone && d.head != "" && p.cols[ci].trimWhole {
			q.head, q.headDone = d.head, true // one whole head everywhere
		}
		q.least = len(d.head)
		return q
	})
	for ci := range p.cols {
		p.facts[ci] = p.factsOf(ci, &pr[ci])
		p.present[ci] = !p.facts[ci].empty
	}
}

// factsOf turns column ci's probe over the shown rows into what the pane does with it.
func (p *pane[R]) factsOf(ci int, pr *probe) colFacts {
	c, n := &p.cols[ci], len(p.rows)
	var f colFacts
	if c.hideEmpty || c.same {
		f.empty = pr.first == ""
		// One row is its own note; a quiet column is noise even then.
		if c.same && pr.first != "" && !pr.blank && !pr.differs && (n >= 2 || c.quiet) {
			f.same = pr.first
		}
	}
	// "…" and the separator take two cells: a short prefix is not worth cutting.
	if c.trim != "" && n >= 2 && textWidth(pr.head) >= 4 {
		f.trim = pr.head
	}
	return f
}

// shows reports whether column ci has something to show among the shown rows.
func (p *pane[R]) shows(ci int) bool {
	c := &p.cols[ci]
	if ci >= len(p.facts) { // no rows yet: the columns every row has
		return !c.hideEmpty && !c.same
	}
	f := &p.facts[ci]
	return !(f.empty && c.hideEmpty) && !(f.same != "" && c.same)
}

// cellText is what row r shows in column ci: its text with the shared prefix cut ("…/56").
func (p *pane[R]) cellText(ci int, r *R, now time.Time) string {
	s := p.cols[ci].text(r, now)
	if ci < len(p.facts) {
		if h := p.facts[ci].trim; h != "" && strings.HasPrefix(s, h) {
			s = "…" + s[len(h)-1:]
		}
	}
	return s
}

func (p *pane[R]) cellWidth(ci int, r *R) int {
	c := &p.cols[ci]
	if ci < len(p.facts) && p.facts[ci].trim != "" || c.width == nil {
		return textWidth(p.cellText(ci, r, time.Time{}))
	}
	return c.width(r)
}

// heldWidth is one need that grows at once and shrinks only after widthHold without being
// needed, to the largest need seen meanwhile.
type heldWidth struct {
	v, peak int
	at      time.Time // when v was last needed
}

func (h *heldWidth) update(cur int, now time.Time, reset bool) {
	if reset || cur >= h.v {
		*h = heldWidth{v: cur, at: now}
		return
	}
	h.peak = max(h.peak, cur)
	if now.Sub(h.at) >= widthHold {
		*h = heldWidth{v: h.peak, at: now}
	}
}

// fitting is the layout a pane last drew and the held needs it was made from.
type fitting struct {
	ok           bool
	width, rowsH int
	epoch        int
	// typ is each column's typical cell (three in four rows in view fit), full its widest;
	// 0 when the column has nothing to show.
	typ, full []heldWidth
	rows      heldWidth // the number of rows, held too: it sizes the panes
	vis       []visCol
}

// settle measures the rows in view (rowsH of them from the scroll offset), updates the held
// needs and lays the columns out for width. View calls it before drawing; calling it again
// with the same arguments changes nothing.
func (p *pane[R]) settle(width, rowsH int, now time.Time) {
	f := &p.fit
	reset := !f.ok || f.width != width || f.epoch != p.epoch || len(f.typ) != len(p.cols)
	if len(f.typ) != len(p.cols) {
		f.typ, f.full = make([]heldWidth, len(p.cols)), make([]heldWidth, len(p.cols))
	}
	typ, full := p.measure(rowsH)
	for ci := range p.cols {
		f.typ[ci].update(typ[ci], now, reset)
		f.full[ci].update(full[ci], now, reset)
		typ[ci], full[ci] = f.typ[ci].v, f.full[ci].v
	}
	f.rows.update(len(p.rows), now, reset)
	f.ok, f.width, f.rowsH, f.epoch = true, width, rowsH, p.epoch
	f.vis = p.allocate(width, typ, full)
}

// measure returns each column's typical and widest cell over the rows in view, at least its
// title and the sort arrow's cell; 0 for columns that have nothing to show.
func (p *pane[R]) measure(rowsH int) (typ, full []int) {
	typ, full = make([]int, len(p.cols)), make([]int, len(p.cols))
	off := max(0, min(p.offset, len(p.rows)-rowsH))
	end := min(len(p.rows), off+max(0, rowsH))
	ws := make([]int, 0, end-off)
	for ci := range p.cols {
		if !p.shows(ci) {
			continue
		}
		ws = ws[:0]
		for i := off; i < end; i++ {
			ws = append(ws, p.cellWidth(ci, &p.data[p.rows[i]]))
		}
		tw := textWidth(p.cols[ci].title) + 1
		typ[ci], full[ci] = tw, tw
		if len(ws) > 0 {
			slices.Sort(ws)
			typ[ci], full[ci] = max(tw, ws[(3*len(ws)-1)/4]), max(tw, ws[len(ws)-1])
		}
	}
	return typ, full
}

// layout is the columns on screen at width: the layout drawn last, or for another width
// (before the first frame) one made from the rows in view.
func (p *pane[R]) layout(width int) []visCol {
	if p.fit.ok && p.fit.width == width {
		return p.fit.vis
	}
	rowsH := p.fit.rowsH
	if !p.fit.ok {
		rowsH = len(p.rows)
	}
	typ, full := p.measure(rowsH)
	return p.allocate(width, typ, full)
}

// bounds are column ci's widths: lo, below which it is left out; fair, what its typical cell
// gets before less important columns grow; hi, what its widest cell gets from the space left;
// keep, what a counter column keeps when there is room, so it does not widen with each digit.
// Every width has room for the title and the sort arrow's own cell.
func (p *pane[R]) bounds(ci, typ, full int) (lo, fair, hi, keep int) {
	c := &p.cols[ci]
	tw := textWidth(c.title) + 1
	lo = max(tw, min(c.min, full))
	fair = max(lo, min(full, c.max)) // a column without fair is sized for its widest cell
	if c.fair > 0 {
		fair = max(lo, min(typ, c.fair))
	}
	hi = max(fair, min(full, c.max))
	keep = hi
	if c.counter {
		keep = max(hi, c.min)
	}
	return lo, fair, hi, keep
}

// allocate decides which columns fit in width and how wide each is.
//
// Which: most important first, each column is counted at what its typical cell needs (up to
// fair); the first that does not fit is kept cut, if what is left is at least its min, and
// the less important ones are left out (one whose min does not fit is skipped: a narrower one
// may still fit). How wide: every column kept starts at its min and grows, most important
// first, to its typical cell; what is left goes towards the widest cells, first to those
// a few cells short, then shared out among the others; then
// counters grow to their reserve; the last column takes the rest, so the row spans the width.
func (p *pane[R]) allocate(width int, typ, full []int) []visCol {
	type bound struct{ ci, lo, fair, hi, keep int }
	var order []bound
	for ci := range p.cols {
		if full[ci] > 0 {
			b := bound{ci: ci}
			b.lo, b.fair, b.hi, b.keep = p.bounds(ci, typ[ci], full[ci])
			order = append(order, b)
		}
	}
	slices.SortStableFunc(order, func(a, b bound) int { return p.cols[b.ci].prio - p.cols[a.ci].prio })
	room := width - gutter + 1 // each column costs its width and the space before it
	kept := order[:0]
	budget := room
	for _, b := range order {
		switch {
		case b.fair+1 <= budget:
			budget -= b.fair + 1
		case b.lo+1 <= budget:
			budget = 0
		default:
			continue
		}
		kept = append(kept, b)
		room -= b.lo + 1
	}
	w := make([]int, len(p.cols))
	for _, b := range kept {
		w[b.ci] = b.lo
	}
	if len(kept) == 0 && len(order) > 0 && width > gutter { // nothing fits: the first, cut
		w[order[0].ci] = width - gutter
	}
	grow := func(to func(b bound) int, share int) {
		for _, b := range kept {
			if add := min(to(b)-w[b.ci], room, share); add > 0 {
				w[b.ci] += add
				room -= add
			}
		}
	}
	grow(func(b bound) int { return b.fair }, room)
	// A column a few cells short of its widest cell gets them first ("shop.custome…" reads
	// worse than a shorter plan); the others then share what is left, so one long list
	// cannot take it all.
	grow(func(b bound) int {
		if d := b.hi - w[b.ci]; d <= 4 || 3*d <= b.hi {
			return b.hi
		}
		return w[b.ci]
	}, room)
	for room > 0 {
		n := 0
		for _, b := range kept {
			if w[b.ci] < b.hi {
				n++
			}
		}
		if n == 0 {
			break
		}
		grow(func(b bound) int { return b.hi }, max(1, room/n))
	}
	grow(func(b bound) int { return b.keep }, room)
	var out []visCol
	x := gutter
	for ci := range p.cols {
		if w[ci] > 0 {
			out = append(out, visCol{col: ci, x: x, w: w[ci]})
			x += w[ci] + 1
		}
	}
	if len(out) > 0 {
		last := &out[len(out)-1]
		last.w = max(last.w, width-last.x)
	}
	return out
}

// onScreen reports whether column ci is in the layout drawn last.
func (p *pane[R]) onScreen(ci int) bool {
	for _, v := range p.fit.vis {
		if v.col == ci {
			return true
		}
	}
	return false
}

// notes say what columns that stepped aside had on every row ("shard cmgo-d1 for all"), then
// which prefix the cells of others lost ("client 127.0.0.1:…"), most important columns first:
// a column that stepped aside shows nothing else, a cut one still shows what differs.
func (p *pane[R]) notes() []string {
	order := make([]int, 0, len(p.cols))
	for ci := range min(len(p.cols), len(p.facts)) {
		order = append(order, ci)
	}
	slices.SortStableFunc(order, func(a, b int) int { return p.cols[b].prio - p.cols[a].prio })
	var same, cut []string
	for _, ci := range order {
		c, f := &p.cols[ci], &p.facts[ci]
		name := c.name
		if name == "" {
			name = strings.ToLower(c.title)
		}
		switch {
		case f.trim != "" && p.onScreen(ci):
			cut = append(cut, name+" "+headOf(source.Clean(f.trim), 48)+"… for all")
		case f.same != "" && c.same && !c.quiet && !p.onScreen(ci):
			same = append(same, name+" "+truncateStyled(source.Clean(f.same), 32)+" for all")
		}
	}
	return append(same, cut...)
}

// headOf is prefix h in at most w cells: its end is kept, where IDs differ.
func headOf(h string, w int) string {
	if textWidth(h) <= w {
		return h
	}
	return "…" + ansi.TruncateLeft(h, textWidth(h)-(w-1), "")
}

// position is the selected row's place among the rows ("8/15") when they do not all fit.
func (p *pane[R]) position() string {
	if !p.fit.ok || p.fit.rowsH <= 0 || len(p.rows) <= p.fit.rowsH {
		return ""
	}
	at := p.offset
	if !p.gone {
		at = p.cursor
	}
	return count(at+1) + "/" + count(len(p.rows))
}

// titleNotes adds to a pane title t the position when the rows scroll, then the notes that fit
// whole in width and that the title does not already say.
func (p *pane[R]) titleNotes(t string, width int) string {
	if pos := p.position(); pos != "" {
		t += " · " + pos
	}
	for _, n := range p.notes() {
		// Narrowed to a client, the title already says "client 127.0.0.1".
		said := strings.TrimRight(strings.TrimSuffix(strings.TrimSuffix(n, " for all"), "…"), ":/")
		if !strings.Contains(t, said) && textWidth(t)+3+textWidth(n) <= width-1 {
			t += " · " + n
		}
	}
	return t
}

// rowsNeed is how many rows the pane needs: as many as it has, or as many as it had lately,
// so that the panes' border does not move with every session that comes and goes.
func (p *pane[R]) rowsNeed() int { return max(len(p.rows), p.fit.rows.v) }

// paneHeights splits the body between the clients and the sessions pane by content: the
// clients pane gets what its rows need up to 40 % of the body, and more only where the
// sessions pane would leave lines blank; the sessions pane gets the rest. Heights include
// the title bar and the column header.
func (m *Model) paneHeights(bodyH int) (cliH, sessH int) {
	if bodyH < 6 {
		return bodyH / 2, bodyH - bodyH/2
	}
	need := func(rows int) int { return 2 + max(rows, 1) }
	share := max(3, bodyH*2/5)
	sessNeed := m.panes.sess.rowsNeed()
	if m.panes.showingGroups() {
		sessNeed = m.panes.grp.rowsNeed()
	}
	cliH = min(need(m.panes.cli.rowsNeed()), max(share, bodyH-need(sessNeed)))
	cliH = max(3, min(cliH, bodyH-3))
	return cliH, bodyH - cliH
}
