package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// startDeployment starts the simulated deployment of a topology and returns the URI the
// applications and the monitor connect to (without credentials).
func (d *Demo) startDeployment(topology string, users []mongod.User) (string, error) {
	if topology == "" {
		topology = DefaultTopology
	}
	switch topology {
	case "single":
		srv, err := mongod.Start(mongod.Options{ReplicaSet: "rs0", Host: "demo-rs0-a", Users: users, Synthetic: synthetic})
		if err != nil {
			return "", err
		}
		d.server = srv
		return srv.URI(), nil
	case "replset":
		// Every member gets the synthetic clients' idle connections: applications' pools
		// connect to each member of a set.
		rs, err := mongod.StartReplicaSet(mongod.ReplicaSetOptions{Name: "rs0", Members: 3, Users: users, Synthetic: synthetic})
		if err != nil {
			return "", err
		}
		d.rs = rs
		return rs.URI(), nil
	case "sharded":
		cl, err := mongod.StartCluster(mongod.ClusterOptions{Shards: 2, Members: 3, Users: users})
		if err != nil {
			return "", err
		}
		d.cluster = cl
		return cl.URI(), nil
	}
	return "", fmt.Errorf("unknown topology %q: use %s", topology, strings.Join(Topologies, ", "))
}

// watchFaults arms the signals of the live demo: SIGUSR1 takes the deployment's entry point
// (the server, every member of the replica set, or the mongos) down and back; SIGUSR2 stops
// and restarts one secondary (member 1 of the replica set, or of shard01).
func (d *Demo) watchFaults(ctx context.Context) {
	switch {
	case d.server != nil:
		watchOutages(ctx, d.server)
	case d.rs != nil:
		watchOutages(ctx, servers(d.rs.Members()))
		watchMemberFaults(ctx, d.rs)
	case d.cluster != nil:
		watchOutages(ctx, d.cluster.Mongos())
		watchMemberFaults(ctx, d.cluster.Shards()[0])
	}
}

// outageTarget is what SIGUSR1 takes down: a *mongod.Server, or several.
type outageTarget interface {
	RefuseConnections(refuse bool)
	DropConnections()
}

// servers takes several servers down and up together.
type servers []*mongod.Server

func (ss servers) RefuseConnections(refuse bool) {
	for _, s := range ss {
		s.RefuseConnections(refuse)
	}
}

func (ss servers) DropConnections() {
	for _, s := range ss {
		s.DropConnections()
	}
}

// faultyMember is the secondary SIGUSR2 stops and restarts.
const faultyMember = 1

// toggleMember stops member faultyMember of rs when up is true, else restarts it; it reports
// whether the member is now up.
func toggleMember(rs *mongod.ReplicaSet, up bool) bool {
	if up {
		rs.Stop(faultyMember)
		return false
	}
	return rs.Restart(faultyMember) == nil
}
