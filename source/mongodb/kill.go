package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/currentop/currentop/source"
)

// killSettle is how long Kill watches a killed operation before reporting it as pending or
// still running. killOp only marks the op; it stops at its next interrupt point.
const (
	killSettle = 600 * time.Millisecond
	killPoll   = 40 * time.Millisecond
)

// Kill ends operations with killOp, safely: each target is re-read first and refused when its
// opid now belongs to another connection or operation (opids are reused), the opid is sent back
// in the BSON type the server used, and the outcome is checked afterwards.
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	out := make([]source.KillResult, 0, len(targets))
	for _, t := range targets {
		outcome, err := s.kill(ctx, t)
		out = append(out, source.KillResult{ID: t.ID, Outcome: outcome, Err: err})
	}
	return out
}

func (s *Source) kill(ctx context.Context, t source.Session) (source.KillOutcome, error) {
	if t.Type != source.TypeOp || !t.Active {
		return source.KillNotKillable, fmt.Errorf("%s is an idle %s with no operation to kill", t.ID, strings.TrimPrefix(t.Type, "idle"))
	}
	opid, ok := parseOpID(t.ID)
	if !ok {
		return source.KillRefused, fmt.Errorf("%q is not an operation id of %s; refresh and pick the operation again", t.ID, s.target)
	}
	before, err := s.findOp(ctx, opid)
	if err != nil {
		return s.killErr(err)
	}
	if before == nil {
		return source.KillAlreadyGone, nil
	}
	if why := sameOp(t, convert(before)); why != "" {
		return source.KillRefused, fmt.Errorf("opid %s now belongs to another operation (%s); nothing was killed — refresh and try again", t.ID, why)
	}
	raw, ok := lookup(before, "opid")
	if !ok {
		return source.KillAlreadyGone, nil
	}
	kctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = s.client.Database("admin").RunCommand(kctx, bson.D{
		{Key: "killOp", Value: 1},
		{Key: "op", Value: raw}, // int32 on mongod, "shard:opid" through mongos: as received
		{Key: "comment", Value: ownComment},
	}).Err()
	cancel()
	if err != nil {
		return s.killErr(err)
	}
	return s.watchKill(ctx, t, opid)
}

// watchKill re-reads the op until it is gone or killSettle passes.
func (s *Source) watchKill(ctx context.Context, t source.Session, opid any) (source.KillOutcome, error) {
	deadline := time.Now().Add(killSettle)
	for {
		doc, err := s.findOp(ctx, opid)
		if err != nil {
			// The kill was sent; say what is known.
			return source.KillPending, fmt.Errorf("kill sent to %s but its outcome could not be checked: %w", t.ID, err)
		}
		if doc == nil || sameOp(t, convert(doc)) != "" {
			return source.KillGone, nil
		}
		if time.Now().After(deadline) {
			if pending, _ := boolOK(doc, "killPending"); pending {
				return source.KillPending, nil
			}
			return source.KillStillRunning, fmt.Errorf("%s accepted the kill but operation %s is still running; it may not check for interrupts — try again or kill its session", s.target, t.ID)
		}
		select {
		case <-ctx.Done():
			return source.KillPending, fmt.Errorf("kill sent to %s, stopped watching: %w", t.ID, ctx.Err())
		case <-time.After(killPoll):
		}
	}
}

// parseOpID turns a session ID back into the value to look the op up by: an integer on mongod
// (numeric comparison matches int32, int64 and double opids alike), the verbatim string
// "shard:opid" through mongos.
func parseOpID(id string) (any, bool) {
	if shard, n, ok := strings.Cut(id, ":"); ok {
		if shard == "" || strings.ContainsAny(shard, " /") {
			return nil, false
		}
		if _, err := strconv.ParseInt(n, 10, 64); err != nil {
			return nil, false
		}
		return id, true
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, false
	}
	return n, true
}

// findOp returns the $currentOp document of opid, or nil when there is none.
func (s *Source) findOp(ctx context.Context, opid any) (bson.Raw, error) {
	docs, err := s.aggregate(ctx, bson.A{
		bson.D{{Key: "$currentOp", Value: bson.D{
			{Key: "allUsers", Value: true},
			{Key: "idleConnections", Value: false},
			{Key: "idleSessions", Value: false},
		}}},
		bson.D{{Key: "$match", Value: bson.D{{Key: "opid", Value: opid}}}},
	})
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if v, ok := lookup(d, "opid"); ok && opidEqual(v, opid) {
			return d, nil
		}
	}
	return nil, nil
}

func opidEqual(v bson.RawValue, want any) bool {
	switch w := want.(type) {
	case string:
		s, ok := v.StringValueOK()
		return ok && s == w
	case int64:
		n, ok := v.AsInt64OK()
		return ok && n == w
	}
	return false
}

// sameOp explains why now is not the operation the user saw, or returns "".
func sameOp(saw, now source.Session) string {
	switch {
	case saw.ConnectionID != now.ConnectionID:
		return fmt.Sprintf("connection %d, was %d", now.ConnectionID, saw.ConnectionID)
	case saw.Client != now.Client:
		return fmt.Sprintf("client %s, was %s", now.Client, saw.Client)
	case saw.Op != now.Op:
		return fmt.Sprintf("op %q, was %q", now.Op, saw.Op)
	case saw.NS != now.NS:
		return fmt.Sprintf("namespace %q, was %q", now.NS, saw.NS)
	case now.RunningUS < saw.RunningUS:
		return fmt.Sprintf("running %s, was %s: it restarted", now.Running(), saw.Running())
	}
	return ""
}

// killErr classifies a failed killOp or re-read.
func (s *Source) killErr(err error) (source.KillOutcome, error) {
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == codeUnauthorized {
		who := s.who()
		return source.KillNotPermitted, s.fail(source.ErrPermission, err,
			fmt.Sprintf("killOp needs the killop privilege: grant role hostManager to %s", who),
			"%s may not kill operations on %s: killOp needs the killop privilege — grant role hostManager to %s: %v", who, s.target, who, err)
	}
	return source.KillFailed, s.explain(err, "kill an operation on")
}
