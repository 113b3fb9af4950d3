// Package fromsource adapts a source.Source to deployment.Deployment, the input of the cloud
// API emulators: the demo puts the emulators in front of the direct source on sim/mongod, and
// tests put them in front of fakes written in the source's terms. It lives outside
// internal/sim so that the simulators do not depend on the product model.
package fromsource

import (
	"context"
	"errors"
	"fmt"

	"github.com/currentop/currentop/internal/sim/deployment"
	"github.com/currentop/currentop/source"
)

// Deployment is src as the emulators read it; it is a deployment.Killer when src is a
// source.Killer.
func Deployment(src source.Source) deployment.Deployment {
	r := &reader{src: src}
	if k, ok := src.(source.Killer); ok {
		return &killer{reader: r, k: k}
	}
	return r
}

// everything is what a cloud API lists: idle and internal sessions too.
var everything = source.Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}

type reader struct{ src source.Source }

func (r *reader) Read(ctx context.Context) (*deployment.State, error) {
	snap, err := r.src.Snapshot(ctx, everything)
	if err != nil || snap == nil {
		return nil, err
	}
	st := &deployment.State{
		Server:  deployment.Server{Version: snap.Server.Version, Kind: snap.Server.Kind},
		Ops:     make([]deployment.Op, len(snap.Sessions)),
		Clients: make([]deployment.Client, len(snap.Clients)),
	}
	for i, s := range snap.Sessions {
		st.Ops[i] = op(s)
	}
	for i, c := range snap.Clients {
		st.Clients[i] = deployment.Client{IP: c.IP, Count: c.Count, Internal: c.Internal}
	}
	for _, m := range snap.Members {
		st.Members = append(st.Members, deployment.Member{Host: m.Host, State: m.State})
	}
	return st, nil
}

type killer struct {
	*reader
	k source.Killer
}

// Kill kills through the source (which re-reads each op and refuses one whose ID another
// operation now holds). An op that ended, was marked or was already gone is killed; any other
// outcome is an error that starts with the outcome ("not permitted: ...").
func (k *killer) Kill(ctx context.Context, ops []deployment.Op) []error {
	targets := make([]source.Session, len(ops))
	for i, o := range ops {
		targets[i] = session(o)
	}
	res := k.k.Kill(ctx, targets)
	errs := make([]error, len(ops))
	for i := range ops {
		if i >= len(res) {
			errs[i] = errors.New("the source gave no result")
			continue
		}
		switch r := res[i]; r.Outcome {
		case source.KillGone, source.KillPending, source.KillStillRunning, source.KillAlreadyGone:
		default:
			if r.Err != nil {
				errs[i] = fmt.Errorf("%s: %w", r.Outcome, r.Err)
			} else {
				errs[i] = errors.New(string(r.Outcome))
			}
		}
	}
	return errs
}

func op(s source.Session) deployment.Op {
	return deployment.Op{
		ID: s.ID, Active: s.Active, Kind: s.Op, NS: s.NS, RunningUS: s.RunningUS, PlanSummary: s.PlanSummary,
		Client: s.Client, App: s.App, Driver: s.Driver, User: s.User, Host: s.Host, Shard: s.Shard, Desc: s.Desc,
		ConnectionID: s.ConnectionID, Command: s.Command, Raw: s.Raw,
	}
}

// session is the op as the source gave it out, as far as its kill checks look (the identity
// fields of source.SameOperation).
func session(o deployment.Op) source.Session {
	typ := source.TypeOp
	if !o.Active {
		typ = source.TypeIdle
	}
	return source.Session{
		ID: o.ID, Type: typ, Active: o.Active, Op: o.Kind, NS: o.NS, RunningUS: o.RunningUS, PlanSummary: o.PlanSummary,
		Client: o.Client, App: o.App, Driver: o.Driver, User: o.User, Host: o.Host, Shard: o.Shard, Desc: o.Desc,
		ConnectionID: o.ConnectionID, Command: o.Command, Raw: o.Raw,
	}
}
