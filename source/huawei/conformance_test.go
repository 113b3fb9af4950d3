package huawei

import (
	"fmt"
	"testing"

	"github.com/currentop/currentop/internal/fromsource"
	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/sourcetest"
)

// conformanceBackend is a deployment with user operations of several kinds, idle
// connections and an internal thread; hostile text is covered by the unit tests.
func conformanceBackend() *fakeBackend {
	f := &fakeBackend{version: "4.4.29"}
	ops := []struct{ op, ns, plan string }{
		{"query", "shop.orders", "COLLSCAN"}, {"getmore", "shop.orders", "IXSCAN { status: 1 }"},
		{"update", "billing.invoices", "COLLSCAN"}, {"command", "shop.orders", ""},
		{"insert", "logs.events", ""}, {"remove", "shop.carts", "IXSCAN { _id: 1 }"},
	}
	for i, o := range ops {
		s := activeOp(7201640+i, fmt.Sprintf("10.0.%d.5:%d", i%2, 50000+i))
		s.Op, s.NS, s.PlanSummary = o.op, o.ns, o.plan
		s.RunningUS = int64(i+1) * 700_000 // 0.7 s … 4.2 s
		f.sessions = append(f.sessions, s)
	}
	for i := range 8 {
		f.sessions = append(f.sessions, idleConn(100+i, fmt.Sprintf("10.0.%d.5:%d", i%2, 40000+i)))
	}
	f.sessions = append(f.sessions, source.Session{ID: "3", Active: true, Op: "none", Desc: "TTLMonitor", RunningUS: 10})
	f.clients = []source.Client{{IP: "10.0.0.5", Count: 12}, {IP: "10.0.1.5", Count: 9}, {IP: "192.168.0.12", Count: 4, Internal: true}}
	return f
}

func TestConformance(t *testing.T) {
	const (
		sk    = "test-secret-key-value-0123456789"
		token = "test-iam-token-value-0123456789"
	)
	t.Run("replica set, AK/SK", func(t *testing.T) {
		sourcetest.Run(t, sourcetest.Config{
			Open: func(t *testing.T) source.Source {
				return newEnv(t, conformanceBackend(), func(o *huaweiapi.Options, c *Config) { o.SK = sk; c.Credentials.SK = sk }).src
			},
			Secrets:   []string{sk, token},
			MinActive: 6,
			CanKill:   true,
		})
	})
	t.Run("cluster through two mongos, IAM token", func(t *testing.T) {
		sourcetest.Run(t, sourcetest.Config{
			Open: func(t *testing.T) source.Source {
				// Both mongos see the same cluster-wide operations: merged, killed through one.
				b := conformanceBackend()
				d := fromsource.Deployment(b)
				return newEnv(t, b, func(o *huaweiapi.Options, c *Config) {
					o.Token = token
					c.Credentials = Credentials{Token: token}
					o.Mode = "Sharding"
					o.Nodes = []huaweiapi.Node{
						{ID: "mongos1000000no02", Role: "master", Group: "mongos", PrivateIP: "192.168.0.1", Backend: d},
						{ID: "mongos2000000no02", Role: "master", Group: "mongos", PrivateIP: "192.168.0.2", Backend: d},
						{ID: "shard10000000no02", Role: "Primary", Group: "shard", PrivateIP: "192.168.0.3"},
					}
				}).src
			},
			Secrets:   []string{sk, token},
			MinActive: 6,
			CanKill:   true,
		})
	})
}
