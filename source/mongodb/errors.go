package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/currentop/currentop/source"
)

// Server error codes the source explains.
const (
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
)

// explain turns a driver error into one that says what to do: a *source.Error with its kind
// and hint when the cause is known. action completes "cannot <action> <target>", e.g. "run
// $currentOp on".
//
// It relies on the driver's public, typed errors (mongo.CommandError codes, mongo.IsTimeout,
// mongo.IsNetworkError) and reads message text only where the driver offers no type: a server
// below the driver's wire version, and a handshake failure that reaches an operation through a
// cleared pool (the driver's pool-cleared error keeps its cause only as text).
func (s *Source) explain(err error, action string) error {
	if err == nil {
		return nil
	}
	who := s.who()
	var ce mongo.CommandError
	isCmd := errors.As(err, &ce)
	switch {
	case isTooOld(err):
		return s.fail(source.ErrUnsupported, err,
			"the server runs MongoDB < 4.4, which this driver cannot monitor: use --source tencent or --source huawei for older managed instances",
			"server at %s reports MongoDB < 4.4; this driver needs 4.4+; use --source tencent or --source huawei for older managed instances: %v", s.target, err)
	case errors.Is(err, context.Canceled):
		return s.redact(fmt.Errorf("%s %s: cancelled: %w", action, s.target, err))
	case isCmd && ce.Code == codeAuthenticationFailed || !isCmd && isHandshakeAuthText(err):
		return s.fail(source.ErrAuth, err,
			fmt.Sprintf("%s was rejected: check the user name, password and authSource (the database the user was created in)", who),
			"authentication to %s failed for %s: check the user name, password and authSource (the database the user was created in)", s.target, who)
	case isCmd && ce.Code == codeUnauthorized && !s.creds:
		return s.fail(source.ErrAuth, err,
			"the server requires authentication: put a user with role clusterMonitor in the URI (mongodb://user:password@host/?authSource=admin)",
			"%s requires authentication: put a user with role clusterMonitor in the URI (mongodb://user:password@host/?authSource=admin)", s.target)
	case isCmd && ce.Code == codeUnauthorized:
		return s.fail(source.ErrPermission, err,
			fmt.Sprintf("viewing operations needs the inprog and serverStatus privileges: grant role clusterMonitor to %s", who),
			"%s is not authorised to %s %s: viewing operations needs the inprog and serverStatus privileges — grant role clusterMonitor to %s", who, action, s.target, who)
	case isUnreachable(err):
		why := s.lastFailure(err)
		return s.fail(source.ErrUnreachable, err,
			fmt.Sprintf("no answer within %s (%s): check host/port, firewall, TLS options", s.timeout, why),
			"cannot reach %s within %s: %s — check host/port, firewall, TLS options", s.target, s.timeout, why)
	}
	return &source.Error{Kind: source.ErrOther, Hint: scrub(fmt.Sprintf("cannot %s the server: %v", action, err), s.secrets),
		Err: s.redact(fmt.Errorf("cannot %s %s: %w", action, s.target, err))}
}

// who names the connecting user in messages.
func (s *Source) who() string {
	if s.user != "" {
		return fmt.Sprintf("user %q", s.user)
	}
	return "the connecting user"
}

// isTooOld recognises the driver's refusal of a server below its minimum wire version, which
// it reports as text only.
func isTooOld(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "reports wire version") && strings.Contains(msg, "requires at least")
}

// isHandshakeAuthText recognises an authentication failure that reached this operation as the
// text of another one's: the driver's pool-cleared error does not wrap its cause.
func isHandshakeAuthText(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "auth error") || strings.Contains(msg, "(AuthenticationFailed)")
}

func isUnreachable(err error) bool {
	return mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mongo.ErrClientDisconnected)
}

// lastFailure is the most useful detail about why the server did not answer: the last failed
// dial or heartbeat (e.g. "dial tcp 127.0.0.1:1: connect: connection refused"), if it has not
// answered since.
func (s *Source) lastFailure(err error) string {
	if s.dial != nil {
		if f := s.dial.lastFailure(); f != nil {
			return f.Error()
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) {
		return "timed out"
	}
	return "no answer"
}

// fail is an explained error of a known kind: the message says it all (the driver's text adds
// nothing the user can act on, or is quoted in it), hint is the part a UI shows beside the
// target, and err stays reachable with errors.Is/As. Secrets are scrubbed from both.
func (s *Source) fail(kind source.ErrKind, err error, hint, format string, args ...any) error {
	return &source.Error{Kind: kind, Hint: scrub(hint, s.secrets), Err: s.brief(err, format, args...)}
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
