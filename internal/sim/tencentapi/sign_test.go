package tencentapi

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Tencent's published worked example of TC3-HMAC-SHA256 ("Signature v3", CVM
// DescribeInstances at 1551113065). The document's key is masked with asterisks and its
// signature is computed over that literal masked key, so the example is complete.
const (
	docSecretKey = "Gu5t9xGARNpq86cd98joQYCN3*******"
	docTimestamp = 1551113065
	docPayload   = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
)

func TestSignatureMatchesPublishedExample(t *testing.T) {
	headers := []header{{"content-type", "application/json; charset=utf-8"}, {"host", "cvm.tencentcloudapi.com"}}
	payloadHash := sha256Hex([]byte(docPayload))
	if want := "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"; payloadHash != want {
		t.Fatalf("payload hash = %s, want %s", payloadHash, want)
	}
	canonical, signed := canonicalRequest("POST", "", headers, payloadHash)
	wantCanonical := "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n" + payloadHash
	if canonical != wantCanonical || signed != "content-type;host" {
		t.Fatalf("canonical request =\n%q\nwant\n%q", canonical, wantCanonical)
	}
	sts, scope := stringToSign(docTimestamp, "cvm", canonical)
	wantSTS := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
	if sts != wantSTS || scope != "2019-02-25/cvm/tc3_request" {
		t.Fatalf("string to sign =\n%q\nwant\n%q", sts, wantSTS)
	}
	if got, want := signature(docSecretKey, docTimestamp, "cvm", sts), "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
}

func TestSignatureInternationalExampleHashes(t *testing.T) {
	// The international site's version of the example uses "unnamed" as the filter value.
	payload := `{"Limit": 1, "Filters": [{"Values": ["unnamed"], "Name": "instance-name"}]}`
	headers := []header{{"host", "cvm.tencentcloudapi.com"}, {"content-type", "application/json; charset=utf-8"}}
	canonical, _ := canonicalRequest("POST", "", headers, sha256Hex([]byte(payload)))
	if got, want := sha256Hex([]byte(canonical)), "2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a"; got != want {
		t.Fatalf("hashed canonical request = %s, want %s (headers must be sorted)", got, want)
	}
}

func TestCredentialScopeDateIsUTC(t *testing.T) {
	// 1551113065 is 2019-02-26 00:44:25 in UTC+8 but 2019-02-25 in UTC.
	for _, tc := range []struct {
		ts   int64
		date string
	}{{1551113065, "2019-02-25"}, {1551139199, "2019-02-25"}, {1551139200, "2019-02-26"}} {
		if _, scope := stringToSign(tc.ts, "mongodb", ""); !strings.HasPrefix(scope, tc.date+"/") {
			t.Errorf("scope for %d = %s, want date %s", tc.ts, scope, tc.date)
		}
	}
}

func TestSignRequestVerifies(t *testing.T) {
	e := New(nil, Options{SecretID: "AKIDtest", SecretKey: "key", Now: func() time.Time { return time.Unix(docTimestamp, 0) }})
	body := []byte(`{"InstanceId":"cmgo-demo0001"}`)
	mk := func() *http.Request {
		r, _ := http.NewRequest("POST", "http://127.0.0.1:1/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	r := mk()
	SignRequest(r, body, "AKIDtest", "key", time.Unix(docTimestamp, 0))
	if aerr := e.authenticate(r, body); aerr != nil {
		t.Fatalf("authenticate: %v", aerr)
	}
	// Any change to the signed material breaks the signature.
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = 'X'
	if aerr := e.authenticate(r, tampered); aerr == nil || aerr.code != "AuthFailure.SignatureFailure" {
		t.Fatalf("tampered body: %v, want AuthFailure.SignatureFailure", aerr)
	}
	r2 := mk()
	SignRequest(r2, body, "AKIDtest", "key", time.Unix(docTimestamp, 0))
	r2.Host = "127.0.0.1:2"
	if aerr := e.authenticate(r2, body); aerr == nil || aerr.code != "AuthFailure.SignatureFailure" {
		t.Fatalf("changed host: %v, want AuthFailure.SignatureFailure", aerr)
	}
}

func TestParseAuthorization(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/mongodb/tc3_request, SignedHeaders=content-type;host, Signature=abc", true},
		{"", false},
		{"HMAC-SHA256 Credential=AKID/2019-02-25/mongodb/tc3_request, SignedHeaders=content-type;host, Signature=abc", false},
		{"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/mongodb, SignedHeaders=content-type;host, Signature=abc", false},
		{"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/mongodb/tc3_request, SignedHeaders=content-type;host", false},
		{"TC3-HMAC-SHA256 garbage", false},
	} {
		_, err := parseAuthorization(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseAuthorization(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
