package huaweiapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/deployment"
	"github.com/currentop/currentop/source/huawei"
)

type fake struct {
	mu       sync.Mutex
	sessions []deployment.Op
	clients  []deployment.Client
	killed   []string
}

func (f *fake) Read(ctx context.Context) (*deployment.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &deployment.State{Server: deployment.Server{Version: "7.0.16"}, Ops: slices.Clone(f.sessions), Clients: slices.Clone(f.clients)}, nil
}

func (f *fake) Kill(ctx context.Context, t []deployment.Op) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]error, len(t))
	for _, s := range t {
		f.killed = append(f.killed, s.ID)
	}
	return out
}

// viewOnly has no Kill.
type viewOnly struct{ f *fake }

func (v viewOnly) Read(ctx context.Context) (*deployment.State, error) { return v.f.Read(ctx) }

func newFake() *fake {
	return &fake{
		sessions: []deployment.Op{
			{ID: "11", Active: true, Kind: "query", NS: "shop.orders", RunningUS: 5_000_000, PlanSummary: "COLLSCAN",
				Client: "10.0.0.1:5000", Host: "rs0-a:27017", Desc: "conn11", User: "app@admin", Command: json.RawMessage(`{"find":"orders","$db":"shop"}`)},
			{ID: "12", Active: true, Kind: "update", NS: "shop.carts", RunningUS: 200, Client: "10.0.0.2:5000", Desc: "conn12", Command: json.RawMessage(`{"update":"carts"}`)},
			{ID: "13", Active: false, Client: "10.0.0.2:5001", Desc: "conn13"},
		},
		clients: []deployment.Client{{IP: "10.0.0.1", Count: 3}, {IP: "10.0.0.2", Count: 2}, {IP: "192.168.0.12", Count: 7, Internal: true}},
	}
}

const (
	testAK = "TESTAKEMULATOR000001"
	testSK = "test-emulator-secret-key-0001"
	testTk = "test-emulator-token"
)

func newEmu(f deployment.Deployment, mod func(*Options)) *Emulator {
	o := Options{AK: testAK, SK: testSK, Token: testTk, Rate: -1}
	if mod != nil {
		mod(&o)
	}
	return New(f, o)
}

// do sends a request to h, signed with source/huawei's signer unless auth says otherwise:
// "sign", "token", "none", or a func that tampers with the signed request.
func do(t *testing.T, h http.Handler, method, path string, query url.Values, body string, auth any) (int, map[string]any) {
	t.Helper()
	u := "http://127.0.0.1:9999" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, u, rd)
	req.Header.Set("X-Project-Id", DemoProjectID)
	switch a := auth.(type) {
	case string:
		switch a {
		case "sign":
			huawei.Sign(req, []byte(body), testAK, testSK, time.Now())
		case "token":
			req.Header.Set("X-Auth-Token", testTk)
		}
	case func(*http.Request):
		huawei.Sign(req, []byte(body), testAK, testSK, time.Now())
		a(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if rec.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	return rec.Code, out
}

var sessionsPath = "/v3/" + DemoProjectID + "/nodes/" + DemoNode + "/sessions"

func TestAuthentication(t *testing.T) {
	emu := newEmu(newFake(), nil)
	tests := []struct {
		name string
		auth any
		want int
	}{
		{"signed", "sign", 200},
		{"token", "token", 200},
		{"nothing", "none", 401},
		{"wrong token", func(r *http.Request) { r.Header.Del("Authorization"); r.Header.Set("X-Auth-Token", "nope") }, 401},
		{"tampered query", func(r *http.Request) { r.URL.RawQuery = "limit=5" }, 401},
		{"tampered path", func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, DemoNode, "other", 1) }, 401},
		{"tampered host", func(r *http.Request) { r.Host = "evil.example.com" }, 401},
		{"tampered date", func(r *http.Request) {
			r.Header.Set("X-Sdk-Date", time.Now().Add(time.Minute).UTC().Format("20060102T150405Z"))
		}, 401},
		{"stale date", func(r *http.Request) {
			huawei.Sign(r, nil, testAK, testSK, time.Now().Add(-time.Hour))
		}, 401},
		{"wrong secret", func(r *http.Request) { huawei.Sign(r, nil, testAK, "wrong", time.Now()) }, 401},
		{"unknown AK", func(r *http.Request) { huawei.Sign(r, nil, "OTHERAK", testSK, time.Now()) }, 401},
		{"other algorithm", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "AWS4-HMAC-SHA256", 1))
		}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, emu, "GET", sessionsPath, url.Values{"limit": {"20"}, "namespace": {"my db/x"}}, "", tt.auth)
			if code != tt.want {
				t.Fatalf("HTTP %d %v, want %d", code, body, tt.want)
			}
			if code == 401 && body["error_code"] != "APIGW.0301" {
				t.Errorf("body = %v", body)
			}
		})
	}
	// A signed body that is changed in transit.
	req := httptest.NewRequest("POST", "http://127.0.0.1:9999/v3/"+DemoProjectID+"/nodes/"+DemoNode+"/session", strings.NewReader(`{"sessions":["12"]}`))
	huawei.Sign(req, []byte(`{"sessions":["11"]}`), testAK, testSK, time.Now())
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("tampered body: HTTP %d", rec.Code)
	}
	// Tokens are refused when the emulator has none.
	noTok := newEmu(newFake(), func(o *Options) { o.Token = "" })
	if code, _ := do(t, noTok, "GET", sessionsPath, nil, "", func(r *http.Request) {
		r.Header.Del("Authorization")
		r.Header.Set("X-Auth-Token", "")
	}); code != 401 {
		t.Errorf("empty token: HTTP %d", code)
	}
}

func TestListSessions(t *testing.T) {
	f := newFake()
	emu := newEmu(f, nil)
	code, body := do(t, emu, "GET", sessionsPath, url.Values{"offset": {"0"}, "limit": {"20"}}, "", "sign")
	if code != 200 || body["total_count"] != float64(3) {
		t.Fatalf("HTTP %d %v", code, body)
	}
	ss := body["sessions"].([]any)
	first := ss[0].(map[string]any)
	want := map[string]any{"id": "11", "active": true, "operation": `{"find":"orders","$db":"shop"}`, "type": "query",
		"cost_time": "5000000", "plan_summary": "COLLSCAN", "host": "rs0-a:27017", "client": "10.0.0.1:5000",
		"description": "conn11", "namespace": "shop.orders", "db": "shop", "user": "app"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("%s = %#v, want %#v", k, first[k], v)
		}
	}
	idle := ss[2].(map[string]any)
	if idle["cost_time"] != "" || idle["type"] != "none" || idle["active"] != false || idle["host"] != "192.168.0.11:8635" {
		t.Errorf("idle session = %v", idle)
	}

	tests := []struct {
		name  string
		query url.Values
		code  int
		ids   string
	}{
		{"default limit 10", nil, 200, "11,12,13"},
		{"page", url.Values{"offset": {"1"}, "limit": {"1"}}, 200, "12"},
		{"past the end", url.Values{"offset": {"9"}, "limit": {"5"}}, 200, ""},
		{"limit above 20", url.Values{"limit": {"21"}}, 400, ""},
		{"limit 100 (newer docs) refused here", url.Values{"limit": {"100"}}, 400, ""},
		{"limit 0", url.Values{"limit": {"0"}}, 400, ""},
		{"negative offset", url.Values{"offset": {"-1"}}, 400, ""},
		{"bad cost_time", url.Values{"cost_time": {"soon"}}, 400, ""},
		{"type", url.Values{"type": {"update"}}, 200, "12"},
		{"namespace", url.Values{"namespace": {"shop.orders"}}, 200, "11"},
		{"plan_summary", url.Values{"plan_summary": {"COLLSCAN"}}, 200, "11"},
		{"empty plan_summary matches an empty plan", url.Values{"plan_summary": {""}}, 200, "12,13"},
		{"empty cost_time matches idle sessions", url.Values{"cost_time": {""}}, 200, "13"},
		{"cost_time is strictly greater", url.Values{"cost_time": {"200"}}, 200, "11"},
		{"cost_time below", url.Values{"cost_time": {"199"}}, 200, "11,12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, emu, "GET", sessionsPath, tt.query, "", "sign")
			if code != tt.code {
				t.Fatalf("HTTP %d %v, want %d", code, body, tt.code)
			}
			if code != 200 {
				if body["error_code"] != "DBS.200001" {
					t.Errorf("error body = %v", body)
				}
				return
			}
			var got []string
			for _, s := range body["sessions"].([]any) {
				got = append(got, s.(map[string]any)["id"].(string))
			}
			if strings.Join(got, ",") != tt.ids {
				t.Errorf("ids = %v, want %s", got, tt.ids)
			}
		})
	}

	if code, body := do(t, emu, "GET", "/v3/"+DemoProjectID+"/nodes/nosuch/sessions", nil, "", "sign"); code != 404 || body["error_code"] != "DBS.200002" {
		t.Errorf("unknown node: %d %v", code, body)
	}
	if code, body := do(t, emu, "GET", "/v3/otherproject/nodes/"+DemoNode+"/sessions", nil, "", "sign"); code != 403 || body["error_code"] != "DBS.200010" {
		t.Errorf("other project: %d %v", code, body)
	}
	if code, body := do(t, emu, "GET", "/v3/"+DemoProjectID+"/nodes/"+DemoNode+"/sessionz", nil, "", "sign"); code != 404 || body["error_code"] != "APIGW.0101" {
		t.Errorf("unknown API: %d %v", code, body)
	}
}

func TestThrottle(t *testing.T) {
	emu := newEmu(newFake(), func(o *Options) { o.Rate, o.Burst = 0.001, 2 })
	var codes []int
	for range 4 {
		code, body := do(t, emu, "GET", sessionsPath, nil, "", "sign")
		codes = append(codes, code)
		if code == 429 && body["error_code"] != "APIGW.0308" {
			t.Errorf("429 body = %v", body)
		}
	}
	if fmt.Sprint(codes) != "[200 200 429 429]" {
		t.Errorf("codes = %v", codes)
	}
	// Other actions have their own budget.
	if code, _ := do(t, emu, "GET", "/v3/"+DemoProjectID+"/instances", nil, "", "sign"); code != 200 {
		t.Errorf("ListInstances throttled by ListSessions' budget: %d", code)
	}
	if emu.Calls("ListSessions") != 4 {
		t.Errorf("calls = %d", emu.Calls("ListSessions"))
	}
}

func TestDeleteSession(t *testing.T) {
	path := "/v3/" + DemoProjectID + "/nodes/" + DemoNode + "/session"
	f := newFake()
	emu := newEmu(f, nil)
	tests := []struct {
		body string
		code int
		err  string
	}{
		{`{"sessions":["13"]}`, 400, "DBS.200004"}, // idle
		{`{"sessions":[]}`, 400, "DBS.200001"},
		{`not json`, 400, "DBS.200001"},
		{`{"sessions":["999"]}`, 200, ""}, // already gone: nothing to do
		{`{"sessions":["11","12"]}`, 200, ""},
	}
	for _, tt := range tests {
		code, body := do(t, emu, "POST", path, nil, tt.body, "sign")
		if code != tt.code || (tt.err != "" && body["error_code"] != tt.err) {
			t.Errorf("%s: HTTP %d %v, want %d %s", tt.body, code, body, tt.code, tt.err)
		}
	}
	if strings.Join(f.killed, ",") != "11,12" {
		t.Errorf("killed %v", f.killed)
	}
	ro := newEmu(viewOnly{newFake()}, nil)
	if code, body := do(t, ro, "POST", path, nil, `{"sessions":["11"]}`, "sign"); code != 400 || body["error_code"] != "DBS.200004" {
		t.Errorf("backend without Kill: %d %v", code, body)
	}
}

func TestConnectionStatistics(t *testing.T) {
	f := newFake()
	for i := range 250 {
		f.clients = append(f.clients, deployment.Client{IP: fmt.Sprintf("10.9.%d.%d", i/250, i%250), Count: 1})
	}
	emu := newEmu(f, nil)
	code, body := do(t, emu, "GET", "/v3/"+DemoProjectID+"/instances/"+DemoInstance+"/conn-statistics", nil, "", "token")
	if code != 200 {
		t.Fatalf("HTTP %d %v", code, body)
	}
	outer := body["outer_connections"].([]any)
	inner := body["inner_connections"].([]any)
	if len(outer) != 200 || len(inner) != 1 {
		t.Errorf("%d outer, %d inner entries; want 200 (the cap) and 1", len(outer), len(inner))
	}
	if body["total_outer_connections"] != float64(255) || body["total_inner_connections"] != float64(7) || body["total_connections"] != float64(262) {
		t.Errorf("totals = %v %v %v", body["total_outer_connections"], body["total_inner_connections"], body["total_connections"])
	}
	if top := outer[0].(map[string]any); top["client_ip"] != "10.0.0.1" || top["count"] != float64(3) {
		t.Errorf("largest first: %v", top)
	}
	if code, body := do(t, emu, "GET", "/v3/"+DemoProjectID+"/instances/other/conn-statistics", nil, "", "token"); code != 404 || body["error_code"] != "DBS.200002" {
		t.Errorf("unknown instance: %d %v", code, body)
	}
}

func TestListInstancesAndStart(t *testing.T) {
	emu := newEmu(newFake(), nil)
	base, err := emu.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	req, _ := http.NewRequest("GET", base+"/v3/"+DemoProjectID+"/instances?id="+DemoInstance, nil)
	huawei.Sign(req, nil, testAK, testSK, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		TotalCount int `json:"total_count"`
		Instances  []struct {
			ID, Mode  string
			Datastore struct{ Version string }
			Groups    []struct {
				Type  string
				Nodes []struct{ ID, Role string }
			}
		}
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP %d %s", resp.StatusCode, data)
	}
	if body.TotalCount != 1 || body.Instances[0].ID != DemoInstance || body.Instances[0].Mode != "ReplicaSet" ||
		body.Instances[0].Datastore.Version != "7.0" || body.Instances[0].Groups[0].Nodes[0].ID != DemoNode ||
		body.Instances[0].Groups[0].Nodes[0].Role != "Primary" {
		t.Errorf("instances = %s", data)
	}
	code, out := do(t, emu, "GET", "/v3/"+DemoProjectID+"/instances", url.Values{"id": {"other"}}, "", "sign")
	if code != 200 || out["total_count"] != float64(0) || !bytes.Contains(must(json.Marshal(out["instances"])), []byte("[]")) {
		t.Errorf("no match: %d %v", code, out)
	}
}

func must(b []byte, _ error) []byte { return b }
