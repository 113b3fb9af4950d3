package ui

import (
	"charm.land/lipgloss/v2"
)

// styles is every style the UI draws with, built for the terminal's background. With mono set
// (NO_COLOR, or a terminal without colours) meaning is carried by bold, reverse and faint
// only, never by colour alone.
type styles struct {
	appName      lipgloss.Style
	label        lipgloss.Style
	value        lipgloss.Style
	dim          lipgloss.Style
	live         lipgloss.Style
	paused       lipgloss.Style
	stale        lipgloss.Style
	errText      lipgloss.Style
	paneTitle    lipgloss.Style
	paneFocused  lipgloss.Style
	colHeader    lipgloss.Style
	selected     lipgloss.Style
	selectedBlur lipgloss.Style
	warn         lipgloss.Style
	alert        lipgloss.Style
	mark         lipgloss.Style
	ok           lipgloss.Style
	key          lipgloss.Style
	keyDesc      lipgloss.Style
	dialog       lipgloss.Style
	dialogTitle  lipgloss.Style
	filterPrompt lipgloss.Style
	spark        lipgloss.Style // sparklines
}

func newStyles(isDark, mono bool) styles {
	s := lipgloss.NewStyle
	if mono {
		return styles{
			appName:      s().Bold(true),
			label:        s(),
			value:        s().Bold(true),
			dim:          s().Faint(true),
			live:         s().Bold(true),
			paused:       s().Bold(true).Reverse(true),
			stale:        s().Bold(true).Reverse(true),
			errText:      s().Bold(true),
			paneTitle:    s().Underline(true),
			paneFocused:  s().Bold(true).Reverse(true),
			colHeader:    s().Bold(true),
			selected:     s().Reverse(true),
			selectedBlur: s().Underline(true),
			warn:         s().Bold(true),
			alert:        s().Bold(true).Underline(true),
			mark:         s().Bold(true),
			ok:           s(),
			key:          s().Bold(true),
			keyDesc:      s(),
			dialog:       s().Border(lipgloss.NormalBorder()).Padding(0, 1),
			dialogTitle:  s().Bold(true),
			filterPrompt: s().Bold(true),
			spark:        s(),
		}
	}
	ld := lipgloss.LightDark(isDark)
	accent := ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#9D8CFF"))
	muted := ld(lipgloss.Color("#6B6B6B"), lipgloss.Color("#8A8A8A"))
	warn := ld(lipgloss.Color("#9A6700"), lipgloss.Color("#E3B341"))
	alert := ld(lipgloss.Color("#C0262D"), lipgloss.Color("#FF6B6B"))
	good := ld(lipgloss.Color("#1A7F37"), lipgloss.Color("#56D364"))
	barBg := ld(lipgloss.Color("#E4E0F7"), lipgloss.Color("#2E2A47"))
	barFg := ld(lipgloss.Color("#1F1F1F"), lipgloss.Color("#E6E6E6"))
	selBg := ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#6C5CE7"))
	selBlurBg := ld(lipgloss.Color("#D0D0D0"), lipgloss.Color("#3A3A3A"))
	white := lipgloss.Color("#FFFFFF")
	return styles{
		appName:      s().Bold(true).Foreground(accent),
		label:        s().Foreground(muted),
		value:        s().Bold(true),
		dim:          s().Foreground(muted),
		live:         s().Bold(true).Foreground(good),
		paused:       s().Bold(true).Foreground(white).Background(warn).Padding(0, 1),
		stale:        s().Bold(true).Foreground(white).Background(alert).Padding(0, 1),
		errText:      s().Foreground(alert),
		paneTitle:    s().Foreground(barFg).Background(barBg),
		paneFocused:  s().Bold(true).Foreground(white).Background(accent),
		colHeader:    s().Bold(true).Foreground(muted),
		selected:     s().Foreground(white).Background(selBg),
		selectedBlur: s().Background(selBlurBg),
		warn:         s().Foreground(warn),
		alert:        s().Bold(true).Foreground(alert),
		mark:         s().Bold(true).Foreground(warn),
		ok:           s().Foreground(good),
		key:          s().Bold(true).Foreground(accent),
		keyDesc:      s().Foreground(muted),
		dialog:       s().Border(lipgloss.RoundedBorder()).BorderForeground(alert).Padding(0, 1),
		dialogTitle:  s().Bold(true).Foreground(alert),
		filterPrompt: s().Bold(true).Foreground(accent),
		spark:        s().Foreground(accent),
	}
}
