// Package ui is currentop's interactive terminal program: a header with the deployment's
// state, a clients pane and a sessions pane that refresh live, a filter bar, a detail view and
// kill with confirmation. It is one Bubble Tea v2 model; all I/O runs in commands, all state
// changes in Update, and View draws only what fits on the screen.
package ui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

type focusPane int

const (
	focusClients focusPane = iota
	focusSessions
)

type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayDetail
	overlayConfirm
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

// Model is the Bubble Tea model of the UI. Create it with New.
type Model struct {
	src      source.Source
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
	// schedule returns a command delivering msg after d; tests replace it to observe delays.
	schedule func(d time.Duration, msg tea.Msg) tea.Cmd

	interval time.Duration
	query    source.Query // toggles (sent to the source) and the last valid filter (applied here)

	width, height int
	isDark, mono  bool
	st            styles
	keys          keyMap

	// Refresh loop.
	connecting bool   // connect is running; no fetch before it ends
	gen        uint64 // bumped when the query changes; older results are dropped
	inFlight   bool
	// pushFilter is set once the source could not send every session (cloud APIs page and
	// cap): from then on the filter goes to the source too, so that what it sends is what
	// matches, not an arbitrary first part.
	pushFilter bool
	fetchID    uint64    // the fetch in flight; answers to abandoned fetches are ignored
	fetchedAt  time.Time // when the fetch in flight started
	tickSeq    uint64
	failures   int
	lastErr    error
	errSince   time.Time // first failure of the current streak
	nextRetry  time.Time

	latest   *source.Snapshot // newest good snapshot
	latestAt time.Time
	shown    *source.Snapshot // what the panes show: latest unless paused
	shownAt  time.Time
	paused   bool

	cli       pane[cliRow]
	sess      pane[sessRow]
	cliTotal  int // clients before the filter
	sessTotal int // sessions before the filter
	activeOps int
	totalOps  int
	narrowIP  string          // sessions pane narrowed to this client IP
	marked    map[string]bool // session IDs marked for kill
	focus     focusPane
	maximised bool
	filterIn  lineEdit
	filtering bool
	filterErr string
	// filterErrAt is the byte offset and length of the bad text; offset -1 when unknown.
	filterErrAt [2]int
	overlay     overlay
	detail      scroller
	detailRow   *sessRow
	detailAt    time.Time
	detailSeq   uint64 // the newest Detail request; older answers are dropped
	detailNote  string // what the detail view says about the whole document ("" = it is shown)
	// detailListed: the session in the detail view is still among the rows.
	detailListed bool
	// goneHidden: the followed session is still in the data but filtered out.
	goneHidden bool
	help       scroller
	confirm    []source.Session
	killing    bool
	status     string
	statusBad  bool
	statusAt   time.Time
}

// New returns the model for opts; defaults fill what opts leave out.
func New(opts Options) *Model {
	m := &Model{
		src:      opts.Source,
		connect:  opts.Connect,
		target:   opts.Target,
		owned:    &owned{},
		quit:     make(chan struct{}),
		readonly: opts.Readonly,
		now:      opts.Now,
		interval: clampInterval(opts.Interval),
		query:    opts.Query,
		isDark:   true,
		keys:     defaultKeyMap(),
		marked:   map[string]bool{},
		focus:    focusSessions,
		schedule: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if k, ok := opts.Source.(source.Killer); ok && !opts.Readonly && opts.Connect == nil {
		m.killer = k
	}
	if opts.Connect != nil {
		m.src = nil
	}
	m.detailer, _ = opts.Source.(source.Detailer)
	if opts.Readonly {
		m.keys.Kill.SetEnabled(false)
		m.keys.Mark.SetEnabled(false)
	}
	m.st = newStyles(m.isDark, m.mono)
	m.sess = pane[sessRow]{
		cols: sessionColumns(), sortKey: "running", desc: true, tie: compareID,
		id: func(r *sessRow) string { return r.s.ID },
	}
	m.cli = pane[cliRow]{
		cols: clientColumns(), sortKey: "conns", desc: true,
		tie: func(a, b *cliRow) int { return naturalCompare(a.c.IP, b.c.IP) },
		id:  func(r *cliRow) string { return r.c.IP },
	}
	m.filterIn = lineEdit{prompt: "/ ", limit: 512}
	if f := opts.Query.Filter; f.Text != "" && len(f.Terms) == 0 {
		pf, err := parseFilter(f.Text)
		if err != nil {
			m.setStatus(fmt.Sprintf("filter %q ignored: %v", f.Text, err), true)
			pf = source.Filter{}
		}
		m.query.Filter = pf
	}
	m.filterIn.SetValue(m.query.Filter.Text)
	return m
}

func clampInterval(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultInterval
	}
	return max(minInterval, min(d, maxInterval))
}

// Init connects or starts the first fetch, asks for the background colour and starts the
// header clock.
func (m *Model) Init() tea.Cmd {
	first := m.fetch
	if m.connect != nil {
		first = m.connectCmd
	}
	return tea.Batch(first(), tea.RequestBackgroundColor, m.schedule(time.Second, clockMsg{}))
}

// Update applies one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.rewrap()
		m.fixScroll()
		return m, nil
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		m.st = newStyles(m.isDark, m.mono)
		return m, nil
	case tea.ColorProfileMsg:
		m.mono = msg.Profile <= colorprofile.ASCII
		m.st = newStyles(m.isDark, m.mono)
		return m, nil
	case connectedMsg:
		return m, m.onConnected(msg)
	case snapshotMsg:
		return m, m.onSnapshot(msg)
	case tickMsg:
		if msg.seq != m.tickSeq || m.inFlight {
			return m, nil
		}
		return m, m.fetch()
	case clockMsg:
		return m, tea.Batch(m.abandonHungFetch(), m.schedule(time.Second, clockMsg{}))
	case killDoneMsg:
		return m, m.onKillDone(msg)
	case detailMsg:
		return m, m.onDetail(msg)
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.MouseClickMsg:
		return m, m.onClick(msg.Mouse())
	case tea.MouseWheelMsg:
		m.onWheel(msg.Mouse())
		return m, nil
	}
	if m.filtering && m.filterIn.update(msg) { // paste
		return m, m.onFilterEdited()
	}
	return m, nil
}

// fetch starts one snapshot request. It is the only place that sets inFlight, so at most one
// request is ever outstanding; it also invalidates any armed tick.
func (m *Model) fetch() tea.Cmd {
	if m.connecting {
		return nil // the first fetch starts when the connect ends, with the query as it is then
	}
	m.inFlight = true
	m.tickSeq++
	m.fetchID++
	m.fetchedAt = m.now()
	src, q, gen, id, quit := m.src, m.query, m.gen, m.fetchID, m.quit
	// The filter is applied here, not pushed down: the panes need the unfiltered count for
	// "N of M", and a filter edit then needs no round trip. Only a source that cannot send
	// everything gets it (pushFilter); the filter is still applied here to what it sends.
	if !m.pushFilter {
		q.Filter = source.Filter{}
	}
	// The panes show only the sessions' fields; the detail view reads a session whole.
	q.Lean = m.detailer != nil
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		ctx, stop := withQuit(ctx, quit)
		defer stop()
		snap, err := snapshotOf(ctx, src, q)
		return snapshotMsg{id: id, gen: gen, snap: snap, err: err}
	}
}

// abandonHungFetch gives up on a fetch that outlived its timeout by a wide margin (a source
// that ignores its context): it counts as a failure and the loop goes on.
func (m *Model) abandonHungFetch() tea.Cmd {
	if !m.inFlight || m.now().Sub(m.fetchedAt) < fetchTimeout+hungGrace {
		return nil
	}
	m.fetchID++ // its answer, should it come, is ignored
	return m.onSnapshot(snapshotMsg{id: m.fetchID, gen: m.gen,
		err: fmt.Errorf("the source did not answer within %s; check the network and the server", fetchTimeout)})
}

// snapshotOf calls the source and turns its misbehaviour (nil result, panic) into errors.
func snapshotOf(ctx context.Context, src source.Source, q source.Query) (snap *source.Snapshot, err error) {
	if src == nil {
		return nil, errors.New("no source configured")
	}
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("source failed: %v", r)
		}
	}()
	snap, err = src.Snapshot(ctx, q)
	if err == nil && snap == nil {
		err = errors.New("source returned no snapshot")
	}
	return snap, err
}

// arm schedules the next fetch after d; any earlier armed tick is ignored when it fires.
func (m *Model) arm(d time.Duration) tea.Cmd {
	m.tickSeq++
	return m.schedule(d, tickMsg{seq: m.tickSeq})
}

// backoff is the delay before retry number n (1-based): the interval doubled per failure,
// capped at maxBackoff.
func backoff(interval time.Duration, n int) time.Duration {
	return source.Backoff{Base: interval, Max: maxBackoff}.Delay(n - 1)
}

func (m *Model) onSnapshot(msg snapshotMsg) tea.Cmd {
	if msg.id != m.fetchID || !m.inFlight {
		return nil // an abandoned fetch
	}
	m.inFlight = false
	if msg.gen != m.gen {
		// Asked under settings that have changed since: drop it and ask again now.
		return m.fetch()
	}
	now := m.now()
	if msg.err != nil {
		if m.lastErr == nil {
			m.errSince = now
		}
		m.failures++
		m.lastErr = msg.err
		d := backoff(m.interval, m.failures)
		m.nextRetry = now.Add(d)
		m.fixScroll()
		return m.arm(d)
	}
	m.failures, m.lastErr = 0, nil
	m.latest, m.latestAt = msg.snap, now
	if !m.paused {
		m.show(msg.snap, now)
	}
	if msg.snap.TotalSessions > len(msg.snap.Sessions) && !m.pushFilter {
		m.pushFilter = true
		if !m.query.Filter.Empty() {
			return m.queryChanged() // this answer was not filtered by the source: ask again
		}
	}
	return m.arm(m.interval)
}

// show makes snap the data on screen: rows are rebuilt, filtered and sorted here so that View
// only has to draw.
func (m *Model) show(snap *source.Snapshot, at time.Time) {
	m.shown, m.shownAt = snap, at
	sd := make([]sessRow, len(snap.Sessions))
	for i := range snap.Sessions {
		sd[i] = newSessRow(&snap.Sessions[i])
	}
	cd := make([]cliRow, len(snap.Clients))
	for i := range snap.Clients {
		cd[i] = newCliRow(&snap.Clients[i])
	}
	m.sess.setData(sd)
	m.cli.setData(cd)
	m.refilter(false)
	if len(m.marked) > 0 { // marks follow IDs; drop those that have left
		live := make(map[string]bool, len(m.marked))
		for i := range sd {
			if id := sd[i].s.ID; m.marked[id] {
				live[id] = true
			}
		}
		m.marked = live
	}
}

// refilter recomputes both panes' rows from the data on screen and the current settings;
// byUser says the user changed the settings (rather than new data arriving).
func (m *Model) refilter(byUser bool) {
	f := m.query.Filter
	m.cliTotal = 0
	m.cli.filter(func(r *cliRow) bool {
		if r.c.Internal && !m.query.System {
			return false
		}
		m.cliTotal++
		return matchClient(f, r.c)
	}, byUser)
	m.refilterSessions(byUser)
}

func (m *Model) refilterSessions(byUser bool) {
	f := m.query.Filter
	m.sessTotal, m.totalOps, m.activeOps = 0, 0, 0
	m.sess.filter(func(r *sessRow) bool {
		if !m.wantType(r.s) {
			return false
		}
		if t := r.s.Type; t == source.TypeOp || t == "" { // the header counts what the toggles show
			m.totalOps++
			if r.s.Active {
				m.activeOps++
			}
		}
		if m.narrowIP != "" && r.clientIP != m.narrowIP {
			return false
		}
		m.sessTotal++
		return matchSession(f, r.s)
	}, byUser)
	m.goneHidden = m.sess.gone && m.sess.selID != "" && m.inData(m.sess.selID)
	if m.detailRow != nil {
		m.detailListed = m.listed(m.detailRow.s.ID)
	}
	m.fixScroll()
}

// inData reports whether id is in the snapshot on screen, filtered or not.
func (m *Model) inData(id string) bool {
	for i := range m.sess.data {
		if m.sess.data[i].s.ID == id {
			return true
		}
	}
	return false
}

// listed reports whether id is among the rows on screen.
func (m *Model) listed(id string) bool {
	for _, i := range m.sess.rows {
		if m.sess.data[i].s.ID == id {
			return true
		}
	}
	return false
}

// wantType applies the idle and system toggles locally: sources may return a superset.
func (m *Model) wantType(s *source.Session) bool { return m.query.Shows(s) }

// queryChanged applies a new query: rows are re-derived from the data at hand at once, and a
// fetch under a new generation replaces it (an in-flight one is dropped when it lands).
func (m *Model) queryChanged() tea.Cmd {
	m.gen++
	m.refilter(true)
	if m.inFlight {
		return nil
	}
	return m.fetch()
}

func (m *Model) setStatus(s string, bad bool) {
	m.status, m.statusBad, m.statusAt = s, bad, m.now()
}

// fixScroll keeps each pane's selection inside its window.
func (m *Model) fixScroll() {
	l := m.layout()
	m.cli.scrollTo(l.cliH - 2)
	m.sess.scrollTo(l.sessH - 2)
	m.detail.clamp(l.bodyH - 1)
	m.help.clamp(l.bodyH - 1)
}

// setInterval changes the refresh interval; a waiting tick is re-armed with it.
func (m *Model) setInterval(d time.Duration) tea.Cmd {
	d = clampInterval(d)
	if d == m.interval {
		return nil
	}
	m.interval = d
	m.setStatus("refreshing every "+intervalString(d), false)
	if m.inFlight || m.lastErr != nil {
		return nil // the pending result or retry re-arms with the new interval
	}
	return m.arm(d)
}

func nextInterval(cur time.Duration, dir int) time.Duration {
	if dir > 0 {
		for _, s := range intervalSteps {
			if s > cur {
				return s
			}
		}
		return maxInterval
	}
	for i := len(intervalSteps) - 1; i >= 0; i-- {
		if intervalSteps[i] < cur {
			return intervalSteps[i]
		}
	}
	return minInterval
}
