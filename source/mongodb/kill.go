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

// killWatch is how Kill watches a killed operation: killOp only marks it (killPending); it
// stops at its next interrupt point.
var killWatch = source.KillWatch{Settle: 600 * time.Millisecond, Poll: 40 * time.Millisecond, Marks: true}

// Kill ends operations with killOp, safely (source.KillSafely): each target is re-read first
// and refused when its opid now belongs to another connection or operation (opids are
// reused), the opid is sent back in the BSON type the server used, and the outcome is checked
// afterwards.
func (s *Source) Kill(ctx context.Context, targets []source.Session) []source.KillResult {
	if s.fan != nil {
		return s.fan.kill(ctx, targets)
	}
	return s.killHere(ctx, targets)
}

// killHere kills operations of this node (or through this mongos).
func (s *Source) killHere(ctx context.Context, targets []source.Session) []source.KillResult {
	return source.KillSafely(ctx, &killing{s: s, opid: map[string]bson.RawValue{}, lsid: map[string]bson.RawValue{}}, targets, killWatch)
}

// killing is one Kill's steps; opid keeps each target's opid as the server sent it, lsid the
// session of a write seen through a mongos.
type killing struct {
	s    *Source
	opid map[string]bson.RawValue
	lsid map[string]bson.RawValue
}

func (k *killing) Check(t source.Session) (source.KillOutcome, error) {
	if t.Type != source.TypeOp || !t.Active {
		return source.KillNotKillable, fmt.Errorf("%s is an idle %s with no operation to kill", t.ID, strings.TrimPrefix(t.Type, "idle"))
	}
	if why := indexBuild(t); why != "" {
		return source.KillNotKillable, fmt.Errorf("%s %s", t.ID, why)
	}
	if _, ok := parseOpID(t.ID); !ok {
		return source.KillRefused, fmt.Errorf("%q is not an operation id of %s; refresh and pick the operation again", t.ID, k.s.target)
	}
	return "", nil
}

// Reread looks each opid up in $currentOp.
func (k *killing) Reread(ctx context.Context, targets []source.Session) []source.Current {
	out := make([]source.Current, len(targets))
	for i, t := range targets {
		opid, _ := parseOpID(t.ID)
		doc, err := k.s.findOp(ctx, opid)
		if err != nil {
			out[i].Err = k.s.killErr(err)
			continue
		}
		raw, ok := lookup(doc, "opid")
		if doc == nil || !ok {
			continue
		}
		k.opid[t.ID] = raw
		if id, ok := lookup(doc, "lsid", "id"); ok && k.s.mongos && isWrite(doc) {
			k.lsid[t.ID] = id
		}
		out[i] = source.Current{Session: convert(doc), Found: true}
	}
	return out
}

// Kill sends killOp with each opid as received: int32 on mongod, "shard:opid" through mongos.
func (k *killing) Kill(ctx context.Context, targets []source.Session) []error {
	errs := make([]error, len(targets))
	for i, t := range targets {
		cmd := bson.D{{Key: "killOp", Value: 1}, {Key: "op", Value: k.opid[t.ID]}}
		if id, ok := k.lsid[t.ID]; ok {
			// killOp through a mongos does not reach a write on the shards; killSessions
			// on the mongos ends the session's operations on every shard (documented in
			// killOp's "Sharded Cluster" notes).
			cmd = bson.D{{Key: "killSessions", Value: bson.A{bson.D{{Key: "id", Value: id}}}}}
		}
		kctx, cancel := context.WithTimeout(ctx, k.s.timeout)
		err := k.s.client.Database("admin").RunCommand(kctx, append(cmd, bson.E{Key: "comment", Value: ownComment})).Err()
		cancel()
		if err != nil {
			errs[i] = k.s.killErr(err)
		}
	}
	return errs
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
	if s.legacy.on.Load() {
		return s.findOpLegacy(ctx, opid)
	}
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
	return withOpID(docs, opid), nil
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

// killErr explains a failed killOp or re-read; a missing privilege is source.ErrPermission.
func (s *Source) killErr(err error) error {
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == codeUnauthorized {
		who := s.who()
		return s.fail(source.ErrPermission, err,
			fmt.Sprintf("killOp needs the killop privilege: grant role hostManager to %s", who),
			"%s may not kill operations on %s: killOp needs the killop privilege — grant role hostManager to %s: %v", who, s.target, who, err)
	}
	return s.explain(err, "kill an operation on")
}

// withOpID is the document of opid among docs, or nil.
func withOpID(docs []bson.Raw, opid any) bson.Raw {
	for _, d := range docs {
		if v, ok := lookup(d, "opid"); ok && opidEqual(v, opid) {
			return d
		}
	}
	return nil
}

// isWrite reports an insert, update, delete or findAndModify (a $currentOp document's op, or
// its command's name).
func isWrite(doc bson.Raw) bool {
	switch rawStr(doc, "op") {
	case "insert", "update", "remove":
		return true
	}
	if cmd, ok := lookup(doc, "command"); ok {
		if d, ok := cmd.DocumentOK(); ok {
			if e, err := d.IndexErr(0); err == nil {
				switch e.Key() {
				case "insert", "update", "delete", "findAndModify", "findandmodify":
					return true
				}
			}
		}
	}
	return false
}

// indexBuild says why an index build is not killed: killOp on one is documented against
// (dropIndexes aborts a build cleanly); "" for other operations.
func indexBuild(t source.Session) string {
	if !strings.EqualFold(t.CommandName, "createIndexes") && !strings.HasPrefix(t.Msg, "Index Build") {
		return ""
	}
	coll := "<collection>"
	if _, c, ok := strings.Cut(t.NS, "."); ok && c != "" && c != "$cmd" {
		coll = c
	}
	return fmt.Sprintf("is an index build: killOp is not the way to stop one — drop the index being built (db.%s.dropIndex(<name>)) to abort it", coll)
}
