//go:build !unix

package demo

import (
	"context"

	"github.com/currentop/currentop/internal/sim/mongod"
)

// watchOutages needs SIGUSR1, which this platform lacks.
func watchOutages(context.Context, outageTarget) {}

// watchMemberFaults needs SIGUSR2, which this platform lacks.
func watchMemberFaults(context.Context, *mongod.ReplicaSet) {}
