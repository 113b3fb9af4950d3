package tencent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/currentop/currentop/source"
)

// How much of DescribeCurrentOp one snapshot reads: the longest-running operations first,
// 100 per page, at most maxOps unless Query.Limit asks for more (within the API's offset cap).
const (
	defaultMaxOps = 1000
	hardMaxOps    = currentOpMaxOffset + currentOpPageLimit
	infoTTL       = 5 * time.Minute
	// maxCommand bounds the command text kept per operation.
	maxCommand = 64 << 10
)

// instanceInfo is what DescribeDBInstances says about the watched instance.
type instanceInfo struct {
	Host, Version string
	ReplicaSets   []string
	Sharded       bool
}

// Snapshot reads the instance's clients and operations. Filters the API can apply exactly
// (see pushdown) are sent with the request; the caller applies Query.Filter as a whole.
func (s *Source) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	if err := s.checkOpen(true); err != nil {
		return nil, err
	}
	n := &notes{}
	info, err := s.instanceInfo(ctx, n)
	if err != nil {
		return nil, err
	}
	f, err := s.fetch(ctx, n, q, info)
	if err != nil {
		return nil, err
	}

	snap := &source.Snapshot{
		Source:  "tencent",
		Target:  s.target(),
		TakenAt: time.Now(),
		Server: source.Server{
			Host:    s.instance,
			Version: "",
			Kind:    "cloud",
		},
		Clients:  []source.Client{},
		Sessions: make([]source.Session, 0, len(f.ops)),
	}
	if info != nil {
		if info.Host != "" {
			snap.Server.Host = info.Host
		}
		snap.Server.Version = info.Version
	}
	if err := s.addClients(ctx, snap, f); err != nil {
		return nil, err
	}
	for _, op := range f.ops {
		sess := toSession(op)
		if sess.Active {
			snap.Server.Connections.Active++
		}
		snap.Sessions = append(snap.Sessions, sess)
	}
	snap.Members = members(snap.Sessions, snap.Server.Version)
	snap.Sessions = scopeSessions(snap.Sessions, q.Members)
	attribute(snap.Clients, snap.Sessions)
	// Vitals: what the operation list gives, before the display's toggles hide any.
	snap.Server.Sample = source.SessionSample(snap.TakenAt, snap.Sessions, f.total)
	if f.trunc && f.total > len(f.ops) {
		snap.TotalSessions = f.total
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("showing the %d longest-running of %d operations (DescribeCurrentOp pages by 100, up to offset 10000)", len(f.ops), f.total))
	}
	snap.Warnings = append(snap.Warnings, n.warnings...)
	if len(n.warnings) > 0 {
		snap.Partial = true
	}
	// What the API could not filter: the toggles and the rest of the filter.
	source.Apply(snap, q)
	return snap, nil
}

// fetched is what one snapshot read from the API.
type fetched struct {
	ops     []*currentOp
	total   int
	trunc   bool
	clients []source.Client
	cliErr  error // reading the clients failed
	cliSkip error // the clients were not asked for: the instance cannot report them
}

// fetch reads the operations and the clients concurrently. One side failing fatally
// (credentials, instance) stops the other; a clients error that is not fatal is returned in
// fetched.cliErr.
func (s *Source) fetch(ctx context.Context, n *notes, q source.Query, info *instanceInfo) (*fetched, error) {
	f := &fetched{}
	p := pushdown(q.Filter, info)
	p.scope(q.Members)
	want := defaultMaxOps
	if q.Limit > want {
		want = min(q.Limit, hardMaxOps)
	}
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var opsErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.ops, f.total, f.trunc, opsErr = s.currentOpsPaged(sub, n, p, want)
		if opsErr != nil {
			cancel()
		}
	}()
	s.mu.Lock()
	f.cliSkip = s.clientsErr
	s.mu.Unlock()
	if f.cliSkip == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.clients, f.cliErr = s.clients(sub, n)
			if fatalForClients(f.cliErr) {
				cancel()
			}
		}()
	}
	wg.Wait()
	if fatalForClients(f.cliErr) {
		return nil, f.cliErr // the root cause, even if it cancelled the operations' read
	}
	if opsErr != nil {
		return nil, opsErr
	}
	return f, nil
}

// addClients puts the clients read into snap, or says why there are none. Permission and
// support errors stop the clients being asked for again.
func (s *Source) addClients(ctx context.Context, snap *source.Snapshot, f *fetched) error {
	// The API has no connection limit and no count of connections ever made; the current
	// count is the client list's, unknown (not 0) when the list was not read.
	snap.Server.Connections.Unknown |= source.ConnAvailable | source.ConnTotalCreated
	switch {
	case f.cliSkip != nil:
		snap.Server.Connections.Unknown |= source.ConnCurrent
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, f.cliSkip.Error())
	case f.cliErr != nil:
		if fatalForClients(f.cliErr) || ctx.Err() != nil {
			return f.cliErr
		}
		if errors.Is(f.cliErr, ErrUnsupported) || errors.Is(f.cliErr, ErrPermission) {
			// Asking again will not help: stop polling clients for this source.
			s.mu.Lock()
			s.clientsErr = f.cliErr
			s.mu.Unlock()
		}
		snap.Server.Connections.Unknown |= source.ConnCurrent
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, f.cliErr.Error())
	default:
		snap.Clients = f.clients
	}
	for _, c := range snap.Clients {
		snap.Server.Connections.Current += int64(c.Count)
	}
	return nil
}

// fatalForClients reports a clients error that fails the whole snapshot.
func fatalForClients(err error) bool {
	return err != nil && (errors.Is(err, ErrAuth) || errors.Is(err, ErrNotFound))
}

// instanceInfo returns the cached DescribeDBInstances answer for the instance, refreshing it
// every few minutes. Missing permission for DescribeDBInstances is not fatal: the header just
// shows less.
func (s *Source) instanceInfo(ctx context.Context, n *notes) (*instanceInfo, error) {
	s.mu.Lock()
	info, at, infoErr := s.info, s.infoAt, s.infoErr
	s.mu.Unlock()
	if time.Since(at) < infoTTL {
		if infoErr != nil {
			n.add("instance details unavailable: %v", infoErr)
		}
		if info != nil || infoErr != nil {
			return info, nil
		}
	}
	details, _, err := s.describeInstances(ctx, n, []string{s.instance}, 0, 1)
	if err != nil {
		switch {
		case errors.Is(err, ErrAuth), errors.Is(err, ErrNotFound), errors.Is(err, ErrNetwork), ctx.Err() != nil:
			return nil, err
		}
		// Not allowed or not working now: go on without the details, and ask again later.
		n.add("instance details unavailable: %v", err)
		s.mu.Lock()
		s.infoErr, s.infoAt = err, time.Now()
		s.mu.Unlock()
		return info, nil // the stale one, if any
	}
	var d *instanceDetail
	for _, x := range details {
		if x != nil && deref(x.InstanceId) == s.instance {
			d = x
		}
	}
	if d == nil {
		return nil, &APIError{Action: actionInstances, Code: "InvalidParameterValue.NotFoundInstance", kind: ErrNotFound,
			Hint: fmt.Sprintf("instance %q was not found in region %s: check --instance and --region (currentop --source tencent --list shows the instances of a region)", s.instance, s.region)}
	}
	info = &instanceInfo{
		Version: mongoVersion(deref(d.MongoVersion)),
		Sharded: deref(d.ClusterType) == 1,
	}
	if vip := source.Clean(deref(d.Vip)); vip != "" {
		info.Host = vip
		if p := deref(d.Vport); p != 0 {
			info.Host += ":" + strconv.FormatUint(p, 10)
		}
	}
	for _, rs := range d.ReplicaSets {
		if rs != nil && deref(rs.ReplicaSetName) != "" {
			info.ReplicaSets = append(info.ReplicaSets, deref(rs.ReplicaSetName))
		}
	}
	s.mu.Lock()
	s.info, s.infoAt, s.infoErr = info, time.Now(), nil
	s.mu.Unlock()
	return info, nil
}

// mongoVersion turns "MONGO_40_WT" into "4.0" and "MONGO_3_WT" into "3.2" (the only 3.x
// engine Tencent sells under that name); anything else is shown as sent.
func mongoVersion(v string) string {
	v = source.Clean(v)
	parts := strings.Split(v, "_")
	if len(parts) >= 2 && parts[0] == "MONGO" {
		d := parts[1]
		if _, err := strconv.Atoi(d); err == nil {
			switch len(d) {
			case 1:
				if d == "3" {
					return "3.2"
				}
				return d + ".0"
			case 2:
				return d[:1] + "." + d[1:]
			}
		}
	}
	return v
}

// clients reads every page of DescribeClientConnections and merges rows by IP.
func (s *Source) clients(ctx context.Context, n *notes) ([]source.Client, error) {
	byIP := map[string]*source.Client{}
	var order []string
	var offset uint64
	for page := 0; ; page++ {
		resp := &describeClientConnectionsResponse{}
		off := offset
		err := s.call(ctx, n, actionClients, func() tchttp.Request {
			return &describeClientConnectionsRequest{BaseRequest: newBase(actionClients),
				InstanceId: str(s.instance), Limit: u64(clientsPageLimit), Offset: u64(off)}
		}, resp)
		if err != nil {
			return nil, err
		}
		if resp.Response == nil {
			return nil, malformed(actionClients, "no Response")
		}
		for _, c := range resp.Response.Clients {
			if c == nil {
				continue
			}
			ip := source.Clean(deref(c.IP))
			if ip == "" {
				continue // nothing to show or narrow by
			}
			cl := byIP[ip]
			if cl == nil {
				cl = &source.Client{IP: ip, Apps: []string{}, Users: []string{}, Drivers: []string{}}
				byIP[ip] = cl
				order = append(order, ip)
			}
			cl.Count += clampInt(deref(c.Count))
			cl.Internal = cl.Internal || deref(c.InternalService)
		}
		total := deref(resp.Response.TotalCount)
		got := uint64(len(resp.Response.Clients))
		offset += clientsPageLimit
		// TotalCount counts records; stop at it, at an empty or short page, or at a sane cap
		// (a million client IPs is beyond any instance).
		if got == 0 || got < clientsPageLimit || offset >= total || page >= 999 {
			break
		}
	}
	out := make([]source.Client, 0, len(order))
	for _, ip := range order {
		out = append(out, *byIP[ip])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].IP < out[j].IP
	})
	return out, nil
}

func clampInt(u uint64) int {
	const maxInt = int(^uint(0) >> 1)
	if u > uint64(maxInt) {
		return maxInt
	}
	return int(u)
}

func malformed(action, what string) error {
	return &APIError{Action: action, Code: "ClientError.ParseJsonError", Message: what, kind: ErrNetwork,
		Hint: "the endpoint did not answer like the Tencent Cloud API: check --endpoint"}
}

// opKey identifies an operation for de-duplication and kill.
type opKey struct {
	rs, node string
	id       int64
}

// currentOps reads up to want operations, longest-running first, with p pushed down.
// total is the API's TotalCount.
func (s *Source) currentOps(ctx context.Context, n *notes, p pushed, want int) (ops []*currentOp, total int, err error) {
	ops, total, _, err = s.currentOpsPaged(ctx, n, p, want)
	return ops, total, err
}

// currentOpsPaged is currentOps, also saying whether it stopped before the end of the list
// (at want or the API's offset cap) rather than at its end.
func (s *Source) currentOpsPaged(ctx context.Context, n *notes, p pushed, want int) (ops []*currentOp, total int, truncated bool, err error) {
	ops, total, truncated, err = s.readCurrentOps(ctx, n, p, want)
	var ae *APIError
	if p.rs != nil && errors.As(err, &ae) && ae.Code == "InvalidParameterValue.ReplicaNotFound" {
		// The replica set list the filter was matched against is out of date: ask without
		// that filter and let the local filter decide.
		p.rs = nil
		return s.readCurrentOps(ctx, n, p, want)
	}
	return ops, total, truncated, err
}

func (s *Source) readCurrentOps(ctx context.Context, n *notes, p pushed, want int) (ops []*currentOp, total int, truncated bool, err error) {
	seen := map[opKey]bool{}
	for offset := 0; offset < want && offset <= currentOpMaxOffset; offset += currentOpPageLimit {
		limit := min(currentOpPageLimit, want-offset)
		resp := &describeCurrentOpResponse{}
		off := offset
		order := "DESC"
		if p.shortestFirst {
			order = "ASC"
		}
		err := s.call(ctx, n, actionCurrentOp, func() tchttp.Request {
			r := &describeCurrentOpRequest{BaseRequest: newBase(actionCurrentOp),
				InstanceId: str(s.instance), Limit: u64(uint64(limit)), Offset: u64(uint64(off)),
				OrderBy: str("MicrosecsRunning"), OrderByType: str(order)}
			p.apply(r)
			return r
		}, resp)
		if err != nil {
			return nil, 0, false, err
		}
		if resp.Response == nil {
			return nil, 0, false, malformed(actionCurrentOp, "no Response")
		}
		total = clampInt(deref(resp.Response.TotalCount))
		for _, op := range resp.Response.CurrentOps {
			if op == nil {
				continue
			}
			k := opKey{deref(op.ReplicaSetName), deref(op.NodeName), deref(op.OpId)}
			if seen[k] { // operations move between pages while we read
				continue
			}
			seen[k] = true
			ops = append(ops, op)
		}
		if len(resp.Response.CurrentOps) < limit || offset+limit >= total {
			break
		}
		if next := offset + currentOpPageLimit; next >= want || next > currentOpMaxOffset {
			truncated = true
		}
	}
	if total < len(ops) {
		total = len(ops)
	}
	return ops, total, truncated, nil
}

// toSession converts one CurrentOp. The ID is "ReplicaSetName/NodeName/OpId".
func toSession(op *currentOp) source.Session {
	rs, node := source.Clean(deref(op.ReplicaSetName)), source.Clean(deref(op.NodeName))
	kind := source.Clean(deref(op.Op))
	ns := source.Clean(deref(op.Ns))
	s := source.Session{
		ID:        sessionID(rs, node, deref(op.OpId)),
		Type:      source.TypeOp,
		Active:    true,
		Op:        kind,
		NS:        ns,
		RunningUS: runningUS(deref(op.MicrosecsRunning)),
		Host:      node,
		Shard:     rs,
		Desc:      strings.ToLower(source.Clean(deref(op.State))),
		Command:   jsonText(deref(op.Query)),
		Internal:  strings.HasPrefix(ns, "local.") || strings.HasPrefix(ns, "config."),
	}
	if strings.EqualFold(kind, "none") {
		s.Type, s.Active = source.TypeIdle, false
	}
	enrich(&s, deref(op.Operation), deref(op.Query))
	s.Raw = rawOp(op)
	return s
}

func sessionID(rs, node string, id int64) string {
	return rs + "/" + node + "/" + strconv.FormatInt(id, 10)
}

// parseSessionID splits "ReplicaSetName/NodeName/OpId". The node name may not contain "/",
// the replica set name may not either; both are checked.
func parseSessionID(id string) (opKey, error) {
	i, j := strings.Index(id, "/"), strings.LastIndex(id, "/")
	if i < 0 || i == j {
		return opKey{}, fmt.Errorf("tencent: %q is not a Tencent operation ID (ReplicaSetName/NodeName/OpId)", source.Clean(id))
	}
	n, err := strconv.ParseInt(id[j+1:], 10, 64)
	if err != nil {
		return opKey{}, fmt.Errorf("tencent: %q is not a Tencent operation ID: the OpId is not a number", source.Clean(id))
	}
	return opKey{rs: id[:i], node: id[i+1 : j], id: n}, nil
}

// runningUS reads MicrosecsRunning. The field name (and mongod's microsecs_running, which it
// mirrors) says microseconds; the API docs write "(ms)". We follow the name: see the report's
// open questions (shared/reference/cloud-apis.md §4.1).
func runningUS(v uint64) int64 {
	const maxInt64 = int64(^uint64(0) >> 1)
	if v > uint64(maxInt64) {
		return maxInt64
	}
	return int64(v)
}

// maxPerClient bounds the apps, users and drivers listed per client.
const maxPerClient = 8

// attribute fills the clients' active counts, apps, users and drivers from the sessions whose
// client address is known (DescribeClientConnections gives only IP and count).
func attribute(clients []source.Client, sessions []source.Session) {
	if len(clients) == 0 {
		return
	}
	byIP := make(map[string]*source.Client, len(clients))
	for i := range clients {
		byIP[clients[i].IP] = &clients[i]
	}
	add := func(list []string, v string) []string {
		if v == "" || len(list) >= maxPerClient || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for i := range sessions {
		s := &sessions[i]
		c := byIP[s.ClientIP()]
		if c == nil {
			continue
		}
		if s.Active && s.Type == source.TypeOp && c.Active < c.Count {
			c.Active++
		}
		c.Apps, c.Users, c.Drivers = add(c.Apps, s.App), add(c.Users, s.User), add(c.Drivers, s.Driver)
	}
}
