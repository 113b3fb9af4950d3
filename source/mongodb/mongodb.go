// Package mongodb is the direct source: it talks to one MongoDB deployment (4.4 to 8.x) with
// the Go driver and reads $currentOp, serverStatus and killOp.
//
// What it asks the server per refresh (one round trip each, run concurrently):
//   - sessions: $currentOp {allUsers:true} with the query's idle toggles, followed by a $match
//     that drops the monitor's own work, internal activity (unless Query.System) and pushes
//     down the filter terms that map exactly onto document fields;
//   - clients: $currentOp {allUsers:true, idleConnections:true} grouped by client IP on the
//     server, so the reply grows with distinct client addresses, not with connections;
//   - server facts: serverStatus with the heavy sections switched off.
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

	mu      sync.Mutex
	connIDs []int64 // recent server connection IDs of the monitor's own commands

	closed atomic.Bool
	legacy legacyState // the server has no $currentOp stage: read with the currentOp command
}

var (
	_ source.Source = (*Source)(nil)
	_ source.Killer = (*Source)(nil)
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
	if !srv && !lb && len(opts.Hosts) == 1 && opts.ReplicaSet == nil && opts.Direct == nil {
		// One host and no replica set: monitor that node itself. Without a direct connection a
		// secondary seed would route commands to the primary.
		opts.SetDirect(true)
	}
	opts.SetAppName(appName).
		SetMaxPoolSize(poolSize).
		SetMinPoolSize(poolSize).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout).
		SetTimeout(timeout).
		SetServerMonitoringMode(options.ServerMonitoringModePoll).
		SetDialer(s.dial).
		SetMonitor(&event.CommandMonitor{Started: s.commandStarted}).
		SetServerMonitor(s.dial.monitor())

	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, s.explain(err, "connect to")
	}
	s.client = client
	if err := s.verify(ctx); err != nil {
		s.abandon()
		return nil, err
	}
	return s, nil
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
	if err != nil {
		return err
	}
	s.mongos = ss.Kind == "mongos"
	return nil
}

// Close disconnects. It is safe to call more than once.
func (s *Source) Close() error {
	if s == nil || s.client == nil || s.closed.Swap(true) {
		return nil
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
	return self{connIDs: ids, addrs: s.dial.localAddrs(), mongos: s.mongos}
}

// isOwn reports whether a $currentOp document is the monitor's own work or connection.
// localOps documents come from the server the monitor talks to even on mongos.
func isOwn(doc bson.Raw, me self) bool {
	if c := rawStr(doc, "client"); c != "" && slices.Contains(me.addrs, c) {
		return true
	}
	if me.mongos {
		if c := rawStr(doc, "clientMetadata", "mongos", "client"); c != "" && slices.Contains(me.addrs, c) {
			return true
		}
		// Shard-side documents of the monitor's fan-out carry its comment but the mongos's
		// connection, so the comment is the only mark left.
		if rawStr(doc, "command", "comment") == ownComment {
			return true
		}
		return false
	}
	if id, ok := num(doc, "connectionId"); ok && slices.Contains(me.connIDs, id) {
		return true
	}
	return false
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

// Snapshot reads the deployment once.
func (s *Source) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	if s.closed.Load() {
		return nil, errors.New("source/mongodb: snapshot after Close")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot of %s: %w", s.target, err)
	}
	if s.legacy.on.Load() {
		return s.legacySnapshot(ctx, q)
	}
	me := s.self()
	var (
		wg                     sync.WaitGroup
		server                 source.Server
		sessions, idle         []bson.Raw
		clients                []bson.Raw
		serr, qerr, ierr, cerr error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		server, serr = s.serverStatus(ctx)
	}()
	go func() {
		defer wg.Done()
		sessions, qerr = s.aggregate(ctx, sessionsPipeline(q, me))
	}()
	go func() {
		defer wg.Done()
		clients, cerr = s.aggregate(ctx, clientsPipeline(me))
	}()
	if s.mongos && q.IdleConnections {
		// The fan-out's idle connections are mongos→shard pool connections; the applications'
		// idle connections are the mongos's own.
		wg.Add(1)
		go func() {
			defer wg.Done()
			idle, ierr = s.aggregate(ctx, idleLocalPipeline(q, me))
		}()
	}
	wg.Wait()
	if noStage(qerr) {
		return s.fallBack(ctx, q, qerr)
	}
	for _, err := range []error{qerr, serr, ierr} {
		if err != nil {
			return nil, err
		}
	}
	snap := &source.Snapshot{
		Source:  "mongodb",
		Target:  s.target,
		TakenAt: time.Now().UTC(),
		Server:  server,
	}
	if now := s.self(); cerr == nil && !subset(now.addrs, me.addrs) {
		// The pool opened sockets during this refresh (after a reconnect), and the server-side
		// $group counted them as a client. Ask again now that their addresses are known.
		clients, cerr = s.aggregate(ctx, clientsPipeline(now))
	}
	if cerr != nil {
		if ctx.Err() != nil {
			return nil, cerr
		}
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, source.Clean(cerr.Error()))
	} else {
		snap.Clients = decodeClients(clients)
	}
	me = s.self() // connections opened during this refresh are the monitor's too
	seen := make(map[string]int, len(sessions)+len(idle))
	malformed := 0
	add := func(docs []bson.Raw, me self) {
		for _, d := range docs {
			if d.Validate() != nil {
				malformed++
				continue
			}
			if isOwn(d, me) {
				continue
			}
			ss := convert(d)
			if !keep(ss, q) {
				continue
			}
			if n := seen[ss.ID]; n > 0 {
				seen[ss.ID] = n + 1
				ss.ID = fmt.Sprintf("%s~%d", ss.ID, n+1)
			} else {
				seen[ss.ID] = 1
			}
			snap.Sessions = append(snap.Sessions, ss)
		}
	}
	add(sessions, me)
	local := me
	local.mongos = false
	add(idle, local)
	if malformed > 0 {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%d malformed $currentOp documents skipped", malformed))
	}
	return snap, nil
}

// keep applies the query's toggles client-side, whatever the server returned.
func keep(s source.Session, q source.Query) bool { return q.Shows(&s) }

// idleLocalPipeline lists the idle application connections of a mongos.
func idleLocalPipeline(q source.Query, me self) bson.A {
	local := me
	local.mongos = false
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

// aggregate runs a $currentOp pipeline on admin and returns every document.
func (s *Source) aggregate(ctx context.Context, pipeline bson.A) ([]bson.Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cur, err := s.client.Database("admin").Aggregate(ctx, pipeline,
		options.Aggregate().SetBatchSize(1000).SetComment(ownComment))
	if err != nil {
		return nil, s.explain(err, "run $currentOp on")
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var docs []bson.Raw
	for cur.Next(ctx) {
		docs = append(docs, slices.Clone(cur.Current))
	}
	if err := cur.Err(); err != nil {
		return nil, s.explain(err, "read $currentOp from")
	}
	return docs, nil
}

// serverStatus reads the server facts, skipping the heavy sections.
func (s *Source) serverStatus(ctx context.Context) (source.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var raw bson.Raw
	err := s.client.Database("admin").RunCommand(ctx, bson.D{
		{Key: "serverStatus", Value: 1},
		{Key: "repl", Value: 0},
		{Key: "metrics", Value: 0},
		{Key: "locks", Value: 0},
		{Key: "comment", Value: ownComment},
	}).Decode(&raw)
	if err != nil {
		return source.Server{}, s.explain(err, "run serverStatus on")
	}
	srv := decodeServer(raw)
	if srv.Version == "" {
		srv.Version = s.version
	}
	return srv, nil
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
	c.Current, _ = num(raw, "connections", "current")
	c.Available, _ = num(raw, "connections", "available")
	c.Active, _ = num(raw, "connections", "active")
	c.TotalCreated, _ = num(raw, "connections", "totalCreated")
	return srv
}

// decodeClients turns the $group output into per-IP clients, merging IPs the server could
// not split (anything still carrying a port) and sorting by connection count.
func decodeClients(docs []bson.Raw) []source.Client {
	byIP := map[string]*clientAcc{}
	for _, d := range docs {
		ip := hostOnly(rawStr(d, "_id"))
		if ip == "" {
			continue
		}
		ip = source.Clean(ip)
		acc := byIP[ip]
		if acc == nil {
			acc = &clientAcc{apps: map[string]bool{}, users: map[string]bool{}, drivers: map[string]bool{}}
			byIP[ip] = acc
		}
		n, _ := num(d, "count")
		a, _ := num(d, "active")
		acc.count += max(n, 0)
		acc.active += max(a, 0)
		for _, v := range arrayValues(d, "apps") {
			if s, ok := v.StringValueOK(); ok && s != "" {
				acc.apps[source.Clean(s)] = true
			}
		}
		for _, v := range arrayValues(d, "users") {
			// each element is one connection's effectiveUsers array
			arr, ok := v.ArrayOK()
			if !ok {
				continue
			}
			vals, _ := arr.Values()
			for _, u := range vals {
				if ud, ok := u.DocumentOK(); ok && rawStr(ud, "user") == "__system" {
					acc.internal = true
				}
				if us := userString(u); us != "" {
					acc.users[us] = true
				}
			}
		}
		for _, v := range arrayValues(d, "drivers") {
			if dd, ok := v.DocumentOK(); ok && strings.HasPrefix(rawStr(dd, "name"), "NetworkInterfaceTL") {
				acc.internal = true
			}
			if ds := driverString(v); ds != "" {
				acc.drivers[ds] = true
			}
		}
	}
	out := make([]source.Client, 0, len(byIP))
	for ip, acc := range byIP {
		out = append(out, source.Client{
			IP:       ip,
			Count:    int(acc.count),
			Active:   int(min(acc.active, acc.count)),
			Internal: acc.internal,
			Apps:     sortedKeys(acc.apps),
			Users:    sortedKeys(acc.users),
			Drivers:  sortedKeys(acc.drivers),
		})
	}
	slices.SortFunc(out, func(a, b source.Client) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.IP, b.IP)
	})
	return out
}

type clientAcc struct {
	count, active        int64
	internal             bool
	apps, users, drivers map[string]bool
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
