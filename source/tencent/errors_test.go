package tencent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

// Every error code an action can answer becomes one actionable line of the right category.
func TestAPIErrorsOnOperations(t *testing.T) {
	for _, tc := range []struct {
		code string
		kind error
		hint string // part of the message the user acts on
	}{
		{"InvalidParameter.PermissionDenied", ErrPermission, "grant mongodb:DescribeCurrentOp in CAM"},
		{"InvalidParameterValue.NotFoundInstance", ErrNotFound, "check --instance and --region"},
		{"InvalidParameterValue.RegionNotSupportOperation", ErrUnsupported, "does not support DescribeCurrentOp"},
		{"InvalidParameterValue.ReplicaNotFound", ErrNotFound, "no replica set or shard of that name"},
		{"InvalidParameterValue.QueryOutOfRange", ErrBadRequest, "narrow the filter"},
		{"AuthFailure.SignatureFailure", ErrAuth, "check TENCENTCLOUD_SECRET_KEY"},
		{"AuthFailure.SecretIdNotFound", ErrAuth, "check TENCENTCLOUD_SECRET_ID"},
		{"AuthFailure.SignatureExpire", ErrAuth, "synchronise this machine's clock"},
		{"AuthFailure.InvalidSecretId", ErrAuth, "API Key Management"},
		{"AuthFailure.TokenFailure", ErrAuth, "TENCENTCLOUD_SESSION_TOKEN"},
		{"AuthFailure.MFAFailure", ErrAuth, "MFA"},
		{"AuthFailure.InvalidAuthorization", ErrAuth, "currentop bug"},
		{"AuthFailure.UnauthorizedOperation", ErrPermission, "CAM does not allow mongodb:DescribeCurrentOp"},
		{"UnauthorizedOperation", ErrPermission, "CAM does not allow mongodb:DescribeCurrentOp"},
		{"AuthFailure.SomethingNew", ErrAuth, "rejected the credentials"},
		{"InternalError", ErrTransient, "internal error"},
		{"InternalError.DBError", ErrTransient, "internal error"},
		{"InternalError.CheckAppIdFailed", ErrAuth, "could not verify the account"},
		{"ServiceUnavailable", ErrTransient, "internal error"},
		{"UnsupportedRegion", ErrNotFound, "check --region"},
		{"UnknownParameter", ErrBadRequest, "currentop bug"},
		{"SomethingElse", ErrTransient, "open a ticket with the request id"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, demoBackend(), tencentapi.Options{})
			e.emu.InjectError(tencentapi.ActionDescribeCurrentOp, tc.code, "server says\x1b[31m no", -1)
			_, err := e.src.Snapshot(context.Background(), source.Query{})
			if err == nil {
				t.Fatal("no error")
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code || !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want code %s kind %v", err, tc.code, tc.kind)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.hint) || !strings.Contains(msg, tc.code) || ae.RequestID == "" || !strings.Contains(msg, ae.RequestID) {
				t.Errorf("message %q lacks the hint %q, the code or the request id", msg, tc.hint)
			}
			// The same, typed for a UI: source's kind and the hint alone.
			var se *source.Error
			if !errors.As(err, &se) || se.Hint != ae.Hint || se.Kind != sourceKinds[tc.kind] || se.Error() != msg {
				t.Errorf("as a source.Error: %+v, want kind %v and hint %q", se, sourceKinds[tc.kind], ae.Hint)
			}
			if strings.ContainsAny(msg, "\n\x1b") {
				t.Errorf("message is not one clean line: %q", msg)
			}
			if tc.kind == ErrRateLimited {
				return
			}
			if n := e.emu.Requests(tencentapi.ActionDescribeCurrentOp); n != 1 {
				t.Errorf("%d requests: only throttling is retried", n)
			}
		})
	}
}

// sourceKinds is what each category is among source's kinds.
var sourceKinds = map[error]source.ErrKind{
	ErrAuth: source.ErrAuth, ErrPermission: source.ErrPermission, ErrNotFound: source.ErrNotFound,
	ErrUnsupported: source.ErrUnsupported, ErrRateLimited: source.ErrRateLimited, ErrNetwork: source.ErrUnreachable,
	ErrTransient: source.ErrOther, ErrBadRequest: source.ErrOther,
}

// The seed document's error codes for DescribeClientConnections: "cannot report clients"
// keeps the operations and stops asking; a missing instance is fatal.
func TestClientConnectionErrors(t *testing.T) {
	for _, tc := range []struct {
		code  string
		kind  error
		fatal bool
		hint  string
	}{
		{"InvalidParameterValue.MongoVersionNotSupportQueryClient", ErrUnsupported, false, "MongoDB version of instance cmgo-demo0001 cannot report client connections"},
		{"InvalidParameterValue.ProxyNotSupportQueryClient", ErrUnsupported, false, "submit a ticket to Tencent Cloud to upgrade the proxy"},
		{"InvalidParameterValue.RegionNotSupportQueryClient", ErrUnsupported, false, "region ap-guangzhou cannot report client connections"},
		{"InvalidParameter.PermissionDenied", ErrPermission, false, "grant mongodb:DescribeClientConnections"},
		{"InvalidParameterValue.NotFoundInstance", ErrNotFound, true, `instance "cmgo-demo0001" was not found in region ap-guangzhou`},
		{"AuthFailure.SignatureFailure", ErrAuth, true, "secret key does not match"},
		{"InternalError", ErrTransient, false, "internal error"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t, demoBackend(), tencentapi.Options{})
			e.emu.InjectError(tencentapi.ActionDescribeClientConnections, tc.code, "no", 1)
			snap, err := e.src.Snapshot(context.Background(), source.Query{})
			if tc.fatal {
				if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.hint) {
					t.Fatalf("err = %v, want %v with %q", err, tc.kind, tc.hint)
				}
				return
			}
			if err != nil {
				t.Fatalf("clients failing must not fail the snapshot: %v", err)
			}
			if len(snap.Sessions) == 0 || len(snap.Clients) != 0 || !snap.Partial {
				t.Fatalf("sessions=%d clients=%d partial=%v", len(snap.Sessions), len(snap.Clients), snap.Partial)
			}
			if w := strings.Join(snap.Warnings, "\n"); !strings.Contains(w, tc.hint) {
				t.Errorf("warnings %q lack %q", w, tc.hint)
			}
			// Unsupported and permission answers are sticky; transient ones are retried.
			snap, err = e.src.Snapshot(context.Background(), source.Query{})
			if err != nil {
				t.Fatal(err)
			}
			sticky := tc.kind == ErrUnsupported || tc.kind == ErrPermission
			if n := e.emu.Requests(tencentapi.ActionDescribeClientConnections); (n == 1) != sticky {
				t.Errorf("%d DescribeClientConnections requests after two snapshots (sticky=%v)", n, sticky)
			}
			if sticky && (len(snap.Clients) != 0 || !strings.Contains(strings.Join(snap.Warnings, "\n"), tc.hint)) {
				t.Errorf("second snapshot: clients=%d warnings=%q", len(snap.Clients), snap.Warnings)
			}
			if !sticky && len(snap.Clients) != 3 {
				t.Errorf("second snapshot has %d clients, want 3", len(snap.Clients))
			}
		})
	}
}

// Real signature checks of the emulator (not injected): what wrong credentials look like.
func TestCredentialsRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts tencentapi.Options
		cred Credentials
		code string
	}{
		{"wrong key", tencentapi.Options{}, Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: "wrong-secret-key-1234"}, "AuthFailure.SignatureFailure"},
		{"unknown id", tencentapi.Options{}, Credentials{SecretID: "AKIDnobodyknows1234", SecretKey: tencentapi.DemoSecretKey}, "AuthFailure.SecretIdNotFound"},
		{"clock skew", tencentapi.Options{Now: func() time.Time { return time.Now().Add(10 * time.Minute) }},
			Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}, "AuthFailure.SignatureExpire"},
		{"token", tencentapi.Options{Token: "the-right-token-5678"},
			Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey, Token: "stale-token-0000"}, "AuthFailure.TokenFailure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, demoBackend(), tc.opts)
			src := newSource(t, e.url, tc.cred)
			_, err := src.Snapshot(context.Background(), source.Query{})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code || !errors.Is(err, ErrAuth) {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			for _, secret := range []string{tc.cred.SecretKey, tc.cred.Token, tencentapi.DemoSecretKey, tc.opts.Token} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a secret: %q", err)
				}
			}
			if _, err := src.List(context.Background()); !errors.Is(err, ErrAuth) {
				t.Errorf("List: %v, want ErrAuth", err)
			}
		})
	}
	// The right token passes.
	e := newEnv(t, demoBackend(), tencentapi.Options{Token: "the-right-token-5678"})
	if _, err := e.src.Snapshot(context.Background(), source.Query{}); err != nil {
		t.Errorf("with the right token: %v", err)
	}
}

func TestWrongRegionOrInstance(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	src, err := New(Config{InstanceID: "cmgo-nothere1", Region: "ap-guangzhou", Endpoint: e.url,
		Credentials: Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Snapshot(context.Background(), source.Query{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "--list") {
		t.Errorf("unknown instance: %v", err)
	}
	src, _ = New(Config{InstanceID: tencentapi.DemoInstance, Region: "ap-shanghai", Endpoint: e.url,
		Credentials: Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}})
	if _, err = src.Snapshot(context.Background(), source.Query{}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "ap-shanghai") {
		t.Errorf("wrong region: %v", err)
	}
}

func TestTransportErrors(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		code    string
	}{
		{"hangs", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
			select {
			case <-hang:
			case <-r.Context().Done():
			case <-time.After(time.Minute): // then answers nothing: not a timeout
			}
		}, "ClientError.Timeout"},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>502 bad gateway</html>"))
		}, "ClientError.ParseJsonError"},
		{"json 500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"Response":{"RequestId":"x"}}`))
		}, "ClientError.HttpStatusCodeError"},
		{"no response", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }, "ClientError.ParseJsonError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			// The request timeout ends only the hanging request; the others answer at once,
			// however slow the machine.
			timeout := 30 * time.Second
			if tc.code == "ClientError.Timeout" {
				timeout = 300 * time.Millisecond
			}
			src, err := New(Config{InstanceID: "cmgo-abc", Region: "ap-guangzhou", Endpoint: srv.URL, Timeout: timeout,
				Credentials: Credentials{SecretID: "AKIDx", SecretKey: "k"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Snapshot(context.Background(), source.Query{})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code || !errors.Is(err, ErrNetwork) {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			want := source.ErrUnreachable
			if tc.code == "ClientError.Timeout" {
				want = source.ErrTimeout
			}
			if k := source.KindOf(err); k != want {
				t.Errorf("kind %v, want %v", k, want)
			}
		})
	}
	// Nothing listening.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	src, _ := New(Config{InstanceID: "cmgo-abc", Region: "ap-guangzhou", Endpoint: url, Credentials: Credentials{SecretID: "AKIDx", SecretKey: "k"}})
	_, err := src.Snapshot(context.Background(), source.Query{})
	if !errors.Is(err, ErrNetwork) || !strings.Contains(err.Error(), "cannot reach") || source.KindOf(err) != source.ErrUnreachable {
		t.Errorf("closed port: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.src.Snapshot(ctx, source.Query{}); !errors.Is(err, ErrNetwork) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := e.src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.src.Snapshot(context.Background(), source.Query{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: %v", err)
	}
}

// Without permission for DescribeDBInstances the source still works, says so, and does not
// ask again on every refresh.
func TestInstanceDetailsOptional(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	e.emu.InjectError(tencentapi.ActionDescribeDBInstances, "UnauthorizedOperation", "no", -1)
	for range 2 {
		snap, err := e.src.Snapshot(context.Background(), source.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Sessions) != 3 || snap.Server.Host != "cmgo-demo0001" ||
			!strings.Contains(strings.Join(snap.Warnings, " "), "mongodb:DescribeDBInstances") {
			t.Errorf("host %q, %d sessions, warnings %q", snap.Server.Host, len(snap.Sessions), snap.Warnings)
		}
	}
	if n := e.emu.Requests(tencentapi.ActionDescribeDBInstances); n != 1 {
		t.Errorf("%d DescribeDBInstances requests, want 1", n)
	}
}

// An endpoint that echoes the request (a proxy's error page, a wrong --endpoint) must not
// get the credentials into an error message.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			body, _ := io.ReadAll(r.Body)
			for k, v := range r.Header {
				io.WriteString(w, k+": "+strings.Join(v, ",")+"\n")
			}
			w.Write(body)
		}))
		cred := Credentials{SecretID: "AKIDsecretIDechoed0123456789abcdef", SecretKey: "secretKeyEchoed0123456789", Token: "sessionTokenEchoed-abcdef"}
		src := newSource(t, srv.URL, cred)
		_, err := src.Snapshot(context.Background(), source.Query{})
		srv.Close()
		if err == nil {
			t.Fatalf("status %d: an echo server answered like the API", status)
		}
		msg := err.Error()
		for _, secret := range []string{cred.SecretID, cred.SecretKey, cred.Token} {
			if strings.Contains(msg, secret) {
				t.Errorf("status %d: the error reveals %q: %s", status, secret, msg)
			}
		}
		if !strings.Contains(msg, "--endpoint") {
			t.Errorf("status %d: the error should point at --endpoint: %s", status, msg)
		}
	}
}

// Credentials from the profile file: an authentication error says so, since its hints name
// the environment variables.
func TestAuthErrorNamesTheCredentialsFile(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{})
	src := newSource(t, e.url, Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: "wrong-key", file: "/home/dba/.tencentcloud/credentials"})
	_, err := src.Snapshot(context.Background(), source.Query{})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "read from /home/dba/.tencentcloud/credentials") {
		t.Fatalf("err = %v", err)
	}
}
