package huawei

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/currentop/currentop/source"
)

// APIError is an error answer of the DDS API: HTTP ≥ 400 with {"error_code","error_msg"}.
// Its message says what the user should do; the code and request ID help Huawei support.
type APIError struct {
	Action     string // ListSessions, DeleteSession, ShowConnectionStatistics, ListInstances
	HTTPStatus int
	Code       string // e.g. "DBS.200001", "APIGW.0301"; "" when the body had none
	Message    string // error_msg, cleaned
	RequestID  string // X-Request-Id
}

func (e *APIError) Error() string {
	return fmt.Sprintf("huawei: %s: %s (%s)", e.Action, e.hint(), e.detail())
}

// hint says what the user should do.
func (e *APIError) hint() string {
	var hint string
	switch {
	case e.Code == "DBS.200001" && (e.Action == actionListSessions || e.Action == actionDeleteSession):
		hint = "the API rejected a parameter: check the --node ID (sessions need a mongos node of a cluster, or the primary/secondary of a replica set) and the instance ID"
	case e.Code == "DBS.200001":
		hint = "the API rejected a parameter: check --instance and --node"
	case e.Code == "DBS.200002":
		hint = "the instance or node does not exist or was deleted: check --instance, --node and --region (currentop --source huawei --list shows them)"
	case e.Code == "DBS.200004":
		hint = "the operation is not allowed: only active sessions can be killed, and the instance must be a running Community Edition instance"
	case e.Code == "DBS.200010":
		hint = "this project does not own the instance: check --project-id (it must be the project of the instance's region)"
	case e.Code == "APIGW.0101":
		hint = "API not found: check --endpoint and --region (DDS API v3 is at https://dds.{region}.myhuaweicloud.com)"
	case e.HTTPStatus == http.StatusForbidden:
		hint = "permission denied: the IAM user needs " + iamAction(e.Action) + " in this project (a custom IAM policy, or the DDS FullAccess system policy)"
	case strings.HasPrefix(e.Code, "DBS."):
		hint = "the DDS service refused the request"
	case e.HTTPStatus >= 500:
		hint = "the Huawei Cloud API failed on its side; currentop retries on the next refresh"
	default:
		hint = "the Huawei Cloud API refused the request"
	}
	return hint
}

// kind is the error's kind among source's.
func (e *APIError) kind() source.ErrKind {
	switch {
	case e.HTTPStatus == http.StatusForbidden:
		return source.ErrPermission
	case e.Code == "DBS.200002" || e.Code == "APIGW.0101":
		return source.ErrNotFound
	case e.Code == "DBS.200004":
		return source.ErrUnsupported
	}
	return source.ErrOther
}

// As lets errors.As find a *source.Error in the API's errors: the kind and the hint a UI shows
// beside the instance. (AuthError and ThrottledError do the same with their own kinds.)
func (e *APIError) As(target any) bool { return asSourceError(target, e.kind(), e.hint(), e) }

func asSourceError(target any, kind source.ErrKind, hint string, err error) bool {
	p, ok := target.(**source.Error)
	if ok {
		*p = &source.Error{Kind: kind, Hint: hint, Err: err}
	}
	return ok
}

// detail is the provider's own words: HTTP status, code, message, request ID.
func (e *APIError) detail() string {
	d := fmt.Sprintf("HTTP %d", e.HTTPStatus)
	if e.Code != "" {
		d += " " + e.Code
	}
	if e.Message != "" {
		d += ": " + e.Message
	}
	if e.RequestID != "" {
		d += "; request id " + e.RequestID
	}
	return d
}

// AuthError is an authentication failure (APIGW.0301, APIGW.0303 or HTTP 401): wrong AK/SK, an
// expired or invalid token, or a clock too far off for the signature. Retrying cannot help.
type AuthError struct {
	API   *APIError
	Token bool // the request carried an IAM token rather than an AK/SK signature
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("huawei: authentication failed: %s (%s)", e.hint(), e.API.detail())
}

func (e *AuthError) hint() string {
	what := fmt.Sprintf("check %s and %s (an access key of an IAM user of this account), and that this machine's clock is correct", EnvAK, EnvSK)
	if e.Token {
		what = fmt.Sprintf("the IAM token (--token or %s) is invalid or expired (tokens last 24 hours): get a new one or use %s/%s", EnvToken, EnvAK, EnvSK)
	}
	return what
}

func (e *AuthError) Unwrap() error { return e.API }

// As: see APIError.As.
func (e *AuthError) As(target any) bool { return asSourceError(target, source.ErrAuth, e.hint(), e) }

// ThrottledError is returned when the API Gateway kept answering HTTP 429 (APIGW.0308) after
// currentop backed off and retried.
type ThrottledError struct {
	API      *APIError
	Attempts int
	Waited   time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("huawei: %s: throttled by the Huawei Cloud API Gateway after %d attempts over %v (backing off): %s (%s)",
		e.API.Action, e.Attempts, e.Waited.Round(time.Millisecond), throttledHint, e.API.detail())
}

const throttledHint = "raise --interval, poll one node with --node, or narrow the view with a filter such as running>1s"

func (e *ThrottledError) Unwrap() error { return e.API }

// As: see APIError.As.
func (e *ThrottledError) As(target any) bool {
	return asSourceError(target, source.ErrRateLimited, "the API Gateway kept throttling: "+throttledHint, e)
}

// iamAction names the IAM permission an action needs.
func iamAction(action string) string {
	switch action {
	case actionListSessions:
		return "dds:instance:listSession"
	case actionDeleteSession:
		return "dds:instance:deleteSession"
	case actionConnStats:
		return "dds:instance:getConnectionStatistics"
	case actionListInstances:
		return "dds:instance:list"
	}
	return "the DDS permission for " + action
}

// parseAPIError turns an error response into the most specific error type.
// Secrets are removed before anything is cut: a secret cut in two would no longer match.
func parseAPIError(action string, status int, header http.Header, body []byte, token bool, secrets []string) error {
	e := &APIError{Action: action, HTTPStatus: status}
	e.RequestID = source.Clean(truncate(redact(header.Get("X-Request-Id"), secrets), 128))
	code, msg := errorFields(body)
	if code == "" && msg == "" && len(body) > 0 && !json.Valid(body) {
		// A proxy or load balancer answered with HTML or text: show its start.
		msg = truncate(redact(strings.TrimSpace(string(body)), secrets), 200)
	}
	e.Code = source.Clean(truncate(redact(code, secrets), 64))
	e.Message = source.Clean(truncate(redact(msg, secrets), 500))
	if e.RequestID == "" {
		e.RequestID = source.Clean(truncate(redact(requestIDFromBody(body), secrets), 128))
	}
	switch {
	case e.Code == "APIGW.0301" || e.Code == "APIGW.0303" || status == http.StatusUnauthorized:
		return &AuthError{API: e, Token: token}
	}
	return e
}

// errorFields reads error_code/error_msg, else code/message, else one nested object of either
// shape (what the official SDK accepts too).
func errorFields(body []byte) (code, msg string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	if c, m := pair(top, "error_code", "error_msg"); c != "" || m != "" {
		return c, m
	}
	if c, m := pair(top, "code", "message"); c != "" || m != "" {
		return c, m
	}
	for _, raw := range top {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) != nil {
			continue
		}
		if c, m := pair(inner, "error_code", "error_msg"); c != "" || m != "" {
			return c, m
		}
		if c, m := pair(inner, "code", "message"); c != "" || m != "" {
			return c, m
		}
	}
	return "", ""
}

func pair(m map[string]json.RawMessage, codeKey, msgKey string) (string, string) {
	var c, msg flexString
	if raw, ok := m[codeKey]; ok {
		_ = json.Unmarshal(raw, &c)
	}
	if raw, ok := m[msgKey]; ok {
		_ = json.Unmarshal(raw, &msg)
	}
	return string(c), string(msg)
}

func requestIDFromBody(body []byte) string {
	var v struct {
		RequestID flexString `json:"request_id"`
	}
	_ = json.Unmarshal(body, &v)
	return string(v.RequestID)
}

// redact removes secrets from text a server sent, in case it echoes a header back.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
