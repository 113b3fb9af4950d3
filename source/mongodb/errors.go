package mongodb

import (
	"context"
	"errors"
	"fmt"
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
	case isUnreachable(err):
		return s.brief(err, "cannot reach %s within %s: %s — check host/port, firewall, TLS options", s.target, s.timeout, lastServerError(err))
	}
	return s.redact(fmt.Errorf("cannot %s %s: %w", action, s.target, err))
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
		if errors.Is(sse.Wrapped, context.DeadlineExceeded) {
			return "no answer" // e.g. a TLS port spoken to in plain text, or a silent proxy
		}
		return sse.Wrapped.Error()
	}
	return "no server answered"
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
