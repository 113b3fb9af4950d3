package mongodb

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	case isCmd && ce.Code == codeAuthenticationFailed || isHandshakeAuthText(err):
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
	case isUnanswered(err):
		return s.fail(source.ErrTimeout, err,
			fmt.Sprintf("the server was reached but did not answer within %s: it may be overloaded; raise --timeout or check its load", s.timeout),
			"cannot %s %s: the server was reached but did not answer within %s — it may be overloaded; raise --timeout or check its load", action, s.target, s.timeout)
	case isUnreachable(err):
		why := s.lastFailure(err)
		return s.fail(source.ErrUnreachable, err,
			fmt.Sprintf("no answer within %s (%s): check host/port, firewall, TLS options", s.timeout, why),
			"cannot reach %s within %s: %s — check host/port, firewall, TLS options", s.target, s.timeout, why)
	}
	return &source.Error{Kind: source.ErrOther, Hint: Scrub(fmt.Sprintf("cannot %s the server: %v", action, err), s.secrets),
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

// isUnanswered reports a command sent on an open connection whose reply did not come in
// time: the server is there, but slow.
func isUnanswered(err error) bool {
	msg := err.Error()
	// The driver has no exported type for either case: a reply that did not come, or every
	// pooled connection still waiting for one.
	return (mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded)) && !strings.Contains(msg, "server selection") &&
		(strings.Contains(msg, "waiting for server response") || strings.Contains(msg, "checking out a connection"))
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
		// A failure that is only a timeout says no more than "no answer", in the driver's
		// words (connection IDs, header reads): keep the precise ones, such as a refused dial.
		if f := s.dial.lastFailure(); f != nil && !isTimeout(f) {
			return f.Error()
		}
	}
	return "no answer" // e.g. a silent server, a TLS port spoken to in plain text, a proxy
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) || (errors.As(err, &ne) && ne.Timeout())
}

// fail is an explained error of a known kind: the message says it all (the driver's text adds
// nothing the user can act on, or is quoted in it), hint is the part a UI shows beside the
// target, and err stays reachable with errors.Is/As. Secrets are scrubbed from both.
func (s *Source) fail(kind source.ErrKind, err error, hint, format string, args ...any) error {
	return &source.Error{Kind: kind, Hint: Scrub(hint, s.secrets), Err: s.brief(err, format, args...)}
}

// brief is an error whose message is only the advice: the driver's text (topology dumps,
// the whole rejected command) adds nothing the user can act on. The driver's error stays
// reachable with errors.Is/As.
func (s *Source) brief(err error, format string, args ...any) error {
	return &redactedError{msg: Scrub(fmt.Sprintf(format, args...), s.secrets), err: err}
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
	return &redactedError{msg: Scrub(err.Error(), s.secrets), err: err}
}

// invalidURI is the error for a URI the driver rejects; the driver's reason may quote
// pieces of the password, which are removed too.
func (s *Source) invalidURI(err error) error {
	return &redactedError{msg: scrubQuoted(fmt.Sprintf("invalid MongoDB URI %s: %v", s.target, err), s.secrets), err: err}
}
