package mongodb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// A user may hold inprog (to list operations) without serverStatus, through a custom role.
// Its panes can still be read: the snapshot then goes without the server's counters and
// vitals, and says why in Snapshot.VitalsErr.

// statusRefused says err is serverStatus refused for lack of a privilege (not of
// authentication: without credentials $currentOp is refused too).
func statusRefused(err error) bool { return source.KindOf(err) == source.ErrPermission }

// serverByHello is what is known of the server without serverStatus: the version from
// buildInfo, and mongos or mongod from hello (a mongos answers with msg "isdbgrid").
func (s *Source) serverByHello(ctx context.Context) (source.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var raw bson.Raw
	err := s.client.Database("admin").RunCommand(ctx, bson.D{
		{Key: "hello", Value: 1},
		{Key: "comment", Value: ownComment},
	}).Decode(&raw)
	if err != nil {
		return source.Server{}, s.explain(err, "run hello on")
	}
	srv := source.Server{Version: s.version, Kind: "mongod", Host: str(raw, "me"),
		Connections: source.Connections{Unknown: source.ConnAll}} // serverStatus counts them
	if str(raw, "msg") == "isdbgrid" {
		srv.Kind = "mongos"
	}
	return srv, nil
}

// withoutStatus goes on after serverStatus was refused (refusal) when the user may list
// every user's operations: the server as hello tells it. Otherwise nothing can be watched,
// and the refusal (which names the role to grant) is the error.
func (s *Source) withoutStatus(ctx context.Context, refusal error) (source.Server, error) {
	probe, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.client.Database("admin").RunCommand(probe, bson.D{
		{Key: "aggregate", Value: 1},
		{Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$currentOp", Value: bson.D{{Key: "allUsers", Value: true}}}},
			bson.D{{Key: "$limit", Value: 1}},
		}},
		{Key: "cursor", Value: bson.D{}},
		{Key: "comment", Value: ownComment},
	}).Err()
	switch {
	case err != nil && noStage(err):
		// A server without the stage is watched through the currentOp command (fallback.go),
		// which the first snapshot tries.
	case err != nil:
		if statusRefused(s.explain(err, "run $currentOp on")) {
			return source.Server{}, refusal
		}
		return source.Server{}, s.explain(err, "run $currentOp on")
	}
	return s.serverByHello(ctx)
}

// serverWithoutStatus is the server as verify saw it, for snapshots after serverStatus was
// refused.
func (s *Source) serverWithoutStatus() source.Server {
	srv := source.Server{Version: s.version, Kind: "mongod", Host: s.host,
		Connections: source.Connections{Unknown: source.ConnAll}} // serverStatus counts them
	if s.mongos {
		srv.Kind = "mongos"
	}
	return srv
}
