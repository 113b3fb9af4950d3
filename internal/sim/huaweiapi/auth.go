package huaweiapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This verifier is written from the documented SDK-HMAC-SHA256 algorithm (reference §2.2)
// independently of source/huawei's signer, so that the two check each other.

// authFailure is why a request is not authenticated ("" when it is).
func (e *Emulator) authFailure(r *http.Request, body []byte) string {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		if e.opts.Token == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(e.opts.Token)) != 1 {
			return "Incorrect IAM authentication information: token is invalid or has expired"
		}
		return ""
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "Incorrect IAM authentication information: Authorization not found"
	}
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != "SDK-HMAC-SHA256" {
		return "Incorrect IAM authentication information: unsupported signing algorithm"
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[k] = v
		}
	}
	ak, signed, sig := fields["Access"], fields["SignedHeaders"], fields["Signature"]
	if ak == "" || signed == "" || sig == "" {
		return "Incorrect IAM authentication information: malformed Authorization header"
	}
	if e.opts.AK == "" || subtle.ConstantTimeCompare([]byte(ak), []byte(e.opts.AK)) != 1 {
		return "Incorrect IAM authentication information: verify aksk signature fail (AK not found)"
	}
	names := strings.Split(signed, ";")
	if !contains(names, "x-sdk-date") {
		return "Incorrect IAM authentication information: x-sdk-date must be signed"
	}
	date, err := time.Parse("20060102T150405Z", r.Header.Get("X-Sdk-Date"))
	if err != nil {
		return "Incorrect IAM authentication information: invalid X-Sdk-Date"
	}
	if d := e.now().Sub(date); d > e.opts.MaxSkew || d < -e.opts.MaxSkew {
		return "Incorrect IAM authentication information: the request has expired (check the clock)"
	}

	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(verifierURI(r.URL.EscapedPath()) + "\n")
	canon.WriteString(verifierQuery(r.URL.Query()) + "\n")
	for _, n := range names {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		canon.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	canon.WriteString("\n" + signed + "\n")
	bodyHash := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(bodyHash[:]))

	crHash := sha256.Sum256([]byte(canon.String()))
	toSign := "SDK-HMAC-SHA256\n" + r.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(crHash[:])
	mac := hmac.New(sha256.New, []byte(e.opts.SK))
	mac.Write([]byte(toSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return "Incorrect IAM authentication information: verify aksk signature fail"
	}
	return ""
}

func verifierURI(escaped string) string {
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			p = u
		}
		parts[i] = pctEncode(p)
	}
	out := strings.Join(parts, "/")
	if !strings.HasSuffix(out, "/") {
		out += "/"
	}
	return out
}

func verifierQuery(q url.Values) string {
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vals := append([]string{}, q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			pairs = append(pairs, pctEncode(k)+"="+pctEncode(v))
		}
	}
	return strings.Join(pairs, "&")
}

// pctEncode is RFC 3986 percent-encoding of everything but unreserved characters.
func pctEncode(s string) string {
	// url.PathEscape leaves sub-delims such as '=' and ':' alone; the algorithm does not.
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
