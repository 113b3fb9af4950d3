package tencent

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/currentop/currentop/source"
)

// Error categories, for errors.Is on any error this package returns.
var (
	// ErrAuth: the credentials were rejected (wrong key, unknown or disabled secret ID,
	// expired token, clock skew). Retrying does not help.
	ErrAuth = errors.New("tencent cloud rejected the credentials")
	// ErrPermission: the credentials are valid but CAM does not allow the action.
	ErrPermission = errors.New("permission denied")
	// ErrNotFound: the instance (or replica set, node) does not exist in that region.
	ErrNotFound = errors.New("not found")
	// ErrUnsupported: the instance, its proxy, version or region cannot do this.
	ErrUnsupported = errors.New("not supported")
	// ErrRateLimited: the API kept answering RequestLimitExceeded after the retries.
	ErrRateLimited = errors.New("rate limited")
	// ErrTransient: a server-side failure worth retrying later (InternalError, …).
	ErrTransient = errors.New("temporary failure")
	// ErrBadRequest: the API refused the request's parameters.
	ErrBadRequest = errors.New("bad request")
	// ErrNetwork: the endpoint could not be reached or did not answer like the API.
	ErrNetwork = errors.New("network error")
)

// APIError is an error from the Tencent Cloud API (or the transport to it), turned into one
// actionable message. Use errors.As to get it and errors.Is with the Err* categories.
type APIError struct {
	Action    string // e.g. "DescribeCurrentOp"
	Code      string // e.g. "InvalidParameterValue.NotFoundInstance", or "ClientError.NetworkError"
	Message   string // the API's own message, cleaned
	RequestID string
	// Hint is what the user should do.
	Hint string
	// Retries is how many times a rate-limited request was retried.
	Retries int

	kind  error
	cause error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("tencent: ")
	b.WriteString(e.Action)
	b.WriteString(": ")
	b.WriteString(e.Hint)
	b.WriteString(" (")
	b.WriteString(e.Code)
	if e.Message != "" && e.Message != e.Code {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString("; request id ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the underlying SDK or transport error.
func (e *APIError) Unwrap() error { return e.cause }

// Is reports whether target is this error's category.
func (e *APIError) Is(target error) bool { return target != nil && target == e.kind }

// Kind is the category (ErrAuth, ErrPermission, …).
func (e *APIError) Kind() error { return e.kind }

// As lets errors.As find a *source.Error in any error of this package: the kind and the hint
// a UI shows beside the instance.
func (e *APIError) As(target any) bool {
	p, ok := target.(**source.Error)
	if ok {
		*p = &source.Error{Kind: e.sourceKind(), Hint: e.Hint, Err: e}
	}
	return ok
}

// sourceKind maps the category onto source's kinds.
func (e *APIError) sourceKind() source.ErrKind {
	switch e.kind {
	case ErrAuth:
		return source.ErrAuth
	case ErrPermission:
		return source.ErrPermission
	case ErrNotFound:
		return source.ErrNotFound
	case ErrUnsupported:
		return source.ErrUnsupported
	case ErrRateLimited:
		return source.ErrRateLimited
	case ErrNetwork:
		if e.Code == "ClientError.Timeout" {
			return source.ErrTimeout
		}
		if e.Code != "ClientError.Canceled" {
			return source.ErrUnreachable
		}
	}
	return source.ErrOther
}

// maxMessage bounds the API's message in our errors: a proxy's HTML page is not useful.
const maxMessage = 300

// classify turns an SDK error into an *APIError with a hint. instance and region give the
// hint its context.
func classify(err error, action, instance, region string) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	// The texts stay raw here: redact removes the secrets first, then cleans and cuts them
	// (a secret cut in two would no longer match).
	e := &APIError{Action: action, cause: err}
	var sdk *tcerr.TencentCloudSDKError
	if errors.As(err, &sdk) {
		e.Code = sdk.Code
		e.Message = sdk.Message
		e.RequestID = sdk.RequestId
	} else {
		e.Code = "ClientError"
		e.Message = err.Error()
	}
	e.kind, e.Hint = explain(e.Code, action, instance, region)
	if e.Code == "ClientError.NetworkError" || e.Code == "ClientError" {
		// The SDK's message is a generic "Fail to get response"; the cause says why.
		if sdk != nil {
			if c := sdk.Unwrap(); c != nil {
				e.Message = c.Error()
			}
		}
	}
	return e
}

// authHeader matches what a proxy or a misconfigured endpoint may echo of a signed request.
var authHeader = regexp.MustCompile(`(?i)(Credential=|Signature=|X-TC-Token[":\s]+)[^\s,"]+`)

// redact removes the credentials from what an endpoint sent back: a proxy or a wrong
// --endpoint may echo the request, Authorization header and X-TC-Token included. Then it
// cleans the texts and bounds the message.
func (s *Source) redact(e *APIError) *APIError {
	clean := func(v string) string {
		for _, sec := range s.secrets {
			if sec != "" {
				v = strings.ReplaceAll(v, sec, "***")
			}
		}
		return source.Clean(authHeader.ReplaceAllString(v, "${1}***"))
	}
	e.Code, e.Message, e.RequestID = clean(e.Code), cutMessage(clean(e.Message)), clean(e.RequestID)
	if s.credFile != "" && errors.Is(e, ErrAuth) && !strings.Contains(e.Hint, s.credFile) {
		// The hints name the environment variables; these credentials came from a file.
		e.Hint += " (the credentials were read from " + source.Clean(s.credFile) + ")"
	}
	return e
}

func cutMessage(s string) string {
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}

// explain maps an error code to its category and the one message the user sees.
func explain(code, action, instance, region string) (kind error, hint string) {
	perm := "mongodb:" + action
	switch code {
	// DescribeClientConnections' own codes (shared/seeds/tencent-DescribeClientConnections.txt).
	case "InvalidParameter.PermissionDenied":
		return ErrPermission, fmt.Sprintf("this sub-account may not call %s: ask the account owner to grant %s in CAM (e.g. the QcloudMongoDBReadOnlyAccess policy, or QcloudMongoDBFullAccess to kill)", action, perm)
	case "InvalidParameterValue.MongoVersionNotSupportQueryClient":
		return ErrUnsupported, fmt.Sprintf("the MongoDB version of instance %s cannot report client connections; the clients pane stays empty (operations still work)", instance)
	case "InvalidParameterValue.NotFoundInstance":
		return ErrNotFound, fmt.Sprintf("instance %q was not found in region %s: check --instance and --region (currentop --source tencent --list shows the instances of a region)", instance, region)
	case "InvalidParameterValue.ProxyNotSupportQueryClient":
		return ErrUnsupported, fmt.Sprintf("the proxy version of instance %s cannot report client connections: submit a ticket to Tencent Cloud to upgrade the proxy; the clients pane stays empty until then", instance)
	case "InvalidParameterValue.RegionNotSupportQueryClient":
		return ErrUnsupported, fmt.Sprintf("region %s cannot report client connections; the clients pane stays empty (operations still work)", region)
	// DescribeCurrentOp and KillOps.
	case "InvalidParameterValue.RegionNotSupportOperation":
		return ErrUnsupported, fmt.Sprintf("region %s does not support %s", region, action)
	case "InvalidParameterValue.ReplicaNotFound":
		return ErrNotFound, fmt.Sprintf("instance %s has no replica set or shard of that name: check the shard filter", instance)
	case "InvalidParameterValue.NodeNotFoundInReplica":
		return ErrNotFound, "the node of that operation is no longer in its replica set (topology changed): refresh and try again"
	case "InvalidParameterValue.QueryOutOfRange":
		return ErrBadRequest, "the page offset is beyond the API's limit of 10000 operations: narrow the filter"
	case "InvalidParameterValue.IllegalInstanceStatus", "InvalidParameterValue.StatusAbnormal":
		return ErrUnsupported, fmt.Sprintf("instance %s is not in a state that allows %s (isolated, being created or changed?): check it in the console", instance, action)
	case "InternalError.CheckAppIdFailed", "InvalidParameterValue.CheckAppIdFailed":
		return ErrAuth, "Tencent Cloud could not verify the account of these credentials: check that the API key belongs to the account that owns the instance"
	case "FailedOperation":
		return ErrTransient, "Tencent Cloud could not carry out the operation: refresh and try again; if it persists, open a ticket with the request id"
	case "UnsupportedOperation.VersionNotSupport":
		return ErrUnsupported, fmt.Sprintf("the MongoDB version of instance %s does not support %s", instance, action)

	// Common codes.
	case "AuthFailure.SignatureFailure":
		return ErrAuth, fmt.Sprintf("the secret key does not match the secret ID: check %s (copy it again from CAM API Key Management)", EnvSecretKey)
	case "AuthFailure.SecretIdNotFound":
		return ErrAuth, fmt.Sprintf("the secret ID does not exist or is disabled: check %s for typos or spaces, and that the key is enabled in CAM API Key Management", EnvSecretID)
	case "AuthFailure.SignatureExpire":
		return ErrAuth, "the request timestamp is more than 5 minutes away from Tencent Cloud's clock: synchronise this machine's clock (NTP)"
	case "AuthFailure.InvalidSecretId":
		return ErrAuth, fmt.Sprintf("%s is not an API key's SecretId: use a key pair from CAM API Key Management", EnvSecretID)
	case "AuthFailure.TokenFailure":
		return ErrAuth, fmt.Sprintf("the session token is invalid or expired: get new temporary credentials and set %s", EnvSessionToken)
	case "AuthFailure.MFAFailure":
		return ErrAuth, "this account requires MFA for API calls: use credentials that are not MFA-protected, or a role's temporary credentials"
	case "AuthFailure.InvalidAuthorization":
		return ErrAuth, "the API rejected the Authorization header as malformed: this is a currentop bug, please report it"
	case "AuthFailure.UnauthorizedOperation", "UnauthorizedOperation":
		return ErrPermission, fmt.Sprintf("CAM does not allow %s for these credentials: grant it (e.g. the QcloudMongoDBReadOnlyAccess policy, or QcloudMongoDBFullAccess to kill)", perm)
	case "InvalidAction", "NoSuchVersion", "ActionOffline":
		return ErrUnsupported, fmt.Sprintf("the endpoint does not offer %s of API %s: check --endpoint", action, apiVersion)
	case "UnsupportedRegion", "InvalidParameterValue.RegionError":
		return ErrNotFound, fmt.Sprintf("region %q does not offer TencentDB for MongoDB: check --region or %s (e.g. ap-guangzhou)", region, EnvRegion)
	case "ClientError.NetworkError":
		return ErrNetwork, "cannot reach the Tencent Cloud API: check the network, HTTPS_PROXY and --endpoint"
	case "ClientError.ParseJsonError", "ClientError.HttpStatusCodeError", "ClientError.IOError":
		return ErrNetwork, "the endpoint did not answer like the Tencent Cloud API (a proxy or load balancer in the way?): check --endpoint and the proxy settings"
	}
	switch {
	case strings.HasPrefix(code, "RequestLimitExceeded"):
		return ErrRateLimited, fmt.Sprintf("Tencent Cloud throttled %s and kept doing so after backing off: lower the refresh rate (--interval) or close other tools using this account", action)
	case strings.HasPrefix(code, "InternalError"), code == "ServiceUnavailable", strings.HasPrefix(code, "ResourceUnavailable"):
		return ErrTransient, "Tencent Cloud had an internal error: it retries on the next refresh; if it persists, open a ticket with the request id"
	case strings.HasPrefix(code, "AuthFailure"):
		return ErrAuth, "Tencent Cloud rejected the credentials: check " + EnvSecretID + " and " + EnvSecretKey
	case strings.HasPrefix(code, "UnauthorizedOperation"), strings.HasSuffix(code, "PermissionDenied"):
		return ErrPermission, fmt.Sprintf("CAM does not allow %s for these credentials: grant it", perm)
	case strings.HasPrefix(code, "ResourceNotFound"):
		return ErrNotFound, fmt.Sprintf("instance %q was not found in region %s: check --instance and --region", instance, region)
	case strings.HasPrefix(code, "UnsupportedOperation"):
		return ErrUnsupported, fmt.Sprintf("instance %s does not support %s", instance, action)
	case strings.HasPrefix(code, "InvalidParameter"), strings.HasPrefix(code, "MissingParameter"), strings.HasPrefix(code, "UnknownParameter"):
		return ErrBadRequest, "the API refused the request's parameters: this is likely a currentop bug, please report it with the message"
	case strings.HasPrefix(code, "ClientError"):
		return ErrNetwork, "the request to the Tencent Cloud API failed: check the network and --endpoint"
	}
	return ErrTransient, "the Tencent Cloud API returned an error: retry; if it persists, open a ticket with the request id"
}

// isRateLimited reports whether err is a throttling answer worth backing off for.
func isRateLimited(err error) bool {
	var sdk *tcerr.TencentCloudSDKError
	return errors.As(err, &sdk) && strings.HasPrefix(sdk.Code, "RequestLimitExceeded")
}

// ctxError turns a context error into an actionable one.
func ctxError(ctx context.Context, action string, timeout bool) error {
	if timeout || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &APIError{Action: action, Code: "ClientError.Timeout", kind: ErrNetwork, cause: context.DeadlineExceeded,
			Hint: "no answer from the Tencent Cloud API in time: check the network and --endpoint, or raise --timeout"}
	}
	return &APIError{Action: action, Code: "ClientError.Canceled", kind: ErrNetwork, cause: ctx.Err(),
		Hint: "the request was cancelled"}
}
