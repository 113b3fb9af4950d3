package tencent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/tencentapi"
	"github.com/currentop/currentop/source"
)

const (
	testKey   = "s3cr3tK3yDoNotPrint0123456789"
	testToken = "t0k3nDoNotPrint98765"
	testID    = "AKIDabcdefghijklmnopWXYZ"
)

func TestNoSecretInFormatting(t *testing.T) {
	cred := Credentials{SecretID: testID, SecretKey: testKey, Token: testToken}
	cfg := Config{InstanceID: "cmgo-abc", Region: "ap-guangzhou", Credentials: cred, Timeout: time.Second}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type wrapper struct{ C Config }
	var out []string
	for _, v := range []any{cred, &cred, cfg, &cfg, wrapper{cfg}, src} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
	}
	for _, s := range out {
		for _, secret := range []string{testKey, testToken, testID} {
			if strings.Contains(s, secret) {
				t.Errorf("output reveals %q: %s", secret, s)
			}
		}
	}
	if s := fmt.Sprint(cred); !strings.Contains(s, "AKID…WXYZ") || !strings.Contains(s, "***") {
		t.Errorf("masked credentials = %s, want the ID's ends and *** ", s)
	}
}

func TestNoSecretInSnapshotOrErrors(t *testing.T) {
	e := newEnv(t, demoBackend(), tencentapi.Options{SecretID: testID, SecretKey: testKey, Token: testToken})
	snap, err := e.src.Snapshot(context.Background(), source.Query{IdleConnections: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(snap)
	text := string(b) + fmt.Sprintf("%+v", snap) + strings.Join(snap.Warnings, "")
	bad := newSource(t, e.url, Credentials{SecretID: testID, SecretKey: testKey + "x", Token: testToken})
	_, err = bad.Snapshot(context.Background(), source.Query{})
	if err == nil {
		t.Fatal("wrong key accepted")
	}
	text += err.Error() + fmt.Sprintf("%+v %#v", err, err)
	for _, secret := range []string{testKey, testToken} {
		if strings.Contains(text, secret) {
			t.Errorf("output reveals %q", secret)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "credentials")
	os.WriteFile(profile, []byte("# comment\n[other]\nsecret_id = AKIDother\n[default]\nsecret_id = AKIDfile\nsecret_key = \"filekey\"\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("[default]\nsecret_id = AKIDonly\n"), 0o600)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Credentials
		errWant string
	}{
		{"env", map[string]string{EnvSecretID: " AKIDenv ", EnvSecretKey: "envkey\n", EnvSessionToken: "tok"}, Credentials{SecretID: "AKIDenv", SecretKey: "envkey", Token: "tok"}, ""},
		{"terraform token name", map[string]string{EnvSecretID: "AKIDenv", EnvSecretKey: "envkey", EnvSecurityToken: "tftok"}, Credentials{SecretID: "AKIDenv", SecretKey: "envkey", Token: "tftok"}, ""},
		{"id only", map[string]string{EnvSecretID: "AKIDenv"}, Credentials{}, "TENCENTCLOUD_SECRET_KEY is empty"},
		{"key only", map[string]string{EnvSecretKey: "k"}, Credentials{}, "TENCENTCLOUD_SECRET_ID is empty"},
		{"profile file", map[string]string{EnvCredentialsFile: profile}, Credentials{SecretID: "AKIDfile", SecretKey: "filekey", Token: ""}, ""},
		{"home profile", map[string]string{"HOME": dir + "/home"}, Credentials{SecretID: "AKIDhome", SecretKey: "homekey", Token: ""}, ""},
		{"nothing", map[string]string{"HOME": dir}, Credentials{}, "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"},
		{"incomplete file", map[string]string{EnvCredentialsFile: empty}, Credentials{}, "no secret_id and secret_key under [default]"},
		{"missing named file", map[string]string{EnvCredentialsFile: filepath.Join(dir, "nope")}, Credentials{}, "credentials file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{EnvSecretID, EnvSecretKey, EnvSessionToken, EnvSecurityToken, EnvCredentialsFile} {
				t.Setenv(k, "")
			}
			t.Setenv("HOME", filepath.Join(dir, "nohome"))
			os.MkdirAll(filepath.Join(dir, "home", ".tencentcloud"), 0o700)
			os.WriteFile(filepath.Join(dir, "home", ".tencentcloud", "credentials"), []byte("[default]\nsecret_id=AKIDhome\nsecret_key=homekey\n"), 0o600)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := CredentialsFromEnv()
			if tc.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWant) {
					t.Fatalf("err = %v, want %q", err, tc.errWant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fromFile := got.file != ""; fromFile != (tc.env[EnvCredentialsFile] != "" || tc.env["HOME"] != "") {
				t.Errorf("file %q: where the credentials came from is not recorded right", got.file)
			}
			got.file = ""
			if got != tc.want {
				t.Fatalf("got %#v; want %#v", got, tc.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	cred := Credentials{SecretID: "AKIDx", SecretKey: "k"}
	t.Setenv(EnvRegion, "")
	for _, tc := range []struct {
		name    string
		cfg     Config
		errWant string
	}{
		{"no region", Config{InstanceID: "cmgo-a", Credentials: cred}, "pass --region or set TENCENTCLOUD_REGION"},
		{"bad region", Config{InstanceID: "cmgo-a", Region: "Guangzhou!", Credentials: cred}, "does not look like a Tencent Cloud region"},
		{"bad instance", Config{InstanceID: "cmgo a\x1b[2J", Region: "ap-guangzhou", Credentials: cred}, "does not look like cmgo-xxxxxxxx"},
		{"no credentials", Config{InstanceID: "cmgo-a", Region: "ap-guangzhou"}, "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"},
		{"bad scheme", Config{Region: "ap-guangzhou", Credentials: cred, Endpoint: "ftp://x"}, "scheme must be http or https"},
		{"endpoint path", Config{Region: "ap-guangzhou", Credentials: cred, Endpoint: "https://x/api"}, "use host[:port]"},
		{"plain http to another host", Config{Region: "ap-guangzhou", Credentials: cred, Endpoint: "http://mongodb.tencentcloudapi.com"}, "use https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.errWant) || strings.Contains(err.Error(), "\x1b") {
				t.Fatalf("err = %v, want %q", err, tc.errWant)
			}
		})
	}
	t.Setenv(EnvRegion, "ap-shanghai")
	src, err := New(Config{Credentials: cred, Endpoint: "mongodb.ap-shanghai.tencentcloudapi.com"})
	if err != nil || src.region != "ap-shanghai" {
		t.Fatalf("region from env: %v %v", src, err)
	}
	if _, err := src.Snapshot(context.Background(), source.Query{}); err == nil || !strings.Contains(err.Error(), "--instance") {
		t.Errorf("snapshot without instance: %v", err)
	}
	for ep, want := range map[string][2]string{
		"":                                 {"HTTPS", ""},
		"mongodb.intl.tencentcloudapi.com": {"HTTPS", "mongodb.intl.tencentcloudapi.com"},
		"http://127.0.0.1:8080":            {"HTTP", "127.0.0.1:8080"},
		"http://localhost:8080":            {"HTTP", "localhost:8080"},
		"http://[::1]:8080":                {"HTTP", "[::1]:8080"},
		"HTTPS://h:443/":                   {"HTTPS", "h:443"},
	} {
		s, h, err := parseEndpoint(ep)
		if err != nil || s != want[0] || h != want[1] {
			t.Errorf("parseEndpoint(%q) = %s %s %v", ep, s, h, err)
		}
	}
}

func TestList(t *testing.T) {
	var extra []string
	for i := range 150 {
		extra = append(extra, fmt.Sprintf("cmgo-x%07d", i))
	}
	e := newEnv(t, demoBackend(), tencentapi.Options{ExtraInstances: extra})
	list, err := e.src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 151 || e.emu.Requests(tencentapi.ActionDescribeDBInstances) != 2 {
		t.Fatalf("%d instances in %d requests, want 151 in 2 pages", len(list), e.emu.Requests(tencentapi.ActionDescribeDBInstances))
	}
	want := source.Instance{ID: "cmgo-demo0001", Name: "currentop-demo", Region: "ap-guangzhou", Version: "8.0",
		Type: "replica set", Status: "running", Nodes: []string{"cmgo-demo0001_0"}}
	if fmt.Sprint(list[0]) != fmt.Sprint(want) {
		t.Errorf("first = %+v, want %+v", list[0], want)
	}
	// Listing needs no instance.
	src, _ := New(Config{Region: "ap-guangzhou", Endpoint: e.url, Credentials: Credentials{SecretID: tencentapi.DemoSecretID, SecretKey: tencentapi.DemoSecretKey}})
	if l, err := src.List(context.Background()); err != nil || len(l) != 151 {
		t.Errorf("list without instance: %d, %v", len(l), err)
	}
}

// recorder captures what the SDK sends, answering like the API.
type recorder struct {
	reqs   []*http.Request
	bodies [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(req.Body)
	r.reqs = append(r.reqs, req)
	r.bodies = append(r.bodies, b)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"Response":{"TotalCount":0,"CurrentOps":[],"RequestId":"r"}}`)), Request: req}, nil
}

// The SDK's TC3 signature equals the emulator's independent implementation (itself checked
// against Tencent's published example), for the request the SDK actually sent.
func TestSDKSignatureMatchesReference(t *testing.T) {
	src, err := New(Config{InstanceID: "cmgo-p8vnipr5", Region: "ap-guangzhou", Endpoint: "http://127.0.0.1:18080",
		Credentials: Credentials{SecretID: "AKIDEXAMPLE", SecretKey: "example-key", Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	src.client.WithHttpTransport(rec)
	ms := uint64(1000)
	if _, _, err := src.currentOps(context.Background(), nil, pushed{ms: &ms}, 100); err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 1 {
		t.Fatalf("%d requests", len(rec.reqs))
	}
	got, body := rec.reqs[0], rec.bodies[0]
	for k, want := range map[string]string{"X-TC-Action": "DescribeCurrentOp", "X-TC-Version": "2019-07-25",
		"X-TC-Region": "ap-guangzhou", "X-TC-Language": "en-US", "X-TC-Token": "tok", "Content-Type": "application/json"} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if got.Host != "127.0.0.1:18080" || got.URL.Path != "/" || got.Method != "POST" {
		t.Errorf("request %s %s%s", got.Method, got.Host, got.URL.Path)
	}
	var params map[string]any
	if err := json.Unmarshal(body, &params); err != nil {
		t.Fatal(err)
	}
	if params["InstanceId"] != "cmgo-p8vnipr5" || params["MillisecondRunning"] != 1000.0 || params["Limit"] != 100.0 ||
		params["OrderBy"] != "MicrosecsRunning" || params["OrderByType"] != "DESC" || len(params) != 6 {
		t.Errorf("body = %s", body)
	}
	unix, err := strconv.ParseInt(got.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(unix, 0)).Abs() > time.Minute {
		t.Fatalf("X-TC-Timestamp %q", got.Header.Get("X-TC-Timestamp"))
	}
	ref, _ := http.NewRequest("POST", "http://127.0.0.1:18080/", bytes.NewReader(body))
	ref.Header.Set("Content-Type", "application/json")
	tencentapi.SignRequest(ref, body, "AKIDEXAMPLE", "example-key", time.Unix(unix, 0))
	if a, b := got.Header.Get("Authorization"), ref.Header.Get("Authorization"); a != b || a == "" {
		t.Errorf("SDK Authorization\n %s\nreference\n %s", a, b)
	}
}
