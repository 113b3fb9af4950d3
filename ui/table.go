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
	// facts is what the shown rows have in common per column (see layout.go); present marks
	// the columns some shown row has a value in.
	facts   []colFacts
	present []bool
	// dataProbe is what every row of the snapshot has in common, per column.
	dataProbe []probe
	// fit is the layout drawn last and the held widths it came from; epoch counts the changes
	// the user made to what is shown (filter, sort), after which widths start afresh.
	fit   fitting
	epoch int
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

// setData replaces the rows' source; the caller filters next.
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
	p.findDataFacts()
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
	p.findFacts()
	if byUser {
		p.epoch++
	}
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
	p.epoch++
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
	p.epoch++
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

// colAt returns the key of the column drawn at x (or in the space before it), or "". It
// reads the layout drawn last, so a click hits the column the user sees under the pointer.
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
	dim  func(r *R) bool                               // the row is drawn faint, without accents
}

// render draws the column header and the rows that fit in height-1 lines.
func (p *pane[R]) render(b *strings.Builder, width, height int, focused bool, st *styles, now time.Time, dec rowDecor[R]) {
	if height <= 0 || width <= 0 {
		return
	}
	rowsH := height - 1
	p.settle(width, rowsH, now)
	vis := p.fit.vis
	b.WriteString(st.colHeader.Render(fit(p.header(vis), width, false)))
	b.WriteByte('\n')

	off := max(0, min(p.offset, len(p.rows)-rowsH))
	end := min(len(p.rows), off+rowsH)
	var line strings.Builder
	for i := off; i < end; i++ {
		r := &p.data[p.rows[i]]
		sel := !p.gone && i == p.cursor
		line.Reset()
		// The gutter shows the selection (also without colour) and the row's mark; the pane
		// without the focus shows its selection hollow, so the focus reads without colour too.
		if sel && focused {
			line.WriteString("▸")
		} else if sel {
			line.WriteString("›")
		} else {
			line.WriteByte(' ')
		}
		g := ""
		if dec.mark != nil {
			g = dec.mark(r)
		}
		line.WriteString(fit(source.Clean(g), gutter-1, false))
		faint := !sel && dec.dim != nil && dec.dim(r)
		for k, v := range vis {
			c := &p.cols[v.col]
			if k > 0 {
				line.WriteByte(' ')
			}
			var cell string
			if text := source.Clean(p.cellText(v.col, r, now)); c.tail {
				cell = fitTail(text, v.w)
			} else {
				cell = fit(text, v.w, c.right)
			}
			if !sel && !faint && dec.cell != nil {
				if s, ok := dec.cell(r, c.key); ok {
					cell = s.Render(cell)
				}
			}
			line.WriteString(cell)
		}
		switch {
		case sel && focused:
			b.WriteString(st.selected.Render(line.String()))
		case sel:
			b.WriteString(st.selectedBlur.Render(line.String()))
		case faint:
			b.WriteString(st.dim.Render(line.String()))
		default:
			b.WriteString(line.String())
		}
		b.WriteByte('\n')
	}
	for i := end - off; i < rowsH; i++ {
		b.WriteByte('\n')
	}
}

// header is the column titles over vis. The sort arrow has a cell of its own after the title,
// kept blank on the other columns, so sorting moves no title.
func (p *pane[R]) header(vis []visCol) string {
	var h strings.Builder
	h.WriteString(strings.Repeat(" ", gutter))
	for k, v := range vis {
		c := &p.cols[v.col]
		arrow := " "
		if c.key == p.sortKey {
			arrow = "▲"
			if p.desc {
				arrow = "▼"
			}
		}
		if k > 0 {
			h.WriteByte(' ')
		}
		if c.right {
			h.WriteString(fit(c.title, v.w-1, true) + arrow)
		} else {
			h.WriteString(fit(c.title+arrow, v.w, false))
		}
	}
	return h.String()
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
