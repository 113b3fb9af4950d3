package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// silentListener accepts connections and never answers, as a TLS port spoken to in plain text
// or a stuck proxy would; accepted receives one value per connection.
func silentListener(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), ch
}

type runResult struct {
	code        int
	out, errOut string
	took        time.Duration
}

// runAsync runs the program in the background; the result arrives on the channel.
func runAsync(ctx context.Context, args ...string) <-chan runResult {
	res := make(chan runResult, 1)
	go func() {
		var out, errOut bytes.Buffer
		start := time.Now()
		code := run(ctx, args, &out, &errOut)
		res <- runResult{code, out.String(), errOut.String(), time.Since(start)}
	}()
	return res
}

// await waits for the program, failing if it hangs (the bound is far above any timeout the
// test gives it).
func await(t *testing.T, res <-chan runResult, bound time.Duration) runResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(bound):
		t.Fatalf("the program did not end within %s", bound)
		return runResult{}
	}
}

// driverInternals are phrases of the driver's own error text, never shown to the user.
var driverInternals = []string{"topology", "server selection", "Type: ", "context deadline exceeded", "context canceled"}

func checkOneCleanLine(t *testing.T, stderr string, secrets ...string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || !strings.HasPrefix(stderr, "currentop: ") {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	for _, bad := range append(driverInternals, secrets...) {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr shows %q: %q", bad, stderr)
		}
	}
}

// --once against a server that accepts and never answers: one line after --timeout.
func TestOnceSilentServer(t *testing.T) {
	addr, _ := silentListener(t)
	r := await(t, runAsync(context.Background(), "--once", "--timeout", "1s", "mongodb://mon:hunter2@"+addr+"/"), time.Minute)
	t.Logf("exit %d after %s: %s", r.code, r.took.Round(time.Millisecond), strings.TrimSpace(r.errOut))
	if r.code != exitSource || r.out != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.out)
	}
	checkOneCleanLine(t, r.errOut, "hunter2")
	want := "currentop: cannot reach mongodb://mon:***@" + addr + "/ within 1s: no answer — check host/port, firewall, TLS options\n"
	if r.errOut != want {
		t.Errorf("stderr %q\nwant   %q", r.errOut, want)
	}
	if r.took < time.Second {
		t.Errorf("gave up after %s, before --timeout 1s", r.took)
	}
}

// ctrl+c (the context) while connecting to a silent server ends --once at once with one line,
// long before its --timeout.
func TestInterruptWhileConnecting(t *testing.T) {
	addr, accepted := silentListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := runAsync(ctx, "--once", "--timeout", "10m", "mongodb://mon:hunter2@"+addr+"/")
	select {
	case <-accepted: // the driver is waiting for the handshake
	case r := <-res:
		t.Fatalf("ended before connecting: %+v", r)
	case <-time.After(time.Minute):
		t.Fatal("the driver never connected to the listener")
	}
	cancel()
	r := await(t, res, time.Minute) // a hang would last the 10 minutes of --timeout
	t.Logf("exit %d: %s", r.code, strings.TrimSpace(r.errOut))
	if r.code != exitInterrupted || r.out != "" {
		t.Fatalf("exit %d, stdout %q; want %d", r.code, r.out, exitInterrupted)
	}
	checkOneCleanLine(t, r.errOut, "hunter2")
	if want := "currentop: interrupted while connecting to mongodb://mon:***@" + addr + "/\n"; r.errOut != want {
		t.Errorf("stderr %q\nwant   %q", r.errOut, want)
	}
}

// Against FerretDB, --once prints what its currentOp command returns and says why on stderr;
// against a server with neither $currentOp nor currentOp, one line.
func TestOnceWithoutCurrentOpStage(t *testing.T) {
	t.Run("FerretDB", func(t *testing.T) {
		srv, err := mongod.Start(mongod.Options{Profile: mongod.ProfileFerretDB})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		r := await(t, runAsync(context.Background(), "--once", "--format", "json", srv.URI()), time.Minute)
		t.Logf("stderr: %s", strings.TrimSpace(r.errOut))
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.errOut)
		}
		var doc struct {
			Sessions []json.RawMessage `json:"sessions"`
			Server   struct{ Version string }
		}
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Server.Version != "7.0.77" || doc.Sessions == nil {
			t.Fatalf("stdout %q (%v)", r.out, err)
		}
		want := "currentop: warning: FerretDB v1.24.0 has no $currentOp aggregation stage: showing what its currentOp command returns, which may be nothing; idle connections and clients are not available\n"
		if r.errOut != want {
			t.Errorf("stderr %q\nwant   %q", r.errOut, want)
		}
	})
	t.Run("neither", func(t *testing.T) {
		srv, err := mongod.Start(mongod.Options{Profile: mongod.ProfileNoCurrentOp})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		r := await(t, runAsync(context.Background(), "--once", srv.URI()), time.Minute)
		t.Logf("stderr: %s", strings.TrimSpace(r.errOut))
		if r.code != exitSource || r.out != "" {
			t.Fatalf("exit %d, stdout %q", r.code, r.out)
		}
		checkOneCleanLine(t, r.errOut)
		for _, want := range []string{"neither the $currentOp aggregation stage", "nor the currentOp command", srv.URI()} {
			if !strings.Contains(r.errOut, want) {
				t.Errorf("stderr %q lacks %q", r.errOut, want)
			}
		}
	})
}
