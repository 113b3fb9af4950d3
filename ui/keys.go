package ui

import "charm.land/bubbles/v2/key"

// keyMap is every key the UI reacts to; the help screen and the footer are drawn from it, so
// what is documented is what is matched.
type keyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Focus, FocusBack, Zoom                key.Binding
	SortPrev, SortNext, Reverse           key.Binding
	Filter, Enter, Back                   key.Binding
	Idle, System                          key.Binding
	Pause, Refresh, Faster, Slower        key.Binding
	Mark, Kill, Copy                      key.Binding
	Help, Quit                            key.Binding
	// Dialog keys.
	Yes, No key.Binding
}

func defaultKeyMap() keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Up:        b([]string{"up", "ctrl+p"}, "↑", "move up"),
		Down:      b([]string{"down", "ctrl+n"}, "↓", "move down"),
		PageUp:    b([]string{"pgup", "ctrl+u", "ctrl+b"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+d", "ctrl+f"}, "pgdn", "page down"),
		Home:      b([]string{"home", "g"}, "g/home", "first row"),
		End:       b([]string{"end", "G"}, "G/end", "last row"),
		Focus:     b([]string{"tab"}, "tab", "switch pane"),
		FocusBack: b([]string{"shift+tab"}, "shift+tab", "switch pane"),
		Zoom:      b([]string{"z"}, "z", "maximise pane"),
		SortPrev:  b([]string{"<", ","}, "<", "sort by column to the left"),
		SortNext:  b([]string{">", "."}, ">", "sort by column to the right"),
		Reverse:   b([]string{"r"}, "r", "reverse sort"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Enter:     b([]string{"enter"}, "enter", "details / sessions of client"),
		Back:      b([]string{"esc"}, "esc", "clear marks, client, filter"),
		Idle:      b([]string{"i"}, "i", "show idle connections"),
		System:    b([]string{"s"}, "s", "show internal/system ops"),
		Pause:     b([]string{"p"}, "p", "pause"),
		Refresh:   b([]string{"R", "ctrl+r", "f5"}, "R", "refresh now"),
		Faster:    b([]string{"+", "="}, "+", "refresh faster"),
		Slower:    b([]string{"-", "_"}, "-", "refresh slower"),
		Mark:      b([]string{"space"}, "space", "mark session"),
		Kill:      b([]string{"k", "delete"}, "k", "kill"),
		Copy:      b([]string{"y"}, "y", "copy command"),
		Help:      b([]string{"?", "f1"}, "?", "help"),
		Quit:      b([]string{"q", "ctrl+c"}, "q", "quit"),
		Yes:       b([]string{"y", "Y"}, "y", "yes, kill"),
		No:        b([]string{"n", "N", "esc", "q"}, "n/esc", "cancel"),
	}
}
