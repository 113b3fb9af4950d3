//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// countingWriter counts what the CLI prints without holding it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// A server whose $currentOp cursor never ends (16 MiB answers to every getMore) once drove
// --once past 6 GB before its timeout. The built CLI reads up to its caps, prints what it
// read, says so on stderr, and its peak RSS (the kernel's, after the process has exited: no
// sampling, nothing timed) stays under 300 MB.
func TestOnceAgainstEndlessCursorIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and reads 64 MiB twice: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "currentop")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv, err := mongod.Start(mongod.Options{CurrentOpFault: mongod.EndlessCursor})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	for _, format := range []string{"json", "table"} {
		t.Run(format, func(t *testing.T) {
			var stdout countingWriter
			var stderr bytes.Buffer
			var head bytes.Buffer
			// The caps, not the clock, must end the reads: the timeout only guards against a
			// hang. (2m was a bet: under -race beside CPU burners the json read took 87 s.)
			cmd := exec.Command(bin, "--once", "--format", format, "--timeout", "8m", srv.URI())
			cmd.Env = withoutEnv(os.Environ(), "GOMEMLIMIT") // the CLI's own limit is under test
			cmd.Stdout = io.MultiWriter(&stdout, &limitedBuffer{b: &head, max: 1 << 10})
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("--once --format %s: %d bytes printed, peak RSS %d MB; stderr: %s", format, stdout.n, rss>>20, strings.TrimSpace(stderr.String()))
			if rss > 300<<20 {
				t.Errorf("peak RSS %d MB, want under 300 MB", rss>>20)
			}
			msg := stderr.String()
			for _, want := range []string{"warning: showing the first", "sessions: the server sent more than 64 MiB of $currentOp documents", "clients incomplete"} {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr lacks %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "cannot reach") {
				t.Errorf("a server that answered is reported unreachable:\n%s", msg)
			}
			if format == "json" && !strings.HasPrefix(head.String(), `{"source":"mongodb"`) {
				t.Errorf("stdout does not start a snapshot: %.200s", head.String())
			}
		})
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
