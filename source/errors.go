package source

import "errors"

// ErrKind says what kind of failure an Error is, so that a caller can decide what to do (wait
// and retry, stop, ask for other credentials) and a UI can say it in a word, without reading
// the error's text.
type ErrKind int

const (
	ErrOther       ErrKind = iota // none of the kinds below
	ErrUnreachable                // the server or API cannot be reached: network, DNS, TLS, no server to select
	ErrTimeout                    // it was reached but did not answer in time
	ErrAuth                       // the credentials were rejected; retrying does not help
	ErrPermission                 // the credentials are valid but lack a privilege or policy
	ErrRateLimited                // the provider kept throttling after backing off
	ErrTooMuch                    // more data than one refresh may read
	ErrUnsupported                // the server, instance, version or region cannot do this
	ErrNotFound                   // the instance, node or region does not exist
)

var kindNames = [...]string{
	ErrOther:       "error",
	ErrUnreachable: "unreachable",
	ErrTimeout:     "timed out",
	ErrAuth:        "authentication failed",
	ErrPermission:  "permission denied",
	ErrRateLimited: "rate limited",
	ErrTooMuch:     "too much data",
	ErrUnsupported: "not supported",
	ErrNotFound:    "not found",
}

// String is the kind in a few words, e.g. "permission denied".
func (k ErrKind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return kindNames[ErrOther]
	}
	return kindNames[k]
}

// Error is a failure a source has explained. Sources return it, or an error type of their own
// that errors.As turns into it (an As method), so that a caller needs no string surgery:
//
//	var se *source.Error
//	if errors.As(err, &se) { show(se.Kind.String() + ": " + se.Hint) }
type Error struct {
	Kind ErrKind
	// Hint is what the user needs in order to act: the cause in a few words and what to do,
	// without naming the target (a UI shows that elsewhere), e.g. "check the user name,
	// password and authSource".
	Hint string
	// Err is the whole account (what failed, on which target, the server's own words, and the
	// hint); Error returns its text. It is never nil in errors a source returns.
	Err error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Kind.String() + ": " + e.Hint
	}
	return e.Err.Error()
}

// Unwrap returns Err, so that errors.Is and errors.As reach the provider's own errors.
func (e *Error) Unwrap() error { return e.Err }

// KindOf is the kind of the first *Error in err's chain, or ErrOther.
func KindOf(err error) ErrKind {
	var se *Error
	if errors.As(err, &se) {
		return se.Kind
	}
	return ErrOther
}
