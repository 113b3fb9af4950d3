package huawei

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/currentop/currentop/source"
)

// maxResponse bounds what is read from one answer: a ListSessions page of 20 sessions with long
// commands is far below this; anything bigger is not the DDS API.
const maxResponse = 16 << 20

// actionRate is the client-side budget per action. DDS publishes no limits and the API Gateway
// answers 429 APIGW.0308 when exceeded (reference §2.3, §3); ListSessions gets a burst so that
// one refresh can read several pages of a node.
var actionRate = map[string]struct {
	perSec float64
	burst  int
}{
	actionListSessions:  {5, 10}, // a burst for one refresh's pages; halved on every 429 (adaptiveLimiter)
	actionConnStats:     {2, 2},
	actionDeleteSession: {2, 4},
	actionListInstances: {1, 2},
}

// client performs signed, rate-limited, bounded calls to the DDS API.
type client struct {
	base    *url.URL
	project string
	creds   Credentials
	http    *http.Client
	timeout time.Duration
	now     func() time.Time

	limiters map[string]*adaptiveLimiter

	// Throttling: up to retries more attempts after a 429, waiting backoff, 2×backoff, … each
	// capped at maxBackoff (±20 % jitter), or the server's Retry-After when it sends one.
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration

	throttled atomic.Int64 // 429 answers seen, reported in the next snapshot's warnings
}

func newClient(base *url.URL, project string, creds Credentials, timeout time.Duration) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.ResponseHeaderTimeout = timeout
	c := &client{
		base:       base,
		project:    project,
		creds:      creds,
		http:       &http.Client{Transport: tr, CheckRedirect: noRedirect},
		timeout:    timeout,
		now:        time.Now,
		limiters:   make(map[string]*adaptiveLimiter, len(actionRate)),
		retries:    3,
		backoff:    500 * time.Millisecond,
		maxBackoff: 4 * time.Second,
	}
	for action, r := range actionRate {
		c.limiters[action] = newAdaptiveLimiter(r.perSec, r.burst)
	}
	return c
}

// noRedirect keeps credentials from following a redirect to another host: the API never
// redirects, so a redirect means a wrong endpoint.
func noRedirect(req *http.Request, via []*http.Request) error {
	return fmt.Errorf("the endpoint redirected to %s: check --endpoint", req.URL.Redacted())
}

// call performs one API action. path segments are given unescaped; out, if not nil, receives
// the decoded JSON answer; in, if not nil, is sent as the JSON body.
func (c *client) call(ctx context.Context, action, method string, segments []string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("huawei: %s: encode request: %w", action, err)
		}
	}
	lim := c.limiters[action]
	if lim == nil {
		lim = newAdaptiveLimiter(1, 1)
	}
	start := c.now()
	for attempt := 1; ; attempt++ {
		if err := lim.wait(ctx); err != nil {
			return fmt.Errorf("huawei: %s: %w", action, ctxErr(ctx, err))
		}
		status, header, data, err := c.once(ctx, method, segments, query, body)
		if err != nil {
			return c.transportError(ctx, action, err)
		}
		if status == http.StatusTooManyRequests || (status >= 400 && bytes.Contains(data, []byte("APIGW.0308"))) {
			c.throttled.Add(1)
			lim.slowDown()
			apiErr := parseAPIError(action, status, header, data, !c.creds.useAKSK(), c.creds.secrets())
			var api *APIError
			if !errors.As(apiErr, &api) {
				return apiErr
			}
			wait := c.backoffFor(attempt, header)
			terr := &ThrottledError{API: api, Attempts: attempt, Waited: c.now().Sub(start)}
			if attempt > c.retries {
				return terr
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return terr // the caller's deadline would pass while waiting: say so now
			}
			if err := sleep(ctx, wait); err != nil {
				return terr
			}
			continue
		}
		if status >= 400 {
			return parseAPIError(action, status, header, data, !c.creds.useAKSK(), c.creds.secrets())
		}
		lim.speedUp()
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("huawei: %s: the answer is not the DDS API's JSON (check --endpoint): %w", action, err)
		}
		return nil
	}
}

// once sends one request and reads the whole (bounded) answer within the request timeout.
func (c *client) once(ctx context.Context, method string, segments []string, query url.Values, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := *c.base
	var raw strings.Builder
	raw.WriteString(strings.TrimSuffix(c.base.EscapedPath(), "/"))
	for _, s := range segments {
		raw.WriteByte('/')
		raw.WriteString(escape(s))
	}
	u.RawPath = raw.String()
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return 0, nil, nil, err
	}
	u.Path = p
	u.RawQuery = canonicalQuery(query)

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("User-Agent", "currentop")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	req.Header.Set(headerProject, c.project)
	if c.creds.useAKSK() {
		if c.creds.SecurityToken != "" {
			req.Header.Set(headerSecToken, c.creds.SecurityToken)
		}
		Sign(req, body, c.creds.AK, c.creds.SK, c.now())
	} else {
		req.Header.Set(headerAuthTok, c.creds.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(data) > maxResponse {
		return 0, nil, nil, errTooLarge
	}
	return resp.StatusCode, resp.Header, data, nil
}

// errTooLarge is an answer bigger than maxResponse.
var errTooLarge = fmt.Errorf("answer larger than %d MiB", maxResponse>>20)

// transportError explains a failure to get any answer.
func (c *client) transportError(ctx context.Context, action string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("huawei: %s: %w", action, ctxErr(ctx, ctx.Err()))
	}
	var nerr net.Error
	switch {
	case errors.Is(err, errTooLarge):
		hint := "the answer is larger than any DDS API answer: check --endpoint"
		return &source.Error{Kind: source.ErrTooMuch, Hint: hint, Err: fmt.Errorf("huawei: %s: %s: %w", action, hint, err)}
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()):
		hint := fmt.Sprintf("no answer within %v: check --endpoint/--region and the network (raise --timeout on a slow link)", c.timeout)
		return &source.Error{Kind: source.ErrTimeout, Hint: hint, Err: fmt.Errorf("huawei: %s: no answer from %s within %v: check --endpoint/--region and the network (raise --timeout on a slow link): %w",
			action, c.base.Host, c.timeout, err)}
	}
	return &source.Error{Kind: source.ErrUnreachable, Hint: "check --endpoint/--region, the network and any HTTPS_PROXY",
		Err: fmt.Errorf("huawei: %s: cannot reach %s: check --endpoint/--region, the network and any HTTPS_PROXY: %w", action, c.base.Host, err)}
}

// backoffFor is the wait before retry number attempt: Retry-After when the server sends one
// (capped), else exponential with ±20 % jitter.
func (c *client) backoffFor(attempt int, h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, c.maxBackoff)
	}
	return source.Backoff{Base: c.backoff, Max: c.maxBackoff, Jitter: 0.2}.Delay(attempt - 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ctxErr words a cancelled or expired caller context.
func ctxErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", context.DeadlineExceeded)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// rate.Limiter refuses a wait that would outlast the deadline.
	return fmt.Errorf("waiting for the client-side rate limit would pass the deadline: %w", err)
}

// adaptiveLimiter is a token bucket that halves its rate on each 429 and recovers by 10 % per
// success, never above the configured rate nor below a floor.
type adaptiveLimiter struct {
	lim      *rate.Limiter
	max, min rate.Limit
}

func newAdaptiveLimiter(perSec float64, burst int) *adaptiveLimiter {
	return &adaptiveLimiter{lim: rate.NewLimiter(rate.Limit(perSec), burst), max: rate.Limit(perSec), min: rate.Limit(perSec / 16)}
}

func (a *adaptiveLimiter) wait(ctx context.Context) error { return a.lim.Wait(ctx) }

func (a *adaptiveLimiter) slowDown() {
	a.lim.SetLimit(max(a.lim.Limit()/2, a.min))
}

func (a *adaptiveLimiter) speedUp() {
	if l := a.lim.Limit(); l < a.max {
		a.lim.SetLimit(min(l*1.1, a.max))
	}
}
