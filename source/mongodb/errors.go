package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/auth"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Server error codes the source explains.
const (
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
)

// explain turns a driver error into one that says what to do. action completes "cannot
// <action> <target>", e.g. "run $currentOp on".
func (s *Source) explain(err error, action string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	who := "the connecting user"
	if s.user != "" {
		who = fmt.Sprintf("user %q", s.user)
	}
	var ce mongo.CommandError
	isCmd := errors.As(err, &ce)
	var ae *auth.Error
	switch {
	case strings.Contains(msg, "reports wire version") && strings.Contains(msg, "requires at least"):
		return s.redact(fmt.Errorf("server at %s reports MongoDB < 4.4; this driver needs 4.4+; use --source tencent or --source huawei for older managed instances: %w", s.target, err))
	case errors.Is(err, context.Canceled):
		return s.redact(fmt.Errorf("%s %s: cancelled: %w", action, s.target, err))
	case errors.As(err, &ae) || (isCmd && ce.Code == codeAuthenticationFailed) ||
		// A failed handshake clears the pool; other operations then carry the cause as text.
		strings.Contains(msg, "auth error") || strings.Contains(msg, "(AuthenticationFailed)"):
		return s.brief(err, "authentication to %s failed for %s: check the user name, password and authSource (the database the user was created in)", s.target, who)
	case isCmd && ce.Code == codeUnauthorized && strings.Contains(strings.ToLower(ce.Message), "requires authentication"):
		return s.brief(err, "%s requires authentication: put a user with role clusterMonitor in the URI (mongodb://user:password@host/?authSource=admin)", s.target)
	case isCmd && ce.Code == codeUnauthorized:
		return s.brief(err, "%s is not authorised to %s %s: viewing operations needs the inprog and serverStatus privileges — grant role clusterMonitor to %s", who, action, s.target, who)
	case isUnanswered(err):
		return s.brief(err, "cannot %s %s: the server was reached but did not answer within %s — it may be overloaded; raise --timeout or check its load", action, s.target, s.timeout)
	case isUnreachable(err):
		return s.brief(err, "cannot reach %s within %s: %s — check host/port, firewall, TLS options", s.target, s.timeout, lastServerError(err))
	}
	return s.redact(fmt.Errorf("cannot %s %s: %w", action, s.target, err))
}

// isUnanswered reports a command sent on an open connection whose reply did not come in
// time: the server is there, but slow.
func isUnanswered(err error) bool {
	var sse topology.ServerSelectionError
	var psse *topology.ServerSelectionError
	return (mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded)) &&
		!errors.As(err, &sse) && !errors.As(err, &psse) &&
		strings.Contains(err.Error(), "waiting for server response")
}

func isUnreachable(err error) bool {
	var sse topology.ServerSelectionError
	var psse *topology.ServerSelectionError
	return errors.As(err, &sse) || errors.As(err, &psse) || mongo.IsNetworkError(err) ||
		mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded)
}

// lastServerError is the driver's most useful detail about why no server could be selected
// (e.g. "dial tcp 127.0.0.1:1: connect: connection refused").
func lastServerError(err error) string {
	var sse topology.ServerSelectionError
	if !errors.As(err, &sse) {
		var p *topology.ServerSelectionError
		if !errors.As(err, &p) || p == nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return "timed out"
			}
			return "no answer"
		}
		sse = *p
	}
	for _, srv := range sse.Desc.Servers {
		if srv.LastError != nil {
			return srv.LastError.Error()
		}
	}
	if sse.Wrapped != nil {
		return sse.Wrapped.Error()
	}
	return "no server answered"
}

// brief is an error whose message is only the advice: the driver's text (topology dumps,
// the whole rejected command) adds nothing the user can act on. The driver's error stays
// reachable with errors.Is/As.
func (s *Source) brief(err error, format string, args ...any) error {
	return &redactedError{msg: scrub(fmt.Sprintf(format, args...), s.secrets), err: err}
}

// redactedError hides secrets from a message while keeping the chain for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes the URI's secrets from err's message.
func (s *Source) redact(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: scrub(err.Error(), s.secrets), err: err}
}

func scrub(msg string, secrets []string) string {
	for _, sec := range secrets {
		msg = strings.ReplaceAll(msg, sec, "***")
	}
	return msg
}

// secretParams are URI options whose values are secrets.
var secretParams = []string{"tlscertificatekeyfilepassword", "sslclientcertificatekeypassword", "authmechanismproperties"}

// MaskURI returns uri with the password and secret options replaced by "***":
// "mongodb://app:s3cret@db1/" → "mongodb://app:***@db1/". It never fails: input it cannot
// parse is masked from the first ':' after the scheme up to the last '@'.
func MaskURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return maskQuery(uri)
	}
	user, _, hasPass, at := splitUserinfo(rest)
	if at >= 0 {
		ui := user
		if hasPass {
			ui += ":***"
		}
		rest = ui + "@" + rest[at+1:]
	}
	return scheme + "://" + maskQuery(rest)
}

// splitUserinfo finds "user[:password]@" at the start of the part after the scheme. at is the
// index of the '@' ending it, or -1. The '@' is the last one before the path or query, or, when
// the password itself contains '/', the last one before the query.
func splitUserinfo(rest string) (user, pass string, hasPass bool, at int) {
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	at = strings.LastIndex(rest[:end], "@")
	if at < 0 {
		q := strings.Index(rest, "?")
		if q < 0 {
			q = len(rest)
		}
		at = strings.LastIndex(rest[:q], "@")
	}
	if at < 0 {
		return "", "", false, -1
	}
	user, pass, hasPass = strings.Cut(rest[:at], ":")
	return user, pass, hasPass, at
}

func maskQuery(s string) string {
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, hasV := strings.Cut(p, "=")
		if hasV && isSecretParam(k) {
			parts[i] = k + "=***"
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	for _, p := range secretParams {
		if k == p {
			return true
		}
	}
	return false
}

// uriSecrets returns the URI's user name and every secret in it (raw and percent-decoded),
// for scrubbing error messages. Secrets shorter than 3 bytes are not scrubbed: replacing them
// would garble every message while hiding next to nothing.
func uriSecrets(uri string) (user string, secrets []string) {
	add := func(v string) {
		for _, s := range []string{v, unescape(v)} {
			if len(s) >= 3 {
				secrets = append(secrets, s)
			}
		}
	}
	if _, rest, ok := strings.Cut(uri, "://"); ok {
		u, pass, hasPass, at := splitUserinfo(rest)
		if at >= 0 {
			user = unescape(u)
			if hasPass {
				add(pass)
			}
		}
	}
	if _, query, ok := strings.Cut(uri, "?"); ok {
		for _, p := range strings.Split(query, "&") {
			if k, v, ok := strings.Cut(p, "="); ok && isSecretParam(k) {
				add(v)
			}
		}
	}
	return user, secrets
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
