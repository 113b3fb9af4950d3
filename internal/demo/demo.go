// Package demo runs the deployment behind `currentop --demo`: sim/mongod as an authenticated
// replica-set primary (or a whole replica set, or a sharded cluster: Config.Topology) with a
// workload of real driver clients, the direct source on it, and for the cloud sources the API
// emulator in front of it with the cloud source reading through it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/huawei"
	"github.com/currentop/currentop/source/mongodb"
	"github.com/currentop/currentop/source/tencent"
)

// The monitor's credentials, so that sessions carry users as on a real server. They open only
// the in-process simulator; MonitorPassword is exported for tests that check it never shows.
const (
	monitorUser     = "currentop"
	MonitorPassword = "demo-monitor-password"
	synthetic       = 240 // idle connections from many addresses (synthetic, see sim/mongod)
)

var appUsers = []workload.User{
	{Name: "ordersApp", DB: "admin", Password: "demo-orders"},
	{Name: "billing", DB: "admin", Password: "demo-billing"},
	{Name: "analyst", DB: "admin", Password: "demo-analyst"},
}

// Config says what watches the simulated deployment.
type Config struct {
	// Source is "mongodb" (or "": the direct source), "tencent" or "huawei" (the cloud source
	// through that API's emulator).
	Source string
	// Timeout bounds each call of the source.
	Timeout time.Duration
	// Outages: until ctx ends, each SIGUSR1 toggles an outage of the simulated server (unix
	// only; see watchOutages), and with a replica set or cluster each SIGUSR2 stops or restarts
	// one secondary (see watchMemberFaults). For the live view, where a person watches it fail
	// and recover.
	Outages bool
	// Topology is "single": one replica-set member; "replset": a three-member replica set;
	// "sharded": a mongos in front of two three-member shards; "": DefaultTopology.
	Topology string
}

// Topologies are the values Config.Topology accepts.
var Topologies = []string{"single", "replset", "sharded"}

// DefaultTopology is what --demo runs unless told otherwise: a replica set shows the most of
// what currentop does (members strip, sessions merged from every member, reads on
// secondaries, kills routed to the member that runs the operation) at a cost still small.
const DefaultTopology = "replset"

// Demo is a running simulated deployment and the source that watches it.
type Demo struct {
	// Source is the source Config named, open on the simulated deployment.
	Source source.Source

	server  *mongod.Server
	rs      *mongod.ReplicaSet
	cluster *mongod.Cluster
	work    *workload.Workload
	reads   *workload.Workload // secondary reads (replica set and cluster)
	direct  *mongodb.Source    // the direct source; the cloud emulators read through it
	closers []func() error
}

// Start starts the simulated deployment and its workload and opens the source c names on it.
// Close stops everything.
func Start(ctx context.Context, c Config) (d *Demo, err error) {
	users := []mongod.User{{Name: monitorUser, DB: "admin", Password: MonitorPassword, Roles: []string{"clusterMonitor", "hostManager"}}}
	for _, u := range appUsers {
		users = append(users, mongod.User{Name: u.Name, DB: u.DB, Password: u.Password, Roles: []string{"readWrite"}})
	}
	d = &Demo{}
	started := d // d is nil by the time a failing return runs the deferred clean-up
	defer func() {
		if err != nil {
			started.Close()
		}
	}()
	serverURI, err := d.startDeployment(c.Topology, users)
	if err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	// A burst of connections from one client address every minute: the live view calls it
	// a storm.
	storm := workload.DemoStorm
	if d.work, err = workload.Start(ctx, workload.Options{URI: serverURI, Seed: 1, Users: appUsers, Storm: &storm, Pileup: true}); err != nil {
		return nil, fmt.Errorf("start the workload: %w", err)
	}
	if d.server == nil {
		if d.reads, err = workload.StartSecondaryReads(ctx, workload.Options{URI: serverURI, Seed: 2, Users: appUsers[2:]}); err != nil {
			return nil, fmt.Errorf("start the secondary reads: %w", err)
		}
	}
	uri, err := withUser(serverURI, monitorUser, MonitorPassword)
	if err != nil {
		return nil, err
	}
	if d.direct, err = mongodb.Open(ctx, mongodb.Config{URI: uri, Timeout: c.Timeout}); err != nil {
		return nil, err
	}
	switch c.Source {
	case "tencent":
		d.Source, err = d.openTencent(c.Timeout)
	case "huawei":
		d.Source, err = d.openHuawei(c.Timeout)
	default:
		d.Source = d.direct
	}
	if err != nil {
		return nil, err
	}
	if c.Outages {
		d.watchFaults(ctx)
	}
	return d, nil
}

// openTencent starts the Tencent Cloud API emulator in front of the direct source and opens
// the Tencent source on it.
func (d *Demo) openTencent(timeout time.Duration) (source.Source, error) {
	em := tencentapi.New(fromsource.Deployment(d.direct), tencentapi.Options{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey})
	base, err := em.Start()
	if err != nil {
		return nil, fmt.Errorf("start the Tencent Cloud API emulator: %w", err)
	}
	d.closers = append(d.closers, em.Close)
	src, err := tencent.New(tencent.Config{InstanceID: tencentapi.DemoInstance, Region: tencentapi.DemoRegion, Endpoint: base,
		Credentials: tencent.Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, src.Close)
	return src, nil
}

// openHuawei starts the Huawei Cloud DDS API emulator in front of the direct source and opens
// the Huawei source on it.
func (d *Demo) openHuawei(timeout time.Duration) (source.Source, error) {
	em := huaweiapi.New(fromsource.Deployment(d.direct), huaweiapi.Options{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK, Token: huaweiapi.DemoToken})
	base, err := em.Start()
	if err != nil {
		return nil, fmt.Errorf("start the Huawei Cloud API emulator: %w", err)
	}
	d.closers = append(d.closers, em.Close)
	src, err := huawei.New(huawei.Config{Region: "cn-north-4", ProjectID: huaweiapi.DemoProjectID, InstanceID: huaweiapi.DemoInstance,
		Endpoint: base, Credentials: huawei.Credentials{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK}, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, src.Close)
	return src, nil
}

// Close stops everything the demo started, newest first.
func (d *Demo) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	// The workloads stop side by side: each may wait for its clients to disconnect, and a
	// person who pressed q is waiting for the prompt.
	var wg sync.WaitGroup
	for _, w := range []*workload.Workload{d.work, d.reads} {
		if w != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.Stop()
			}()
		}
	}
	wg.Wait()
	if d.direct != nil {
		errs = append(errs, d.direct.Close())
	}
	if d.server != nil {
		errs = append(errs, d.server.Close())
	}
	if d.rs != nil {
		d.rs.Close()
	}
	if d.cluster != nil {
		d.cluster.Close()
	}
	return errors.Join(errs...)
}

func withUser(uri, user, pass string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("simulator URI %q: %w", uri, err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String(), nil
}
