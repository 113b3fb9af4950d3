package mongodb

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/currentop/currentop/source"
)

// Server error codes that mean replSetGetStatus will never answer this server: asking again
// each refresh would only cost a round trip and an error in its log.
const (
	codeCommandNotFound      = 59 // mongos
	codeNoReplicationEnabled = 76 // standalone mongod
)

// maxLagS bounds a lag computed from untrusted optimeDates: anything beyond a year is a
// broken clock or a broken document, not a figure to show.
const maxLagS = 365 * 24 * 3600

// errReplNever wraps the errors after which replSetGetStatus is not asked again.
var errReplNever = errors.New("replSetGetStatus unavailable on this server")

// replLag asks one member for replSetGetStatus and returns its state and its lag behind the
// primary (lag = primary's optimeDate − this member's; 0 on the primary; nil when unknown,
// as on an arbiter or while no primary is known). An error wrapping errReplNever means the
// server will never answer (standalone, mongos, or a role without replSetGetStatus).
func replLag(ctx context.Context, db *mongo.Database) (state string, lagS *float64, err error) {
	var raw bson.Raw
	err = db.RunCommand(ctx, bson.D{
		{Key: "replSetGetStatus", Value: 1},
		{Key: "comment", Value: ownComment},
	}).Decode(&raw)
	if err != nil {
		var ce mongo.CommandError
		if errors.As(err, &ce) && (ce.Code == codeNoReplicationEnabled || ce.Code == codeUnauthorized || ce.Code == codeCommandNotFound) {
			return "", nil, errors.Join(errReplNever, err)
		}
		return "", nil, err
	}
	state, lagS = decodeReplStatus(raw)
	return state, lagS, nil
}

// decodeReplStatus finds this member (self: true) and the primary in a replSetGetStatus
// reply. What is missing or malformed stays unknown.
func decodeReplStatus(raw bson.Raw) (state string, lagS *float64) {
	v, ok := lookup(raw, "members")
	if !ok || v.Type != bson.TypeArray {
		return "", nil
	}
	vals, err := v.Array().Values()
	if err != nil {
		return "", nil
	}
	var self, primary time.Time
	selfPrimary := false
	for _, m := range vals {
		doc, ok := m.DocumentOK()
		if !ok {
			continue
		}
		isPrimary := rawStr(doc, "stateStr") == "PRIMARY"
		at := optimeDate(doc)
		if isPrimary {
			primary = at
		}
		if b, ok := lookupBool(doc, "self"); ok && b {
			state = str(doc, "stateStr")
			if len(state) > 32 {
				state = state[:32]
			}
			self, selfPrimary = at, isPrimary
		}
	}
	switch {
	case state == "":
		return "", nil
	case selfPrimary:
		zero := 0.0
		return state, &zero
	case self.IsZero() || primary.IsZero():
		return state, nil
	}
	lag := primary.Sub(self).Seconds()
	if lag > maxLagS {
		return state, nil
	}
	if lag < 0 { // the primary's optime as last heard by heartbeat can trail this member's own
		lag = 0
	}
	return state, &lag
}

func optimeDate(doc bson.Raw) time.Time {
	v, ok := lookup(doc, "optimeDate")
	if !ok {
		return time.Time{}
	}
	ms, ok := v.DateTimeOK()
	if !ok || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func lookupBool(doc bson.Raw, key string) (bool, bool) {
	v, ok := lookup(doc, key)
	if !ok {
		return false, false
	}
	return v.BooleanOK()
}

// addRepl puts the member's replication state and lag into its sample, asking
// replSetGetStatus once per refresh; a server that refused it for good (standalone, mongos,
// no permission) is not asked again. It never fails the snapshot.
func (s *Source) addRepl(ctx context.Context, srv *source.Server) {
	if srv.Sample == nil || srv.Kind == "mongos" || s.replOff.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	state, lag, err := replLag(ctx, s.client.Database("admin"))
	if errors.Is(err, errReplNever) {
		s.replOff.Store(true)
		return
	}
	if err != nil {
		return
	}
	if state != "" {
		srv.Sample.ReplState = state
	}
	srv.Sample.LagS = lag
}
