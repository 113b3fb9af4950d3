// Command currentop is top for MongoDB connections and in-flight operations.
//
// It reads flags and the environment, opens one source (the MongoDB driver directly, or the
// Tencent Cloud or Huawei Cloud management API), and either runs the interactive terminal UI
// or prints one snapshot (--once) for scripts and incident tickets.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the heap size the garbage collector works to stay under (GOMEMLIMIT, when
// set, wins). What one refresh reads is capped (source/mongodb MaxReadDocs, MaxReadBytes);
// this keeps the collector from letting the heap grow to twice that before it runs.
const memoryLimit = 200 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
