package ui

// headerAlert is what the vitals line leads with and never drops: a storm named by the
// events part, for instance. Empty: nothing to call out. It is its own function in its own
// file so that the part that raises alerts can fill it without touching the vitals line.
func (m *Model) headerAlert() string { return "" }
