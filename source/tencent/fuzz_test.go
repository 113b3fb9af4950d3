package tencent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/currentop/currentop/source"
)

// assertSafeJSON: nil, or valid JSON that holds nothing a terminal could act on.
func assertSafeJSON(t *testing.T, what string, j json.RawMessage) {
	t.Helper()
	if j == nil {
		return
	}
	if !json.Valid(j) || !utf8.Valid(j) {
		t.Fatalf("%s: not valid JSON: %q", what, j)
	}
	for _, r := range string(j) {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || source.Invisible(r) {
			t.Fatalf("%s keeps %U: %q", what, r, j)
		}
	}
}

// assertCleanSession: every text field is as source.Clean leaves it.
func assertCleanSession(t *testing.T, s *source.Session) {
	t.Helper()
	for name, v := range map[string]string{"ID": s.ID, "Op": s.Op, "NS": s.NS, "Client": s.Client, "App": s.App,
		"User": s.User, "Driver": s.Driver, "Host": s.Host, "Shard": s.Shard, "Desc": s.Desc, "PlanSummary": s.PlanSummary, "Msg": s.Msg} {
		if name != "ID" && v != source.Clean(v) {
			t.Fatalf("%s = %q is not clean", name, v)
		}
		if strings.ContainsAny(v, "\x1b\x07\n\r\t") {
			t.Fatalf("%s = %q keeps control characters", name, v)
		}
	}
	if s.NumYields < 0 || s.RunningUS < 0 {
		t.Fatalf("negative counters: %+v", s)
	}
}

// FuzzJSONText: the statement text of DescribeCurrentOp becomes safe JSON (or nothing), and
// JSON text stays the same JSON.
func FuzzJSONText(f *testing.F) {
	for _, s := range []string{`{"find":"orders","filter":{"x":1}}`, `not json`, "", `"str"`, "{\"a\":\"\u009b31m\u202e\"}",
		"\xff\xfe", `{"a":"\u2028"}`, `[1, 2 ,3]`, `{"$numberLong":"9007199254740993"}`, strings.Repeat("x", maxCommand+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j := jsonText(s)
		if (j == nil) != (s == "") {
			t.Fatalf("jsonText(%q) = %q", s, j)
		}
		assertSafeJSON(t, "jsonText", j)
		if len(j) > 6*maxCommand+16 {
			t.Fatalf("jsonText grew to %d bytes", len(j))
		}
		if len(s) <= maxCommand && json.Valid([]byte(s)) {
			a, errA := decodeNumbers([]byte(s))
			b, errB := decodeNumbers(j)
			if errA != nil || errB != nil || fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("jsonText(%q) = %q: not the same JSON (%v, %v)", s, j, errA, errB)
			}
		}
	})
}

// decodeNumbers decodes JSON keeping numbers as written (1E1000 does not fit a float64).
func decodeNumbers(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// FuzzEnrich: whatever the Operation and Query texts hold, enrich never panics and leaves only
// clean text and sane counters.
func FuzzEnrich(f *testing.F) {
	f.Add(`{"opid":61,"client":"10.2.0.7:51234","appName":"orders-api","connectionId":1842,"clientMetadata":{"driver":{"name":"mongo-go-driver","version":"2.9.3"}},"effectiveUsers":[{"user":"app","db":"admin"}],"planSummary":"COLLSCAN","numYields":12,"waitingForLock":true,"msg":"x\u001b[1m"}`, `{}`)
	f.Add(`{"opid":"shard01:1","connectionId":{"$numberLong":"9007199254740993"},"numYields":{"$numberInt":"-3"},"clientMetadata":{"mongos":{"client":"10.3.0.1:4000"},"application":{"name":"etl\u200b"}}}`, ``)
	f.Add(`{"type":"idleSession","command":{"hello":1,"topologyVersion":{}}}`, `{"hello":1,"topologyVersion":{}}`)
	f.Add(`{"numYields":1e300,"connectionId":-1.5,"effectiveUsers":[{"user":7}],"appName":"\ud800"}`, `[`)
	f.Fuzz(func(t *testing.T, operation, query string) {
		s := source.Session{Type: source.TypeOp, Active: true}
		enrich(&s, operation, query)
		assertCleanSession(t, &s)
		if s.Type != source.TypeOp && s.Type != source.TypeIdleSession && s.Type != source.TypeIdleCursor {
			t.Fatalf("type %q", s.Type)
		}
	})
}

// FuzzToSession: a whole CurrentOp item from the API. The ID reads back as its parts whenever
// the parts hold no '/', and Raw and Command are safe JSON.
func FuzzToSession(f *testing.F) {
	f.Add(int64(9007199254740993), "cmgo-a_0", "10.0.0.1:7017:1", "shop.orders", "Query", "Primary", uint64(2500000), `{"find":"orders"}`, `{"opid":1}`)
	f.Add(int64(-1), "rs/x", "node\u202e", "shop.\x1b]0;x\x07orders", "none", "", uint64(1<<63+5), "not json", "\xff")
	f.Fuzz(func(t *testing.T, id int64, rs, node, ns, op, state string, us uint64, query, operation string) {
		s := toSession(&currentOp{OpId: &id, ReplicaSetName: &rs, NodeName: &node, Ns: &ns, Op: &op, State: &state,
			MicrosecsRunning: &us, Query: &query, Operation: &operation})
		assertCleanSession(t, &s)
		assertSafeJSON(t, "Command", s.Command)
		assertSafeJSON(t, "Raw", s.Raw)
		if s.RunningUS < 0 || (us > 0 && s.RunningUS == 0) {
			t.Fatalf("MicrosecsRunning %d became %d", us, s.RunningUS)
		}
		if k, err := parseSessionID(s.ID); !strings.Contains(s.Shard+s.Host, "/") {
			if err != nil || k.rs != s.Shard || k.node != s.Host || k.id != id {
				t.Fatalf("ID %q does not read back: %+v, %v", s.ID, k, err)
			}
		}
	})
}

// FuzzReadProfile: any credentials file reads without panicking; what it returns is complete,
// and printing it never shows the secret key or the token.
func FuzzReadProfile(f *testing.F) {
	f.Add("[default]\nsecret_id = AKIDexample0123456789\nsecret_key = \"key-0123456789abcdef\"\ntoken=tok-0123456789\n")
	f.Add("[other]\nsecret_id=a\n[default]\r\nsecret_id=AKID\r\nsecret_key='k3y-secret'\r\n; comment\n")
	f.Add("secret_id=x\nsecret_key=y\n")
	f.Add("[default]\n" + strings.Repeat("x", 70000) + "\n")
	f.Add("[ default ]\nSECRET_ID = id\nSecret_Key=key=with=equals\nsession_token=\n")
	path := filepath.Join(f.TempDir(), "credentials")
	f.Fuzz(func(t *testing.T, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := readProfile(path)
		if err != nil {
			if c != (Credentials{}) {
				t.Fatalf("error %v with credentials %v", err, c)
			}
			return
		}
		if c.SecretID == "" || c.SecretKey == "" {
			t.Fatalf("incomplete credentials without an error")
		}
		for _, out := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c), fmt.Sprint(struct{ C Credentials }{c})} {
			for _, sec := range []string{c.SecretKey, c.Token} {
				if len(sec) >= 4 && strings.Contains(out, sec) && !strings.Contains(maskID(c.SecretID)+"{}:, <none>***Token SecretKey SecretID tencent.Credentials", sec) {
					t.Fatalf("printing %q shows the secret %q", out, sec)
				}
			}
		}
	})
}

// A secret echoed near the cut of a long message, or beyond what Clean keeps, must not survive
// in part: the secrets go before anything is cut.
func TestRedactBeforeCutting(t *testing.T) {
	const secret = "Qz9Wv7Xk2Lp4Jm8Ht6Ny3Rb5"
	s := &Source{secrets: []string{secret}}
	for _, pad := range []int{maxMessage - 20, maxMessage - 5, source.MaxField - 10} {
		for _, code := range []string{"AuthFailure.SignatureFailure", strings.Repeat("c", pad) + secret} {
			msg := strings.Repeat("x", pad) + secret
			err := s.redact(classify(tcerr.NewTencentCloudSDKError(code, msg, "req-"+strings.Repeat("r", pad)+secret), "DescribeCurrentOp", "cmgo-1", "ap-guangzhou"))
			for i := 0; i+6 <= len(secret); i++ {
				if strings.Contains(err.Error(), secret[i:i+6]) {
					t.Fatalf("pad %d: %q leaks %q", pad, err, secret[i:i+6])
				}
			}
		}
	}
}

// FuzzClassify: whatever an endpoint answers, the error is clean, bounded and holds no part of
// the credentials even when the answer echoes them.
func FuzzClassify(f *testing.F) {
	const secret = "Qz9Wv7Xk2Lp4Jm8Ht6Ny3Rb5"
	f.Add("AuthFailure.SignatureFailure", "The provided credentials could not be validated.", "req-1", "")
	f.Add("InternalError", "<html>\x1b[2J", "", "x")
	f.Add("", "Authorization: TC3-HMAC-SHA256 Credential=AKID/2026-01-01/mongodb/tc3_request, Signature=abc", "", "")
	f.Fuzz(func(t *testing.T, code, msg, requestID, pad string) {
		if strings.Contains(code+msg+requestID+pad, "Qz9") {
			return
		}
		s := &Source{secrets: []string{secret}}
		for _, m := range []string{msg, pad + secret + msg, msg + secret} {
			err := s.redact(classify(tcerr.NewTencentCloudSDKError(code, m, requestID+secret), "DescribeCurrentOp", "cmgo-1", "ap-guangzhou"))
			out := err.Error()
			for i := 0; i+6 <= len(secret); i++ {
				if w := secret[i : i+6]; strings.Contains(out, w) && !strings.Contains(code+msg+requestID+pad, w) {
					t.Fatalf("%q leaks %q", out, w)
				}
			}
			if !utf8.ValidString(out) || strings.ContainsAny(out, "\x1b\x07\n\r") || len(err.Message) > maxMessage+4 {
				t.Fatalf("not one clean bounded line: %q", out)
			}
		}
	})
}
