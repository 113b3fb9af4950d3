package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/source"
)

// The whole deployment: a replica set's members, or every member of every shard behind a
// mongos, each read through its own direct client (the same credentials and TLS options as
// the user's URI), in parallel with a bound, within the refresh's one deadline. A member
// that does not answer marks only its own rows stale (its last-seen sessions, Session.Stale)
// and is not asked again until its backoff has passed, so a dead member costs the timeout
// at most once per backoff, never every refresh.
//
// Session IDs are "host:port/<the member's own ID>" ("10.0.0.5:27017/4119786"): opids are
// per process, so two members may report the same one; Kill and Detail route an ID to the
// member before the "/" and hand it the rest. Through a mongos whose shards cannot be
// reached directly, the IDs stay the mongos's "shard01:4119786".

// errDeadline is the cause of a refresh's own deadline: a member still reading then did not
// answer in time, whereas a caller's cancellation says nothing about the member.
var errDeadline = errors.New("the refresh's deadline passed")

// cancelled reports whether ctx ended for another reason than the refresh's deadline.
func cancelled(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errDeadline)
}

// fanConcurrency bounds the members read at once.
const fanConcurrency = 8

// memberBackoff spaces the retries of a member that did not answer.
var memberBackoff = source.Backoff{Base: time.Second, Max: 15 * time.Second, Jitter: 0.2}

// fanout watches the members of the deployment a Source is connected to.
type fanout struct {
	parent  *Source
	base    *options.ClientOptions // the user's options for a member's direct client
	now     func() time.Time       // tests inject a clock
	backoff source.Backoff

	mu      sync.Mutex
	members map[string]*member // by lower-case host
	known   topology           // the last discovery that answered
	reached bool               // a shard member was once read directly
}

// member is one member's client and what it last said.
type member struct {
	host, set string     // never change: a member is known by its host
	info      memberInfo // guarded by fanout.mu (discovery updates it)

	src    atomic.Pointer[Source] // nil until first read
	closed atomic.Bool

	mu      sync.Mutex       // one poll at a time; guards what follows
	last    []source.Session // its sessions as last seen (IDs prefixed, Host set)
	lastM   source.Member
	fails   int
	retryAt time.Time
	err     string
}

func newFanout(parent *Source, base *options.ClientOptions) *fanout {
	return &fanout{parent: parent, base: base, now: time.Now, backoff: memberBackoff, members: map[string]*member{}}
}

// memberBase keeps what a member's client shares with the user's: credentials, TLS and the
// wire options. The URI itself is not reused: a mongodb+srv URI forbids a direct connection.
func memberBase(o *options.ClientOptions) *options.ClientOptions {
	b := options.Client()
	b.Auth = o.Auth
	b.TLSConfig = o.TLSConfig
	b.Compressors = o.Compressors
	b.ZlibLevel = o.ZlibLevel
	b.ZstdLevel = o.ZstdLevel
	b.ServerAPIOptions = o.ServerAPIOptions
	b.DisableOCSPEndpointCheck = o.DisableOCSPEndpointCheck
	b.DisableCertificateRevocationCheck = o.DisableCertificateRevocationCheck
	b.HTTPClient = o.HTTPClient
	b.BSONOptions = o.BSONOptions
	b.Registry = o.Registry
	return b
}

// memberOptions are base's options for a direct connection to host.
func memberOptions(base *options.ClientOptions, host string) *options.ClientOptions {
	o := *base // shallow: the shared parts are only read
	o.Hosts = []string{host}
	o.Direct = nil
	o.ReplicaSet = nil
	o.SetDirect(true)
	return &o
}

// open connects to one member. A dial that fails (refused, unknown host) gives up at once
// rather than waiting out the server selection timeout.
func (f *fanout) open(ctx context.Context, host string) (*Source, error) {
	p := f.parent
	s := &Source{
		target: host, user: p.user, creds: p.creds, secrets: p.secrets,
		timeout: p.timeout, dial: newDialerSharing(p.dial.book), limits: p.limits,
	}
	octx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(&dialError{err}) }
	s.dial.onFail.Store(&fail)
	defer s.dial.onFail.Store(nil)
	if err := s.connect(octx, memberOptions(f.base, host)); err != nil {
		var de *dialError
		if errors.As(context.Cause(octx), &de) && !cancelled(ctx) {
			return nil, s.fail(source.ErrUnreachable, de.err, fmt.Sprintf("unreachable: %v", de.err), "cannot reach %s: %v", host, de.err)
		}
		return nil, err
	}
	return s, nil
}

// sync brings the members in line with a discovery: new ones are added (opened when first
// read), those gone are closed.
func (f *fanout) sync(t topology) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known = t
	keep := map[string]bool{}
	for _, mi := range t.members {
		k := strings.ToLower(mi.Host)
		keep[k] = true
		if m := f.members[k]; m != nil {
			m.info = mi
			continue
		}
		f.members[k] = newMember(mi)
	}
	for k, m := range f.members {
		if !keep[k] && !m.info.Hidden {
			delete(f.members, k)
			go m.close()
		}
	}
}

// addHidden keeps hidden members the user named.
func (f *fanout) addHidden(ms []memberInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, mi := range ms {
		if mi.Hidden && f.members[strings.ToLower(mi.Host)] == nil {
			f.members[strings.ToLower(mi.Host)] = newMember(mi)
		}
	}
}

func (f *fanout) isSharded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known.sharded
}

func (f *fanout) member(host string) *member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.members[strings.ToLower(host)]
}

func newMember(mi memberInfo) *member { return &member{host: mi.Host, set: mi.Set, info: mi} }

func (m *member) close() {
	m.closed.Store(true)
	if src := m.src.Swap(nil); src != nil {
		_ = src.Close()
	}
}

// client is the member's open Source, or nil.
func (m *member) client() *Source { return m.src.Load() }

// infoOf is what discovery last said of m.
func (f *fanout) infoOf(m *member) memberInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m.info
}

// close closes every member's client.
func (f *fanout) close() {
	f.mu.Lock()
	ms := make([]*member, 0, len(f.members))
	for _, m := range f.members {
		ms = append(ms, m)
	}
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.close()
		}()
	}
	wg.Wait()
}

// polled is one member's part of a refresh.
type polled struct {
	info     memberInfo
	member   source.Member
	sessions []source.Session
	clients  []source.Client
	server   *source.Server
	warnings []string
	partial  bool
	status   *replStatus // the member's set as it reports it (sharded: from shard primaries)
}

// poll reads one member: its snapshot, or, when it does not answer or is waiting out its
// backoff, its last-seen sessions marked stale.
func (f *fanout) poll(ctx context.Context, m *member, q source.Query) polled {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := polled{info: f.infoOf(m)}
	if m.closed.Load() || f.parent.closed.Load() {
		return f.stale(m, p, "it left the deployment")
	}
	if cancelled(ctx) {
		return f.stale(m, p, "the refresh was cancelled")
	}
	if f.now().Before(m.retryAt) {
		return f.stale(m, p, m.err)
	}
	src, err := f.client(ctx, m)
	switch {
	case cancelled(ctx):
		return f.stale(m, p, "the refresh was cancelled")
	case err != nil:
		return f.failed(m, p, err)
	case src == nil:
		return f.stale(m, p, "it left the deployment")
	}
	var (
		snap *source.Snapshot
		wg   sync.WaitGroup
	)
	if f.isSharded() && (m.lastM.State == "PRIMARY" || m.lastM.State == "") {
		// The shard's lag, from its primary (replSetGetStatus), beside its snapshot; before
		// the primary is known, from every member once.
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rs, err := src.replSetStatus(ctx); err == nil {
				p.status = &rs
			}
		}()
	}
	snap, err = f.read(ctx, src, q)
	wg.Wait()
	if cancelled(ctx) {
		return f.stale(m, p, "the refresh was cancelled")
	}
	if err != nil {
		return f.failed(m, p, err)
	}
	return f.answered(m, p, snap)
}

// answered records a member's snapshot: its sessions under their deployment IDs, its member
// facts, and what it said, as what it last said.
func (f *fanout) answered(m *member, p polled, snap *source.Snapshot) polled {
	m.fails, m.err, m.retryAt = 0, "", time.Time{}
	p.member = memberOf(p.info, snap)
	p.sessions = make([]source.Session, 0, len(snap.Sessions))
	for _, s := range snap.Sessions {
		s.ID = m.host + "/" + s.ID
		s.Host = m.host
		if f.isSharded() {
			s.Shard = m.set
		}
		p.sessions = append(p.sessions, s)
	}
	p.clients = snap.Clients
	p.server = &snap.Server
	p.partial = snap.Partial
	for _, w := range snap.Warnings {
		p.warnings = append(p.warnings, m.host+": "+w)
	}
	m.last, m.lastM = p.sessions, p.member
	return p
}

// read takes a member's snapshot. A dial to the member that fails meanwhile (it went down:
// refused, unknown host) ends the read at once instead of at the refresh's deadline.
func (f *fanout) read(ctx context.Context, src *Source, q source.Query) (*source.Snapshot, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(&dialError{err}) }
	src.dial.onFail.Store(&fail)
	defer src.dial.onFail.Store(nil)
	snap, err := src.snapshot(rctx, q, true)
	var de *dialError
	if err != nil && errors.As(context.Cause(rctx), &de) && !cancelled(ctx) {
		return nil, src.fail(source.ErrUnreachable, de.err, fmt.Sprintf("unreachable: %v", de.err), "cannot reach %s: %v", src.target, de.err)
	}
	return snap, err
}

// dialError is a failed dial that ended a member's read.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }

// client is m's open client, opened now if need be; nil (and no error) when m left the
// deployment or the source closed meanwhile.
func (f *fanout) client(ctx context.Context, m *member) (*Source, error) {
	if src := m.src.Load(); src != nil {
		return src, nil
	}
	src, err := f.open(ctx, m.host)
	if err != nil {
		return nil, err
	}
	m.src.Store(src)
	if m.closed.Load() || f.parent.closed.Load() {
		if m.src.CompareAndSwap(src, nil) {
			_ = src.Close()
		}
		return nil, nil
	}
	return src, nil
}

// failed records a failed read and starts (or lengthens) the member's backoff.
func (f *fanout) failed(m *member, p polled, err error) polled {
	m.fails++
	m.retryAt = f.now().Add(f.backoff.Delay(m.fails - 1))
	m.err = shortReason(err)
	return f.stale(m, p, m.err)
}

// stale is the member as last seen, marked as not answering.
func (f *fanout) stale(m *member, p polled, why string) polled {
	p.member = m.lastM
	p.member.Host, p.member.Kind, p.member.Set = m.host, memberKind(p.info), m.set
	p.member.OK, p.member.Stale, p.member.Error = false, true, why
	p.member.Sample = nil
	p.sessions = make([]source.Session, len(m.last))
	for i, s := range m.last {
		s.Stale = true
		p.sessions[i] = s
	}
	return p
}

// shortReason is an error's hint when it has one (the member strip has little room), else
// its cleaned text.
func shortReason(err error) string {
	var se *source.Error
	if errors.As(err, &se) && se.Hint != "" {
		return source.Clean(se.Hint)
	}
	return source.Clean(err.Error())
}

func memberKind(mi memberInfo) string {
	if mi.Kind == "" {
		return "mongod"
	}
	return mi.Kind
}

// memberOf is the member as its snapshot shows it.
func memberOf(mi memberInfo, snap *source.Snapshot) source.Member {
	m := source.Member{
		Host: mi.Host, Kind: memberKind(mi), Set: mi.Set, OK: true,
		Version:     snap.Server.Version,
		Connections: int(snap.Server.Connections.Current),
		Sample:      snap.Server.Sample,
	}
	if sm := snap.Server.Sample; sm != nil {
		m.State = sm.ReplState
	}
	if m.State == "" {
		m.State = "STANDALONE"
	}
	for i := range snap.Sessions {
		if s := &snap.Sessions[i]; s.Type == source.TypeOp && s.Active && !s.Internal {
			m.Ops++
		}
	}
	return m
}

// memberQuery is q as a member is asked it: the host and shard a merged session shows are
// its member's and set's, not what the member's own documents say, so filter terms on them
// stay client-side (the caller applies the whole filter anyway).
func memberQuery(q source.Query) source.Query {
	terms := make([]source.Term, 0, len(q.Filter.Terms))
	for _, t := range q.Filter.Terms {
		if t.Field != "host" && t.Field != "shard" {
			terms = append(terms, t)
		}
	}
	q.Filter.Terms = terms
	return q
}

// pollAll reads the members in parallel, at most fanConcurrency at once, in members' order.
func (f *fanout) pollAll(ctx context.Context, infos []memberInfo, q source.Query) []polled {
	out := make([]polled, len(infos))
	mq := memberQuery(q)
	sem := make(chan struct{}, fanConcurrency)
	var wg sync.WaitGroup
	for i, mi := range infos {
		m := f.member(mi.Host)
		if m == nil {
			out[i] = polled{info: mi, member: source.Member{Host: mi.Host, Kind: memberKind(mi), Set: mi.Set, Error: "not found"}}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = f.poll(ctx, m, mq)
		}()
	}
	wg.Wait()
	return out
}

// snapshot reads the whole deployment once.
func (f *fanout) snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	outer := ctx
	ctx, cancel := context.WithTimeoutCause(ctx, f.parent.timeout, errDeadline)
	defer cancel()
	var warnings []string
	t, err := f.parent.discover(ctx)
	if err != nil {
		f.mu.Lock()
		t = f.known
		f.mu.Unlock()
		if len(t.members) == 0 {
			if !f.parent.mongos || cancelled(ctx) {
				return nil, err
			}
			return f.alone(outer, q, "cannot list the shards ("+shortReason(err)+"): showing what the mongos reports")
		}
		warnings = append(warnings, "the deployment's members could not be listed again, showing the last ones known: "+shortReason(err))
	} else {
		f.sync(t)
	}
	if len(t.members) == 0 && !t.sharded {
		return f.alone(outer, q, "") // not a replica set after all (a standalone)
	}
	poll, list, err := scope(t.members, q.Members, func() []memberInfo {
		h := f.parent.hiddenMembers(ctx, t.members)
		f.addHidden(h)
		return h
	})
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(strings.TrimSpace(q.Members), source.MembersPrimary) {
		poll = f.likelyPrimaries(poll)
	}
	if t.sharded {
		return f.sharded(outer, ctx, q, poll, list, warnings)
	}
	return f.replicaSet(ctx, q, poll, list, warnings)
}

// alone reads the node the Source is connected to as a single node, with a warning when not
// "".
func (f *fanout) alone(ctx context.Context, q source.Query, warning string) (*source.Snapshot, error) {
	snap, err := f.parent.snapshot(ctx, q, true)
	if err != nil || warning == "" {
		return snap, err
	}
	snap.Warnings = append([]string{warning}, snap.Warnings...)
	snap.Partial = true
	return snap, nil
}

// likelyPrimaries keeps, of each set, the member discovery names primary, else the one that
// answered as primary last time, else all of them (merge keeps those that answer as primary).
func (f *fanout) likelyPrimaries(poll []memberInfo) []memberInfo {
	best := map[string]string{} // set → host
	for _, mi := range poll {
		if mi.Primary {
			best[mi.Set] = mi.Host
		}
	}
	for _, mi := range poll {
		if _, ok := best[mi.Set]; ok {
			continue
		}
		if m := f.member(mi.Host); m != nil {
			m.mu.Lock()
			wasPrimary := m.lastM.OK && m.lastM.State == "PRIMARY"
			m.mu.Unlock()
			if wasPrimary {
				best[mi.Set] = mi.Host
			}
		}
	}
	var out []memberInfo
	for _, mi := range poll {
		if h, ok := best[mi.Set]; !ok || h == mi.Host {
			out = append(out, mi)
		}
	}
	return out
}

// replicaSet reads the polled members and the set's status (lag) at once.
func (f *fanout) replicaSet(ctx context.Context, q source.Query, poll, list []memberInfo, warnings []string) (*source.Snapshot, error) {
	var (
		rs  replStatus
		wg  sync.WaitGroup
		got []polled
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		rs, _ = f.parent.replSetStatus(ctx) // lag is optional: not permitted leaves it unknown
	}()
	got = f.pollAll(ctx, poll, q)
	wg.Wait()
	if cancelled(ctx) {
		return nil, fmt.Errorf("snapshot of %s: %w", f.parent.target, context.Cause(ctx))
	}
	sets := map[string]replStatus{}
	for _, mi := range list {
		sets[mi.Set] = rs
	}
	snap := f.merge(q, got, list, sets)
	snap.Warnings = append(warnings, snap.Warnings...)
	snap.Partial = snap.Partial || len(warnings) > 0
	for _, p := range got {
		if p.server != nil && p.member.State == "PRIMARY" {
			snap.Server = *p.server
		}
	}
	if snap.Server.Host == "" {
		for _, p := range got {
			if p.server != nil {
				snap.Server = *p.server
				break
			}
		}
	}
	if snap.Server.Host == "" && !anyOK(got) {
		return nil, fmt.Errorf("no member of %s answered: %s", f.parent.target, firstError(got))
	}
	return snap, nil
}

func anyOK(got []polled) bool {
	return slices.ContainsFunc(got, func(p polled) bool { return p.member.OK })
}

func firstError(got []polled) string {
	for _, p := range got {
		if p.member.Error != "" {
			return p.member.Host + ": " + p.member.Error
		}
	}
	return "none was polled"
}

// merge puts the members' parts together: sessions with their member's IDs, clients summed
// per IP, one Member per listed member (arbiters from replSetGetStatus when known), and a
// warning per member that did not answer. With the primary scope only primaries are kept.
func (f *fanout) merge(q source.Query, got []polled, list []memberInfo, sets map[string]replStatus) *source.Snapshot {
	snap := &source.Snapshot{Source: "mongodb", Target: f.parent.target, TakenAt: time.Now().UTC()}
	primaryOnly := strings.EqualFold(strings.TrimSpace(q.Members), source.MembersPrimary)
	byHost := map[string]*polled{}
	for i := range got {
		byHost[strings.ToLower(got[i].info.Host)] = &got[i]
	}
	var clients [][]source.Client
	for _, mi := range list {
		rs := sets[mi.Set]
		p := byHost[strings.ToLower(mi.Host)]
		if p == nil { // an arbiter: listed, not polled
			m := source.Member{Host: mi.Host, Kind: memberKind(mi), Set: mi.Set, State: "ARBITER", OK: true}
			if ok, known := rs.health[strings.ToLower(mi.Host)]; known && !ok {
				m.OK, m.Error = false, "replSetGetStatus reports it unreachable"
			}
			if !primaryOnly {
				snap.Members = append(snap.Members, m)
			}
			continue
		}
		if primaryOnly && !isPrimary(p) {
			continue
		}
		if lag, ok := rs.lag[strings.ToLower(mi.Host)]; ok && p.member.State != "PRIMARY" {
			p.member.LagS = &lag
		} else if ok {
			zero := 0.0
			p.member.LagS = &zero
		}
		snap.Members = append(snap.Members, p.member)
		snap.Sessions = append(snap.Sessions, p.sessions...)
		clients = append(clients, p.clients)
		snap.Warnings = append(snap.Warnings, p.warnings...)
		snap.Partial = snap.Partial || p.partial
		if !p.member.OK {
			snap.Partial = true
			w := fmt.Sprintf("%s did not answer (%s)", mi.Host, p.member.Error)
			if n := len(p.sessions); n > 0 {
				w += fmt.Sprintf(": its %d sessions are as last seen", n)
			}
			snap.Warnings = append(snap.Warnings, w)
		}
	}
	snap.Clients = mergeClients(clients...)
	return snap
}

// isPrimary: the member answered as primary, or, not answering, was primary when last seen
// or is named primary by discovery.
func isPrimary(p *polled) bool {
	return p.member.State == "PRIMARY" || (!p.member.OK && p.info.Primary)
}

// mergeClients sums the clients per IP across members.
func mergeClients(lists ...[]source.Client) []source.Client {
	if len(lists) == 1 {
		return lists[0]
	}
	byIP := map[string]*source.Client{}
	var order []string
	for _, l := range lists {
		for _, c := range l {
			acc := byIP[c.IP]
			if acc == nil {
				cc := c
				cc.Apps, cc.Users, cc.Drivers = slices.Clone(c.Apps), slices.Clone(c.Users), slices.Clone(c.Drivers)
				byIP[c.IP] = &cc
				order = append(order, c.IP)
				continue
			}
			acc.Count += c.Count
			acc.Active += c.Active
			// An application client of any member is an application: internal only when
			// every member says so (a mongos is a shard's internal client, not the mongos's).
			acc.Internal = acc.Internal && c.Internal
			acc.Apps = union(acc.Apps, c.Apps)
			acc.Users = union(acc.Users, c.Users)
			acc.Drivers = union(acc.Drivers, c.Drivers)
		}
	}
	out := make([]source.Client, 0, len(order))
	for _, ip := range order {
		out = append(out, *byIP[ip])
	}
	slices.SortFunc(out, func(a, b source.Client) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.IP, b.IP)
	})
	return out
}

// union adds b's names to the sorted set a.
func union(a, b []string) []string {
	for _, n := range b {
		if i, found := slices.BinarySearch(a, n); !found {
			a = slices.Insert(a, i, n)
		}
	}
	if a == nil {
		return []string{}
	}
	return a
}
