package ui

// headerAlert is the one place the header's alert comes from: the connection storms named at
// the last answer (stormText, kept in vitals.alert), in the warning style; "" when there is
// none. It leads the vitals line, which drops sparklines and figures to fit but never the
// alert, so that on a narrow terminal the storm stays on screen (the counters line, cut at
// its right edge, would lose it first). Without vitals the line still exists while there is
// an alert.
func (m *Model) headerAlert() string {
	if m.vitals.alert == "" {
		return ""
	}
	return m.st.warn.Render(m.vitals.alert)
}
