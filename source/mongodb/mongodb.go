// Package mongodb is the direct source: it talks to one MongoDB deployment (4.4 to 8.x) with
// the Go driver and reads $currentOp, serverStatus and killOp.
//
// What it asks the server per refresh (one round trip each, run concurrently):
//   - sessions: $currentOp {allUsers:true} with the query's idle toggles, followed by a $match
//     that drops the monitor's own work, internal activity (unless Query.System) and pushes
//     down the filter terms that map exactly onto document fields; with Query.Lean, then a
//     $project of the fields the panes show (lean.go), Detail reading one session whole;
//   - clients: $currentOp {allUsers:true, idleConnections:true} grouped by client IP on the
//     server, so the reply grows with distinct client addresses, not with connections;
//   - server facts: serverStatus with the heavy sections switched off.
//
// Every read stops at MaxReadDocs documents or MaxReadBytes (read.go) and the snapshot says
// what it shows.
//
// On mongos the sessions pane uses the default fan-out (the shards' operations, with "shard"
// and "shard:opid" IDs), because that is where work runs; the clients pane and the idle
// connections toggle use localOps:true, because the fan-out's idle connections are the
// mongos's own pool connections to the shards, not applications.
//
// The monitor never shows itself: it records the server connection IDs of its commands
// (CommandStartedEvent.ServerConnectionID) and the local addresses of every socket it opens,
// and tags its commands with a comment "currentop <random>" (used to recognise its fan-out on
// shards; the random part is so that no other client can claim it).
// It does not rely on its appName, which any client can claim. Its connections are left out
// of the clients pane too, so the clients' counts add up to serverStatus connections.current
// minus the monitor's own (its pool of 3 plus one heartbeat connection); Server.Connections
// is reported as the server counts it.
//
// Query.Filter terms are pushed into the $match where they map exactly onto document fields
// (see filterMatch); the caller still applies the filter locally. Query.Limit is not pushed
// down: the default view's reply already grows only with active operations.
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

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/currentop/currentop/source"
)

// DefaultTimeout bounds connecting and every command when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// appName is how the monitor introduces itself. It is informative only: filtering never
// trusts it.
const appName = "currentop"

// Config says what to monitor.
type Config struct {
	// URI is any standard connection string (mongodb:// or mongodb+srv://, with the TLS and
	// authentication options the driver supports).
	URI string
	// Timeout bounds server selection, connecting and every command (default 5s).
	Timeout time.Duration
}

// Source is a live connection to one deployment. It is safe for concurrent use.
type Source struct {
	client  *mongo.Client
	target  string // the URI, password masked
	user    string // the URI's user name, for error messages
	creds   bool   // the URI carries credentials (a user, or a mechanism such as X.509)
	secrets []string
	timeout time.Duration
	dial    *dialer
	mongos  bool
	version string
	host    string     // serverStatus.host as first seen (the lean projection leaves it out)
	limits  readLimits // zero: defaultLimits

	mu      sync.Mutex
	connIDs []int64 // recent server connection IDs of the monitor's own commands

	closed atomic.Bool
	legacy legacyState // the server has no $currentOp stage: read with the currentOp command

	replOff atomic.Bool // replSetGetStatus refused for good (standalone, mongos, no permission)
	// fan watches every member of a replica set or sharded cluster (nil: this node alone).
	fan *fanout
	// allNodes: $currentOp through this mongos asks every shard member (targetAllNodes).
	allNodes atomic.Bool
}

var (
	_ source.Source   = (*Source)(nil)
	_ source.Killer   = (*Source)(nil)
	_ source.Detailer = (*Source)(nil)
)

// poolSize is the monitor's connection pool: one connection per concurrent refresh query.
// The pool is filled at Open, so the refresh's server-side $match already knows every
// connection it runs on.
const poolSize = 3

// maxOwnIDs bounds the remembered connection IDs: the pool holds at most 3 connections, so
// older IDs belong to connections long closed.
const maxOwnIDs = 32

// Open connects to cfg.URI and verifies the server answers ping, buildInfo and serverStatus,
// failing within cfg.Timeout with an error that says what to check.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s := &Source{
		target:  MaskURI(cfg.URI),
		timeout: timeout,
		dial:    newDialer(),
	}
	s.user, s.secrets = uriSecrets(cfg.URI)
	if strings.TrimSpace(cfg.URI) == "" {
		return nil, errors.New("no MongoDB URI given: pass one like mongodb://host:27017/")
	}

	opts := options.Client().ApplyURI(cfg.URI)
	if err := opts.Validate(); err != nil {
		return nil, s.invalidURI(err)
	}
	s.creds = opts.Auth != nil
	if a := opts.Auth; a != nil && a.Username != "" {
		src := a.AuthSource
		if src == "" {
			src = "admin"
		}
		s.user = a.Username + "@" + src
	}
	srv := strings.HasPrefix(strings.ToLower(strings.TrimSpace(cfg.URI)), "mongodb+srv://")
	lb := opts.LoadBalanced != nil && *opts.LoadBalanced
	direct := opts.Direct != nil && *opts.Direct
	if !srv && !lb && len(opts.Hosts) == 1 && opts.ReplicaSet == nil && opts.Direct == nil {
		// One host and no replica set: monitor that node itself. Without a direct connection a
		// secondary seed would route commands to the primary.
		opts.SetDirect(true)
		direct = true
	}
	base := memberBase(opts)
	if err := s.connect(ctx, opts); err != nil {
		return nil, err
	}
	if !lb && (s.mongos || !direct) {
		// A replica set (replicaSet=, mongodb+srv, several hosts) or a mongos: watch every
		// member (fanout.go). One host named alone stays that node alone.
		s.fan = newFanout(s, base)
	}
	return s, nil
}

// connect opens the client with the monitor's settings and verifies the server answers.
func (s *Source) connect(ctx context.Context, opts *options.ClientOptions) error {
	opts.SetAppName(appName).
		SetMaxPoolSize(poolSize).
		SetMinPoolSize(poolSize).
		SetServerSelectionTimeout(s.timeout).
		SetConnectTimeout(s.timeout).
		SetTimeout(s.timeout).
		SetServerMonitoringMode(options.ServerMonitoringModePoll).
		SetDialer(s.dial).
		SetMonitor(&event.CommandMonitor{Started: s.commandStarted}).
		SetServerMonitor(s.dial.monitor())

	client, err := mongo.Connect(opts)
	if err != nil {
		return s.explain(err, "connect to")
	}
	s.client = client
	if err := s.verify(ctx); err != nil {
		s.abandon()
		return err
	}
	return nil
}

func (s *Source) verify(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	admin := s.client.Database("admin")
	if err := admin.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}, {Key: "comment", Value: ownComment}}).Err(); err != nil {
		return s.explain(err, "reach")
	}
	// Fill the pool now (see poolSize): concurrent pings each need their own connection.
	var wg sync.WaitGroup
	for range poolSize {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = admin.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}, {Key: "comment", Value: ownComment}}).Err()
		}()
	}
	wg.Wait()
	var bi bson.Raw
	if err := admin.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}, {Key: "comment", Value: ownComment}}).Decode(&bi); err != nil {
		return s.explain(err, "read buildInfo from")
	}
	s.version = str(bi, "version")
	ss, err := s.serverStatus(ctx)
	if statusRefused(err) {
		ss, err = s.withoutStatus(ctx, err) // the panes need inprog only (refused.go)
	}
	if err != nil {
		return err
	}
	s.mongos = ss.Kind == "mongos"
	s.host = ss.Host
	return nil
}

// Close disconnects. It is safe to call more than once.
func (s *Source) Close() error {
	if s == nil || s.client == nil || s.closed.Swap(true) {
		return nil
	}
	if s.fan != nil {
		s.fan.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.client.Disconnect(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// Disconnect waits for the driver's monitor, which may be stuck reading from a server
		// that never answers: close the sockets under it.
		s.dial.closeAll()
		err = <-done
	}
	if err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return s.redact(fmt.Errorf("disconnect from %s: %w", s.target, err))
	}
	return nil
}

// abandon closes a source that never became usable (Open failed or was cancelled): there are
// no sessions to end, so the sockets are closed first and Disconnect cannot wait on them.
func (s *Source) abandon() {
	if s.dial != nil {
		s.dial.closeAll()
	}
	s.Close()
}

// commandStarted records which server connections the monitor's own commands use.
func (s *Source) commandStarted(_ context.Context, e *event.CommandStartedEvent) {
	if e.ServerConnectionID == nil {
		return
	}
	id := *e.ServerConnectionID
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Contains(s.connIDs, id) {
		return
	}
	s.connIDs = append(s.connIDs, id)
	if len(s.connIDs) > maxOwnIDs {
		s.connIDs = slices.Delete(s.connIDs, 0, len(s.connIDs)-maxOwnIDs)
	}
}

// self describes the monitor's own connections as of now.
func (s *Source) self() self {
	s.mu.Lock()
	ids := slices.Clone(s.connIDs)
	s.mu.Unlock()
	return self{connIDs: ids, addrs: s.dial.localAddrs(), mongos: s.mongos, allNodes: s.mongos && s.allNodes.Load()}
}

// isOwn reports whether a $currentOp document is the monitor's own work or connection.
// localOps documents come from the server the monitor talks to even on mongos.
func isOwn(doc bson.Raw, me self) bool { return full.ownKeys(doc).isOwn(me) }

// ownKeys is what tells a document of the monitor's own from others.
type ownKeys struct {
	client, mongosClient string // as sent, not cleaned
	connID               int64
	hasConnID            bool
	comment              bool // the command carries ownComment
}

func (l *layout) ownKeys(doc bson.Raw) ownKeys {
	k := ownKeys{client: rawStr(doc, l.client...), mongosClient: rawStr(doc, l.mongosClient...)}
	k.connID, k.hasConnID = num(doc, l.connID...)
	if l.lean {
		k.comment, _ = boolOK(doc, "O")
	} else {
		k.comment = rawStr(doc, "command", "comment") == ownComment
	}
	return k
}

func (k ownKeys) isOwn(me self) bool {
	if k.client != "" && slices.Contains(me.addrs, k.client) {
		return true
	}
	if me.mongos {
		// Shard-side documents of the monitor's fan-out carry its comment but the mongos's
		// connection, so the comment is the only mark left.
		return (k.mongosClient != "" && slices.Contains(me.addrs, k.mongosClient)) || k.comment
	}
	return k.hasConnID && slices.Contains(me.connIDs, k.connID)
}

// subset reports whether every address in a is in b (both sorted).
func subset(a, b []string) bool {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			return false
		}
	}
	return true
}

// Snapshot reads the deployment once: this node, or every member in q.Members (fanout.go).
func (s *Source) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	if s.closed.Load() {
		return nil, errors.New("source/mongodb: snapshot after Close")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", s.target, err)
	}
	if s.fan != nil {
		return s.fan.snapshot(ctx, q)
	}
	return s.snapshot(ctx, q, true)
}

// snapshot reads this node once. On a mongos, shardOps says whether the sessions include its
// fan-out's (the shards' operations); without them, its idle connections and clients remain.
func (s *Source) snapshot(ctx context.Context, q source.Query, shardOps bool) (*source.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", s.target, err)
	}
	if s.legacy.on.Load() {
		return s.legacySnapshot(ctx, q)
	}
	me := s.self()
	r := s.readAll(ctx, q, me, shardOps)
	server, serr, sessions, idle, clients := r.server, r.serr, r.sessions, r.idle, r.clients
	if noStage(sessions.err) {
		return s.fallBack(ctx, q, sessions.err)
	}
	if sessions.err != nil {
		return nil, sessions.err
	}
	var vitalsErr error
	if statusRefused(serr) {
		server, vitalsErr, serr = s.serverWithoutStatus(), serr, nil
	}
	if serr != nil {
		return nil, serr
	}
	if idle != nil && idle.err != nil {
		return nil, idle.err
	}
	snap := &source.Snapshot{
		Source:  "mongodb",
		Target:  s.target,
		TakenAt: time.Now().UTC(),
		Server:  server,
		// VitalsErr: serverStatus refused, the rest is whole.
		VitalsErr: vitalsErr,
	}
	if now := s.self(); clients.err == nil && !subset(now.addrs, me.addrs) {
		// The pool opened sockets during this refresh (after a reconnect), and the server-side
		// $group counted them as a client. Ask again now that their addresses are known.
		clients = s.readClients(ctx, now)
	}
	if clients.err != nil && ctx.Err() != nil {
		return nil, clients.err
	}
	s.addClients(snap, clients)
	s.addSessions(snap, q, sessions, idle)
	return snap, nil
}

// reads are one snapshot's reads, made at once: serverStatus, the sessions, the clients and,
// through a mongos with idle connections shown, the mongos's own idle connections.
type reads struct {
	server         source.Server
	serr           error
	sessions, idle *sessionRead
	clients        *clientRead
}

func (s *Source) readAll(ctx context.Context, q source.Query, me self, shardOps bool) reads {
	l := &full
	if q.Lean {
		l = &lean
	}
	var (
		wg sync.WaitGroup
		r  reads
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		r.server, r.serr = s.serverStatus(ctx)
	}()
	go func() {
		defer wg.Done()
		if !shardOps && s.mongos {
			r.sessions = &sessionRead{l: l, me: me}
			return
		}
		r.sessions = s.readSessions(ctx, sessionsPipeline(q, me), l, me, q.Commands)
	}()
	go func() {
		defer wg.Done()
		r.clients = s.readClients(ctx, me)
	}()
	if s.mongos && q.IdleConnections {
		// The fan-out's idle connections are mongos→shard pool connections; the applications'
		// idle connections are the mongos's own.
		local := me
		local.mongos, local.allNodes = false, false
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.idle = s.readSessions(ctx, idleLocalPipeline(q, me), l, local, q.Commands)
		}()
	}
	wg.Wait()
	return r
}

// sessionRead collects the sessions of one $currentOp read as the documents arrive, so that
// what a refresh holds is its sessions, not the server's documents.
type sessionRead struct {
	l         *layout
	host      string
	me        self
	items     []sessionItem
	malformed int
	res       readResult
	err       error
}

type sessionItem struct {
	s   source.Session
	own ownKeys // to recognise connections the monitor opened during the read
}

func (r *sessionRead) visit(d bson.Raw) bool {
	if d.Validate() != nil {
		r.malformed++
		return true
	}
	k := r.l.ownKeys(d)
	if !k.isOwn(r.me) {
		r.items = append(r.items, sessionItem{s: r.l.convert(d, r.host), own: k})
	}
	return true
}

// readSessions runs a sessions pipeline; in the lean layout it ends in the lean $project
// (with the commands when asked).
func (s *Source) readSessions(ctx context.Context, pipeline bson.A, l *layout, me self, commands bool) *sessionRead {
	r := &sessionRead{l: l, me: me}
	if l.lean {
		r.host = s.host
		pipeline = append(pipeline, leanProject(me, s.host, commands))
	}
	r.res, r.err = s.read(ctx, pipeline, r.visit)
	return r
}

// addSessions puts what the reads found into snap: not the monitor's own, as the query's
// toggles ask, IDs made unique, and a warning for each read that stopped early.
func (s *Source) addSessions(snap *source.Snapshot, q source.Query, reads ...*sessionRead) {
	now := s.self() // connections opened during this refresh are the monitor's too
	seen := map[string]int{}
	malformed, stopped := 0, ""
	for _, r := range reads {
		if r == nil {
			continue
		}
		me := now
		me.mongos = r.me.mongos
		malformed += r.malformed
		for _, it := range r.items {
			ss := it.s
			if it.own.isOwn(me) || !keep(ss, q) {
				continue
			}
			ss.ID = uniqueID(seen, ss.ID)
			snap.Sessions = append(snap.Sessions, ss)
		}
		if why := s.stopped(r.res, "$currentOp documents"); why != "" && stopped == "" {
			stopped = why
		}
	}
	if stopped != "" {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("showing the first %s sessions: %s", thousands(len(snap.Sessions)), stopped))
	}
	if malformed > 0 {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%d malformed $currentOp documents skipped", malformed))
	}
}

// clientRead accumulates the clients pane's $group output as it arrives.
type clientRead struct {
	acc *clientsAcc
	res readResult
	err error
}

// readClients reads the clients pane, grouped by sets to keep the reply small; a server that
// refuses that (a group of more than 16 MB: hundreds of thousands of addresses running the
// same application) is asked again one document per IP.
func (s *Source) readClients(ctx context.Context, me self) *clientRead {
	r := &clientRead{acc: newClientsAcc(s.caps().docs)}
	r.res, r.err = s.read(ctx, clientsPipeline(me, true), r.acc.add)
	var ce mongo.CommandError
	if errors.As(r.err, &ce) && ctx.Err() == nil {
		r = &clientRead{acc: newClientsAcc(s.caps().docs)}
		r.res, r.err = s.read(ctx, clientsPipeline(me, false), r.acc.add)
	}
	return r
}

// addClients puts the clients into snap, or says why they are missing or incomplete.
func (s *Source) addClients(snap *source.Snapshot, r *clientRead) {
	if r.err != nil {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, source.Clean(r.err.Error()))
		return
	}
	snap.Clients = r.acc.list()
	if why := s.stopped(r.res, "client addresses"); why != "" {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("clients incomplete: showing the first %s client addresses: %s", thousands(len(snap.Clients)), why))
	}
}

// keep applies the query's toggles client-side, whatever the server returned.
func keep(s source.Session, q source.Query) bool { return q.Shows(&s) }

// idleLocalPipeline lists the idle application connections of a mongos.
func idleLocalPipeline(q source.Query, me self) bson.A {
	local := me
	local.mongos, local.allNodes = false, false
	and := bson.A{bson.D{{Key: "active", Value: false}}}
	and = append(and, ownMatch(local)...)
	if !q.System {
		and = append(and, internalMatch())
	}
	and = append(and, filterMatch(q.Filter)...)
	return bson.A{
		bson.D{{Key: "$currentOp", Value: bson.D{
			{Key: "allUsers", Value: true},
			{Key: "idleConnections", Value: true},
			{Key: "idleSessions", Value: false},
			{Key: "localOps", Value: true},
		}}},
		matchAll(and),
	}
}

// serverStatus reads the server facts, skipping the heavy sections, and keeps the sample
// vitals are computed from.
func (s *Source) serverStatus(ctx context.Context) (source.Server, error) {
	raw, err := s.serverStatusRaw(ctx)
	if err != nil {
		return source.Server{}, err
	}
	srv := decodeServer(raw)
	if srv.Version == "" {
		srv.Version = s.version
	}
	srv.Sample = decodeSample(raw, time.Now())
	s.addRepl(ctx, &srv)
	return srv, nil
}

// serverStatusRaw runs serverStatus without its heavy sections (the repl section is small
// and names the member's state).
func (s *Source) serverStatusRaw(ctx context.Context) (bson.Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var raw bson.Raw
	err := s.client.Database("admin").RunCommand(ctx, bson.D{
		{Key: "serverStatus", Value: 1},
		{Key: "metrics", Value: 0},
		{Key: "locks", Value: 0},
		{Key: "comment", Value: ownComment},
	}).Decode(&raw)
	if err != nil {
		return nil, s.explain(err, "run serverStatus on")
	}
	return raw, nil
}

func decodeServer(raw bson.Raw) source.Server {
	srv := source.Server{
		Host:    str(raw, "host"),
		Version: str(raw, "version"),
		Kind:    "mongod",
	}
	if strings.Contains(strings.ToLower(rawStr(raw, "process")), "mongos") {
		srv.Kind = "mongos"
	}
	if v, ok := lookup(raw, "uptime"); ok {
		if f, ok := v.DoubleOK(); ok && f >= 0 && f < 1e15 {
			srv.UptimeS = int64(f)
		} else if n, ok := v.AsInt64OK(); ok && n >= 0 {
			srv.UptimeS = n
		}
	}
	c := &srv.Connections
	for _, f := range []struct {
		k    source.ConnCounters
		dst  *int64
		name string
	}{{source.ConnCurrent, &c.Current, "current"}, {source.ConnAvailable, &c.Available, "available"},
		{source.ConnActive, &c.Active, "active"}, {source.ConnTotalCreated, &c.TotalCreated, "totalCreated"}} {
		var ok bool
		if *f.dst, ok = num(raw, "connections", f.name); !ok {
			c.Unknown |= f.k // absent from this server's serverStatus: unknown, not 0
		}
	}
	return srv
}

func arrayValues(d bson.Raw, key string) []bson.RawValue {
	v, ok := lookup(d, key)
	if !ok {
		return nil
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil {
		return nil
	}
	return vals
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hostOnly strips a port: "10.0.0.7:5123" → "10.0.0.7", "[2001:db8::5]:443" → "2001:db8::5".
func hostOnly(addr string) string { return source.HostOf(addr) }
