package tencent

import (
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
	"github.com/currentop/currentop/source/sourcetest"
)

func TestConformance(t *testing.T) {
	const key, token = "conformanceSecretKey-7f3a9c", "conformanceToken-51d2e8"
	sourcetest.Run(t, sourcetest.Config{
		Open: func(t *testing.T) source.Source {
			b := demoBackend()
			b.start = time.Now()
			b.sessions = append(b.sessions,
				op("104", "insert", "app.events", 800*time.Millisecond),
				op("105", "getmore", "local.oplog.rs", 30*time.Second),
				// Hostile text from the API must reach the screen cleaned.
				source.Session{ID: "106", Type: source.TypeOp, Active: true, Op: "query",
					NS: "shop.\x1b]0;pwned\x07orders\u202e", RunningUS: 1200000, Host: "10.0.0.22:27017\r\n",
					Command: json.RawMessage(`{"find":"x\u009b31m"}`)},
			)
			b.clients = append(b.clients, source.Client{IP: "10.9.9.9\x1b[1m", Count: 1})
			b.sessions[4].Internal = true
			// The suite takes some 150 snapshots: lift the rate limits on both sides (the
			// limits have their own tests).
			unlimited := map[string]int{}
			for a := range tencentapi.PublishedLimits {
				unlimited[a] = -1
			}
			e := newEnv(t, b, tencentapi.Options{SecretKey: key, SecretID: tencentapi.DemoSecretID, Token: token, RateLimits: unlimited})
			e.src.limits = &limiterSet{m: map[string]*rate.Limiter{}}
			for a := range actionRates {
				e.src.limits.m[a] = rate.NewLimiter(rate.Inf, 1)
			}
			return e.src
		},
		Secrets:   []string{key, token},
		MinActive: 4,
		CanKill:   true,
	})
}
