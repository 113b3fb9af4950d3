package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/huawei"
	"github.com/currentop/currentop/source/mongodb"
	"github.com/currentop/currentop/source/tencent"
)

// The demo deployment: a simulated replica-set primary with authentication, so that the
// sessions carry users as on a real server. These credentials open only the in-process
// simulator.
const (
	demoMonitorUser = "currentop"
	demoMonitorPass = "demo-monitor-password"
	demoSynthetic   = 240 // idle connections from many addresses (synthetic, see sim/mongod)
)

var demoAppUsers = []workload.User{
	{Name: "ordersApp", DB: "admin", Password: "demo-orders"},
	{Name: "billing", DB: "admin", Password: "demo-billing"},
	{Name: "analyst", DB: "admin", Password: "demo-analyst"},
}

// demo is a running simulated deployment and the source that watches it.
type demo struct {
	server  *mongod.Server
	work    *workload.Workload
	backend *mongodb.Source // the direct source; the cloud emulators read through it
	closers []func() error
	source  source.Source
}

// startDemo starts sim/mongod with its workload and, for the cloud sources, the API emulator
// in front of it, and opens the source the flags name on it.
func startDemo(ctx context.Context, c config) (d *demo, err error) {
	users := []mongod.User{{Name: demoMonitorUser, DB: "admin", Password: demoMonitorPass, Roles: []string{"clusterMonitor", "hostManager"}}}
	for _, u := range demoAppUsers {
		users = append(users, mongod.User{Name: u.Name, DB: u.DB, Password: u.Password, Roles: []string{"readWrite"}})
	}
	srv, err := mongod.Start(mongod.Options{ReplicaSet: "rs0", Host: "demo-rs0-a", Users: users, Synthetic: demoSynthetic})
	if err != nil {
		return nil, fmt.Errorf("start the simulator: %w", err)
	}
	d = &demo{server: srv}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	w, err := workload.Start(ctx, workload.Options{URI: srv.URI(), Seed: 1, Users: demoAppUsers})
	if err != nil {
		return nil, fmt.Errorf("start the workload: %w", err)
	}
	d.work = w

	uri, err := withUser(srv.URI(), demoMonitorUser, demoMonitorPass)
	if err != nil {
		return nil, err
	}
	backend, err := mongodb.Open(ctx, mongodb.Config{URI: uri, Timeout: c.timeout})
	if err != nil {
		return nil, err
	}
	d.backend = backend

	switch c.source {
	case "tencent":
		em := tencentapi.New(backend, tencentapi.Options{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey})
		base, err := em.Start()
		if err != nil {
			return nil, fmt.Errorf("start the Tencent Cloud API emulator: %w", err)
		}
		d.closers = append(d.closers, em.Close)
		src, err := tencent.New(tencent.Config{InstanceID: tencentapi.DemoInstance, Region: tencentapi.DemoRegion, Endpoint: base,
			Credentials: tencent.Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}, Timeout: c.timeout})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, src.Close)
		d.source = src
	case "huawei":
		em := huaweiapi.New(backend, huaweiapi.Options{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK, Token: huaweiapi.DemoToken})
		base, err := em.Start()
		if err != nil {
			return nil, fmt.Errorf("start the Huawei Cloud API emulator: %w", err)
		}
		d.closers = append(d.closers, em.Close)
		src, err := huawei.New(huawei.Config{Region: "cn-north-4", ProjectID: huaweiapi.DemoProjectID, InstanceID: huaweiapi.DemoInstance,
			Endpoint: base, Credentials: huawei.Credentials{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK}, Timeout: c.timeout})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, src.Close)
		d.source = src
	default:
		d.source = backend
	}
	return d, nil
}

// Close stops everything the demo started, newest first.
func (d *demo) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	if d.work != nil {
		d.work.Stop()
	}
	if d.backend != nil {
		errs = append(errs, d.backend.Close())
	}
	if d.server != nil {
		errs = append(errs, d.server.Close())
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
