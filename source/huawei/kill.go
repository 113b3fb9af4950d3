package huawei

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/currentop/currentop/source"
)

// killReadPages bounds the re-read of a node before and after a kill (1000 sessions).
const killReadPages = 50

// ErrIdleNotKillable explains KillNotKillable: DeleteSession only ends active sessions.
var ErrIdleNotKillable = errors.New("huawei: idle sessions cannot be killed through the Huawei Cloud API (DeleteSession ends active operations only): close the connection from the client side")

// Kill ends active sessions through DeleteSession, safely (source.KillSafely): each target is
// first read back from its node and killed only if the same operation still holds its ID;
// otherwise the result is KillRefused or KillAlreadyGone. Afterwards the node is read once
// more to tell killed from kill pending (the API is paged and throttled: no longer watch).
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	s.mu.Lock()
	nodeOf := s.nodeOf
	s.mu.Unlock()
	k := &killing{s: s, nodeOf: nodeOf, node: map[string]string{}}
	return source.KillSafely(ctx, k, targets, source.KillWatch{})
}

// killing is one Kill's steps. Targets are read and killed per node, in the order the nodes
// were first named.
type killing struct {
	s      *Source
	nodes  []node
	nodeOf map[string]string // session ID → node ID, from the last snapshot
	node   map[string]string // target ID → the node it was found on
	killed bool              // the kill was sent: the re-read that follows need not be thorough
}

func (k *killing) Check(t source.Session) (source.KillOutcome, error) {
	switch {
	case k.s.cfg.InstanceID == "":
		return source.KillFailed, errors.New("huawei: no instance: pass --instance")
	case !t.Active:
		return source.KillNotKillable, ErrIdleNotKillable
	}
	return "", nil
}

// Reread reads each target back from its node: the one its ID names or the last snapshot
// placed it on, else the only node, else the node where it is found now (locate).
func (k *killing) Reread(ctx context.Context, targets []source.Session) []source.Current {
	out := make([]source.Current, len(targets))
	if k.nodes == nil {
		nodes, _, _, err := k.s.nodeList(ctx)
		if err != nil {
			for i := range out {
				out[i].Err = err
			}
			return out
		}
		k.nodes = nodes
	}
	byNode := map[string][]int{}
	var order []string
	for i, t := range targets {
		nodeID, err := k.nodeOfTarget(ctx, t)
		switch {
		case err != nil:
			out[i].Err = err
			continue
		case nodeID == "":
			continue // gone everywhere
		}
		if _, ok := byNode[nodeID]; !ok {
			order = append(order, nodeID)
		}
		byNode[nodeID] = append(byNode[nodeID], i)
	}
	for _, nodeID := range order {
		idx := byNode[nodeID]
		want := make([]source.Session, len(idx))
		for j, i := range idx {
			want[j] = targets[i]
			want[j].ID, _ = splitID(targets[i].ID, k.nodes)
		}
		found, err := k.s.reread(ctx, nodeByID(k.nodes, nodeID), want, !k.killed)
		for j, i := range idx {
			cur, ok := found[want[j].ID]
			out[i] = source.Current{Session: cur, Found: ok && cur.Active, Err: err}
		}
	}
	return out
}

// nodeOfTarget is the node t runs on, "" when it runs nowhere any more.
func (k *killing) nodeOfTarget(ctx context.Context, t source.Session) (string, error) {
	if id, ok := k.node[t.ID]; ok {
		return id, nil
	}
	rawID, nodeID := splitID(t.ID, k.nodes)
	if id, ok := k.nodeOf[t.ID]; ok && nodeID == "" {
		nodeID = id
	}
	if nodeID == "" && len(k.nodes) == 1 {
		nodeID = k.nodes[0].ID
	}
	if nodeID == "" {
		raw := t
		raw.ID = rawID
		id, err := k.s.locate(ctx, k.nodes, raw)
		if err != nil {
			return "", err
		}
		nodeID = id
	}
	if nodeID != "" {
		k.node[t.ID] = nodeID
	}
	return nodeID, nil
}

// Kill sends one DeleteSession per node with the targets' raw IDs.
func (k *killing) Kill(ctx context.Context, targets []source.Session) []error {
	k.killed = true
	errs := make([]error, len(targets))
	byNode := map[string][]int{}
	var order []string
	for i, t := range targets {
		nodeID := k.node[t.ID]
		if _, ok := byNode[nodeID]; !ok {
			order = append(order, nodeID)
		}
		byNode[nodeID] = append(byNode[nodeID], i)
	}
	for _, nodeID := range order {
		var ids []string
		for _, i := range byNode[nodeID] {
			raw, _ := splitID(targets[i].ID, k.nodes)
			ids = append(ids, raw)
		}
		err := k.s.c.call(ctx, actionDeleteSession, "POST", []string{"v3", k.s.cfg.ProjectID, "nodes", nodeID, "session"}, nil, deleteSessionRequest{Sessions: ids}, nil)
		for _, i := range byNode[nodeID] {
			errs[i] = err
		}
	}
	return errs
}

// reread returns the current state of the sessions of node n with the raw IDs of targets,
// keyed by ID (absent: not running). A few targets are looked up with the API narrowed to
// each one's type and namespace; many, or (when thorough) those not found that way, by
// reading the whole node, so that an ID now used by an operation of another type is seen
// (and refused) rather than reported gone.
func (s *Source) reread(ctx context.Context, n node, targets []source.Session, thorough bool) (map[string]source.Session, error) {
	found := make(map[string]source.Session, len(targets))
	var missing []source.Session
	if len(targets) <= 3 {
		for _, t := range targets {
			cur, ok, err := s.findOne(ctx, n, t)
			if err != nil {
				return nil, err
			}
			if ok {
				found[t.ID] = cur
			} else {
				missing = append(missing, t)
			}
		}
		if len(missing) == 0 || !thorough {
			return found, nil
		}
	} else {
		missing = targets
	}
	all, complete, err := s.readAll(ctx, n)
	if err != nil {
		return nil, err
	}
	for _, t := range missing {
		if cur, ok := all[t.ID]; ok {
			found[t.ID] = cur
		} else if !complete && len(targets) > 3 {
			cur, ok, err := s.findOne(ctx, n, t)
			if err != nil {
				return nil, err
			}
			if ok {
				found[t.ID] = cur
			}
		}
	}
	return found, nil
}

// locate finds the node of a session the last snapshot did not place (a kill before any
// snapshot, or an ID it did not show): the node where the same operation runs, else one where
// the ID now names another operation (the kill is then refused), else "" (gone everywhere).
func (s *Source) locate(ctx context.Context, nodes []node, t source.Session) (string, error) {
	var changedOn string
	for _, n := range nodes {
		found, err := s.reread(ctx, n, []source.Session{t}, true)
		if err != nil {
			return "", err
		}
		if cur, ok := found[t.ID]; ok && cur.Active {
			if source.SameOperation(t, cur) == "" {
				return n.ID, nil
			}
			if changedOn == "" {
				changedOn = n.ID
			}
		}
	}
	return changedOn, nil
}

// splitID separates the "@nodeID" suffix Snapshot adds when two nodes report the same ID.
func splitID(id string, nodes []node) (raw, nodeID string) {
	if i := strings.LastIndexByte(id, '@'); i > 0 {
		if n := nodeByID(nodes, id[i+1:]); n.ID != "" {
			return id[:i], n.ID
		}
	}
	return id, ""
}

func nodeByID(nodes []node, id string) node {
	for _, n := range nodes {
		if n.ID == id {
			return n
		}
	}
	return node{ID: id}
}

// readAll reads every session of node n (bounded by killReadPages), keyed by raw ID.
// complete is false when the node had more sessions than were read.
func (s *Source) readAll(ctx context.Context, n node) (map[string]source.Session, bool, error) {
	res, err := s.listSessions(ctx, n, listing{maxPages: killReadPages, q: everything, deadline: s.c.now().Add(s.budget())})
	if err != nil {
		return nil, false, err
	}
	m := make(map[string]source.Session, len(res.sessions))
	for _, sess := range res.sessions {
		m[sess.ID] = sess
	}
	return m, !res.capped, nil
}

// everything is the query that keeps every session.
var everything = source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}

// findOne looks for one session (t.ID is its raw ID), narrowing the listing with the target's
// own type and namespace: exact values it had when the user saw it (if they changed, it is not
// the same operation anyway), never empty ones.
func (s *Source) findOne(ctx context.Context, n node, t source.Session) (source.Session, bool, error) {
	params := url.Values{}
	for _, v := range source.Ops {
		if v == t.Op {
			params.Set("type", v)
		}
	}
	if t.NS != "" {
		params.Set("namespace", t.NS)
	}
	res, err := s.listSessions(ctx, n, listing{params: params, maxPages: killReadPages, q: everything, deadline: s.c.now().Add(s.budget())})
	if err != nil {
		return source.Session{}, false, err
	}
	for _, sess := range res.sessions {
		if sess.ID == t.ID {
			return sess, true, nil
		}
	}
	return source.Session{}, false, nil
}
