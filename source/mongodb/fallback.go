package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/currentop/currentop/source"
)

// Some servers speak the protocol but have no $currentOp aggregation stage: FerretDB 1.x runs
// no collection-less aggregate ({aggregate: 1}), and some proxies and restricted managed tiers
// refuse the stage. When the sessions read fails that way, the source switches to the legacy
// currentOp command for good: one reply of at most 16 MB with the server's truncated commands,
// read with no pushdown, the clients pane derived from what it lists. Every snapshot says so
// in its warnings. A server that has neither gets one line naming both.

// legacyState is the switch to the currentOp command, set once.
type legacyState struct {
	on   atomic.Bool
	mu   sync.Mutex
	note string // the warning of every snapshot read with the command
}

func (l *legacyState) warning() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.note
}

// noStage reports whether err is the server saying it cannot run the $currentOp stage, as
// opposed to refusing this user or this pipeline.
func noStage(err error) bool {
	const (
		failedToParse       = 9
		commandNotFound     = 59
		commandNotSupported = 115
		unrecognizedStage   = 40324 // "Unrecognized pipeline stage name: '$currentOp'"
		atlasError          = 8000  // "$currentOp is not allowed in this atlas tier"
	)
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		return false
	}
	msg := strings.ToLower(ce.Message)
	switch ce.Code {
	case unrecognizedStage, commandNotFound, commandNotSupported:
		return true
	case failedToParse:
		return strings.Contains(msg, "must specify a collection name or 1") // FerretDB 1.x
	case atlasError:
		return strings.Contains(msg, "currentop")
	}
	return false
}

// answer is what a refusal said, for messages: "FailedToParse", or the code.
func answer(err error) string {
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		return "an error"
	}
	if ce.Name != "" {
		return source.Clean(ce.Name)
	}
	return fmt.Sprintf("code %d", ce.Code)
}

// fallBack is called when the sessions read failed with stageErr (noStage): it tries the
// currentOp command and, when that answers, keeps using it.
func (s *Source) fallBack(ctx context.Context, q source.Query, stageErr error) (*source.Snapshot, error) {
	name, ferret := s.serverName(ctx)
	snap, err := s.legacySnapshot(ctx, q)
	if err != nil {
		if noStage(err) {
			return nil, s.brief(err, "%s at %s has neither the $currentOp aggregation stage (it answered %s) nor the currentOp command (%s): currentop cannot list its operations",
				name, s.target, answer(stageErr), answer(err))
		}
		return nil, err
	}
	note := fmt.Sprintf("%s has no $currentOp aggregation stage (it answered %s): showing what the currentOp command returns; idle connections and clients may be missing", name, answer(stageErr))
	if ferret {
		note = fmt.Sprintf("%s has no $currentOp aggregation stage: showing what its currentOp command returns, which may be nothing; idle connections and clients are not available", name)
	}
	s.legacy.mu.Lock()
	s.legacy.note = note
	s.legacy.mu.Unlock()
	s.legacy.on.Store(true)
	snap.Warnings = append([]string{note}, snap.Warnings...)
	snap.Partial = true
	return snap, nil
}

// serverName names the server for messages: "FerretDB v1.24.0" (buildInfo's ferretdbVersion)
// or "the server (MongoDB 7.0.16)".
func (s *Source) serverName(ctx context.Context) (name string, ferretDB bool) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var bi bson.Raw
	err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}, {Key: "comment", Value: ownComment}}).Decode(&bi)
	if err == nil {
		if v := str(bi, "ferretdbVersion"); v != "" {
			return "FerretDB " + v, true
		}
	}
	if s.version != "" {
		return "the server (MongoDB " + source.Clean(s.version) + ")", false
	}
	return "the server", false
}

// legacySnapshot reads the deployment with serverStatus and the currentOp command.
func (s *Source) legacySnapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	me := s.self()
	var (
		wg         sync.WaitGroup
		server     source.Server
		docs       []bson.Raw
		serr, cerr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		server, serr = s.serverStatus(ctx)
	}()
	go func() {
		defer wg.Done()
		docs, cerr = s.currentOpCommand(ctx, q.IdleConnections || q.IdleSessions || q.IdleCursors, nil)
	}()
	wg.Wait()
	if cerr != nil {
		return nil, cerr
	}
	snap := &source.Snapshot{Source: "mongodb", Target: s.target, TakenAt: time.Now().UTC(), Server: server}
	if serr != nil {
		// A server without the stage may lack serverStatus too: the operations still show.
		if ctx.Err() != nil {
			return nil, serr
		}
		snap.Server = source.Server{Version: s.version, Kind: "mongod", Connections: source.Connections{Unknown: source.ConnAll}}
		snap.VitalsErr = serr
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, source.Clean(serr.Error()))
	}
	if note := s.legacy.warning(); note != "" {
		snap.Partial = true
		snap.Warnings = append([]string{note}, snap.Warnings...)
	}
	me = s.self()
	var mine []bson.Raw // the documents that are not the monitor's own
	seen := map[string]int{}
	malformed := 0
	for _, d := range docs {
		if d.Validate() != nil {
			malformed++
			continue
		}
		if isOwn(d, me) || ownByComment(d) {
			continue
		}
		mine = append(mine, d)
		ss := convert(d)
		if !keep(ss, q) {
			continue
		}
		ss.ID = uniqueID(seen, ss.ID)
		snap.Sessions = append(snap.Sessions, ss)
	}
	if malformed > 0 {
		snap.Partial = true
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%d malformed currentOp documents skipped", malformed))
	}
	snap.Clients = deriveClients(mine)
	return snap, nil
}

// ownByComment recognises the monitor's own command on a server whose documents carry neither
// a connection ID nor a client address, where its comment is the only mark left.
func ownByComment(doc bson.Raw) bool {
	_, hasConn := lookup(doc, "connectionId")
	return !hasConn && rawStr(doc, "client") == "" && rawStr(doc, "command", "comment") == ownComment
}

// currentOpCommand runs {currentOp: 1} on admin: $all adds idle connections and system
// operations; filter adds query conditions.
func (s *Source) currentOpCommand(ctx context.Context, all bool, filter bson.D) ([]bson.Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := bson.D{{Key: "currentOp", Value: 1}, {Key: "$all", Value: all}}
	cmd = append(cmd, filter...)
	cmd = append(cmd, bson.E{Key: "comment", Value: ownComment})
	var reply bson.Raw
	if err := s.client.Database("admin").RunCommand(ctx, cmd).Decode(&reply); err != nil {
		return nil, s.explain(err, "run currentOp on")
	}
	v, ok := lookup(reply, "inprog")
	if !ok {
		return nil, fmt.Errorf("%s answered currentOp without an inprog array; it cannot be monitored this way", s.target)
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("%s answered currentOp with inprog of type %s; it cannot be monitored this way", s.target, v.Type)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, fmt.Errorf("%s answered currentOp with a malformed inprog array: %w", s.target, err)
	}
	docs := make([]bson.Raw, 0, len(vals))
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			docs = append(docs, d)
		}
	}
	return docs, nil
}

// findOpLegacy is findOp through the currentOp command.
func (s *Source) findOpLegacy(ctx context.Context, opid any) (bson.Raw, error) {
	docs, err := s.currentOpCommand(ctx, true, bson.D{{Key: "opid", Value: opid}})
	if err != nil {
		return nil, err
	}
	return withOpID(docs, opid), nil
}

// deriveClients groups the listed connections by client IP, as clientsPipeline's $group does
// on the server, and decodes the groups the same way.
func deriveClients(docs []bson.Raw) []source.Client {
	type group struct {
		count, active        int32
		apps, users, drivers bson.A
	}
	groups := map[string]*group{}
	for _, d := range docs {
		client := rawStr(d, "client")
		if _, hasConn := lookup(d, "connectionId"); client == "" || !hasConn {
			continue
		}
		g := groups[hostOnly(client)]
		if g == nil {
			g = &group{}
			groups[hostOnly(client)] = g
		}
		g.count++
		if active, _ := boolOK(d, "active"); active {
			if _, hello := lookup(d, "command", "topologyVersion"); !hello {
				g.active++ // an awaitable hello is a heartbeat waiting, not work
			}
		}
		for _, f := range []struct {
			list *bson.A
			path []string
		}{{&g.apps, []string{"appName"}}, {&g.users, []string{"effectiveUsers"}}, {&g.drivers, []string{"clientMetadata", "driver"}}} {
			if v, ok := lookup(d, f.path...); ok {
				*f.list = append(*f.list, v)
			}
		}
	}
	out := make([]bson.Raw, 0, len(groups))
	for ip, g := range groups {
		raw, err := bson.Marshal(bson.D{
			// The flat shape of the clients pipeline (see clientsAcc.add).
			{Key: "_id", Value: ip}, {Key: "n", Value: g.count}, {Key: "a", Value: g.active},
			{Key: "p", Value: g.apps}, {Key: "u", Value: g.users}, {Key: "d", Value: g.drivers},
		})
		if err == nil {
			out = append(out, raw)
		}
	}
	return decodeClients(out)
}
