package ui

import (
	"slices"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// filterExample follows the filter bar's keys in the footer when there is room.
const filterExample = "e.g. op:query ns:/^shop/ running>5s -app:mongosh"

func newKeyHelp(st *styles) help.Model {
	h := help.New()
	h.ShortSeparator = "  "
	h.Styles = help.Styles{
		ShortKey: st.key, ShortDesc: st.keyDesc, Ellipsis: st.keyDesc,
		FullKey: st.key, FullDesc: lipgloss.NewStyle(),
	}
	return h
}

// stateKeys is the keymap of the state that has the keyboard.
func (m *Model) stateKeys() help.KeyMap {
	switch {
	case m.filter.open:
		return m.filter.keys
	case m.overlay == overlayConfirm:
		return m.confirm.keys
	case m.overlay == overlayHelp:
		return m.help.keys
	case m.overlay == overlayDetail:
		return m.detail.keys
	case m.overlay == overlayEvents:
		return m.events.keys
	case m.overlay == overlayVitals:
		return m.vview.keys
	}
	return m.keys
}

// footer is the last line: the current state's ShortHelp, drawn by bubbles' help, cut to the
// width by dropping bindings from the end while help and quit stay.
func (m *Model) footer() string {
	bs := fitShortHelp(m.stateKeys().ShortHelp(), m.width, m.keyHelp.ShortSeparator, func(b key.Binding) bool {
		return sameKeys(b, m.keys.Help) || sameKeys(b, m.keys.Quit)
	})
	line := m.keyHelp.ShortHelpView(bs)
	if w := lipgloss.Width(line); w > m.width { // not even help and quit fit
		h := m.keyHelp
		h.SetWidth(m.width)
		return h.ShortHelpView(bs)
	}
	if m.filter.open && lipgloss.Width(line)+2+textWidth(filterExample) <= m.width {
		line += m.keyHelp.ShortSeparator + m.st.keyDesc.Render(filterExample)
	}
	return line
}

func sameKeys(a, b key.Binding) bool { return slices.Equal(a.Keys(), b.Keys()) }

// fitShortHelp drops bindings from the end, except the pinned ones there, until the rest fit
// in width cells as help.Model draws them ("key desc", joined by sep).
func fitShortHelp(bs []key.Binding, width int, sep string, pinned func(key.Binding) bool) []key.Binding {
	bs = slices.DeleteFunc(slices.Clone(bs), func(b key.Binding) bool { return !b.Enabled() })
	tail := 0
	for tail < len(bs) && pinned(bs[len(bs)-1-tail]) {
		tail++
	}
	itemW := func(b key.Binding) int { h := b.Help(); return textWidth(h.Key) + 1 + textWidth(h.Desc) }
	total := 0
	for i, b := range bs {
		if i > 0 {
			total += textWidth(sep)
		}
		total += itemW(b)
	}
	for head := len(bs) - tail; total > width && head > 0; head-- {
		total -= itemW(bs[head-1])
		if len(bs) > 1 {
			total -= textWidth(sep)
		}
		bs = slices.Delete(bs, head-1, head)
	}
	return bs
}
