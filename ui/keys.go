package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// Every key the UI reacts to is a binding in one of the keymaps below, one per state: the
// panes, the filter bar (and its line editor), the detail view, the kill dialog and the help
// screen. key.Matches against them is the only way a key is recognised. Each keymap is a
// help.KeyMap: the footer is the current state's ShortHelp and the ? screen every state's
// FullHelp, both drawn by bubbles' help from the bindings themselves, so what is documented
// is what is matched.

func newBinding(helpKey, desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
}

// anyOf is one binding standing for several (↑↓ for every move key): the footer names them
// together, and matching it says that one of them was pressed.
func anyOf(helpKey, desc string, bs ...key.Binding) key.Binding {
	var keys []string
	for _, b := range bs {
		keys = append(keys, b.Keys()...)
	}
	return newBinding(helpKey, desc, keys...)
}

// spelled is b as the help screen lists it: every key that triggers it, and a description
// that may say more than the footer has room for.
func spelled(b key.Binding, desc string) key.Binding {
	return newBinding(strings.Join(b.Keys(), " "), desc, b.Keys()...)
}

// helpGroup is one titled group of the help screen.
type helpGroup struct {
	title string
	keys  []key.Binding
}

// groupedHelp is a keymap whose FullHelp comes in titled groups, for the help screen.
type groupedHelp interface {
	help.KeyMap
	groups() []helpGroup
}

func fullHelp(gs []helpGroup) [][]key.Binding {
	out := make([][]key.Binding, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.keys)
	}
	return out
}

// step is one move of the selection or of a scrolled text.
type step int

const (
	stepNone step = iota
	stepUp
	stepDown
	stepPageUp
	stepPageDown
	stepFirst
	stepLast
)

// moveKeys move the selection in a pane or scroll a text.
type moveKeys struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
}

func paneMoveKeys() moveKeys {
	return moveKeys{
		Up:       newBinding("↑", "move up", "up", "ctrl+p"),
		Down:     newBinding("↓", "move down", "down", "ctrl+n"),
		PageUp:   newBinding("pgup", "page up", "pgup", "ctrl+u", "ctrl+b"),
		PageDown: newBinding("pgdn", "page down", "pgdown", "ctrl+d", "ctrl+f"),
		Home:     newBinding("g", "first row", "home", "g"),
		End:      newBinding("G", "last row", "end", "G"),
	}
}

// scrollKeys scroll the detail view and the help screen: the panes' keys, and space pages.
func scrollKeys() moveKeys {
	k := paneMoveKeys()
	k.PageDown = newBinding("pgdn space", "page down", append(k.PageDown.Keys(), "space")...)
	return k
}

func (k moveKeys) step(msg tea.KeyPressMsg) step {
	switch {
	case key.Matches(msg, k.Up):
		return stepUp
	case key.Matches(msg, k.Down):
		return stepDown
	case key.Matches(msg, k.PageUp):
		return stepPageUp
	case key.Matches(msg, k.PageDown):
		return stepPageDown
	case key.Matches(msg, k.Home):
		return stepFirst
	case key.Matches(msg, k.End):
		return stepLast
	}
	return stepNone
}

// spelledAll is one help-screen entry for every move key, in their short forms.
func (k moveKeys) spelledAll(desc string) key.Binding {
	var names []string
	all := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
	for _, b := range all {
		if b.Enabled() {
			names = append(names, b.Help().Key)
		}
	}
	b := anyOf("", desc, all...)
	b.SetHelp(strings.Join(names, " "), desc)
	return b
}

// mainKeys are the keys of the panes (no overlay, filter bar closed).
type mainKeys struct {
	moveKeys
	Focus, FocusBack, Zoom            key.Binding
	Sort, SortPrev, SortNext, Reverse key.Binding
	Filter, Enter, Back               key.Binding
	Idle, System                      key.Binding
	Pause, Refresh, Faster, Slower    key.Binding
	Mark, Kill, Copy                  key.Binding
	Groups, GroupBy                   key.Binding
	Help, Quit                        key.Binding
	Members                           key.Binding // enabled while the source reports members
	Events                            key.Binding
	Vitals                            key.Binding

	// The state the footer depends on, kept current by sync.
	focus    focusPane
	paused   bool
	canKill  bool
	marked   int
	readonly bool // kill and mark are left out of the help
	// The grouped view's state (syncGroups).
	grouped, inGroup bool
	nextBy           string
	markedGroups     int
}

func newMainKeys(readonly bool) mainKeys {
	k := mainKeys{
		moveKeys:  paneMoveKeys(),
		Focus:     newBinding("tab", "switch pane", "tab"),
		FocusBack: newBinding("shift+tab", "switch pane", "shift+tab"),
		Zoom:      newBinding("z", "maximise pane", "z"),
		SortPrev:  newBinding("<", "sort left", "<", ","),
		SortNext:  newBinding(">", "sort right", ">", "."),
		Reverse:   newBinding("r", "reverse sort", "r"),
		Filter:    newBinding("/", "filter", "/"),
		Enter:     newBinding("enter", "details", "enter"),
		Back:      newBinding("esc", "unmark", "esc"),
		Idle:      newBinding("i", "show idle connections", "i"),
		System:    newBinding("s", "show internal/system ops", "s"),
		Pause:     newBinding("p", "pause", "p"),
		Refresh:   newBinding("R", "refresh now", "R", "ctrl+r", "f5"),
		Faster:    newBinding("+", "refresh faster", "+", "="),
		Slower:    newBinding("-", "refresh slower", "-", "_"),
		Mark:      newBinding("space", "mark", "space"),
		Kill:      newBinding("k", "kill", "k", "delete"),
		Copy:      newBinding("y", "copy command", "y"),
		Groups:    newBinding("t", "groups", "t"),
		GroupBy:   newBinding("T", "group by", "T"),
		Help:      newBinding("?", "help", "?", "f1"),
		Quit:      newBinding("q", "quit", "q", "ctrl+c"),
		Members:   newBinding("m", "members", "m"),
		Events:    newBinding("e", "events", "e"),
		Vitals:    newBinding("v", "vitals", "v"),
		readonly:  readonly,
		focus:     focusSessions,
	}
	k.Sort = anyOf("< >", "sort", k.SortPrev, k.SortNext)
	return k
}

// sync adapts the footer to the state: where enter and tab lead, p resumes, k kills the marks.
func (k *mainKeys) sync(focus focusPane, paused, canKill bool, marked int) {
	if k.focus == focus && k.paused == paused && k.canKill == canKill && k.marked == marked {
		return
	}
	k.focus, k.paused, k.canKill, k.marked = focus, paused, canKill, marked
	if focus == focusClients {
		k.Enter.SetHelp("enter", "sessions of client")
		k.Focus.SetHelp("tab", "sessions")
	} else {
		k.Enter.SetHelp("enter", "details")
		k.Focus.SetHelp("tab", "clients")
	}
	k.Pause.SetHelp("p", "pause")
	if paused {
		k.Pause.SetHelp("p", "resume")
	}
	k.Kill.SetHelp("k", "kill")
	if marked > 0 {
		k.Kill.SetHelp("k", fmt.Sprintf("kill %d marked", marked))
	}
}

// syncGroups adapts the footer to the grouped view: enter opens a group, k kills one, t goes
// back to rows, T names the next grouping. It runs after sync, every time (sync leaves alone
// what did not change for it).
func (k *mainKeys) syncGroups(groups, inGroup bool, nextBy string, markedGroups int) {
	k.grouped, k.inGroup, k.nextBy, k.markedGroups = groups, inGroup, nextBy, markedGroups
	k.Groups.SetHelp("t", "groups")
	k.GroupBy.SetHelp("T", "by "+nextBy)
	k.Back.SetHelp("esc", "unmark")
	if inGroup {
		k.Back.SetHelp("esc", "groups")
		k.Groups.SetHelp("t", "all rows") // t leaves the group for every session's row
	}
	k.Mark.SetHelp("space", "mark")
	k.Kill.SetHelp("k", "kill")
	if k.marked > 0 {
		k.Kill.SetHelp("k", fmt.Sprintf("kill %d marked", k.marked))
	}
	if k.focus == focusSessions {
		k.Enter.SetHelp("enter", "details")
	}
	if !groups {
		return
	}
	k.Groups.SetHelp("t", "rows")
	k.Mark.SetHelp("space", "mark group")
	k.Kill.SetHelp("k", "kill group")
	if markedGroups > 0 {
		k.Kill.SetHelp("k", fmt.Sprintf("kill %d marked groups", markedGroups))
	}
	if k.focus == focusSessions {
		k.Enter.SetHelp("enter", "sessions of group")
	}
}

// ShortHelp is the footer, most useful first; while paused, resuming comes first.
func (k mainKeys) ShortHelp() []key.Binding {
	bs := make([]key.Binding, 0, 16)
	if k.paused {
		bs = append(bs, k.Pause)
	}
	if k.focus == focusSessions && k.grouped {
		bs = append(bs, k.Enter, k.Filter)
		if k.canKill {
			bs = append(bs, k.Kill)
			if k.markedGroups > 0 || k.marked > 0 {
				bs = append(bs, k.Back)
			}
			bs = append(bs, k.Mark)
		}
		bs = append(bs, k.Groups, k.GroupBy, k.Sort, k.Reverse)
	} else if k.focus == focusClients {
		bs = append(bs, k.Enter, k.Filter, k.Members, k.Sort, k.Reverse, k.Focus)
	} else {
		bs = append(bs, k.Enter, k.Filter)
		if k.inGroup {
			bs = append(bs, k.Back)
		}
		if k.canKill {
			bs = append(bs, k.Kill)
			if k.marked > 0 && !k.inGroup {
				bs = append(bs, k.Back)
			}
			bs = append(bs, k.Mark)
		}
		bs = append(bs, k.Members, k.Sort, k.Reverse, k.Groups)
	}
	if !k.paused {
		bs = append(bs, k.Pause)
	}
	if k.focus == focusSessions {
		bs = append(bs, k.Focus)
	}
	bs = append(bs, k.Idle)
	if k.focus == focusClients {
		bs = append(bs, k.System)
	}
	return append(bs, k.Zoom, k.Vitals, k.Events, k.Help, k.Quit)
}

func (k mainKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k mainKeys) groups() []helpGroup {
	gs := []helpGroup{
		{"Move (or the mouse: wheel, click a row)", []key.Binding{
			spelled(k.Up, "move up"), spelled(k.Down, "move down"), spelled(k.PageUp, "page up"),
			spelled(k.PageDown, "page down"), spelled(k.Home, "first row"), spelled(k.End, "last row"),
			spelled(k.Focus, "switch pane"), spelled(k.FocusBack, "switch pane"), spelled(k.Zoom, "maximise pane"),
		}},
		{"Sort (or click a column header; click again to reverse)", []key.Binding{
			spelled(k.SortPrev, "sort by the column to the left"), spelled(k.SortNext, "sort by the column to the right"),
			spelled(k.Reverse, "reverse sort"),
		}},
		{"Filter", []key.Binding{spelled(k.Filter, "filter"), spelled(k.Back, "clear marks, group, client, filter")}},
		{"Group (the filter applies before grouping)", []key.Binding{
			spelled(k.Groups, "sessions as groups / as rows"),
			spelled(k.GroupBy, "next grouping: shape, app, ns…"),
			newBinding("enter", "sessions of the group (esc: back)", "enter"),
		}},
		{"Show", []key.Binding{
			spelled(k.Enter, "details / sessions of client"), spelled(k.Idle, "show idle connections"),
			spelled(k.System, "show internal/system ops"), spelled(k.Copy, "copy command"),
			spelled(k.Members, "members: all, primary, one"),
			spelled(k.Events, "event log: outages, storms…"),
			spelled(k.Vitals, "vitals over 10 minutes"),
		}},
		{"Refresh", []key.Binding{
			spelled(k.Pause, "pause"), spelled(k.Refresh, "refresh now"),
			spelled(k.Faster, "refresh faster"), spelled(k.Slower, "refresh slower"),
		}},
	}
	if !k.readonly {
		gs = append(gs, helpGroup{"Kill", []key.Binding{spelled(k.Mark, "mark session or group"),
			spelled(k.Kill, "kill (a group: its sessions)")}})
	}
	return append(gs, helpGroup{"Program", []key.Binding{spelled(k.Help, "help"), spelled(k.Quit, "quit")}})
}

// editKeys are the line editor's keys (the filter bar); other printable keys are typed.
type editKeys struct {
	Left, Right, Start, End                            key.Binding
	DeleteBack, DeleteForward, DeleteWord, ClearBefore key.Binding
	ClearAfter, Space                                  key.Binding
}

func newEditKeys() editKeys {
	return editKeys{
		Left:          newBinding("←", "left", "left", "ctrl+b"),
		Right:         newBinding("→", "right", "right", "ctrl+f"),
		Start:         newBinding("home", "to the start", "home", "ctrl+a"),
		End:           newBinding("end", "to the end", "end", "ctrl+e"),
		DeleteBack:    newBinding("backspace", "delete back", "backspace", "ctrl+h"),
		DeleteForward: newBinding("delete", "delete forward", "delete", "ctrl+d"),
		DeleteWord:    newBinding("ctrl+w", "delete a word back", "ctrl+w", "alt+backspace"),
		ClearBefore:   newBinding("ctrl+u", "delete to the start", "ctrl+u"),
		ClearAfter:    newBinding("ctrl+k", "delete to the end", "ctrl+k"),
		Space:         newBinding("space", "space", "space"),
	}
}

// filterKeys are the filter bar's keys: the editor's, and those that close it or move the
// selection in the sessions pane meanwhile.
type filterKeys struct {
	moveKeys
	Move        key.Binding // any move key, for the footer
	Keep, Clear key.Binding
	edit        editKeys
}

func newFilterKeys() filterKeys {
	k := filterKeys{
		moveKeys: moveKeys{
			Up:       newBinding("↑", "move up", "up"),
			Down:     newBinding("↓", "move down", "down"),
			PageUp:   newBinding("pgup", "page up", "pgup"),
			PageDown: newBinding("pgdn", "page down", "pgdown"),
		},
		Keep:  newBinding("enter", "keep filter", "enter"),
		Clear: newBinding("esc", "clear filter", "esc"),
		edit:  newEditKeys(),
	}
	k.Move = anyOf("↑↓", "move", k.Up, k.Down, k.PageUp, k.PageDown)
	return k
}

func (k filterKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Keep, k.Clear, k.Move} }
func (k filterKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k filterKeys) groups() []helpGroup {
	e := k.edit
	return []helpGroup{
		{"In the filter bar (the filter applies as you type)", []key.Binding{
			spelled(k.Keep, "keep the filter"), spelled(k.Clear, "clear the filter"),
			k.spelledAll("move the selection"),
		}},
		{"Editing the filter", []key.Binding{
			spelled(e.Left, "cursor left"), spelled(e.Right, "cursor right"), spelled(e.Start, "to the start"),
			spelled(e.End, "to the end"), spelled(e.DeleteBack, "delete back"), spelled(e.DeleteForward, "delete forward"),
			spelled(e.DeleteWord, "delete a word back"), spelled(e.ClearBefore, "delete to the start"),
			spelled(e.ClearAfter, "delete to the end"),
		}},
	}
}

// detailKeys are the detail view's keys.
type detailKeys struct {
	moveKeys
	Scroll                  key.Binding // any scroll key, for the footer
	Copy, Kill, Close, Help key.Binding

	canKill  bool // the footer offers kill
	readonly bool // the help leaves kill out
}

func newDetailKeys(readonly bool) detailKeys {
	k := detailKeys{
		moveKeys: scrollKeys(),
		Copy:     newBinding("y", "copy command", "y"),
		// Kill is matched also when it cannot work, to say why.
		Kill:     newBinding("k", "kill", "k", "delete"),
		Close:    newBinding("esc", "back", "esc", "q", "enter"),
		Help:     newBinding("?", "help", "?", "f1"),
		readonly: readonly,
	}
	k.Scroll = anyOf("↑↓/pgdn", "scroll", k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End)
	return k
}

func (k detailKeys) ShortHelp() []key.Binding {
	bs := []key.Binding{k.Scroll, k.Copy}
	if k.canKill {
		bs = append(bs, k.Kill)
	}
	return append(bs, k.Close, k.Help)
}

func (k detailKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k detailKeys) groups() []helpGroup {
	bs := []key.Binding{k.spelledAll("scroll"), spelled(k.Copy, "copy the command (OSC 52)")}
	if !k.readonly {
		bs = append(bs, spelled(k.Kill, "kill"))
	}
	return []helpGroup{{"In the detail view", append(bs, spelled(k.Close, "return"), spelled(k.Help, "help"))}}
}

// confirmKeys are the kill dialog's keys.
type confirmKeys struct {
	Yes, No key.Binding
}

func newConfirmKeys() confirmKeys {
	return confirmKeys{
		Yes: newBinding("y", "kill", "y", "Y"),
		No:  newBinding("n/esc", "cancel", "n", "N", "esc", "q"),
	}
}

func (k confirmKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Yes, k.No} }
func (k confirmKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k confirmKeys) groups() []helpGroup {
	return []helpGroup{{"In the kill dialog", []key.Binding{spelled(k.Yes, "kill"), spelled(k.No, "cancel")}}}
}

// helpKeys are the help screen's keys.
type helpKeys struct {
	moveKeys
	Scroll, Close key.Binding
}

func newHelpKeys() helpKeys {
	k := helpKeys{moveKeys: scrollKeys(), Close: newBinding("esc/?", "close", "esc", "?", "f1", "q")}
	k.Scroll = anyOf("↑↓", "scroll", k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End)
	return k
}

func (k helpKeys) ShortHelp() []key.Binding { return []key.Binding{k.Scroll, k.Close} }

func (k helpKeys) FullHelp() [][]key.Binding { return fullHelp(k.groups()) }

func (k helpKeys) groups() []helpGroup {
	return []helpGroup{{"In this help", []key.Binding{k.spelledAll("scroll"), spelled(k.Close, "close")}}}
}
