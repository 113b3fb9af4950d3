package mongodb

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// detailCap bounds the documents one Detail reads: it asks for one session, but IDs of idle
// sessions and cursors are matched client-side among their kind.
const detailCap = 1000

// Detail reads the whole $currentOp document of one session, as the server sends it now
// (source.Detailer): a $currentOp of the session's kind with a $match on what identifies it.
// An operation is matched by opid and must still be the one t shows (opids are reused); an
// idle connection by its connection, an idle session or cursor by its ID.
func (s *Source) Detail(ctx context.Context, t source.Session) (*source.Session, error) {
	if s.fan != nil {
		if m, rest, ok := s.fan.route(t.ID); ok {
			return s.fan.detail(ctx, m, rest, t)
		}
	}
	if s.legacy.on.Load() {
		return s.detailLegacy(ctx, t)
	}
	pipeline, ok := s.detailPipeline(t)
	if !ok {
		return nil, fmt.Errorf("session %s of %s cannot be looked up: its ID names no operation, connection, session or cursor", t.ID, s.target)
	}
	var found *source.Session
	seen := 0
	r, err := s.read(ctx, pipeline, func(d bson.Raw) bool {
		seen++
		if d.Validate() != nil {
			return seen < detailCap
		}
		now := convert(d)
		if baseID(t.ID) != now.ID || !sameSession(t, now) {
			return seen < detailCap
		}
		now.Raw = docJSON(d)
		found = &now
		return false // found: the rest is not needed
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		if why := s.stopped(r, "$currentOp documents"); why != "" {
			return nil, fmt.Errorf("session %s not found in what was read: %s", t.ID, why)
		}
		return nil, fmt.Errorf("session %s: %w", t.ID, source.ErrEnded)
	}
	found.ID = t.ID // keep a "~2" suffix the snapshot gave a duplicate
	return found, nil
}

// uniqueID returns id, or id with "~n" appended when seen already holds it n-1 times: two
// documents can report the same opid (see baseID).
func uniqueID(seen map[string]int, id string) string {
	n := seen[id]
	seen[id] = n + 1
	if n == 0 {
		return id
	}
	return fmt.Sprintf("%s~%d", id, n+1)
}

// baseID strips the "~n" a snapshot appends to duplicate IDs.
func baseID(id string) string {
	if i := strings.LastIndex(id, "~"); i > 0 {
		if _, err := strconv.Atoi(id[i+1:]); err == nil {
			return id[:i]
		}
	}
	return id
}

// sameSession reports whether now is still the session the caller saw.
func sameSession(saw, now source.Session) bool {
	if saw.Type != now.Type {
		return false
	}
	if saw.Type == source.TypeOp {
		return source.SameOperation(saw, now) == ""
	}
	return saw.ConnectionID == now.ConnectionID && saw.Client == now.Client
}

// detailPipeline is the $currentOp that lists t's kind, narrowed to t where a field of the
// document identifies it.
func (s *Source) detailPipeline(t source.Session) (bson.A, bool) {
	opts := bson.D{
		{Key: "allUsers", Value: true},
		{Key: "idleConnections", Value: t.Type == source.TypeIdle},
		{Key: "idleSessions", Value: t.Type == source.TypeIdleSession},
		{Key: "idleCursors", Value: t.Type == source.TypeIdleCursor},
	}
	var match bson.D
	switch t.Type {
	case source.TypeOp:
		opid, ok := parseOpID(baseID(t.ID))
		if !ok {
			return nil, false
		}
		match = bson.D{{Key: "opid", Value: opid}}
	case source.TypeIdle:
		if t.ConnectionID == 0 {
			return nil, false
		}
		match = bson.D{{Key: "connectionId", Value: t.ConnectionID}, {Key: "active", Value: false}}
		if s.mongos && t.Shard == "" {
			// The applications' idle connections are the mongos's own (see idleLocalPipeline).
			opts = append(opts, bson.E{Key: "localOps", Value: true})
		}
	case source.TypeIdleSession, source.TypeIdleCursor:
		match = bson.D{{Key: "type", Value: t.Type}}
	default:
		return nil, false
	}
	return bson.A{
		bson.D{{Key: "$currentOp", Value: opts}},
		bson.D{{Key: "$match", Value: match}},
	}, true
}

// detailLegacy is Detail on a server read with the currentOp command, which lists operations
// only (see fallback.go).
func (s *Source) detailLegacy(ctx context.Context, t source.Session) (*source.Session, error) {
	opid, ok := parseOpID(baseID(t.ID))
	if t.Type != source.TypeOp || !ok {
		return nil, fmt.Errorf("session %s of %s cannot be looked up: the currentOp command lists operations only", t.ID, s.target)
	}
	doc, err := s.findOpLegacy(ctx, opid)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, source.ErrEnded
	}
	now := convert(doc)
	if !sameSession(t, now) {
		return nil, source.ErrEnded
	}
	now.Raw = docJSON(doc)
	return &now, nil
}
