// Package deployment is what the cloud API emulators (tencentapi, huaweiapi) see of the
// database deployment behind an emulated instance: its server, the operations and idle
// connections in it, its clients, and a way to kill operations. It is the emulators' own
// input, in plain data, so that the simulators do not depend on currentop's product model;
// the demo and the tests adapt whatever stands for the deployment (normally the direct source
// on sim/mongod) to it.
package deployment

import (
	"context"
	"encoding/json"
)

// Deployment is the database behind an emulated instance.
type Deployment interface {
	// Read returns the deployment as it is now: every operation and idle connection, session
	// and cursor, internal ones included, and every client.
	Read(ctx context.Context) (*State, error)
}

// Killer is a Deployment that can end operations.
type Killer interface {
	// Kill asks the deployment to end ops, as a Read returned them: one error per op, in
	// order, nil when the op ended, was marked to end or had already ended, otherwise why it
	// was not killed.
	Kill(ctx context.Context, ops []Op) []error
}

// State is a Deployment at one moment.
type State struct {
	Server  Server
	Ops     []Op
	Clients []Client
	// Members are the deployment's nodes with their roles, when it has several; Op.Host
	// names one of them.
	Members []Member
}

// Member is one node of the deployment and its role.
type Member struct {
	Host  string // host:port, as Op.Host gives it
	State string // "PRIMARY", "SECONDARY", …
}

// Server is the node (or router) that answers for the deployment.
type Server struct {
	Version string // "8.0.4"
	Kind    string // "mongod" or "mongos"
}

// Op is one operation in flight, or an idle connection, session or cursor ($currentOp's
// documents).
type Op struct {
	// ID is the operation's ID as the deployment gives it out: "4119786" on mongod,
	// "shard01:4119786" through mongos.
	ID string
	// Active: an operation in flight; false for an idle connection, session or cursor.
	Active bool
	// Kind is the operation's type ("query", "update", "command", "getmore", ...; "" or
	// "none" when idle).
	Kind         string
	NS           string // "db.collection"
	RunningUS    int64  // how long it has been running, in microseconds
	PlanSummary  string // "COLLSCAN", "IXSCAN { a: 1 }"
	Client       string // ip:port
	App          string // the client's application name
	Driver       string // "name version"
	User         string // user@db
	Host         string // host:port of the node it runs on; "" when not known
	Shard        string // the shard it runs on, through mongos
	Desc         string // "conn42", or an internal thread's name
	ConnectionID int64  // 0 when not known
	// Command is the operation's command as JSON; Raw the whole $currentOp document as the
	// deployment reported it, or nil.
	Command, Raw json.RawMessage
}

// Client is one client IP address with its connection count.
type Client struct {
	IP    string
	Count int
	// Internal: another member of the deployment, or the provider's own service.
	Internal bool
}
