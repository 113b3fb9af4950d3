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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
