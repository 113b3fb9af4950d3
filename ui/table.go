package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/currentop/currentop/source"
)

// pane is one scrollable, sortable table. All derivation (filter, sort, selection) happens in
// Update through its methods; render draws only the rows that fit, so its cost does not grow
// with the number of rows.
type pane[R any] struct {
	cols []column[R]
	// data holds every row of the snapshot on screen; rows is the filtered, sorted view of it
	// as indices into data.
	data []R
	rows []int32
	// contentW is each column's widest cell over data (capped at the column's max).
	contentW []int
	// present marks optional columns worth showing: they have values (and with onlyIfVaries
	// different ones: a host column is noise when every session is on the same host).
	present []bool
	// keys holds each column's sort key per data row, built on first use for a snapshot;
	// tieRank is each data row's place in the tie order.
	keys     [][]uint64
	tieRank  []uint32
	scratch  []sortItem
	radixTmp []sortItem // the radix sort's second buffer

	sortKey string
	desc    bool
	// tie orders rows the sort column calls equal, so ties keep one order across refreshes.
	tie func(a, b *R) int
	id  func(r *R) string

	cursor, offset int
	// selID is the selected row's ID; the selection follows it across refreshes.
	selID string
	// gone is set when selID is no longer among rows (ended or filtered out).
	gone bool
	// picked is set once the user chose the row (moved, clicked). Until then the selection is
	// just "the row at the cursor" and quietly moves on when that row ends: there is nothing
	// the user could act on by mistake, and warning about a row nobody chose is noise.
	picked bool
	// none: nothing is selected until the user picks a row (see unselect).
	none bool
}

func (p *pane[R]) colIndex(key string) int {
	for i := range p.cols {
		if p.cols[i].key == key {
			return i
		}
	}
	return -1
}

// setData replaces the rows' source and measures the columns; the caller filters next.
func (p *pane[R]) setData(data []R) {
	p.data = data
	p.keys = make([][]uint64, len(p.cols))
	p.tieRank = make([]uint32, len(data))
	order := make([]int32, len(data))
	for i := range order {
		order[i] = int32(i)
	}
	if p.tie != nil {
		slices.SortFunc(order, func(a, b int32) int { return p.tie(&data[a], &data[b]) })
	}
	for pos, i := range order {
		p.tieRank[i] = uint32(pos)
	}
	p.contentW = make([]int, len(p.cols))
	p.present = make([]bool, len(p.cols))
	for ci := range p.cols {
		c := &p.cols[ci]
		w := 0
		for i := range data {
			if x := c.width(&data[i]); x > w {
				w = x
				if w >= c.max {
					break
				}
			}
		}
		p.contentW[ci] = min(w, c.max)
		p.present[ci] = w > 0
		if c.onlyIfVaries && c.str != nil {
			p.present[ci] = varies(data, c.str)
		}
	}
}

// filter keeps the rows for which keep is true (all when keep is nil), then sorts. When the
// user changed what is shown (byUser) and the followed row is no longer among the rows, the
// first row is selected; after a refresh the selection is reported gone instead.
func (p *pane[R]) filter(keep func(r *R) bool, byUser bool) {
	p.rows = p.rows[:0]
	if cap(p.rows) < len(p.data) {
		p.rows = make([]int32, 0, len(p.data))
	}
	for i := range p.data {
		if keep == nil || keep(&p.data[i]) {
			p.rows = append(p.rows, int32(i))
		}
	}
	p.sort()
	if byUser && p.gone {
		p.gone, p.selID, p.cursor, p.picked, p.none = false, "", 0, false, false
		p.reselect()
	}
}

// sortItem is what sort actually orders: compact, so the sort compares integers in memory
// that sits together rather than chasing pointers into the sessions.
type sortItem struct {
	key uint64
	tie uint32
	idx int32
}

// sort orders rows by the sort column, ties by the tie order (ascending in both directions,
// so rows with equal values keep one order across refreshes); then re-finds the selection.
func (p *pane[R]) sort() {
	if ci := p.colIndex(p.sortKey); ci >= 0 && len(p.rows) > 1 {
		keys := p.colKeys(ci)
		items := p.scratch[:0]
		for _, ri := range p.rows {
			items = append(items, sortItem{key: keys[ri], tie: p.tieRank[ri], idx: ri})
		}
		var spare []sortItem
		items, spare = radixSort(items, p.radixTmp, p.desc)
		p.radixTmp = spare[:0]
		for i := range items {
			p.rows[i] = items[i].idx
		}
		p.scratch = items[:0]
	}
	p.reselect()
}

// colKeys returns (building once per snapshot) column ci's sort key for every data row:
// the number itself, or for text the rank of its head among the distinct heads and its
// trailing number.
func (p *pane[R]) colKeys(ci int) []uint64 {
	if p.keys[ci] != nil {
		return p.keys[ci]
	}
	c := &p.cols[ci]
	keys := make([]uint64, len(p.data))
	switch {
	case c.num != nil:
		for i := range p.data {
			keys[i] = uint64(c.num(&p.data[i])) ^ (1 << 63) // order-preserving for negatives
		}
	case c.str != nil:
		// Text sorts naturally ("conn9" < "conn10", "10.0.0.9:80" < "10.0.0.10:80"). Most
		// values are a head and a trailing number (ip:port, connN, ids), so only the distinct
		// heads are compared as text; the number goes into the key as is.
		ids := make(map[string]uint32)
		var heads []string
		for i := range p.data {
			head, tail, ok := splitTail(c.str(&p.data[i]))
			id, seen := ids[head]
			if !seen {
				id = uint32(len(heads))
				ids[head] = id
				heads = append(heads, head)
			}
			k := uint64(id) << 32
			if ok {
				k |= 1<<31 | tail
			}
			keys[i] = k
		}
		nat := make([]string, len(heads))
		order := make([]int32, len(heads))
		for i, h := range heads {
			nat[i], order[i] = naturalKey(h), int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(nat[a], nat[b]) })
		rank := make([]uint64, len(heads))
		for pos, h := range order {
			rank[h] = uint64(pos)
		}
		for i, k := range keys {
			keys[i] = rank[k>>32]<<32 | k&(1<<32-1)
		}
	}
	p.keys[ci] = keys
	return keys
}

// reselect puts the cursor on the row with selID, or records that it has gone.
func (p *pane[R]) reselect() {
	if p.none {
		p.gone = true
		p.cursor = max(0, min(p.cursor, len(p.rows)-1))
		return
	}
	if p.selID != "" {
		for i, ri := range p.rows {
			if p.id(&p.data[ri]) == p.selID {
				p.cursor, p.gone = i, false
				return
			}
		}
		if p.picked {
			p.gone = true
			p.cursor = max(0, min(p.cursor, len(p.rows)-1))
			return
		}
		p.selID = ""
	}
	p.gone = false
	if len(p.rows) > 0 {
		p.cursor = max(0, min(p.cursor, len(p.rows)-1))
		p.selID = p.id(&p.data[p.rows[p.cursor]])
	}
}

// selected returns the selected row, or nil when there is none or it has gone.
func (p *pane[R]) selected() *R {
	if p.gone || p.cursor < 0 || p.cursor >= len(p.rows) {
		return nil
	}
	return &p.data[p.rows[p.cursor]]
}

// move moves the selection by delta rows (clamped) and makes that row the followed one.
func (p *pane[R]) move(delta int) {
	if len(p.rows) == 0 {
		return
	}
	if p.gone && !p.none && delta > 0 {
		delta-- // the row now at the cursor took the gone row's place
	}
	p.cursor = max(0, min(p.cursor+delta, len(p.rows)-1))
	p.gone, p.picked, p.none = false, true, false
	p.selID = p.id(&p.data[p.rows[p.cursor]])
}

// selectIndex selects the row at index i of the view.
func (p *pane[R]) selectIndex(i int) {
	if i < 0 || i >= len(p.rows) {
		return
	}
	p.cursor, p.gone, p.picked, p.none = i, false, true, false
	p.selID = p.id(&p.data[p.rows[i]])
}

// unselect leaves nothing selected until the user picks a row (moves, clicks): the row under
// the cursor may carry the old row's ID and yet be something else, like an operation that
// reuses the opid of one whose kill was refused.
func (p *pane[R]) unselect() {
	p.selID, p.gone, p.picked, p.none = "", true, true, true
}

// scrollTo keeps the cursor within a window of h rows.
func (p *pane[R]) scrollTo(h int) {
	if h <= 0 {
		return
	}
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+h {
		p.offset = p.cursor - h + 1
	}
	p.offset = max(0, min(p.offset, len(p.rows)-h))
}

// setSort selects the sort column by key; choosing the current column reverses it.
func (p *pane[R]) setSort(key string) {
	ci := p.colIndex(key)
	if ci < 0 {
		return
	}
	if p.sortKey == key {
		p.desc = !p.desc
	} else {
		p.sortKey, p.desc = key, p.cols[ci].descFirst
	}
	p.sort()
}

// shiftSort moves the sort column left or right.
//
// It steps through every column the data has, also those a narrow screen leaves out (the
// pane title then names the sort column), so every column can be sorted from the keyboard.
func (p *pane[R]) shiftSort(dir, width int) {
	var cand []int
	for ci := range p.cols {
		if !p.cols[ci].optional || (ci < len(p.present) && p.present[ci]) {
			cand = append(cand, ci)
		}
	}
	if len(cand) == 0 {
		return
	}
	at := 0
	for i, ci := range cand {
		if p.cols[ci].key == p.sortKey {
			at = i
		}
	}
	at = (at + dir + len(cand)) % len(cand)
	c := p.cols[cand[at]]
	p.sortKey, p.desc = c.key, c.descFirst
	p.sort()
}

// hiddenSort names the sort column with its direction ("USER▲") when width leaves it off the
// screen, else "".
func (p *pane[R]) hiddenSort(width int) string {
	ci := p.colIndex(p.sortKey)
	if ci < 0 {
		return ""
	}
	for _, v := range p.layout(width) {
		if v.col == ci {
			return ""
		}
	}
	arrow := "▲"
	if p.desc {
		arrow = "▼"
	}
	return p.cols[ci].title + arrow
}

// visCol is a column placed on screen: its index, x offset and width.
type visCol struct{ col, x, w int }

// gutter is the width of the left margin that shows marks.
const gutter = 2

// layout decides which columns fit in width and how wide each is: every column gets its
// minimum, the least important are dropped until the rest fit, and the space left grows the
// columns towards their content width, then towards their max.
func (p *pane[R]) layout(width int) []visCol {
	avail := width - gutter
	idx := p.fitColumns(avail)
	ws := p.widths(idx, avail)
	out := make([]visCol, len(idx))
	x := gutter
	for k, i := range idx {
		out[k] = visCol{col: i, x: x, w: ws[k]}
		x += ws[k] + 1
	}
	if len(out) > 0 { // the last column takes any remainder so the row spans the width
		last := &out[len(out)-1]
		last.w = max(last.w, width-last.x)
	}
	return out
}

// fitColumns returns the columns shown in avail cells: those with data, the least important
// dropped until the rest fit at their minimum widths.
func (p *pane[R]) fitColumns(avail int) []int {
	idx := make([]int, 0, len(p.cols))
	for i := range p.cols {
		if p.cols[i].optional && (p.present == nil || !p.present[i]) {
			continue
		}
		idx = append(idx, i)
	}
	need := func(ix []int) int {
		n := 0
		for _, i := range ix {
			n += max(p.cols[i].min, len(p.cols[i].title)+1) + 1
		}
		return n - 1
	}
	for len(idx) > 1 && need(idx) > avail {
		low := 0
		for k := range idx {
			if p.cols[idx[k]].prio < p.cols[idx[low]].prio {
				low = k
			}
		}
		idx = slices.Delete(idx, low, low+1)
	}
	return idx
}

// widths sizes the columns idx in avail cells: each gets its minimum, then the room left
// grows them up to their content width, most important first, then towards max, evenly.
func (p *pane[R]) widths(idx []int, avail int) []int {
	ws := make([]int, len(idx))
	used := len(idx) - 1
	for k, i := range idx {
		ws[k] = max(p.cols[i].min, len(p.cols[i].title)+1) // +1 leaves room for the sort arrow
		used += ws[k]
	}
	order := make([]int, len(idx))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return p.cols[idx[b]].prio - p.cols[idx[a]].prio })
	for _, k := range order {
		i := idx[k]
		target := p.cols[i].min
		if p.contentW != nil {
			target = max(p.contentW[i], target)
		}
		if add := min(target-ws[k], avail-used); add > 0 {
			ws[k] += add
			used += add
		}
	}
	for changed := true; changed && used < avail; {
		changed = false
		for k, i := range idx {
			if used >= avail {
				break
			}
			if ws[k] < p.cols[i].max {
				ws[k]++
				used++
				changed = true
			}
		}
	}
	return ws
}

// colAt returns the key of the column drawn at x, or "".
func (p *pane[R]) colAt(x, width int) string {
	for _, v := range p.layout(width) {
		if x >= v.x-1 && x < v.x+v.w {
			return p.cols[v.col].key
		}
	}
	return ""
}

// rowDecor lets a pane's owner style particular cells and mark rows.
type rowDecor[R any] struct {
	mark func(r *R) string                             // gutter text (≤ 2 cells)
	cell func(r *R, key string) (lipgloss.Style, bool) // an accent for one cell
}

// render draws the column header and the rows that fit in height-1 lines.
func (p *pane[R]) render(b *strings.Builder, width, height int, focused bool, st *styles, now time.Time, dec rowDecor[R]) {
	if height <= 0 || width <= 0 {
		return
	}
	vis := p.layout(width)
	b.WriteString(st.colHeader.Render(fit(p.headerLine(vis), width, false)))
	b.WriteByte('\n')
	rowsH := height - 1
	off := max(0, min(p.offset, len(p.rows)-rowsH))
	end := min(len(p.rows), off+rowsH)
	var line strings.Builder
	for i := off; i < end; i++ {
		sel := !p.gone && i == p.cursor
		line.Reset()
		p.renderRow(&line, &p.data[p.rows[i]], vis, sel, focused, now, dec)
		switch {
		case sel && focused:
			b.WriteString(st.selected.Render(line.String()))
		case sel:
			b.WriteString(st.selectedBlur.Render(line.String()))
		default:
			b.WriteString(line.String())
		}
		b.WriteByte('\n')
	}
	for i := end - off; i < rowsH; i++ {
		b.WriteByte('\n')
	}
}

// headerLine is the column titles, the sort column with its direction.
func (p *pane[R]) headerLine(vis []visCol) string {
	var h strings.Builder
	h.WriteString(strings.Repeat(" ", gutter))
	for k, v := range vis {
		c := &p.cols[v.col]
		title := c.title
		if c.key == p.sortKey {
			if p.desc {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		if k > 0 {
			h.WriteByte(' ')
		}
		h.WriteString(fit(title, v.w, c.right))
	}
	return h.String()
}

// renderRow draws r's cells into line, unstyled but for the decorations of unselected rows.
func (p *pane[R]) renderRow(line *strings.Builder, r *R, vis []visCol, sel, focused bool, now time.Time, dec rowDecor[R]) {
	// The gutter shows the selection (also without colour) and the row's mark; the pane
	// without the focus shows its selection hollow, so the focus reads without colour too.
	switch {
	case sel && focused:
		line.WriteString("▸")
	case sel:
		line.WriteString("›")
	default:
		line.WriteByte(' ')
	}
	g := ""
	if dec.mark != nil {
		g = dec.mark(r)
	}
	line.WriteString(fit(source.Clean(g), gutter-1, false))
	for k, v := range vis {
		c := &p.cols[v.col]
		if k > 0 {
			line.WriteByte(' ')
		}
		var cell string
		if c.tail {
			cell = fitTail(source.Clean(c.text(r, now)), v.w)
		} else {
			cell = fit(source.Clean(c.text(r, now)), v.w, c.right)
		}
		if !sel && dec.cell != nil {
			if s, ok := dec.cell(r, c.key); ok {
				cell = s.Render(cell)
			}
		}
		line.WriteString(cell)
	}
}

// splitTail splits s into its head and a trailing number of at most 9 digits.
func splitTail(s string) (head string, tail uint64, ok bool) {
	j := len(s)
	for j > 0 && isDigit(s[j-1]) {
		j--
	}
	if j == len(s) || len(s)-j > 9 {
		return s, 0, false
	}
	for i := j; i < len(s); i++ {
		tail = tail*10 + uint64(s[i]-'0')
	}
	return s[:j], tail, true
}

// varies reports whether str gives at least two different non-empty values over data.
func varies[R any](data []R, str func(*R) string) bool {
	first := ""
	for i := range data {
		v := str(&data[i])
		switch {
		case v == "":
		case first == "":
			first = v
		case v != first:
			return true
		}
	}
	return false
}
