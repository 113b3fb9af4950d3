package workload

import (
	"context"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Storm is a connection storm the workload raises again and again, as a fleet of serverless
// functions or a restarted application with a large pool does: an application opens
// connections from one client address at Rate per second for Ramp, keeps them (idle) for
// Hold, then closes them all; the next burst starts Every after the previous one began.
//
// The connections are real: the driver opens, handshakes and authenticates each of them, so
// they count in serverStatus totalCreated and are listed by $currentOp.
type Storm struct {
	First time.Duration // before the first burst
	Every time.Duration // between the starts of two bursts (0: one burst only)
	Ramp  time.Duration // how long the connections keep coming
	Hold  time.Duration // how long they stay open once the ramp ends
	Rate  int           // connections opened per second during the ramp (about; the drivers' monitoring connections come on top)
	// IP is the client address the connections come from (default 127.0.0.7). Linux routes
	// all of 127.0.0.0/8 to the loopback; where the address cannot be bound the storm comes
	// from the default address.
	IP string
}

// DemoStorm is the storm of `currentop --demo`: the first burst about 8 s after the start,
// then one a minute, each opening about 16 connections per second (12 pooled, 4 for the
// drivers' monitoring) for 24 s — long enough for 3 refreshes of growth at the Huawei
// source's slower pace too (a refresh every 5–6 s).
var DemoStorm = Storm{First: 8 * time.Second, Every: time.Minute, Ramp: 24 * time.Second, Hold: 20 * time.Second, Rate: 12}

// stormApp is the storm's appName.
const stormApp = "checkout-lambda"

// maxMinPool is how many connections a driver pool opens at once to reach minPoolSize (the
// driver asks for at most 10 per maintenance pass, and the next pass is 10 s later).
const maxMinPool = 10

// runStorm raises s's bursts until ctx ends. Each step of a burst is its own client whose
// minPoolSize the driver fills at once, so the pace is set here rather than by the pool.
func runStorm(ctx context.Context, s Storm, uri string, cred *options.Credential) {
	per := min(maxMinPool, max(1, s.Rate/2))
	step := time.Second * time.Duration(per) / time.Duration(max(1, s.Rate))
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: stormAddr(s.IP)}
	if !sleepCtx(ctx, s.First) {
		return
	}
	for {
		start := time.Now()
		burst(ctx, s, uri, cred, dialer, per, step)
		if s.Every <= 0 || !sleepCtx(ctx, s.Every-time.Since(start)) {
			return
		}
	}
}

// burst opens the connections of one burst, holds them and closes them.
func burst(ctx context.Context, s Storm, uri string, cred *options.Credential, dialer *net.Dialer, per int, step time.Duration) {
	var clients []*mongo.Client
	defer func() {
		dctx, cancel := cleanupCtx(ctx)
		defer cancel()
		for _, c := range clients {
			_ = c.Disconnect(dctx)
		}
	}()
	end := time.Now().Add(s.Ramp)
	for time.Now().Before(end) {
		co := options.Client().ApplyURI(uri).SetAppName(stormApp).SetDialer(dialer).
			SetMinPoolSize(uint64(per)).SetMaxPoolSize(uint64(per)).
			SetServerSelectionTimeout(5 * time.Second).SetConnectTimeout(5 * time.Second)
		if cred != nil {
			co.SetAuth(*cred)
		}
		if c, err := mongo.Connect(co); err == nil {
			clients = append(clients, c)
		}
		if !sleepCtx(ctx, step) {
			return
		}
	}
	sleepCtx(ctx, s.Hold)
}

// stormAddr is the local address to dial from: ip (default 127.0.0.7) when it can be bound,
// else nil (the system's choice).
func stormAddr(ip string) *net.TCPAddr {
	if ip == "" {
		ip = "127.0.0.7"
	}
	a := &net.TCPAddr{IP: net.ParseIP(ip)}
	if a.IP == nil {
		return nil
	}
	l, err := net.ListenTCP("tcp", a)
	if err != nil {
		return nil
	}
	_ = l.Close()
	return a
}

// sleepCtx waits d and reports whether ctx is still alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	sleep(ctx, d)
	return ctx.Err() == nil
}

// stormCredential is the first of users, or nil (the URI's own credentials, if any).
func stormCredential(users []User) *options.Credential {
	if len(users) == 0 {
		return nil
	}
	u := users[0]
	src := u.DB
	if src == "" {
		src = "admin"
	}
	return &options.Credential{Username: u.Name, Password: u.Password, AuthSource: src}
}
