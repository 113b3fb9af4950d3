package huawei

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Huawei Cloud API Gateway AK/SK signing, "SDK-HMAC-SHA256" (shared/reference/cloud-apis.md
// §2.2). Written against the standard library instead of the 47 MB official SDK (DESIGN.md).
const (
	signAlgorithm  = "SDK-HMAC-SHA256"
	headerSdkDate  = "X-Sdk-Date"
	sdkDateFormat  = "20060102T150405Z"
	emptyBodySHA   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	headerProject  = "X-Project-Id"
	headerSecToken = "X-Security-Token"
	headerAuthTok  = "X-Auth-Token"
)

// signedHeaderNames are the headers this client signs when present: Host ties the signature to
// the endpoint, X-Sdk-Date is mandatory, the project and security token must not be swapped.
var signedHeaderNames = []string{"host", "x-project-id", "x-sdk-date", "x-security-token"}

// Sign adds X-Sdk-Date and Authorization to req for the access key ak/sk at time t. body is
// the exact request body (nil for none). req.Host, if empty, is taken from req.URL.Host.
func Sign(req *http.Request, body []byte, ak, sk string, t time.Time) {
	req.Header.Set(headerSdkDate, t.UTC().Format(sdkDateFormat))
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	names := signedHeaders(req)
	cr := canonicalRequest(req.Method, req.URL.EscapedPath(), req.URL.Query(), headerValues(req, names), names, body)
	sig := signature(sk, stringToSign(req.Header.Get(headerSdkDate), cr))
	req.Header.Set("Authorization", signAlgorithm+" Access="+ak+", SignedHeaders="+strings.Join(names, ";")+", Signature="+sig)
}

// signedHeaders lists, sorted, the signed headers req carries.
func signedHeaders(req *http.Request) []string {
	var names []string
	for _, n := range signedHeaderNames {
		if n == "host" || req.Header.Get(n) != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func headerValues(req *http.Request, names []string) map[string]string {
	v := make(map[string]string, len(names))
	for _, n := range names {
		if n == "host" {
			v[n] = req.Host
			continue
		}
		v[n] = req.Header.Get(n)
	}
	return v
}

// canonicalRequest builds the canonical request of the SDK-HMAC-SHA256 algorithm:
//
//	Method \n CanonicalURI \n canonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
//
// escapedPath is the path as sent (percent-encoded); headers maps lower-case names to values;
// names are the signed header names, lower-case and sorted.
func canonicalRequest(method, escapedPath string, query url.Values, headers map[string]string, names []string, body []byte) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(escapedPath))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(headers[n]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(names, ";"))
	b.WriteByte('\n')
	b.WriteString(hashHex(body))
	return b.String()
}

// canonicalURI re-encodes each path segment and appends the trailing slash the algorithm wants.
func canonicalURI(escapedPath string) string {
	segs := strings.Split(escapedPath, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		segs[i] = escape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// canonicalQuery sorts keys and each key's values and encodes both with escape; it is also the
// exact query string this client sends, so a gateway that canonicalises the raw query agrees.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// stringToSign is "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" + hex(SHA256(canonical request)).
func stringToSign(sdkDate, canonicalRequest string) string {
	return signAlgorithm + "\n" + sdkDate + "\n" + hashHex([]byte(canonicalRequest))
}

// signature is hex(HMAC-SHA256(sk, stringToSign)); the SK is the key as is, with no derivation.
func signature(sk, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

func hashHex(b []byte) string {
	if len(b) == 0 {
		return emptyBodySHA
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// escape percent-encodes everything except the unreserved characters A–Z a–z 0–9 - _ . ~,
// with upper-case hex digits (a space becomes %20, never +).
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
