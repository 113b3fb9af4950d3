package huawei

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The reference (shared/reference/cloud-apis.md §2.2) documents the SDK-HMAC-SHA256 algorithm
// but publishes no complete example with its secret key. The vectors below were therefore
// derived from the documented canonical-request algorithm with an independent implementation
// (Python hashlib/hmac/urllib.parse.quote, safe="-_.~"), not with this package; the HMAC step
// alone is checked against the published RFC 4231 test case 2.

const (
	vecSK      = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
	vecAK      = "QTWAOYTTINDUT2QVKYUC"
	vecProject = "0123456789abcdef0123456789abcdef"
	vecNode    = "520c58ba00a3497e97ce0b9604874dd6no02"
	vecDate    = "20261122T045254Z"
)

func vecTime(t *testing.T) time.Time {
	t.Helper()
	tm, err := time.Parse(sdkDateFormat, vecDate)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestSignatureRFC4231(t *testing.T) {
	// RFC 4231 §4.3 (test case 2): HMAC-SHA-256 with key "Jefe".
	got := signature("Jefe", "what do ya want for nothing?")
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
}

func TestSignVectors(t *testing.T) {
	tests := []struct {
		name          string
		method, url   string
		header        map[string]string
		body          string
		wantCanonical string
		wantToSign    string
		wantAuth      string
	}{
		{
			name:   "GET ListSessions with a space and a slash in a query value",
			method: "GET",
			url: "https://dds.cn-north-4.myhuaweicloud.com/v3/" + vecProject + "/nodes/" + vecNode +
				"/sessions?offset=0&limit=20&namespace=my%20db.coll%2Fx&cost_time=1000000",
			header: map[string]string{"X-Project-Id": vecProject},
			wantCanonical: "GET\n/v3/0123456789abcdef0123456789abcdef/nodes/520c58ba00a3497e97ce0b9604874dd6no02/sessions/\n" +
				"cost_time=1000000&limit=20&namespace=my%20db.coll%2Fx&offset=0\n" +
				"host:dds.cn-north-4.myhuaweicloud.com\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20261122T045254Z\n\n" +
				"host;x-project-id;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			wantToSign: "SDK-HMAC-SHA256\n20261122T045254Z\nb93ca16d7a57fcc411dbb8562c11d36916aa990f0efb68ab483b4ced11b44665",
			wantAuth:   "SDK-HMAC-SHA256 Access=" + vecAK + ", SignedHeaders=host;x-project-id;x-sdk-date, Signature=76e35eb52260718c01342f34cb0daacef402672bc397b55d124b528459e276a9",
		},
		{
			name:   "POST DeleteSession with a body, a port and a security token",
			method: "POST",
			url:    "http://127.0.0.1:18080/v3/" + vecProject + "/nodes/" + vecNode + "/session",
			header: map[string]string{"X-Project-Id": vecProject, "X-Security-Token": "tmp-token", "Content-Type": "application/json"},
			body:   `{"sessions":["shard_1:7201646"]}`,
			wantCanonical: "POST\n/v3/0123456789abcdef0123456789abcdef/nodes/520c58ba00a3497e97ce0b9604874dd6no02/session/\n\n" +
				"host:127.0.0.1:18080\nx-project-id:0123456789abcdef0123456789abcdef\nx-sdk-date:20261122T045254Z\nx-security-token:tmp-token\n\n" +
				"host;x-project-id;x-sdk-date;x-security-token\ne374300cf00726fee826a1568a708dca7fb0f8ca7301ab109d33b6a56c98c672",
			wantToSign: "SDK-HMAC-SHA256\n20261122T045254Z\n5f5488cf208e2836abf2eb13d76e9d330460fdfd004fe3d6475bc6a8a2672f46",
			wantAuth:   "SDK-HMAC-SHA256 Access=" + vecAK + ", SignedHeaders=host;x-project-id;x-sdk-date;x-security-token, Signature=c7649706704329ce81381c7984621ed6e7983e86548ca33b0cdfee6a5b892780",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			req, err := http.NewRequest(tt.method, tt.url, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			Sign(req, body, vecAK, vecSK, vecTime(t))

			if got := req.Header.Get("X-Sdk-Date"); got != vecDate {
				t.Errorf("X-Sdk-Date = %q, want %q", got, vecDate)
			}
			names := signedHeaders(req)
			cr := canonicalRequest(req.Method, req.URL.EscapedPath(), req.URL.Query(), headerValues(req, names), names, body)
			if cr != tt.wantCanonical {
				t.Errorf("canonical request:\n%q\nwant\n%q", cr, tt.wantCanonical)
			}
			if sts := stringToSign(vecDate, cr); sts != tt.wantToSign {
				t.Errorf("string to sign:\n%q\nwant\n%q", sts, tt.wantToSign)
			}
			if got := req.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization:\n%s\nwant\n%s", got, tt.wantAuth)
			}
		})
	}
}

func TestSignChangesWithEveryInput(t *testing.T) {
	base := func() *http.Request {
		r, _ := http.NewRequest("GET", "https://dds.cn-north-4.myhuaweicloud.com/v3/p/nodes/n/sessions?limit=20", nil)
		r.Header.Set("X-Project-Id", "p")
		return r
	}
	sign := func(r *http.Request, body []byte, sk string, tm time.Time) string {
		Sign(r, body, vecAK, sk, tm)
		return r.Header.Get("Authorization")
	}
	ref := sign(base(), nil, vecSK, vecTime(t))
	variants := map[string]string{
		"secret key": sign(base(), nil, vecSK+"x", vecTime(t)),
		"time":       sign(base(), nil, vecSK, vecTime(t).Add(time.Second)),
		"body":       sign(base(), []byte("{}"), vecSK, vecTime(t)),
	}
	r := base()
	r.URL.RawQuery = "limit=10"
	variants["query"] = sign(r, nil, vecSK, vecTime(t))
	r = base()
	r.URL.Path = "/v3/p/nodes/m/sessions"
	variants["path"] = sign(r, nil, vecSK, vecTime(t))
	r = base()
	r.Header.Set("X-Project-Id", "q")
	variants["project header"] = sign(r, nil, vecSK, vecTime(t))
	r = base()
	r.Host = "dds.cn-north-1.myhuaweicloud.com"
	variants["host"] = sign(r, nil, vecSK, vecTime(t))
	for what, got := range variants {
		if got == ref {
			t.Errorf("changing the %s did not change the signature", what)
		}
	}
	if strings.Contains(ref, vecSK) {
		t.Error("the Authorization header contains the secret key")
	}
}

func TestEscapeAndCanonicalQuery(t *testing.T) {
	tests := []struct {
		in   url.Values
		want string
	}{
		{url.Values{}, ""},
		{url.Values{"b": {"2"}, "a": {"1"}}, "a=1&b=2"},
		{url.Values{"k": {"z", "a"}}, "k=a&k=z"},
		{url.Values{"ns": {"a b+c/d=e:f~g_h.i-j"}}, "ns=a%20b%2Bc%2Fd%3De%3Af~g_h.i-j"},
		{url.Values{"ns": {"é"}}, "ns=%C3%A9"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.in); got != tt.want {
			t.Errorf("canonicalQuery(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{
		"/v3/p/nodes/n/sessions":  "/v3/p/nodes/n/sessions/",
		"/v3/p/instances/":        "/v3/p/instances/",
		"/v3/p%20q/x":             "/v3/p%20q/x/",
		"/v3/a:b/x":               "/v3/a%3Ab/x/",
		"":                        "/",
		"/v3/shard_1%3A7201646/s": "/v3/shard_1%3A7201646/s/",
	} {
		if got := canonicalURI(in); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
}
