package mongodb

import (
	"context"
	"os"
	"testing"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/internal/sim/workload"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/sourcetest"
)

func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts mongod.Options
	}{
		{"mongod with auth", mongod.Options{Users: append(testUsers[:0:0], testUsers...), ReplicaSet: "rs0", Synthetic: 300}},
		{"mongos", mongod.Options{Mongos: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, tt.opts)
			uri := srv.URI()
			var wusers []workload.User
			secrets := []string{}
			if len(tt.opts.Users) > 0 {
				uri = userURI(srv, "admin", "admin-Secret-2")
				wusers = []workload.User{{Name: "app", DB: "admin", Password: "app-Secret-3"}}
				secrets = append(secrets, "admin-Secret-2", "app-Secret-3", "mon-Secret-1")
			}
			startWorkload(t, srv.URI(), wusers...)
			sourcetest.Run(t, sourcetest.Config{
				Open:      func(t *testing.T) source.Source { return openSource(t, uri) },
				Secrets:   secrets,
				MinActive: 5,
				CanKill:   true,
			})
			t.Run("lean", func(t *testing.T) { // as the live view reads it
				sourcetest.Run(t, sourcetest.Config{
					Open:      func(t *testing.T) source.Source { return leanSource{openSource(t, uri)} },
					Secrets:   secrets,
					MinActive: 5,
					CanKill:   true,
				})
			})
		})
	}
	t.Run("real", func(t *testing.T) {
		uri := os.Getenv(realEnv)
		if uri == "" {
			t.Skipf("set %s=mongodb://user:pass@host:port/ (a user with clusterMonitor) to run against a real server", realEnv)
		}
		_, secrets := uriSecrets(uri)
		sourcetest.Run(t, sourcetest.Config{
			Open:    func(t *testing.T) source.Source { return openSource(t, uri) },
			Secrets: secrets,
			// A real server's activity is unknown, and killing its operations is not a test's
			// business: both checks run on the simulator only.
			MinActive: 0,
			CanKill:   false,
		})
	})
}

// leanSource asks every snapshot to be lean, as the live view does.
type leanSource struct{ *Source }

func (l leanSource) Snapshot(ctx context.Context, q source.Query) (*source.Snapshot, error) {
	q.Lean = true
	return l.Source.Snapshot(ctx, q)
}
