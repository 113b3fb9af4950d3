package ui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// helpScreen is the ? overlay: every state's keys, from the keymaps' FullHelp, and the filter
// language, in a scrolling text.
type helpScreen struct {
	keys  helpKeys
	lines []string // the text, unwrapped
	text  textView
}

func newHelpScreen() helpScreen { return helpScreen{keys: newHelpKeys(), text: newTextView()} }

// build lays the help out for width: the panes' groups (main) in two columns when the screen
// is wide enough, then the other states' groups, then the filter language.
func (hs *helpScreen) build(h help.Model, width int, readonly bool, main groupedHelp, states ...groupedHelp) {
	var lines []string
	lines = append(lines, columns(groupBlocks(h, main.groups()), width)...)
	for _, km := range states {
		for _, blk := range groupBlocks(h, km.groups()) {
			lines = append(lines, blk...)
		}
	}
	lines = append(lines, filterLanguage()...)
	lines = append(lines, "")
	if readonly {
		lines = append(lines, "  Read-only mode: kill is disabled.")
	}
	lines = append(lines,
		"  Three counts say \"active\": the header's \"active conns\" is the server's count of connections",
		"  running something now (serverStatus connections.active); \"ops N (M running)\" counts the",
		"  operations the sessions pane lists under the toggles, M of them running (not idle cursors or",
		"  sessions); the clients pane's ACTIVE is the operations in flight from that client IP.",
		"  The selection follows a session by ID across refreshes; when one you picked goes, nothing is selected.")
	hs.lines = lines
	hs.text.setLines(lines)
}

// keyColumn is the width the keys of every group are padded to, so that the descriptions line
// up across groups (keys longer than that push their group's descriptions right).
const keyColumn = 23

// groupBlocks draws each group as a blank line, its title, and its keys with bubbles' help.
func groupBlocks(h help.Model, gs []helpGroup) [][]string {
	blocks := make([][]string, 0, len(gs))
	for _, g := range gs {
		if len(g.keys) == 0 {
			continue
		}
		keys := make([]key.Binding, len(g.keys))
		for i, b := range g.keys {
			keys[i] = b
			if hk := b.Help(); textWidth(hk.Key) < keyColumn {
				keys[i].SetHelp(hk.Key+strings.Repeat(" ", keyColumn-textWidth(hk.Key)), hk.Desc)
			}
		}
		blk := []string{"", "  " + g.title}
		for _, l := range strings.Split(h.FullHelpView([][]key.Binding{keys}), "\n") {
			blk = append(blk, "    "+l)
		}
		blocks = append(blocks, blk)
	}
	return blocks
}

// helpColumn is the width of one column of the two-column layout.
const helpColumn = 62

// columns lays blocks out in two columns, the first filled to about half, when width allows.
func columns(blocks [][]string, width int) []string {
	var left, right []string
	if width < 2*helpColumn-4 {
		for _, blk := range blocks {
			left = append(left, blk...)
		}
		return left
	}
	total := 0
	for _, blk := range blocks {
		total += len(blk)
	}
	for _, blk := range blocks {
		if len(left) < total/2 {
			left = append(left, blk...)
		} else {
			right = append(right, blk...)
		}
	}
	lines := make([]string, 0, max(len(left), len(right)))
	for i := 0; i < max(len(left), len(right)); i++ {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		if r == "" {
			lines = append(lines, l)
			continue
		}
		lines = append(lines, padStyled(l, helpColumn)+r)
	}
	return lines
}

// padStyled pads or cuts a styled line to exactly w cells.
func padStyled(s string, w int) string {
	sw := lipgloss.Width(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// filterLanguage explains the filter terms (source.ParseFilter's language), aligned with the
// keys above.
func filterLanguage() []string {
	fields := slices.DeleteFunc(slices.Clone(source.FilterFields), func(f string) bool { return f == "running" })
	terms := [][2]string{
		{`text  "two words"`, "any column contains the text (case-insensitive)"},
		{"field:text", "one column contains it; fields: " + strings.Join(fields, " ")},
		{"field=text", "one column equals it"},
		{"/regex/  field:/re/", "regular expression (case-insensitive)"},
		{"running>5s", "running time: > >= < <= = with us ms s m h (a bare number is seconds)"},
		{"-term  !term", "negation"},
	}
	lines := []string{"", "  Filter terms (all must match)"}
	for _, t := range terms {
		lines = append(lines, "    "+t[0]+strings.Repeat(" ", max(1, keyColumn+1-textWidth(t[0])))+t[1])
	}
	return lines
}
