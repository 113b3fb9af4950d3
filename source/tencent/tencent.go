// Package tencent is the currentop source for TencentDB for MongoDB, through the Tencent Cloud
// API (version 2019-07-25): clients from DescribeClientConnections, operations from
// DescribeCurrentOp, kills through KillOps and the instance list from DescribeDBInstances.
//
// Requests are signed with TC3-HMAC-SHA256 by the official tencentcloud/common module, with
// typed request and response structs so 64-bit operation IDs stay exact. Every action goes
// through a client-side token bucket below the published rate limits, and throttled requests
// back off and retry a bounded number of times.
package tencent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	tccommon "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	"golang.org/x/time/rate"

	"github.com/currentop/currentop/source"
)

// DefaultEndpoint is the API's host; Config.Endpoint overrides it.
const DefaultEndpoint = "mongodb.tencentcloudapi.com"

// DefaultTimeout bounds one API request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config says which instance to watch and how to reach the API.
type Config struct {
	// InstanceID is the instance, e.g. "cmgo-p8vnipr5". Optional for List.
	InstanceID string
	// Region, e.g. "ap-guangzhou"; when empty, TENCENTCLOUD_REGION.
	Region string
	// Endpoint overrides mongodb.tencentcloudapi.com: "host[:port]" (HTTPS) or a URL with an
	// http or https scheme, e.g. "http://127.0.0.1:8080" for the emulator.
	Endpoint    string
	Credentials Credentials
	// Timeout bounds each API request (default 10s).
	Timeout time.Duration
}

// String never reveals the credentials.
func (c Config) String() string {
	return fmt.Sprintf("{InstanceID:%s Region:%s Endpoint:%s Credentials:%s Timeout:%v}",
		c.InstanceID, c.Region, c.Endpoint, c.Credentials, c.Timeout)
}

// GoString is used by %#v.
func (c Config) GoString() string {
	return fmt.Sprintf("tencent.Config{InstanceID:%q, Region:%q, Endpoint:%q, Credentials:%#v, Timeout:%v}",
		c.InstanceID, c.Region, c.Endpoint, c.Credentials, c.Timeout)
}

// Source watches one TencentDB for MongoDB instance. It implements source.Source,
// source.Killer, source.Lister and io.Closer, and is safe for concurrent use.
type Source struct {
	instance, region, endpoint string
	timeout                    time.Duration

	client    *tccommon.Client
	transport *http.Transport
	limits    *limiterSet
	// secrets are removed from every error text (see redact).
	secrets []string
	// credFile is where the credentials came from, when not the environment.
	credFile string

	// Rate-limit backoff: the wait before retry n (0-based), and how many retries.
	backoff    func(n int) time.Duration
	maxRetries int
	// killWait bounds how long Kill watches for killed operations to end.
	killWait time.Duration

	mu         sync.Mutex
	closed     bool
	clientsErr error // sticky: the instance cannot report clients; stop asking
	info       *instanceInfo
	infoAt     time.Time
	infoErr    error // why DescribeDBInstances failed last, not fatal
}

var (
	_ source.Source = (*Source)(nil)
	_ source.Killer = (*Source)(nil)
	_ source.Lister = (*Source)(nil)
	_ io.Closer     = (*Source)(nil)
)

var (
	instanceRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	regionRe   = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// New validates cfg and returns a Source. It makes no request: errors about the instance or
// the credentials come from the first Snapshot or List.
func New(cfg Config) (*Source, error) {
	region := strings.TrimSpace(cfg.Region)
	if region == "" {
		region = strings.TrimSpace(os.Getenv(EnvRegion))
	}
	if region == "" {
		return nil, fmt.Errorf("tencent: no region: pass --region or set %s (e.g. ap-guangzhou)", EnvRegion)
	}
	if !regionRe.MatchString(region) {
		return nil, fmt.Errorf("tencent: region %q does not look like a Tencent Cloud region such as ap-guangzhou", source.Clean(region))
	}
	inst := strings.TrimSpace(cfg.InstanceID)
	if inst != "" && !instanceRe.MatchString(inst) {
		return nil, fmt.Errorf("tencent: instance ID %q does not look like cmgo-xxxxxxxx (currentop --source tencent --list shows the instances)", source.Clean(inst))
	}
	cred := cfg.Credentials
	cred.SecretID, cred.SecretKey, cred.Token = strings.TrimSpace(cred.SecretID), strings.TrimSpace(cred.SecretKey), strings.TrimSpace(cred.Token)
	if cred.SecretID == "" || cred.SecretKey == "" {
		return nil, fmt.Errorf("tencent: no credentials: set %s and %s", EnvSecretID, EnvSecretKey)
	}
	scheme, host, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}

	prof := profile.NewClientProfile()
	prof.Language = "en-US"
	prof.HttpProfile.Scheme = scheme
	prof.HttpProfile.Endpoint = host
	// A backstop only: every call also runs under its own context deadline.
	prof.HttpProfile.ReqTimeout = int((timeout+time.Second-1)/time.Second) + 1
	// Our own backoff is context-aware; the SDK's sleeps are not.
	prof.RateLimitExceededMaxRetries = 0
	prof.NetworkFailureMaxRetries = 0
	prof.Debug = false // its dumps include the Authorization header

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = 30 * time.Second
	// A backstop too; the context deadline normally fires first.
	tr.ResponseHeaderTimeout = timeout + time.Second
	c := tccommon.NewCommonClient(tccommon.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.Token), region, prof).
		WithHttpTransport(tr).WithRequestClient("currentop")

	endpointKey := scheme + "://" + host
	if host == "" {
		endpointKey = DefaultEndpoint
	}
	return &Source{
		instance:   inst,
		region:     region,
		endpoint:   endpointKey,
		timeout:    timeout,
		client:     c,
		transport:  tr,
		limits:     limitersFor(endpointKey, cred.SecretID),
		secrets:    []string{cred.SecretKey, cred.Token, cred.SecretID},
		credFile:   cred.file,
		backoff:    defaultBackoff,
		maxRetries: 3,
		killWait:   3 * time.Second,
	}, nil
}

// parseEndpoint turns Config.Endpoint into the SDK's scheme and host[:port].
func parseEndpoint(ep string) (scheme, host string, err error) {
	ep = strings.TrimSpace(ep)
	if ep == "" {
		return "HTTPS", "", nil
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", "", fmt.Errorf("tencent: endpoint %q: use host[:port] or http(s)://host[:port], e.g. %s", source.Clean(ep), DefaultEndpoint)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "HTTPS", u.Host, nil
	case "http":
		// The request carries the secret ID and any session token: plain HTTP only to this
		// machine (an emulator, an SSH tunnel).
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", "", fmt.Errorf("tencent: endpoint %q: plain http would send the credentials unencrypted; use https (http is allowed only to localhost)", source.Clean(ep))
		}
		return "HTTP", u.Host, nil
	}
	return "", "", fmt.Errorf("tencent: endpoint %q: the scheme must be http or https", source.Clean(ep))
}

// String names the monitored instance, never the credentials.
func (s *Source) String() string { return s.target() }

// GoString is used by %#v.
func (s *Source) GoString() string { return "tencent.Source(" + s.target() + ")" }

func (s *Source) target() string { return "tencent:" + s.region + "/" + s.instance }

// Close releases idle connections. Later calls fail.
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.transport.CloseIdleConnections()
	return nil
}

var errClosed = errors.New("tencent: the source is closed")

func (s *Source) checkOpen(needInstance bool) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errClosed
	}
	if needInstance && s.instance == "" {
		return errors.New("tencent: no instance: pass --instance cmgo-xxxxxxxx (currentop --source tencent --list shows the instances of the region)")
	}
	return nil
}

// defaultBackoff is 0.5s, 1s, 2s … capped at 8s, with ±20% jitter so that several clients of
// one account do not retry in step.
func defaultBackoff(n int) time.Duration {
	return source.Backoff{Base: 500 * time.Millisecond, Max: 8 * time.Second, Jitter: 0.2}.Delay(n)
}

// limiterSet holds one token bucket per action, shared by every Source using the same
// endpoint and secret ID: the API's limits are per account.
type limiterSet struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiterSet{}
)

func limitersFor(endpoint, secretID string) *limiterSet {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	k := endpoint + "\x00" + secretID
	ls := limiters[k]
	if ls == nil {
		ls = &limiterSet{m: map[string]*rate.Limiter{}}
		limiters[k] = ls
	}
	return ls
}

func (ls *limiterSet) get(action string) *rate.Limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.m[action]
	if l == nil {
		r, ok := actionRates[action]
		if !ok {
			r = 4
		}
		l = rate.NewLimiter(rate.Limit(r), 1)
		ls.m[action] = l
	}
	return l
}

// notes collects what a Snapshot should tell the user besides its data.
type notes struct {
	mu       sync.Mutex
	warnings []string
}

func (n *notes) add(format string, args ...any) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.warnings = append(n.warnings, fmt.Sprintf(format, args...))
	n.mu.Unlock()
}

// call sends one API request: rate-limited, under its own deadline, retried with backoff
// while the API answers RequestLimitExceeded. newReq must build a fresh request each time
// (the SDK mutates requests while sending).
func (s *Source) call(ctx context.Context, n *notes, action string, newReq func() tchttp.Request, resp tchttp.Response) error {
	lim := s.limits.get(action)
	var waited time.Duration
	for attempt := 0; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctxError(ctx, action, false)
			}
			// The bucket's next token lies beyond the deadline.
			return &APIError{Action: action, Code: "ClientError.RateLimit", kind: ErrRateLimited, cause: err, Retries: attempt,
				Hint: "the client-side rate limit leaves no time before the deadline: lower the refresh rate (--interval)"}
		}
		err := s.send(ctx, newReq(), resp)
		if err == nil {
			if attempt > 0 {
				n.add("Tencent Cloud throttled %s (RequestLimitExceeded): backed off %d time(s) for %.1fs in total", action, attempt, waited.Seconds())
			}
			return nil
		}
		if !isRateLimited(err) {
			return s.redact(classify(err, action, s.instance, s.region))
		}
		e := s.redact(classify(err, action, s.instance, s.region))
		e.Retries = attempt
		if attempt >= s.maxRetries {
			return e
		}
		d := s.backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			e.Hint = fmt.Sprintf("Tencent Cloud throttled %s and the deadline leaves no time to back off: lower the refresh rate (--interval)", action)
			return e
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctxError(ctx, action, false)
		case <-t.C:
		}
		waited += d
	}
}

// send runs one SDK request under the per-request timeout. The SDK honours the context, but
// send also stops waiting by itself, so a misbehaving transport can never hang the caller.
func (s *Source) send(ctx context.Context, req tchttp.Request, resp tchttp.Response) error {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req.SetContext(rctx)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil { // the SDK must not take the program down
				done <- fmt.Errorf("tencent: SDK panic: %v", r)
			}
		}()
		done <- s.client.Send(req, resp)
	}()
	select {
	case err := <-done:
		var ne net.Error
		if err != nil && (rctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout())) {
			return ctxError(ctx, req.GetAction(), ctx.Err() == nil)
		}
		return err
	case <-rctx.Done():
		return ctxError(ctx, req.GetAction(), ctx.Err() == nil)
	}
}
