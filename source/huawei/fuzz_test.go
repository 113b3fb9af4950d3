package huawei

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzzed secrets: long, and made of characters the fuzzed text is checked not to hold in a
// row, so that any run of them in an error came from a secret.
const (
	fuzzSK    = "SK0SECRET1sk2SECRET3sk4SECRET5"
	fuzzToken = "TK0SECRET1tk2SECRET3tk4SECRET5"
)

// leaks reports whether out holds 6 bytes in a row of a secret.
func leaks(out string, secrets ...string) string {
	for _, sec := range secrets {
		for i := 0; i+6 <= len(sec); i++ {
			if strings.Contains(out, sec[i:i+6]) {
				return sec[i : i+6]
			}
		}
	}
	return ""
}

// A secret echoed near the cut of a long message must not survive in part.
func TestParseAPIErrorRedactsBeforeCutting(t *testing.T) {
	for cut := 480; cut <= 500; cut++ {
		body, _ := json.Marshal(map[string]string{"error_code": "APIGW.0301", "error_msg": strings.Repeat("x", cut) + fuzzSK})
		err := parseAPIError(actionListSessions, 401, http.Header{"X-Request-Id": {"id-" + fuzzToken}}, body, false, []string{fuzzSK, fuzzToken})
		if l := leaks(err.Error(), fuzzSK, fuzzToken); l != "" {
			t.Fatalf("cut at %d: %q leaks %q", cut, err, l)
		}
	}
}

// FuzzParseAPIError: whatever an endpoint answers, the error is one clean line of bounded size
// that never holds any part of the credentials, even when the answer echoes them.
func FuzzParseAPIError(f *testing.F) {
	f.Add(401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: `+fuzzSK+`"}`, "req-1", "a", "b")
	f.Add(403, `{"error":{"code":"DBS.200010","message":"x"}}`, "", "", "")
	f.Add(502, "<html>\x1b[2J bad gateway "+fuzzToken+"</html>", fuzzToken, "p", "s")
	f.Add(429, `{"code":7,"message":["x"],"request_id":{"a":1}}`, "", "", "")
	f.Add(400, `{"error_code":"DBS.200001","error_msg":"\u202e\u200b`+fuzzToken[:20]+`"}`, "", "", "")
	f.Fuzz(func(t *testing.T, status int, body, requestID, prefix, suffix string) {
		if leaks(body+"\x00"+requestID+"\x00"+prefix+"\x00"+suffix, fuzzSK, fuzzToken) != "" {
			return // the text itself holds a piece of a secret: nothing to tell apart
		}
		// The body as sent, and with each secret echoed in the message and the request ID.
		echoed, _ := json.Marshal(map[string]string{"error_code": prefix, "error_msg": prefix + fuzzSK + suffix + fuzzToken, "request_id": fuzzToken + suffix})
		for _, b := range []string{body, string(echoed), prefix + fuzzSK + suffix} {
			for _, rid := range []string{requestID, requestID + fuzzToken, fuzzSK} {
				err := parseAPIError(actionListSessions, status, http.Header{"X-Request-Id": {rid}}, []byte(b), rid == fuzzSK, []string{fuzzSK, fuzzToken})
				msg := err.Error()
				if l := leaks(msg, fuzzSK, fuzzToken); l != "" {
					t.Fatalf("error %q leaks %q", msg, l)
				}
				if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x1b\x07\n\r") || len(msg) > 4096 {
					t.Fatalf("error is not one clean bounded line: %q", msg)
				}
			}
		}
	})
}

// FuzzCredentialsFromEnv: any environment gives credentials that validate, or an error;
// neither, printed any way, shows the secret key or a token.
func FuzzCredentialsFromEnv(f *testing.F) {
	f.Add("AKEXAMPLE0123456789", fuzzSK, "", "")
	f.Add("", "", "", fuzzToken)
	f.Add("AK", "", fuzzToken, fuzzToken)
	f.Add(" \t", fuzzSK, "", "\n")
	f.Fuzz(func(t *testing.T, ak, sk, securityToken, token string) {
		if strings.ContainsRune(ak+sk+securityToken+token, 0) {
			return // an environment variable cannot hold NUL
		}
		t.Setenv(EnvAK, ak)
		t.Setenv(EnvSK, sk)
		t.Setenv(EnvSecurityToken, securityToken)
		t.Setenv(EnvToken, token)
		c, err := CredentialsFromEnv()
		if err == nil && c.validate() != nil {
			t.Fatalf("credentials %v from the environment do not validate: %v", c, c.validate())
		}
		j, _ := json.Marshal(c)
		out := fmt.Sprintf("%v %+v %#v %s %q %x %d", c, c, c, c, c, c, c) + string(j) + fmt.Sprint(struct{ C Credentials }{c})
		if err != nil {
			out += err.Error()
		}
		visible := maskAK(strings.TrimSpace(ak)) + "huawei.Credentials{AK: SK:*** SecurityToken:*** Token:***}"
		for _, sec := range []string{strings.TrimSpace(sk), strings.TrimSpace(securityToken), strings.TrimSpace(token)} {
			if len(sec) >= 4 && strings.Contains(out, sec) && !strings.Contains(visible, sec) {
				t.Fatalf("printing the credentials shows the secret %q: %s", sec, out)
			}
		}
	})
}

// cost_time saturates: a value beyond int64 (as a number or a string) reads as the longest
// running time, never as 0.
func TestCostTimeSaturates(t *testing.T) {
	for _, v := range []string{`"99999999999999999999"`, `99999999999999999999`, `1e300`, `"9223372036854775807"`} {
		c, ok := toSession(json.RawMessage(`{"id":"1","active":true,"cost_time":`+v+`}`), "h")
		if !ok || c.s.RunningUS != math.MaxInt64 {
			t.Errorf("cost_time %s: RunningUS = %d", v, c.s.RunningUS)
		}
	}
}
