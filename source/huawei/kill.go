package huawei

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/currentop/currentop/source"
)

// killReadPages bounds the re-read of a node before and after a kill (1000 sessions).
const killReadPages = 50

// ErrIdleNotKillable explains KillNotKillable: DeleteSession only ends active sessions.
var ErrIdleNotKillable = errors.New("huawei: idle sessions cannot be killed through the Huawei Cloud API (DeleteSession ends active operations only): close the connection from the client side")

// Kill ends active sessions through DeleteSession. Each target is first read back from its node
// and killed only if the same operation still holds its ID (same connection, type, namespace,
// and a running time that did not restart); otherwise the result is KillRefused or
// KillAlreadyGone. Afterwards the node is read again to tell killed from kill pending.
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	results := make([]source.KillResult, len(targets))
	if s.cfg.InstanceID == "" {
		for i, t := range targets {
			results[i] = source.KillResult{ID: t.ID, Outcome: source.KillFailed, Err: errors.New("huawei: no instance: pass --instance")}
		}
		return results
	}
	nodes, _, _, err := s.nodeList(ctx)
	if err != nil {
		for i, t := range targets {
			results[i] = source.KillResult{ID: t.ID, Outcome: source.KillFailed, Err: err}
		}
		return results
	}
	s.mu.Lock()
	nodeOf := s.nodeOf
	s.mu.Unlock()

	// Group the killable targets by node, in the order nodes were first named.
	type job struct {
		idx    int
		rawID  string
		target source.Session
	}
	byNode := map[string][]job{}
	var order []string
	for i, t := range targets {
		results[i].ID = t.ID
		if !t.Active {
			results[i].Outcome, results[i].Err = source.KillNotKillable, ErrIdleNotKillable
			continue
		}
		rawID, nodeID := splitID(t.ID, nodes)
		if id, ok := nodeOf[t.ID]; ok && nodeID == "" {
			nodeID = id
		}
		if nodeID == "" && len(nodes) == 1 {
			nodeID = nodes[0].ID
		}
		if nodeID == "" {
			raw := t
			raw.ID = rawID
			id, err := s.locate(ctx, nodes, raw)
			switch {
			case err != nil:
				results[i].Outcome, results[i].Err = source.KillFailed, fmt.Errorf("huawei: re-read before kill: %w", err)
				continue
			case id == "":
				results[i].Outcome = source.KillAlreadyGone
				continue
			}
			nodeID = id
		}
		if _, ok := byNode[nodeID]; !ok {
			order = append(order, nodeID)
		}
		byNode[nodeID] = append(byNode[nodeID], job{i, rawID, t})
	}

	for _, nodeID := range order {
		jobs := byNode[nodeID]
		n := nodeByID(nodes, nodeID)
		want := make([]source.Session, len(jobs))
		for i, j := range jobs {
			want[i] = j.target
			want[i].ID = j.rawID
		}
		before, err := s.reread(ctx, n, want, true)
		if err != nil {
			for _, j := range jobs {
				results[j.idx].Outcome, results[j.idx].Err = source.KillFailed, fmt.Errorf("huawei: re-read before kill: %w", err)
			}
			continue
		}
		var ids []string
		var sent []job
		for _, j := range jobs {
			cur, found := before[j.rawID]
			if !found || !cur.Active {
				results[j.idx].Outcome = source.KillAlreadyGone
				continue
			}
			if why := changed(j.target, cur); why != "" {
				results[j.idx].Outcome = source.KillRefused
				results[j.idx].Err = fmt.Errorf("huawei: session %s now belongs to another operation (%s): not killed; refresh and check", j.target.ID, why)
				continue
			}
			ids = append(ids, j.rawID)
			sent = append(sent, j)
		}
		if len(ids) == 0 {
			continue
		}
		err = s.c.call(ctx, actionDeleteSession, "POST", []string{"v3", s.cfg.ProjectID, "nodes", nodeID, "session"}, nil, deleteSessionRequest{Sessions: ids}, nil)
		if err != nil {
			outcome := source.KillFailed
			var api *APIError
			switch {
			case errors.As(err, &api) && api.Code == "DBS.200004":
				outcome = source.KillNotKillable
			case errors.As(err, &api) && api.HTTPStatus == http.StatusForbidden:
				outcome = source.KillNotPermitted
			}
			for _, j := range sent {
				results[j.idx].Outcome, results[j.idx].Err = outcome, err
			}
			continue
		}
		var check []source.Session
		for _, j := range sent {
			t := j.target
			t.ID = j.rawID
			check = append(check, t)
		}
		after, err := s.reread(ctx, n, check, false)
		for _, j := range sent {
			cur, still := after[j.rawID]
			switch {
			case err != nil:
				results[j.idx].Outcome = source.KillPending
				results[j.idx].Err = fmt.Errorf("huawei: the kill was accepted but the session could not be read back: %w", err)
			case still && cur.Active && !changedRunning(j.target, cur):
				results[j.idx].Outcome = source.KillPending
			default:
				results[j.idx].Outcome = source.KillGone
			}
		}
	}
	return results
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
			if changed(t, cur) == "" {
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
	res, err := s.listSessions(ctx, n, listing{maxPages: killReadPages, q: everything, deadline: time.Now().Add(s.budget())})
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
	res, err := s.listSessions(ctx, n, listing{params: params, maxPages: killReadPages, q: everything, deadline: time.Now().Add(s.budget())})
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

// changed says why cur is not the operation the user saw as t, or "" when it is.
func changed(t, cur source.Session) string {
	switch {
	case t.Client != "" && cur.Client != t.Client:
		return fmt.Sprintf("client %s, was %s", cur.Client, t.Client)
	case t.Desc != "" && cur.Desc != t.Desc:
		return fmt.Sprintf("connection %s, was %s", cur.Desc, t.Desc)
	case t.Op != "" && cur.Op != t.Op:
		return fmt.Sprintf("type %s, was %s", cur.Op, t.Op)
	case t.NS != "" && cur.NS != t.NS:
		return fmt.Sprintf("namespace %s, was %s", cur.NS, t.NS)
	case changedRunning(t, cur):
		return fmt.Sprintf("running %v, was %v: it restarted", cur.Running(), t.Running())
	}
	return ""
}

// changedRunning: the same operation only runs longer; a clearly shorter running time means a
// new operation took the ID (a second of slack absorbs rounding and clock differences).
func changedRunning(t, cur source.Session) bool {
	return cur.Running()+time.Second < t.Running()
}
