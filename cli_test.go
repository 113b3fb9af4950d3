package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/demo"
	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/report"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/huawei"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring; "" = no error
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, c config) {
			if c.source != "mongodb" || c.format != "table" || c.interval != 2*time.Second || c.timeout != 5*time.Second || c.uri != "" {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "flags after the URI", args: []string{"mongodb://db1/", "--once", "--format", "json"}, check: func(t *testing.T, c config) {
			if c.uri != "mongodb://db1/" || !c.once || c.format != "json" {
				t.Errorf("got %+v", c)
			}
		}},
		{name: "toggles into the query", args: []string{"--idle", "--system", "--filter", "op:query running>1s"}, check: func(t *testing.T, c config) {
			q := c.query()
			if !q.IdleConnections || !q.IdleSessions || !q.IdleCursors || !q.System || len(q.Filter.Terms) != 2 {
				t.Errorf("query %+v", q)
			}
		}},
		{name: "source is case-insensitive", args: []string{"--source", "Tencent", "--instance", "cmgo-abcdefgh"}, check: func(t *testing.T, c config) {
			if c.source != "tencent" {
				t.Errorf("source %q", c.source)
			}
		}},
		{name: "interval given", args: []string{"--interval", "2s"}, check: func(t *testing.T, c config) {
			if !c.intervalSet {
				t.Error("--interval 2s (the default value) given explicitly is not recorded")
			}
		}},
		{name: "interval not given", args: []string{"--idle"}, check: func(t *testing.T, c config) {
			if c.intervalSet {
				t.Error("intervalSet without --interval")
			}
		}},
		{name: "interval in bare seconds", args: []string{"--interval", "2", "--timeout", "1.5"}, check: func(t *testing.T, c config) {
			if c.interval != 2*time.Second || !c.intervalSet || c.timeout != 1500*time.Millisecond {
				t.Errorf("--interval 2 --timeout 1.5: interval %v, timeout %v", c.interval, c.timeout)
			}
		}},
		{name: "interval units case-insensitive", args: []string{"--interval", "750MS"}, check: func(t *testing.T, c config) {
			if c.interval != 750*time.Millisecond {
				t.Errorf("--interval 750MS: %v", c.interval)
			}
		}},
		{name: "members keyword", args: []string{"--members", "Primary"}, check: func(t *testing.T, c config) {
			if q := c.query(); q.Members != source.MembersPrimary {
				t.Errorf("--members Primary: query members %q", q.Members)
			}
		}},
		{name: "members hosts", args: []string{"--members", "db2:27017, db3:27017"}, check: func(t *testing.T, c config) {
			if q := c.query(); q.Members != "db2:27017, db3:27017" {
				t.Errorf("--members hosts: query members %q", q.Members)
			}
		}},
		{name: "members empty entry", args: []string{"--members", "db2:27017,,"}, wantErr: "host:port entries"},
		{name: "members node on a cloud source", args: []string{"--source", "tencent", "--instance", "cmgo-abcdefgh", "--members", "cmgo-abcdefgh-node-1"}, check: func(t *testing.T, c config) {
			if c.query().Members != "cmgo-abcdefgh-node-1" {
				t.Errorf("query members %q", c.query().Members)
			}
		}},
		{name: "interval in seconds too short", args: []string{"--interval", "0.1"}, wantErr: "0.5s to 60s"},
		{name: "interval in seconds too long", args: []string{"--interval", "61"}, wantErr: "0.5s to 60s"},
		{name: "interval not a number", args: []string{"--interval", "2x"}, wantErr: "a number of seconds"},
		{name: "interval negative", args: []string{"--interval", "-2"}, wantErr: "a number of seconds"},
		{name: "interval exponent", args: []string{"--interval", "1e1"}, wantErr: "a number of seconds"},
		{name: "two URIs", args: []string{"mongodb://a/", "mongodb://b/"}, wantErr: "one MongoDB URI at most"},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "-bogus"},
		{name: "unknown source", args: []string{"--source", "oracle"}, wantErr: `unknown --source "oracle"`},
		{name: "unknown format", args: []string{"--format", "xml"}, wantErr: `unknown --format "xml"`},
		{name: "unknown pane", args: []string{"--pane", "ops"}, wantErr: `unknown --pane "ops"`},
		{name: "interval too short", args: []string{"--interval", "100ms"}, wantErr: "0.5s to 60s"},
		{name: "interval too long", args: []string{"--interval", "2m"}, wantErr: "0.5s to 60s"},
		{name: "timeout not positive", args: []string{"--timeout", "0s"}, wantErr: "must be positive"},
		{name: "storm threshold zero", args: []string{"--storm-threshold", "0"}, wantErr: "--storm-threshold 0 must be a positive number"},
		{name: "storm threshold negative", args: []string{"--storm-threshold", "-3"}, wantErr: "must be a positive number of connections per second"},
		{name: "storm threshold NaN", args: []string{"--storm-threshold", "NaN"}, wantErr: "must be a positive number"},
		{name: "storm threshold not a number", args: []string{"--storm-threshold", "many"}, wantErr: "-storm-threshold"},
		{name: "storm threshold", args: []string{"--storm-threshold", "2.5"}, check: func(t *testing.T, c config) {
			if c.stormThreshold != 2.5 {
				t.Errorf("stormThreshold %v, want 2.5", c.stormThreshold)
			}
		}},
		{name: "storm threshold default", args: nil, check: func(t *testing.T, c config) {
			if c.stormThreshold != source.DefaultStormThreshold {
				t.Errorf("stormThreshold %v, want %v", c.stormThreshold, source.DefaultStormThreshold)
			}
		}},
		{name: "URI with a cloud source", args: []string{"--source", "huawei", "mongodb://a/"}, wantErr: "goes with --source mongodb"},
		{name: "URI with the demo", args: []string{"--demo", "mongodb://a/"}, wantErr: "drop the URI"},
		{name: "the demo's default topology", args: []string{"--demo"}, check: func(t *testing.T, c config) {
			if c.topology != demo.DefaultTopology || c.topologySet {
				t.Errorf("--demo: topology %q (set %v), want %q", c.topology, c.topologySet, demo.DefaultTopology)
			}
		}},
		{name: "topology without the demo", args: []string{"--topology", demo.DefaultTopology}, wantErr: "add --demo"},
		{name: "the cloud demos' default topology", args: []string{"--demo", "--source", "huawei"}, check: func(t *testing.T, c config) {
			if c.topology != "single" {
				t.Errorf("--demo --source huawei: topology %q, want single", c.topology)
			}
		}},
		{name: "a cloud demo on a replica set", args: []string{"--demo", "--source", "tencent", "--topology", "replset"}, check: func(t *testing.T, c config) {
			if c.topology != "replset" {
				t.Errorf("topology %q, want replset as given", c.topology)
			}
		}},
		{name: "single topology", args: []string{"--demo", "--topology", "single"}, check: func(t *testing.T, c config) {
			if c.topology != "single" {
				t.Errorf("topology %q", c.topology)
			}
		}},
		{name: "list on mongodb", args: []string{"--list"}, wantErr: "--list lists cloud instances"},
		{name: "cloud flag on mongodb", args: []string{"--instance", "x"}, wantErr: "--instance is for the cloud sources"},
		{name: "huawei flag on tencent", args: []string{"--source", "tencent", "--node", "n"}, wantErr: "--node is for --source huawei"},
		{name: "bad filter", args: []string{"--filter", "running>fast"}, wantErr: "--filter:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseArgs(tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				tt.check(t, c)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("error %T is not a usage error (exit 2)", err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	if _, err := parseArgs([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"usage:", "--demo", "-interval", "-readonly", "? shows every key"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// A usage error prints one line and a hint, not the whole usage text.
func TestUsageErrorIsShort(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--format", "xml"}, &out, &errOut); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if lines := strings.Count(errOut.String(), "\n"); lines != 2 {
		t.Errorf("stderr has %d lines, want 2:\n%s", lines, errOut.String())
	}
}

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &out, &errOut); code != exitOK || !strings.HasPrefix(out.String(), "currentop ") {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
}

// The done-when of the foundation: --demo --once --format json prints the DESIGN.md document
// with at least 5 active sessions from at least 3 apps, and client counts that add up to the
// server's client connections (serverStatus current less the monitor's own pool of 3 and its
// heartbeat connection).
func TestDemoOnceJSON(t *testing.T) {
	const ownConnections = 4
	var last string
	// The workload may still be starting its operations when the snapshot is taken, or be
	// between connections: try again until a guard that only stops a hang.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		var out, errOut bytes.Buffer
		// --system: every client, so that they add up to the server's connections. One node:
		// across members the clients add up to no one server's count.
		if code := run(context.Background(), []string{"--demo", "--topology", "single", "--once", "--system", "--format", "json"}, &out, &errOut); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		if strings.Contains(out.String(), demo.MonitorPassword) {
			t.Fatal("the demo monitor's password appears in the output")
		}
		var doc struct {
			Source  string `json:"source"`
			Target  string `json:"target"`
			TakenAt string `json:"taken_at"`
			Server  struct {
				Kind        string `json:"kind"`
				Version     string `json:"version"`
				Connections struct {
					Current int `json:"current"`
				} `json:"connections"`
			} `json:"server"`
			Clients  []source.Client  `json:"clients"`
			Sessions []source.Session `json:"sessions"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		if doc.Source != "mongodb" || doc.Server.Kind != "mongod" || doc.Server.Version == "" || !strings.Contains(doc.Target, ":***@") {
			t.Fatalf("header fields: %+v", doc)
		}
		if _, err := time.Parse(time.RFC3339, doc.TakenAt); err != nil {
			t.Errorf("taken_at %q: %v", doc.TakenAt, err)
		}
		active, apps := 0, map[string]bool{}
		for _, s := range doc.Sessions {
			if s.Active {
				active++
				apps[s.App] = true
			}
		}
		total := 0
		for _, c := range doc.Clients {
			total += c.Count
		}
		want := doc.Server.Connections.Current - ownConnections
		if active >= 5 && len(apps) >= 3 && total == want {
			return
		}
		// The workload's pools may be between connections; try again.
		last = fmt.Sprintf("%d active sessions from apps %v; clients add up to %d, want %d", active, apps, total, want)
		time.Sleep(200 * time.Millisecond)
	}
	t.Error(last)
}

// TestDemoOnceJSONReplicaSet: the demo's default deployment, a replica set, prints its three
// members and sessions from at least two of them, each session's host one of the members.
func TestDemoOnceJSONReplicaSet(t *testing.T) {
	var last string
	// The secondary reads may still be starting: try again until a guard that only stops a hang.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"--demo", "--once", "--format", "json"}, &out, &errOut); code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		var doc struct {
			Members []struct {
				Host  string `json:"host"`
				State string `json:"state"`
				OK    bool   `json:"ok"`
			} `json:"members"`
			Sessions []source.Session `json:"sessions"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out.String())
		}
		states, hosts := map[string]int{}, map[string]bool{}
		for _, m := range doc.Members {
			if m.OK {
				states[m.State]++
			}
			hosts[m.Host] = true
		}
		if len(doc.Members) != 3 || states["PRIMARY"] != 1 || states["SECONDARY"] != 2 {
			t.Fatalf("members %+v: want a primary and two secondaries, all answering", doc.Members)
		}
		from := map[string]int{}
		for _, s := range doc.Sessions {
			if !hosts[s.Host] {
				t.Fatalf("session %s has host %q, not one of the members %v", s.ID, s.Host, hosts)
			}
			from[s.Host]++
		}
		if len(from) >= 2 {
			return
		}
		last = fmt.Sprintf("sessions per member %v", from)
		time.Sleep(200 * time.Millisecond)
	}
	t.Error(last)
}

func TestDemoCloudSourcesOnce(t *testing.T) {
	for _, tt := range []struct {
		source string
		id     func(id string) bool
	}{
		{"tencent", func(id string) bool { return strings.Count(id, "/") == 2 }}, // ReplicaSetName/NodeName/OpId
		{"huawei", func(id string) bool { return id != "" }},
	} {
		t.Run(tt.source, func(t *testing.T) {
			var doc struct {
				Source   string           `json:"source"`
				Clients  []source.Client  `json:"clients"`
				Sessions []source.Session `json:"sessions"`
			}
			// The workload may still be starting its operations: try again until a guard.
			for deadline := time.Now().Add(time.Minute); len(doc.Sessions) == 0 && time.Now().Before(deadline); {
				var out, errOut bytes.Buffer
				if code := run(context.Background(), []string{"--demo", "--source", tt.source, "--once", "--system", "--format", "json"}, &out, &errOut); code != exitOK {
					t.Fatalf("exit %d: %s", code, errOut.String())
				}
				if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
			}
			if doc.Source != tt.source || len(doc.Clients) == 0 || len(doc.Sessions) == 0 {
				t.Fatalf("source %q, %d clients, %d sessions", doc.Source, len(doc.Clients), len(doc.Sessions))
			}
			for _, s := range doc.Sessions {
				if !tt.id(s.ID) {
					t.Errorf("session ID %q is not a %s ID", s.ID, tt.source)
				}
			}
			internal, external := 0, 0
			for _, c := range doc.Clients {
				if c.Internal {
					internal++
				} else {
					external++
				}
			}
			if internal == 0 || external == 0 {
				t.Errorf("with --system, clients should be split into internal and external, got %d internal, %d external", internal, external)
			}
			// Without --system, as on the screen, the internal ones are left out.
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"--demo", "--source", tt.source, "--once", "--format", "json"}, &out, &errOut); code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var plain struct{ Clients []source.Client }
			if err := json.Unmarshal(out.Bytes(), &plain); err != nil {
				t.Fatal(err)
			}
			for _, c := range plain.Clients {
				if c.Internal {
					t.Errorf("without --system, internal client %s is printed", c.IP)
				}
			}
			if len(plain.Clients) == 0 {
				t.Error("without --system, no client is printed")
			}
		})
	}
}

// An unreachable server fails within the timeout with one line on stderr.
func TestOnceUnreachable(t *testing.T) {
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(context.Background(), []string{"--once", "--timeout", "1s", "mongodb://mon:hunter2@127.0.0.1:1/"}, &out, &errOut)
	// Liveness, generous for a loaded machine (the driver alone would try for 30 s).
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("took %s with --timeout 1s", elapsed)
	}
	if code != exitSource {
		t.Fatalf("exit %d, want %d", code, exitSource)
	}
	msg := errOut.String()
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "currentop: ") || !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("stderr %q: want one line naming the target", msg)
	}
	if strings.Contains(msg+out.String(), "hunter2") {
		t.Error("the password appears in the output")
	}
}

// Wrong cloud credentials: one line, exit 1, and no secret in any output.
func TestTencentWrongCredentials(t *testing.T) {
	em := tencentapi.New(fromsource.Deployment(emptySource{}), tencentapi.Options{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey})
	base, err := em.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	const secret = "wrong-secret-key-0123456789abcdef"
	t.Setenv("TENCENTCLOUD_SECRET_ID", tencentapi.DemoSecretID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", secret)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--source", "tencent", "--instance", tencentapi.DemoInstance, "--region", tencentapi.DemoRegion,
		"--endpoint", base, "--once", "--format", "json"}, &out, &errOut)
	if code != exitSource {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitSource, errOut.String())
	}
	msg := errOut.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(strings.ToLower(msg), "credential") {
		t.Errorf("stderr %q: want one line about the credentials", msg)
	}
	if strings.Contains(msg+out.String(), secret) {
		t.Error("the secret key appears in the output")
	}
}

func TestHuaweiBadToken(t *testing.T) {
	em := huaweiapi.New(fromsource.Deployment(emptySource{}), huaweiapi.Options{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK, Token: huaweiapi.DemoToken})
	base, err := em.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	const token = "not-the-right-token-abcdef"
	t.Setenv("HUAWEICLOUD_SDK_AK", "")
	t.Setenv("HUAWEICLOUD_SDK_SK", "")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--source", "huawei", "--region", "cn-north-4", "--project-id", huaweiapi.DemoProjectID,
		"--instance", huaweiapi.DemoInstance, "--endpoint", base, "--token", token, "--once"}, &out, &errOut)
	if code != exitSource {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitSource, errOut.String())
	}
	msg := errOut.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(strings.ToLower(msg), "token") {
		t.Errorf("stderr %q: want one line about the token", msg)
	}
	if strings.Contains(msg+out.String(), token) {
		t.Error("the token appears in the output")
	}
}

func TestHuaweiWrongAKSK(t *testing.T) {
	em := huaweiapi.New(fromsource.Deployment(emptySource{}), huaweiapi.Options{AK: huaweiapi.DemoAK, SK: huaweiapi.DemoSK})
	base, err := em.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	for _, tc := range []struct{ name, ak, sk string }{
		{"wrong SK", huaweiapi.DemoAK, "wrong-secret-access-key-0123456789"},
		{"unknown AK", "UNKNOWNAK0123456789", huaweiapi.DemoSK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HUAWEICLOUD_SDK_AK", tc.ak)
			t.Setenv("HUAWEICLOUD_SDK_SK", tc.sk)
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"--source", "huawei", "--region", "cn-north-4", "--project-id", huaweiapi.DemoProjectID,
				"--instance", huaweiapi.DemoInstance, "--endpoint", base, "--once"}, &out, &errOut)
			if code != exitSource {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitSource, errOut.String())
			}
			msg := errOut.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "HUAWEICLOUD_SDK_") {
				t.Errorf("stderr %q: want one line naming the key variables", msg)
			}
			if strings.Contains(msg+out.String(), tc.sk) {
				t.Error("the secret key appears in the output")
			}
		})
	}
}

// emptySource is a deployment with nothing connected, behind an emulator.
type emptySource struct{}

func (emptySource) Snapshot(context.Context, source.Query) (*source.Snapshot, error) {
	return &source.Snapshot{Source: "mongodb", TakenAt: time.Now()}, nil
}

// A partial snapshot prints, and its warnings reach stderr so that a script can tell.
func TestOnceWarningsGoToStderr(t *testing.T) {
	src := warningSource{warning: "clients unavailable: not authorised\x1b[2J"}
	var out, errOut bytes.Buffer
	c := config{format: "json", pane: "all", timeout: time.Second}
	if err := once(context.Background(), src, c, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("stdout is not one JSON document: %s", out.String())
	}
	if got := errOut.String(); got != "currentop: warning: clients unavailable: not authorised\uFFFD\n" {
		t.Errorf("stderr %q", got)
	}
}

type warningSource struct{ warning string }

// unorderedSource lists sessions and clients in no particular order, with an internal client.
type unorderedSource struct{}

func (unorderedSource) Snapshot(context.Context, source.Query) (*source.Snapshot, error) {
	return &source.Snapshot{Source: "mongodb", TakenAt: time.Now(),
		Clients: []source.Client{{IP: "10.0.0.9", Count: 3}, {IP: "10.0.0.2", Count: 3, Internal: true}, {IP: "10.0.0.10", Count: 40}, {IP: "10.0.0.1", Count: 3}},
		Sessions: []source.Session{
			{ID: "12", Type: source.TypeOp, Active: true, RunningUS: 5},
			{ID: "7", Type: source.TypeOp, Active: true, RunningUS: 9_000_000},
			{ID: "10", Type: source.TypeOp, Active: true, RunningUS: 5},
			{ID: "3", Type: source.TypeOp, Active: true, RunningUS: 1, Internal: true},
			{ID: "9", Type: source.TypeOp, Active: true, RunningUS: 5},
		}}, nil
}

// --once prints what the screen shows, in its order: sessions longest first (ties by ID),
// clients by connection count (ties by IP), internal clients and sessions only with --system.
func TestOnceSortsAndFiltersLikeTheScreen(t *testing.T) {
	for _, tc := range []struct {
		system            bool
		sessions, clients string
	}{
		{false, "7 9 10 12", "10.0.0.10 10.0.0.1 10.0.0.9"},
		{true, "7 9 10 12 3", "10.0.0.10 10.0.0.1 10.0.0.2 10.0.0.9"},
	} {
		var out, errOut bytes.Buffer
		c := config{format: "json", pane: "all", timeout: time.Second, system: tc.system}
		if err := once(context.Background(), unorderedSource{}, c, &out, &errOut); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Clients  []struct{ IP string }
			Sessions []struct{ ID string }
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		var ss, cs []string
		for _, s := range doc.Sessions {
			ss = append(ss, s.ID)
		}
		for _, c := range doc.Clients {
			cs = append(cs, c.IP)
		}
		if strings.Join(ss, " ") != tc.sessions || strings.Join(cs, " ") != tc.clients {
			t.Errorf("--system=%v: sessions %v, clients %v; want %s and %s", tc.system, ss, cs, tc.sessions, tc.clients)
		}
	}
}

func (w warningSource) Snapshot(context.Context, source.Query) (*source.Snapshot, error) {
	return &source.Snapshot{Source: "mongodb", TakenAt: time.Now(), Partial: true, Warnings: []string{w.warning}}, nil
}

// --list prints every node of a large cluster, each cleaned.
func TestListPrintsEveryNode(t *testing.T) {
	var nodes []string
	for i := range 120 {
		nodes = append(nodes, fmt.Sprintf("node-%03d\x1b[2J", i))
	}
	var out bytes.Buffer
	src := listSource{insts: []source.Instance{{ID: "i1", Name: "big", Nodes: nodes}}}
	if err := list(context.Background(), src, config{source: "huawei", format: "table", timeout: time.Second}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), "node-000") || !strings.Contains(out.String(), "node-119") {
		t.Fatalf("list output:\n%s", out.String())
	}
}

type listSource struct {
	emptySource
	insts []source.Instance
}

func (l listSource) List(context.Context) ([]source.Instance, error) { return l.insts, nil }

// No password reaches any output, whatever the user typed: each URI of issue 9 (and the
// secret options) goes through the real command line, as an argument and through
// $CURRENTOP_MONGODB_URI, and fails with one line that does not contain the secret.
func TestNoPasswordInErrors(t *testing.T) {
	const secret = "S3cr3t"
	uris := []string{
		"mongodb://mon:pa?S3cr3t@127.0.0.1:1/",
		"mongodb://mon:pa?S3cr3t@host.invalid/",
		"u:S3cr3t@localhost",
		"mongodb:/u:S3cr3t@host/",
		"mongodb//u:S3cr3t@host/",
		"mongodb://u:S3cr3t%zz@127.0.0.1:1/",
		"mongodb://u:p@S3cr3t/db@127.0.0.1:1/",
		"mongodb://u:p@ss:S3cr3t/db@127.0.0.1:1/",
		"mongodb://127.0.0.1:1/?tlsCertificateKeyFilePassword=S3cr3t",
		"mongodb://127.0.0.1:1/?tls=true&tlsCertificateKeyFile=/nonexistent.pem&tlsCertificateKeyFilePassword=S3cr3t",
		"mongodb://127.0.0.1:1/?sslPEMKeyPassword=S3cr3t",
		"mongodb://127.0.0.1:1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:S3cr3t",
		"mongodb://AKIAEXAMPLE:S3cr3tKey@127.0.0.1:1/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:S3cr3tT0ken",
		"mongodb://127.0.0.1:1/?authMechanismProperties=AWS_SESSION_TOKEN:S3cr3t%zz",
	}
	for _, uri := range uris {
		for _, how := range []string{"argument", "environment"} {
			t.Run(how+" "+uri, func(t *testing.T) {
				args := []string{"--once", "--timeout", "1s"}
				if how == "argument" {
					t.Setenv(envURI, "")
					args = append(args, uri)
				} else {
					t.Setenv(envURI, uri)
				}
				var out, errOut bytes.Buffer
				code := run(context.Background(), args, &out, &errOut)
				if code != exitSource {
					t.Fatalf("exit %d, want %d; stderr %q", code, exitSource, errOut.String())
				}
				msg := errOut.String()
				if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "currentop: ") {
					t.Errorf("stderr %q: want one error line", msg)
				}
				if strings.Contains(strings.ToLower(msg+out.String()), strings.ToLower(secret)) {
					t.Errorf("the password appears in the output: %q", msg)
				}
			})
		}
	}
}

// A URI typed where a flag goes is echoed by the flag parser: the line is scrubbed too, and so
// is the --token a mistake follows.
func TestNoPasswordInUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-mongodb://u:S3cr3t@h/"},
		{"--once", "--format", "mongodb://u:S3cr3t@h/"},
		{"--source", "huawei", "--token", "S3cr3t-token", "--interval", "S3cr3t-token"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != exitUsage {
			t.Fatalf("%q: exit %d, want %d", args, code, exitUsage)
		}
		if strings.Contains(errOut.String()+out.String(), "S3cr3t") {
			t.Errorf("%q: the secret appears in %q", args, errOut.String())
		}
	}
}

// Against a real server (sim/mongod) the password with an unescaped '?' works, and no output
// format shows it: not the JSON target, not the table header, not the CSV.
func TestNoPasswordInSnapshots(t *testing.T) {
	const user, pass = "mon", "pa?S3cr3t"
	srv, err := mongod.Start(mongod.Options{Users: []mongod.User{{Name: user, DB: "admin", Password: pass, Roles: []string{"clusterMonitor"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	uri := "mongodb://" + user + ":" + pass + "@" + srv.Addr() + "/?directConnection=true"
	for _, format := range report.Formats {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"--once", "--format", format, uri}, &out, &errOut); code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), "S3cr3t") {
			t.Errorf("%s: the password appears in the output:\n%s", format, out.String())
		}
		if format != "csv" && !strings.Contains(out.String(), "mon:***@") {
			t.Errorf("%s: the target is not shown masked:\n%s", format, out.String())
		}
	}
	// A wrong password: the failure does not show the one that was typed either.
	var out, errOut bytes.Buffer
	wrong := "mongodb://" + user + ":wr?ngS3cr3t@" + srv.Addr() + "/?directConnection=true"
	if code := run(context.Background(), []string{"--once", "--timeout", "2s", wrong}, &out, &errOut); code != exitSource {
		t.Fatalf("wrong password: exit %d", code)
	}
	if msg := errOut.String(); strings.Contains(msg, "S3cr3t") || !strings.Contains(msg, "authentication") {
		t.Errorf("wrong password: %q", msg)
	}
}

// A source that paces itself (Huawei) sets the live view's limit and default interval;
// --interval still wins, and other sources are not limited.
func TestLivePace(t *testing.T) {
	hw, err := huawei.New(huawei.Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Credentials: huawei.Credentials{Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		src      source.Source
		limit    int
		interval time.Duration
	}{
		{[]string{"--source", "huawei"}, hw, 100, 3 * time.Second},
		{[]string{"--source", "huawei", "--interval", "5s"}, hw, 100, 5 * time.Second},
		{nil, warningSource{}, 0, 2 * time.Second},
	} {
		c, err := parseArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		q, interval := c.live(tc.src)
		if q.Limit != tc.limit || interval != tc.interval {
			t.Errorf("%v: limit %d every %v, want %d every %v", tc.args, q.Limit, interval, tc.limit, tc.interval)
		}
	}
}

func TestDemoOnceGroupBy(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--demo", "--once", "--format", "json", "--group-by", "shape"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var doc struct {
		GroupBy string         `json:"group_by"`
		Groups  []source.Group `json:"groups"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if doc.GroupBy != "shape" || len(doc.Groups) == 0 {
		t.Fatalf("%s", out.String())
	}
	for i, g := range doc.Groups {
		if g.Count < 1 || g.Key == "" || g.ExampleID == "" || i > 0 && g.RunningUSTotal > doc.Groups[i-1].RunningUSTotal {
			t.Errorf("group %d: %+v", i, g)
		}
	}
	// The demo's pile-up fires at start: a fresh demo shows it first, as one group.
	if g := doc.Groups[0]; g.Key != "find shop.orders {status: ?, qty: {$gt: ?}}" || g.Count < 30 || g.Collscan != g.Count || fmt.Sprint(g.Apps) != "[storefront]" {
		t.Errorf("the pile-up is not the first group: %+v", g)
	}
	// The table says how many sessions were grouped: the counts add up to them.
	out.Reset()
	if code := run(context.Background(), []string{"--demo", "--once", "--format", "table", "--group-by", "app"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	m := regexp.MustCompile(`(?m)^(\d+) apps? of (\d+) sessions$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no 'N apps of M sessions' heading:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	countEnd := strings.Index(lines[3], "COUNT") + len("COUNT") // app names are ASCII: bytes are cells
	sum, rows := 0, lines[4:]
	for _, r := range rows {
		f := strings.Fields(r[:min(len(r), countEnd)])
		n, _ := strconv.Atoi(strings.ReplaceAll(f[len(f)-1], ",", ""))
		sum += n
	}
	groups, _ := strconv.Atoi(m[1])
	if want, _ := strconv.Atoi(m[2]); sum != want || len(rows) != groups {
		t.Errorf("%d groups count %d sessions; the heading says %s of %s:\n%s", len(rows), sum, m[1], m[2], out.String())
	}
	for _, args := range [][]string{{"--once", "--group-by", "shapes"}, {"--group-by", "app"}} {
		if _, err := parseArgs(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
