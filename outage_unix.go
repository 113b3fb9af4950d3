//go:build unix

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// watchOutage lets a person (or the end-to-end test) take the demo's simulated server down
// and bring it back, to see how the monitor shows a failing deployment: each SIGUSR1
// (kill -USR1 <pid>) toggles an outage in which every connection is dropped and new ones are
// refused.
func (d *demo) watchOutage(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(ch)
		down := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				down = !down
				d.server.RefuseConnections(down)
				if down {
					d.server.DropConnections()
				}
			}
		}
	}()
}
