// Package ui is currentop's interactive terminal program: a header with the deployment's
// state, a clients pane and a sessions pane that refresh live, a filter bar, a detail view and
// kill with confirmation. It is one Bubble Tea v2 model made of parts with their own state
// (refresher, panes, filterBar, detailView, helpScreen, killDialog) and their own keymaps; all
// I/O runs in commands, all state changes in Update, and View draws only what fits.
package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/currentop/currentop/source"
)

// Options configure the UI.
type Options struct {
	// Source is what is monitored; kill is offered when it also implements source.Killer.
	Source source.Source
	// Interval is the refresh interval, 0.5–60 s (default 2 s).
	Interval time.Duration
	// Readonly removes kill entirely.
	Readonly bool
	// Query holds the initial toggles (idle, system) and filter.
	Query source.Query
	// Now is the clock (default time.Now); tests inject a fixed one.
	Now func() time.Time
	// Connect, when set, opens the source once the screen is up (Source is then ignored): the
	// header says what it connects to (Target) and q quits at once. What it returns is closed
	// when the program ends; its error ends the program and Run returns it.
	Connect func(ctx context.Context) (source.Source, error)
	// Target is what is monitored, secrets masked, shown until the first snapshot names it.
	Target string
	// StormThreshold is the rate of new connections per second from one client IP that,
	// sustained over 3 refreshes, is a connection storm (default source.DefaultStormThreshold).
	StormThreshold float64
	// ASCII draws sparklines with plain characters (Run sets it when the locale is not UTF-8).
	ASCII bool
}

const (
	defaultInterval = 2 * time.Second
	minInterval     = 500 * time.Millisecond
	maxInterval     = 60 * time.Second
	maxBackoff      = 30 * time.Second
	fetchTimeout    = 15 * time.Second
	killTimeout     = 20 * time.Second
	statusTTL       = 10 * time.Second
	hungGrace       = 5 * time.Second
)

// intervalSteps are the values + and - step through.
var intervalSteps = []time.Duration{
	500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second,
	10 * time.Second, 15 * time.Second, 30 * time.Second, 60 * time.Second,
}

// overlay is what covers the panes, if anything.
type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayDetail
	overlayConfirm
	overlayEvents
	overlayVitals
)

// Messages.
type (
	// snapshotMsg is the result of one fetch, tagged with the generation it was asked under.
	snapshotMsg struct {
		id   uint64 // which fetch this answers
		gen  uint64
		snap *source.Snapshot
		err  error
	}
	// tickMsg arms the next fetch; only the newest armed tick (seq) counts.
	tickMsg struct{ seq uint64 }
	// clockMsg redraws the ages in the header once a second.
	clockMsg struct{}
	// killDoneMsg carries the outcome of a kill.
	killDoneMsg struct{ results []source.KillResult }
	// detailMsg carries one session read whole (source.Detailer) for the detail view or for
	// y; seq says which request it answers.
	detailMsg struct {
		seq  uint64
		copy bool // y asked for it: copy its command rather than show it
		s    *source.Session
		err  error
	}
)

// Model is the Bubble Tea model of the UI. Create it with New. It composes the parts — the
// refresh loop, the panes, the filter bar, the detail view, the help screen and the kill
// dialog — routes messages and keys to them, and keeps what they share: the query, the
// source's capabilities, the screen size and styles, and the status line.
type Model struct {
	connect  func(ctx context.Context) (source.Source, error)
	target   string
	owned    *owned        // what connect opened, closed by Run
	quit     chan struct{} // closed when the program ends: cancels the connect and the fetch
	stopOnce sync.Once
	fatal    error           // ends the program: Run returns it
	killer   source.Killer   // nil: the source cannot kill
	detailer source.Detailer // nil: the snapshot's sessions are all there is
	readonly bool
	now      func() time.Time

	// query holds the toggles (sent to the source) and the last valid filter (applied here).
	query source.Query
	scope memberScope // the members the m key cycles through

	width, height int
	isDark, mono  bool
	st            styles
	keyHelp       help.Model // draws the keymaps: the footer, the help screen, the dialog
	keys          mainKeys
	interrupt     key.Binding // ends the program in every state

	loop    refresher
	panes   panes
	filter  filterBar
	overlay overlay
	detail  detailView
	help    helpScreen
	confirm killDialog
	status  statusLine
	churn   source.Churn // every good snapshot's clients: churn per IP and storms
	events  eventLog
	vitals  vitals     // history of the server's figures and the header's vitals line
	vview   vitalsView // the v overlay
	ascii   bool       // sparklines in plain characters
}

// New returns the model for opts; defaults fill what opts leave out.
func New(opts Options) *Model {
	m := &Model{
		connect:   opts.Connect,
		target:    opts.Target,
		owned:     &owned{},
		quit:      make(chan struct{}),
		readonly:  opts.Readonly,
		now:       opts.Now,
		query:     opts.Query,
		isDark:    true,
		keys:      newMainKeys(opts.Readonly),
		interrupt: newBinding("ctrl+c", "quit", "ctrl+c"),
		panes:     newPanes(),
		detail:    newDetailView(opts.Readonly),
		help:      newHelpScreen(),
		confirm:   newKillDialog(),
		churn:     source.Churn{Threshold: opts.StormThreshold},
		events:    newEventLog(),
		vview:     newVitalsView(),
		ascii:     opts.ASCII,
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.panes.churn = &m.churn
	src := opts.Source
	if opts.Connect != nil {
		src = nil // Connect opens it
	}
	m.loop = newRefresher(src, opts.Interval, m.now, m.quit)
	m.vitals = newVitals(m.loop.interval)
	m.useSource(src)
	if f := opts.Query.Filter; f.Text != "" && len(f.Terms) == 0 {
		pf, err := parseFilter(f.Text)
		if err != nil {
			m.setStatus(fmt.Sprintf("filter %q ignored: %v", f.Text, err), true)
			pf = source.Filter{}
		}
		m.query.Filter = pf
	}
	m.filter = newFilterBar(m.query.Filter.Text)
	m.setStyles()
	m.syncKeys()
	return m
}

// useSource takes src's optional capabilities: kill (unless read-only) and whole-session reads.
func (m *Model) useSource(src source.Source) {
	m.killer, m.detailer = nil, nil
	if k, ok := src.(source.Killer); ok && !m.readonly {
		m.killer = k
	}
	m.detailer, _ = src.(source.Detailer)
}

func (m *Model) setStyles() {
	m.st = newStyles(m.isDark, m.mono)
	m.keyHelp = newKeyHelp(&m.st)
	m.buildHelp()
}

// Init connects or starts the first fetch, asks for the background colour and starts the
// header clock.
func (m *Model) Init() tea.Cmd {
	var first tea.Cmd
	if m.connect != nil {
		first = m.connectCmd()
	} else {
		first = m.loop.fetch(m.query)
	}
	return tea.Batch(first, tea.RequestBackgroundColor, m.loop.schedule(time.Second, clockMsg{}))
}

// Update applies one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.syncKeys()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.buildHelp()
		m.fixScroll()
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.setStyles()
	case tea.ColorProfileMsg:
		m.mono = msg.Profile <= colorprofile.ASCII
		m.setStyles()
	case connectedMsg:
		return m.onConnected(msg)
	case snapshotMsg:
		return m.onSnapshot(msg)
	case tickMsg:
		return m.loop.onTick(msg, m.query)
	case clockMsg:
		var cmd tea.Cmd
		if failed, ok := m.loop.hung(); ok {
			cmd = m.onSnapshot(failed)
		}
		return tea.Batch(cmd, m.loop.schedule(time.Second, clockMsg{}))
	case killDoneMsg:
		return m.onKillDone(msg)
	case detailMsg:
		return m.onDetail(msg)
	case tea.KeyPressMsg:
		return m.onKey(msg)
	case tea.MouseClickMsg:
		m.onClick(msg.Mouse())
	case tea.MouseWheelMsg:
		m.onWheel(msg)
	default:
		if m.filter.paste(msg) {
			return m.onFilterEdited()
		}
	}
	return nil
}

// syncKeys tells the keymaps what their footers depend on.
func (m *Model) syncKeys() {
	m.keys.sync(m.panes.focus, m.panes.paused, m.canKill(), len(m.panes.marked))
	m.keys.syncGroups(m.panes.showingGroups(), m.panes.open != "", m.panes.nextGroupBy(), len(m.panes.markedGroups))
	m.detail.keys.canKill = m.canKill()
	m.keys.Members.SetEnabled(m.scope.known())
}

func (m *Model) canKill() bool { return !m.readonly && m.killer != nil }

// buildHelp lays the help screen out for the width, from every state's keymap.
func (m *Model) buildHelp() {
	states := []groupedHelp{m.filter.keys, m.detail.keys, m.vview.keys, m.events.keys}
	if !m.readonly {
		states = append(states, m.confirm.keys)
	}
	m.help.build(m.keyHelp, m.width, m.readonly, m.keys, append(states, m.help.keys)...)
}

// onSnapshot shows a new snapshot (unless paused) and keeps the loop going.
func (m *Model) onSnapshot(msg snapshotMsg) tea.Cmd {
	res, cmd := m.loop.onSnapshot(msg, m.query)
	m.onAnswer(res, m.now())
	switch res {
	case answerFailed:
		m.fixScroll() // the header has grown an error line
	case answerGood, answerCapped, answerRecovered:
		if res == answerRecovered {
			m.setStatus("recovered after "+ageString(m.loop.recoveredAfter.Round(time.Second)), false)
		}
		m.vitals.record(m.loop.latest, m.loop.latestAt) // paused or not: the history keeps going
		m.vitals.alert = m.stormText()                  // the storms as they are now, paused or not
		if !m.panes.paused {
			m.show(m.loop.latest, m.loop.latestAt)
		}
		m.refreshVitalsView()
		if res == answerCapped {
			return m.queryChanged()
		}
	}
	return cmd
}

// show puts snap on the panes.
func (m *Model) show(snap *source.Snapshot, at time.Time) {
	m.scope.learn(snap, m.query.Members)
	m.panes.show(snap, at, m.query)
	if m.detail.row != nil {
		m.detail.follow(m.panes.find(m.detail.row.s.ID), at)
	}
	m.rowsChanged()
}

// refilter re-derives the panes' rows after the user changed what is shown.
func (m *Model) refilter() {
	m.panes.refilter(m.query, true)
	m.rowsChanged()
}

// rowsChanged follows a change of the panes' rows: the detail view says whether its session
// is still listed, and the selections stay in their windows.
func (m *Model) rowsChanged() {
	if m.detail.row != nil {
		m.detail.listed = m.panes.listed(m.detail.row.s.ID)
	}
	m.fixScroll()
}

// queryChanged applies a new query: rows are re-derived from the data at hand at once, and a
// fetch under a new generation replaces it (an in-flight one is dropped when it lands).
func (m *Model) queryChanged() tea.Cmd {
	cmd := m.loop.queryChanged(m.query)
	m.refilter()
	return cmd
}

func (m *Model) setStatus(s string, bad bool) { m.status.set(s, bad, m.now()) }

// fixScroll fits each part to its place on the screen: the panes' selections stay inside
// their windows, the texts get the body's size.
func (m *Model) fixScroll() {
	l := m.layout()
	m.panes.cli.scrollTo(l.cliH - 2)
	m.panes.sess.scrollTo(l.sessH - 2)
	m.panes.grp.scrollTo(l.sessH - 2)
	m.detail.text.setSize(m.width, l.bodyH-1)
	m.help.text.setSize(m.width, l.bodyH-1)
	m.events.text.setSize(m.width, l.bodyH-1)
	m.vview.text.setSize(m.width, l.bodyH-1)
	m.refreshVitalsView()
}

// setInterval changes the refresh interval; a waiting tick is re-armed with it.
func (m *Model) setInterval(d time.Duration) tea.Cmd {
	changed, cmd := m.loop.setInterval(d)
	if changed {
		m.setStatus("refreshing every "+intervalString(m.loop.interval), false)
	}
	return cmd
}
