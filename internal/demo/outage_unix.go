//go:build unix

package demo

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// watchMemberFaults lets a person (or the end-to-end test) stop one secondary of rs and bring
// it back: each SIGUSR2 (kill -USR2 <pid>) toggles it, so that the monitor shows one member
// down while the rest of the deployment keeps answering.
func watchMemberFaults(ctx context.Context, rs *mongod.ReplicaSet) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	go func() {
		defer signal.Stop(ch)
		up := true
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				up = toggleMember(rs, up)
			}
		}
	}()
}

// watchOutages lets a person (or the end-to-end test) take the demo's simulated server down
// and bring it back, to see how the monitor shows a failing deployment: each SIGUSR1
// (kill -USR1 <pid>) toggles an outage in which every connection is dropped and new ones are
// refused.
func watchOutages(ctx context.Context, srv outageTarget) {
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
				srv.RefuseConnections(down)
				if down {
					srv.DropConnections()
				}
			}
		}
	}()
}
