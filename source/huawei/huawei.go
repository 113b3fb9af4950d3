// Package huawei is the Huawei Cloud DDS (Document Database Service) source: sessions from
// ListSessions, the clients pane from ShowConnectionStatistics, nodes from ListInstances and
// kill through DeleteSession (API v3), signed with a standard-library SDK-HMAC-SHA256 signer
// or authenticated with an IAM token. See shared/reference/cloud-apis.md §2 and §3.
//
// IAM permissions: dds:instance:list, dds:instance:listSession and
// dds:instance:getConnectionStatistics to view; dds:instance:deleteSession to kill.
package huawei

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/currentop/currentop/source"
)

// Config says which instance (and optionally which node) to monitor and how to reach the API.
type Config struct {
	// Region, e.g. "cn-north-4"; defaults to $HUAWEICLOUD_REGION. Needed unless Endpoint is set.
	Region string
	// ProjectID is the IAM project of the region; defaults to $HUAWEICLOUD_SDK_PROJECT_ID.
	ProjectID string
	// InstanceID is needed for snapshots and kills, not for List.
	InstanceID string
	// NodeID polls one node; empty polls every node that serves sessions.
	NodeID string
	// Endpoint overrides https://dds.{region}.myhuaweicloud.com (plain http only to loopback).
	Endpoint    string
	Credentials Credentials
	// Timeout bounds each API request (default 10 s).
	Timeout time.Duration
}

// Paging bounds.
const (
	// maxPagesPerNode caps a refresh that asks for everything (Query.Limit 0): 25 pages of 20.
	maxPagesPerNode = 25
	// nodeCacheTTL is how long the node list from ListInstances is reused.
	nodeCacheTTL = time.Minute
)

// Source is the Huawei Cloud DDS source. It implements source.Source, source.Killer,
// source.Lister, source.Pacer and io.Closer, and is safe for concurrent use.
type Source struct {
	cfg    Config
	target string
	c      *client

	mu          sync.Mutex
	nodes       []node    // nodes polled, cached
	inst        *instance // the instance as last listed
	nodesAt     time.Time
	lastNodeErr error
	nodeOf      map[string]string // session ID → node ID of the last snapshot
	// seenBy is each client IP's apps, users and drivers as last read from its sessions: a
	// read that stops early (the view's limit, the paging budget) leaves some IPs' sessions
	// unread, and their lists would otherwise vanish until a fuller read.
	seenBy map[string]clientLists
}

// node is one instance node that serves sessions.
type node struct {
	ID, Name, Role, Group, Host string
}

// instance is what ListInstances says about the monitored instance.
type instance struct {
	ID, Name, Mode, Version, Status string
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// New checks cfg and returns a Source. It makes no API call: errors in credentials or IDs
// surface on the first Snapshot or List.
func New(cfg Config) (*Source, error) {
	if cfg.Region == "" {
		cfg.Region = strings.TrimSpace(os.Getenv(EnvRegion))
	}
	if cfg.ProjectID == "" {
		cfg.ProjectID = strings.TrimSpace(os.Getenv(EnvProjectID))
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if err := cfg.Credentials.validate(); err != nil {
		return nil, err
	}
	if cfg.ProjectID == "" {
		return nil, fmt.Errorf("huawei: no project ID: pass --project-id or set %s (the IAM project of the region; console → My Credentials → API Credentials)", EnvProjectID)
	}
	for _, f := range []struct{ name, flag, v string }{
		{"project ID", "--project-id", cfg.ProjectID},
		{"instance ID", "--instance", cfg.InstanceID},
		{"node ID", "--node", cfg.NodeID},
	} {
		if f.v != "" && !idPattern.MatchString(f.v) {
			return nil, fmt.Errorf("huawei: %s %q is not a valid ID: check %s", f.name, source.Clean(f.v), f.flag)
		}
	}
	if cfg.Region != "" && !regexp.MustCompile(`^[a-z0-9-]{2,64}$`).MatchString(cfg.Region) {
		return nil, fmt.Errorf("huawei: region %q is not a region ID such as cn-north-4: check --region", source.Clean(cfg.Region))
	}
	base, err := endpointURL(cfg.Region, cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, c: newClient(base, cfg.ProjectID, cfg.Credentials, cfg.Timeout)}
	s.target = "huawei:" + cfg.Region + "/" + cfg.InstanceID
	if cfg.Region == "" {
		s.target = "huawei:" + base.Host + "/" + cfg.InstanceID
	}
	if cfg.NodeID != "" {
		s.target += "/" + cfg.NodeID
	}
	return s, nil
}

// endpointURL is the API base: the override, or the region's public endpoint.
func endpointURL(region, override string) (*url.URL, error) {
	if override == "" {
		if region == "" {
			return nil, fmt.Errorf("huawei: no region: pass --region (e.g. cn-north-4) or set %s", EnvRegion)
		}
		domain := "myhuaweicloud.com"
		if region == "eu-west-101" {
			domain = "myhuaweicloud.eu"
		}
		return &url.URL{Scheme: "https", Host: "dds." + region + "." + domain}, nil
	}
	if !strings.Contains(override, "://") {
		override = "https://" + override
	}
	u, err := url.Parse(override)
	if err == nil && u.User != nil {
		return nil, fmt.Errorf("huawei: --endpoint %s: credentials do not belong in the endpoint; use AK/SK or a token", source.Clean(u.Redacted()))
	}
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("huawei: --endpoint %q is not a URL like https://dds.cn-north-4.myhuaweicloud.com", source.Clean(override))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("huawei: --endpoint %s would send credentials unencrypted: use https (plain http is allowed only to localhost)", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("huawei: --endpoint scheme %q: use https", source.Clean(u.Scheme))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String names the source without secrets; so do %v, %+v and %#v.
func (s *Source) String() string { return "huawei.Source(" + s.target + ")" }

// Format keeps fmt from printing the struct, which holds credentials.
func (s *Source) Format(f fmt.State, verb rune) { fmt.Fprint(f, s.String()) }

// Close releases idle HTTP connections.
func (s *Source) Close() error {
	s.c.http.CloseIdleConnections()
	return nil
}

// Snapshot polls the sessions of every node that serves them (or of Config.NodeID), and the
// connection statistics of the instance.
func (s *Source) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	if s.cfg.InstanceID == "" {
		return nil, errors.New("huawei: no instance: pass --instance (currentop --source huawei --list shows the instances)")
	}
	s.c.throttled.Store(0)
	snap := &source.Snapshot{Source: "huawei", Target: s.target, TakenAt: time.Now()}
	nodes, inst, nodeWarn, err := s.nodeList(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.NodeID == "" && len(nodes) == 0 {
		return nil, fmt.Errorf("huawei: instance %s (%s) has no node that serves sessions (a mongos of a cluster, or a primary/secondary of a replica set) in a normal state: pick one with --node",
			s.cfg.InstanceID, inst.Mode)
	}
	if nodeWarn != nil {
		snap.Warnings = append(snap.Warnings, "node details unavailable: "+nodeWarn.Error())
	}
	nodes = scopeNodes(nodes, q.Members)
	read, err := s.readNodes(ctx, nodes, q)
	if err != nil {
		return nil, err
	}
	read.warn(snap)
	snap.Members = read.members(nodes, inst.Version)

	// The clients pane uses every session read, idle ones included, for apps/drivers/active.
	if err := s.addClients(ctx, snap, read.all); err != nil {
		return nil, err
	}
	// Vitals: what the session list gives, before the display's toggles hide any (the
	// filtering below reuses read.all).
	snap.Server.Sample = source.SessionSample(snap.TakenAt, read.all, read.total-read.dups)
	snap.Sessions = read.all[:0]
	for _, sess := range read.all {
		if keep(&sess, q) {
			snap.Sessions = append(snap.Sessions, sess)
			if sess.Active && !sess.Internal {
				snap.Server.Connections.Active++
			}
		}
	}
	if read.n < read.total {
		snap.TotalSessions = read.total - read.dups
		if read.capped {
			snap.Partial = true
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("read %d of %d sessions (the API pages by %d; at most %d pages per node and %v per refresh): narrow with --node or a filter such as running>1s, which the API applies",
				len(read.all), read.total, PageLimit, maxPagesPerNode, s.budget()))
		}
	}
	if n := s.c.throttled.Load(); n > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("throttled by the API Gateway (APIGW.0308) %d times: backed off and slowed down", n))
	}
	snap.Server.Kind = "cloud"
	snap.Server.Host = source.Clean(firstNonEmpty(inst.Name, s.cfg.InstanceID))
	if len(nodes) == 1 && nodes[0].Host != "" {
		snap.Server.Host = nodes[0].Host
	}
	snap.Server.Version = inst.Version

	s.mu.Lock()
	s.nodeOf = read.nodeOf
	s.mu.Unlock()
	return snap, nil
}

// nodesRead is what reading every node's sessions produced.
type nodesRead struct {
	all      []source.Session
	nodeOf   map[string]string // session ID → node ID
	total    int               // total_count, summed
	n        int               // sessions received, duplicates included
	dups     int               // the same operation reported by more than one mongos
	failed   []string          // nodes that could not be read
	errOf    map[string]error  // node ID → why it could not be read
	firstErr error
	skipped  int // malformed sessions
	cut      int // commands truncated
	capped   bool
}

// readNodes reads the sessions of every node within the refresh's paging budget, shared out
// between the nodes so that one node with many sessions cannot leave the others unread. It
// fails only when every node failed, or when a failure is the same for all (authentication,
// the caller's context).
func (s *Source) readNodes(ctx context.Context, nodes []node, q source.Query) (*nodesRead, error) {
	params := pushdown(q.Filter)
	// The paging budget, within the caller's deadline, shared out between the nodes so that
	// one node with many sessions cannot leave the others unread.
	deadline := s.pagingDeadline(ctx)
	r := &nodesRead{nodeOf: map[string]string{}, errOf: map[string]error{}}
	seen := map[string]string{} // ID → identity, to merge what several mongos report
	for i, n := range nodes {
		now := s.c.now()
		share := now.Add(deadline.Sub(now) / time.Duration(len(nodes)-i))
		res, err := s.listSessions(ctx, n, listing{params: params, maxPages: maxPagesPerNode, limit: q.Limit, q: q, deadline: share})
		if err != nil {
			if r.firstErr == nil {
				r.firstErr = err
			}
			r.failed = append(r.failed, n.label())
			r.errOf[n.ID] = err
			var auth *AuthError
			if errors.As(err, &auth) || ctx.Err() != nil {
				return nil, err // the same for every node: stop here
			}
			continue
		}
		r.total += res.total
		r.skipped += res.malformed
		r.cut += res.truncated
		r.capped = r.capped || res.capped
		r.n += len(res.sessions)
		for _, sess := range res.sessions {
			ident := sess.Host + "|" + sess.Client + "|" + sess.Desc
			if prev, dup := seen[sess.ID]; dup {
				if prev == ident {
					r.dups++
					continue // the same operation reported by another mongos
				}
				sess.ID += "@" + n.ID // keep IDs unique; Kill reads the node back from the suffix
			}
			seen[sess.ID] = ident
			r.nodeOf[sess.ID] = n.ID
			r.all = append(r.all, sess)
		}
	}
	if len(r.failed) == len(nodes) {
		return nil, r.firstErr
	}
	return r, nil
}

// warn says in snap what the read could not do.
func (r *nodesRead) warn(snap *source.Snapshot) {
	if len(r.failed) > 0 {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("sessions of node %s unavailable: %v", strings.Join(r.failed, ", "), r.firstErr))
	}
	if r.skipped > 0 {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%d malformed sessions from the API skipped", r.skipped))
	}
	if r.cut > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("command text of %d sessions truncated at %d KiB", r.cut, maxCommand>>10))
	}
}

// addClients fills the clients pane and the connection count from ShowConnectionStatistics,
// enriched by the sessions read. Only an authentication failure fails the snapshot.
func (s *Source) addClients(ctx context.Context, snap *source.Snapshot, all []source.Session) error {
	// The API has no connection limit and no count of connections ever made; the current
	// count is ShowConnectionStatistics', unknown (not 0) when it failed.
	snap.Server.Connections.Unknown |= source.ConnAvailable | source.ConnTotalCreated
	stats, err := s.connStats(ctx)
	if err != nil {
		var auth *AuthError
		if errors.As(err, &auth) {
			return err
		}
		snap.Server.Connections.Unknown |= source.ConnCurrent
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, "clients unavailable: "+err.Error())
		return nil
	}
	var w []string
	snap.Clients, w = clientsFrom(stats, all)
	snap.Warnings = append(snap.Warnings, w...)
	s.mu.Lock()
	s.seenBy = rememberLists(s.seenBy, snap.Clients)
	s.mu.Unlock()
	snap.Server.Connections.Current = max(int64(stats.TotalConnections), 0)
	return nil
}

// clientLists are what a client IP's sessions say about it.
type clientLists struct{ apps, users, drivers []string }

// rememberLists fills the lists of clients none of whose sessions were read from what was
// last read of them (prev), and returns what to remember next: the lists of the IPs still
// connected.
func rememberLists(prev map[string]clientLists, clients []source.Client) map[string]clientLists {
	next := make(map[string]clientLists, len(clients))
	for i := range clients {
		c := &clients[i]
		if len(c.Apps) == 0 && len(c.Users) == 0 && len(c.Drivers) == 0 {
			if l, ok := prev[c.IP]; ok {
				c.Apps, c.Users, c.Drivers = l.apps, l.users, l.drivers
			}
		}
		if len(c.Apps)+len(c.Users)+len(c.Drivers) > 0 {
			next[c.IP] = clientLists{c.Apps, c.Users, c.Drivers}
		}
	}
	return next
}

// keep applies the query's toggles that the API cannot (source.Query.Shows).
func keep(s *source.Session, q source.Query) bool { return q.Shows(s) }

// nodeResult is what reading one node's sessions produced.
type nodeResult struct {
	sessions  []source.Session
	total     int  // total_count
	malformed int  // elements skipped
	truncated int  // commands cut
	capped    bool // stopped at maxPagesPerNode with more to read
}

// listing says how to page through a node's sessions.
type listing struct {
	params   url.Values   // pushed-down filters
	maxPages int          // hard cap
	limit    int          // stop once this many sessions q keeps were read (0: no limit)
	q        source.Query // what counts toward limit
	// deadline stops paging, keeping what was read, when less than one request timeout is
	// left: a slow API shortens a refresh instead of stretching it without bound.
	deadline time.Time
}

// The live view's budget for the API: at most 100 sessions to show per node (or the page cap),
// every 3 s unless the user asks otherwise. ListSessions pages by 20 with no server-side sort,
// and the API Gateway throttles; filters such as running>1s reach the API once a node has more
// than is read.
const (
	viewLimit       = 100
	defaultInterval = 3 * time.Second
)

// DefaultInterval is the live view's refresh interval unless the user chose one (source.Pacer).
func (s *Source) DefaultInterval() time.Duration { return defaultInterval }

// ViewLimit is how many sessions the live view asks for (source.Pacer).
func (s *Source) ViewLimit() int { return viewLimit }

// budget is how long one refresh or kill may spend paging.
func (s *Source) budget() time.Duration { return 3 * s.cfg.Timeout }

// pagingDeadline is when paging must stop, on the client's clock: after the budget, or
// before the caller's deadline if that comes first.
func (s *Source) pagingDeadline(ctx context.Context) time.Time {
	d := s.budget()
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return s.c.now().Add(d)
}

// listSessions pages through ListSessions of node n: until l.limit sessions that l.q keeps
// were read, every session was read, l.maxPages, or l.deadline.
func (s *Source) listSessions(ctx context.Context, n node, l listing) (nodeResult, error) {
	var res nodeResult
	kept := 0
	for page, offset := 0, 0; ; page++ {
		// A page usually answers well within the request timeout: stop when less than a
		// quarter of it is left, rather than start a page that would likely be cut off.
		if page >= l.maxPages || (page > 0 && !l.deadline.IsZero() && l.deadline.Sub(s.c.now()) < s.c.timeout/4) {
			res.capped = true
			return res, nil
		}
		qp := url.Values{}
		for k, v := range l.params {
			if len(v) > 0 && v[0] != "" { // never send an empty filter value
				qp.Set(k, v[0])
			}
		}
		qp.Set("offset", fmt.Sprint(offset))
		qp.Set("limit", fmt.Sprint(PageLimit))
		var resp listSessionsResponse
		if err := s.c.call(ctx, actionListSessions, "GET", []string{"v3", s.cfg.ProjectID, "nodes", n.ID, "sessions"}, qp, nil, &resp); err != nil {
			if page > 0 && ctx.Err() == nil {
				var throttled *ThrottledError
				if errors.As(err, &throttled) {
					res.capped = true // show what was read; the warning says why
					return res, nil
				}
			}
			return res, err
		}
		res.total = int(max(int64(resp.TotalCount), 0))
		for _, raw := range resp.Sessions {
			c, ok := toSession(raw, n.Host)
			if !ok {
				res.malformed++
				continue
			}
			if c.truncated {
				res.truncated++
			}
			res.sessions = append(res.sessions, c.s)
			if keep(&c.s, l.q) {
				kept++
			}
		}
		offset += len(resp.Sessions)
		more := offset < res.total
		if res.total == 0 { // total_count missing: a full page suggests more
			more = len(resp.Sessions) >= PageLimit
		}
		if len(resp.Sessions) == 0 || !more || (l.limit > 0 && kept >= l.limit) {
			return res, nil
		}
	}
}

// connStats calls ShowConnectionStatistics for the instance (or the one configured node).
func (s *Source) connStats(ctx context.Context) (*connStatsResponse, error) {
	qp := url.Values{}
	if s.cfg.NodeID != "" {
		qp.Set("node_id", s.cfg.NodeID)
	}
	var st connStatsResponse
	err := s.c.call(ctx, actionConnStats, "GET", []string{"v3", s.cfg.ProjectID, "instances", s.cfg.InstanceID, "conn-statistics"}, qp, nil, &st)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// nodeList returns the nodes to poll and the instance facts, from a cache refreshed every
// nodeCacheTTL. With Config.NodeID the listing is best effort: only that node is polled and a
// failed ListInstances (other than authentication) comes back as warn.
func (s *Source) nodeList(ctx context.Context) (nodes []node, inst instance, warn, err error) {
	s.mu.Lock()
	if !s.nodesAt.IsZero() && s.c.now().Sub(s.nodesAt) < nodeCacheTTL {
		nodes, inst, warn = s.nodes, s.instanceOrDefault(), s.lastNodeErr
		s.mu.Unlock()
		return nodes, inst, warn, nil
	}
	s.mu.Unlock()

	described, all, err := s.describe(ctx)
	if err != nil {
		var auth *AuthError
		if s.cfg.NodeID == "" || errors.As(err, &auth) || ctx.Err() != nil {
			return nil, instance{}, nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodesAt = s.c.now()
	if s.cfg.NodeID != "" {
		one := node{ID: s.cfg.NodeID}
		s.lastNodeErr = err
		if err == nil {
			s.inst = &described
			for _, n := range all {
				if n.ID == s.cfg.NodeID {
					one = n
				}
			}
		}
		s.nodes = []node{one}
		return s.nodes, s.instanceOrDefault(), s.lastNodeErr, nil
	}
	var serving []node
	for _, n := range all {
		if servesSessions(described.Mode, n) {
			serving = append(serving, n)
		}
	}
	s.inst, s.nodes, s.lastNodeErr = &described, serving, nil
	return serving, described, nil, nil
}

func (s *Source) instanceOrDefault() instance {
	if s.inst != nil {
		return *s.inst
	}
	return instance{ID: s.cfg.InstanceID}
}

// describe lists the configured instance with its nodes.
func (s *Source) describe(ctx context.Context) (instance, []node, error) {
	var resp listInstancesResponse
	qp := url.Values{"id": {s.cfg.InstanceID}, "offset": {"0"}, "limit": {"100"}}
	if err := s.c.call(ctx, actionListInstances, "GET", []string{"v3", s.cfg.ProjectID, "instances"}, qp, nil, &resp); err != nil {
		return instance{}, nil, err
	}
	for _, in := range resp.Instances {
		if string(in.ID) != s.cfg.InstanceID {
			continue
		}
		return toInstance(in), toNodes(in), nil
	}
	return instance{}, nil, fmt.Errorf("huawei: instance %s not found in project %s (region %s): check --instance, --region and --project-id (currentop --source huawei --list shows the instances)",
		s.cfg.InstanceID, s.cfg.ProjectID, s.cfg.Region)
}

func toInstance(in apiInstance) instance {
	return instance{
		ID:      source.Clean(string(in.ID)),
		Name:    source.Clean(string(in.Name)),
		Mode:    source.Clean(string(in.Mode)),
		Version: source.Clean(string(in.Datastore.Version)),
		Status:  source.Clean(string(in.Status)),
	}
}

func toNodes(in apiInstance) []node {
	var out []node
	for _, g := range in.Groups {
		for _, n := range g.Nodes {
			id := source.Clean(string(n.ID))
			if id == "" {
				continue
			}
			host := source.Clean(string(n.PrivateIP))
			if host != "" && string(in.Port) != "" {
				host = net.JoinHostPort(host, source.Clean(string(in.Port)))
			}
			out = append(out, node{ID: id, Name: source.Clean(string(n.Name)), Role: source.Clean(string(n.Role)),
				Group: source.Clean(string(g.Type)), Host: host})
		}
	}
	return out
}

// servesSessions: the mongos of a cluster, the primary and secondaries of a replica set, the
// node of a single-node instance (ListSessions' node_id rules, reference §2.4).
func servesSessions(mode string, n node) bool {
	switch strings.ToLower(mode) {
	case "sharding":
		return strings.EqualFold(n.Group, "mongos")
	case "replicaset":
		return strings.EqualFold(n.Role, "primary") || strings.EqualFold(n.Role, "secondary")
	case "single":
		return true
	}
	return strings.EqualFold(n.Group, "mongos") || strings.EqualFold(n.Role, "primary") || strings.EqualFold(n.Role, "secondary")
}

func (n node) label() string {
	if n.Name != "" {
		return n.Name + " (" + n.ID + ")"
	}
	return n.ID
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// List returns the DDS instances of the project and region with their nodes, all pages.
func (s *Source) List(ctx context.Context) ([]source.Instance, error) {
	var out []source.Instance
	for offset, page := 0, 0; page < 100; page++ {
		var resp listInstancesResponse
		qp := url.Values{"offset": {fmt.Sprint(offset)}, "limit": {"100"}}
		if err := s.c.call(ctx, actionListInstances, "GET", []string{"v3", s.cfg.ProjectID, "instances"}, qp, nil, &resp); err != nil {
			return nil, err
		}
		for _, in := range resp.Instances {
			i := toInstance(in)
			inst := source.Instance{ID: i.ID, Name: i.Name, Region: source.Clean(string(in.Region)), Version: i.Version,
				Type: modeName(i.Mode), Status: i.Status}
			if inst.Region == "" {
				inst.Region = s.cfg.Region
			}
			for _, n := range toNodes(in) {
				desc := n.ID + "  " + firstNonEmpty(n.Group, "?") + "  " + firstNonEmpty(n.Role, "?")
				if n.Name != "" {
					desc += "  " + n.Name
				}
				if n.Host != "" {
					desc += "  " + n.Host
				}
				if servesSessions(i.Mode, n) {
					desc += "  (serves sessions)"
				}
				inst.Nodes = append(inst.Nodes, desc)
			}
			out = append(out, inst)
		}
		offset += len(resp.Instances)
		if len(resp.Instances) == 0 || offset >= int(resp.TotalCount) {
			break
		}
	}
	return out, nil
}

func modeName(mode string) string {
	switch strings.ToLower(mode) {
	case "sharding":
		return "sharded cluster"
	case "replicaset":
		return "replica set"
	case "single":
		return "single node"
	}
	return mode
}
