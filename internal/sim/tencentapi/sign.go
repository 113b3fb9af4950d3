package tencentapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TC3-HMAC-SHA256, written from Tencent's published algorithm (cloud-apis.md §1.2) and
// independent of the SDK the client signs with, so the two check each other.

const algorithm = "TC3-HMAC-SHA256"

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// header is one signed header: lower-case name and its value.
type header struct{ name, value string }

// canonicalRequest builds step 1 of the algorithm. headers must be the signed headers.
func canonicalRequest(method, query string, headers []header, payloadHash string) (canonical, signed string) {
	hs := append([]header(nil), headers...)
	sort.Slice(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	var ch strings.Builder
	names := make([]string, len(hs))
	for i, h := range hs {
		ch.WriteString(h.name)
		ch.WriteByte(':')
		ch.WriteString(h.value)
		ch.WriteByte('\n')
		names[i] = h.name
	}
	signed = strings.Join(names, ";")
	canonical = method + "\n/\n" + query + "\n" + ch.String() + "\n" + signed + "\n" + payloadHash
	return canonical, signed
}

// stringToSign builds step 2; it returns the credential scope too.
func stringToSign(timestamp int64, service, canonical string) (sts, scope string) {
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	scope = date + "/" + service + "/tc3_request"
	return algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + scope + "\n" + sha256Hex([]byte(canonical)), scope
}

// signature is steps 3: the derived key chain and the final HMAC, in hex.
func signature(secretKey string, timestamp int64, service, sts string) string {
	date := time.Unix(timestamp, 0).UTC().Format("2006-01-02")
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	kSigning := hmacSHA256(kService, "tc3_request")
	return hex.EncodeToString(hmacSHA256(kSigning, sts))
}

// SignRequest signs r (a POST whose body is body) for service "mongodb" at time ts, setting
// X-TC-Timestamp and Authorization over the headers content-type and host, as the SDK does.
// Tests use it to build requests the SDK would never send (stale timestamps, wrong keys).
func SignRequest(r *http.Request, body []byte, secretID, secretKey string, ts time.Time) {
	unix := ts.Unix()
	r.Header.Set("X-TC-Timestamp", strconv.FormatInt(unix, 10))
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	canonical, signed := canonicalRequest(r.Method, "", []header{
		{"content-type", strings.ToLower(r.Header.Get("Content-Type"))},
		{"host", strings.ToLower(host)},
	}, sha256Hex(body))
	sts, scope := stringToSign(unix, "mongodb", canonical)
	r.Header.Set("Authorization", algorithm+" Credential="+secretID+"/"+scope+", SignedHeaders="+signed+
		", Signature="+signature(secretKey, unix, "mongodb", sts))
}

// authorization is a parsed Authorization header.
type authorization struct {
	secretID, date, service string
	signedHeaders           []string
	signature               string
}

var errMalformedAuth = errors.New("malformed Authorization header")

func parseAuthorization(v string) (authorization, error) {
	var a authorization
	alg, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != algorithm {
		return a, errMalformedAuth
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, errMalformedAuth
		}
		switch k {
		case "Credential":
			p := strings.Split(val, "/")
			if len(p) != 4 || p[3] != "tc3_request" || p[0] == "" {
				return a, errMalformedAuth
			}
			a.secretID, a.date, a.service = p[0], p[1], p[2]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		}
	}
	if a.secretID == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return a, errMalformedAuth
	}
	return a, nil
}
