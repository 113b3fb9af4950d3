package tencentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/deployment"
)

type fakeSource struct {
	mu       sync.Mutex
	snap     deployment.State
	killed   []string
	killErr  error // what Kill answers for each op
	snapErr  error
	snapshot int
}

func (f *fakeSource) Read(ctx context.Context) (*deployment.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshot++
	if f.snapErr != nil {
		return nil, f.snapErr
	}
	s := f.snap
	s.Ops = slices.Clone(f.snap.Ops)
	s.Clients = slices.Clone(f.snap.Clients)
	return &s, nil
}

// killer is a fakeSource that can kill.
type killer struct{ *fakeSource }

func (k killer) Kill(ctx context.Context, targets []deployment.Op) []error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []error
	for _, t := range targets {
		k.killed = append(k.killed, t.ID)
		out = append(out, k.killErr)
	}
	return out
}

func newFake() *fakeSource {
	sess := func(id, op, ns string, ms int64, shard string) deployment.Op {
		return deployment.Op{ID: id, Active: true, Kind: op, NS: ns, RunningUS: ms * 1000,
			Host: "10.0.0.21:27017", Shard: shard, Command: json.RawMessage(`{"find":"c"}`)}
	}
	return &fakeSource{snap: deployment.State{
		Server:  deployment.Server{Version: "7.0.16", Kind: "mongos"},
		Clients: []deployment.Client{{IP: "10.0.0.1", Count: 3}, {IP: "10.0.0.2", Count: 7, Internal: true}, {IP: "10.0.0.3", Count: 0}},
		Ops: []deployment.Op{
			sess("shard01:9007199254740993", "query", "shop.orders", 3000, "shard01"),
			sess("shard02:12", "update", "shop.users", 100, "shard02"),
			sess("shard01:13", "insert", "shop.orders", 2000, "shard01"),
			{ID: "shard02:14", Shard: "shard02"},
		},
	}}
}

type harness struct {
	t    *testing.T
	emu  *Emulator
	srv  *httptest.Server
	now  time.Time
	skew time.Duration // of the client's clock
	id   string
	key  string
	reg  string
	hdrs map[string]string
}

func newHarness(t *testing.T, backend deployment.Deployment, opts Options) *harness {
	h := &harness{t: t, now: time.Unix(1795323225, 0), id: "AKIDtest0001", key: "test-key", reg: "ap-guangzhou"}
	opts.SecretID, opts.SecretKey = h.id, h.key
	if opts.Now == nil {
		opts.Now = func() time.Time { return h.now }
	}
	opts.InstanceID = "cmgo-p8vnipr5"
	h.emu = New(backend, opts)
	h.srv = httptest.NewServer(h.emu)
	t.Cleanup(h.srv.Close)
	return h
}

// call signs and sends one request; it returns the Response object.
func (h *harness) call(action string, params any) map[string]any {
	h.t.Helper()
	body, _ := json.Marshal(params)
	r, _ := http.NewRequest("POST", h.srv.URL+"/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", APIVersion)
	r.Header.Set("X-TC-Region", h.reg)
	for k, v := range h.hdrs {
		r.Header.Set(k, v)
	}
	r.Host = strings.TrimPrefix(h.srv.URL, "http://")
	SignRequest(r, body, h.id, h.key, h.now.Add(h.skew))
	if v, ok := h.hdrs["Authorization"]; ok {
		r.Header.Set("Authorization", v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		h.t.Fatalf("HTTP %d", resp.StatusCode)
	}
	var out struct{ Response map[string]any }
	d := json.NewDecoder(resp.Body)
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		h.t.Fatal(err)
	}
	if out.Response["RequestId"] == "" || out.Response["RequestId"] == nil {
		h.t.Errorf("no RequestId in %v", out.Response)
	}
	return out.Response
}

func errCode(resp map[string]any) string {
	e, _ := resp["Error"].(map[string]any)
	c, _ := e["Code"].(string)
	return c
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, newFake(), Options{Token: "tok"})
	ok := map[string]any{"InstanceId": "cmgo-p8vnipr5"}
	h.hdrs = map[string]string{"X-TC-Token": "tok"}
	if c := errCode(h.call(ActionDescribeCurrentOp, ok)); c != "" {
		t.Fatalf("valid request: %s", c)
	}
	for _, tc := range []struct {
		name string
		mut  func(h *harness)
		code string
	}{
		{"wrong key", func(h *harness) { h.key = "other" }, "AuthFailure.SignatureFailure"},
		{"unknown id", func(h *harness) { h.id = "AKIDnobody" }, "AuthFailure.SecretIdNotFound"},
		{"expired", func(h *harness) { h.skew = -6 * time.Minute }, "AuthFailure.SignatureExpire"},
		{"future", func(h *harness) { h.skew = 6 * time.Minute }, "AuthFailure.SignatureExpire"},
		{"no authorization", func(h *harness) { h.hdrs["Authorization"] = "" }, "AuthFailure.InvalidAuthorization"},
		{"v1 algorithm", func(h *harness) { h.hdrs["Authorization"] = "HmacSHA256 x" }, "AuthFailure.InvalidAuthorization"},
		{"token missing", func(h *harness) { delete(h.hdrs, "X-TC-Token") }, "AuthFailure.TokenFailure"},
		{"wrong version", func(h *harness) { h.hdrs["X-TC-Version"] = "2018-04-08" }, "NoSuchVersion"},
		{"unknown action", func(h *harness) { h.hdrs["X-TC-Action"] = "DropEverything" }, "InvalidAction"},
		{"no region", func(h *harness) { h.reg = "" }, "MissingParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newFake(), Options{Token: "tok"})
			h.hdrs = map[string]string{"X-TC-Token": "tok"}
			tc.mut(h)
			if c := errCode(h.call(ActionDescribeCurrentOp, ok)); c != tc.code {
				t.Errorf("code = %q, want %s", c, tc.code)
			}
			if h.emu.Requests(ActionDescribeCurrentOp) != 0 {
				t.Error("a rejected request was served")
			}
		})
	}
}

func TestParameterValidation(t *testing.T) {
	h := newHarness(t, killer{newFake()}, Options{})
	for _, tc := range []struct {
		action string
		params string
		code   string
	}{
		{ActionDescribeCurrentOp, `{}`, "MissingParameter"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-other"}`, "InvalidParameterValue.NotFoundInstance"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Bogus":1}`, "UnknownParameter"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Limit":"10"}`, "InvalidParameter"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Limit":-1}`, "InvalidParameter"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Limit":101}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Offset":10001}`, "InvalidParameterValue.QueryOutOfRange"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","Op":"find"}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","State":"arbiter"}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","MillisecondRunning":3600001}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","OrderBy":"Ns"}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","OrderByType":"UP"}`, "InvalidParameterValue"},
		{ActionDescribeCurrentOp, `{"InstanceId":"cmgo-p8vnipr5","ReplicaSetName":"cmgo-p8vnipr5_9"}`, "InvalidParameterValue.ReplicaNotFound"},
		{ActionDescribeClientConnections, `{"InstanceId":"cmgo-p8vnipr5","Limit":1001}`, "InvalidParameterValue"},
		{ActionDescribeClientConnections, `{"Limit":10}`, "MissingParameter"},
		{ActionDescribeDBInstances, `{"Limit":101}`, "InvalidParameterValue"},
		{ActionKillOps, `{"InstanceId":"cmgo-p8vnipr5"}`, "MissingParameter"},
		{ActionKillOps, `{"InstanceId":"cmgo-p8vnipr5","Operations":[{"ReplicaSetName":"cmgo-p8vnipr5_1"}]}`, "MissingParameter"},
		{ActionKillOps, `{"InstanceId":"cmgo-p8vnipr5","Operations":[{"ReplicaSetName":"nope","NodeName":"n","OpId":1}]}`, "InvalidParameterValue.ReplicaNotFound"},
		{ActionKillOps, `{"InstanceId":"cmgo-p8vnipr5","Operations":[{"ReplicaSetName":"cmgo-p8vnipr5_1","NodeName":"10.9.9.9:1","OpId":1}]}`, "InvalidParameterValue.NodeNotFoundInReplica"},
	} {
		if c := errCode(h.call(tc.action, json.RawMessage(tc.params))); c != tc.code {
			t.Errorf("%s %s: code %q, want %s", tc.action, tc.params, c, tc.code)
		}
	}
}

func TestDescribeCurrentOp(t *testing.T) {
	h := newHarness(t, newFake(), Options{})
	resp := h.call(ActionDescribeCurrentOp, map[string]any{"InstanceId": "cmgo-p8vnipr5", "OrderBy": "microsecsrunning", "OrderByType": "desc"})
	if c := errCode(resp); c != "" {
		t.Fatal(c)
	}
	ops := resp["CurrentOps"].([]any)
	if resp["TotalCount"] != json.Number("4") || len(ops) != 4 {
		t.Fatalf("response %v", resp)
	}
	first := ops[0].(map[string]any)
	if first["OpId"] != json.Number("9007199254740993") || first["ReplicaSetName"] != "cmgo-p8vnipr5_1" ||
		first["NodeName"] != "10.0.0.21:27017" || first["Op"] != "query" || first["MicrosecsRunning"] != json.Number("3000000") ||
		first["Query"] != `{"find":"c"}` || first["State"] != "primary" {
		t.Errorf("first op = %v", first)
	}
	if last := ops[3].(map[string]any); last["Op"] != "none" || last["ReplicaSetName"] != "cmgo-p8vnipr5_2" {
		t.Errorf("idle op = %v", last)
	}
	for _, tc := range []struct {
		params map[string]any
		want   []string
	}{
		{map[string]any{"Ns": "shop.orders"}, []string{"13", "9007199254740993"}}, // ASC by default
		{map[string]any{"MillisecondRunning": 2000}, []string{"9007199254740993"}},
		{map[string]any{"Op": "UPDATE"}, []string{"12"}},
		{map[string]any{"ReplicaSetName": "cmgo-p8vnipr5_2"}, []string{"14", "12"}},
		{map[string]any{"State": "secondary"}, nil},
		{map[string]any{"Limit": 2, "Offset": 1}, []string{"12", "13"}},
		{map[string]any{"Offset": 10000}, nil},
	} {
		tc.params["InstanceId"] = "cmgo-p8vnipr5"
		resp := h.call(ActionDescribeCurrentOp, tc.params)
		var got []string
		for _, o := range resp["CurrentOps"].([]any) {
			got = append(got, string(o.(map[string]any)["OpId"].(json.Number)))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%v: ops %v, want %v (%v)", tc.params, got, tc.want, errCode(resp))
		}
	}
}

func TestDescribeClientConnectionsPages(t *testing.T) {
	f := newFake()
	f.snap.Clients = nil
	for i := range 2500 {
		f.snap.Clients = append(f.snap.Clients, deployment.Client{IP: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Count: 1 + i%2, Internal: i%5 == 0})
	}
	h := newHarness(t, f, Options{RateLimits: map[string]int{ActionDescribeClientConnections: -1}})
	seen := map[string]bool{}
	for _, tc := range []struct {
		offset, n int
	}{{0, 1000}, {1000, 1000}, {2000, 500}, {3000, 0}} {
		resp := h.call(ActionDescribeClientConnections, map[string]any{"InstanceId": "cmgo-p8vnipr5", "Offset": tc.offset})
		clients := resp["Clients"].([]any)
		if resp["TotalCount"] != json.Number("2500") || len(clients) != tc.n {
			t.Fatalf("offset %d: total %v, %d clients", tc.offset, resp["TotalCount"], len(clients))
		}
		for _, c := range clients {
			m := c.(map[string]any)
			ip := m["IP"].(string)
			if seen[ip] {
				t.Errorf("%s on two pages", ip)
			}
			seen[ip] = true
			if _, ok := m["InternalService"].(bool); !ok {
				t.Errorf("InternalService missing: %v", m)
			}
		}
	}
	if len(seen) != 2500 {
		t.Errorf("%d distinct clients", len(seen))
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, newFake(), Options{})
	params := map[string]any{"InstanceId": "cmgo-p8vnipr5"}
	for i := range 5 {
		if c := errCode(h.call(ActionDescribeClientConnections, params)); c != "" {
			t.Fatalf("request %d: %s", i+1, c)
		}
	}
	if c := errCode(h.call(ActionDescribeClientConnections, params)); c != "RequestLimitExceeded" {
		t.Fatalf("6th request in one second: %q", c)
	}
	// Other actions have their own limit.
	if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != "" {
		t.Fatalf("DescribeCurrentOp: %s", c)
	}
	h.now = h.now.Add(time.Second)
	if c := errCode(h.call(ActionDescribeClientConnections, params)); c != "" {
		t.Fatalf("a second later: %s", c)
	}
	if h.emu.Throttled(ActionDescribeClientConnections) != 1 || h.emu.Requests(ActionDescribeClientConnections) != 6 {
		t.Errorf("throttled %d, served %d", h.emu.Throttled(ActionDescribeClientConnections), h.emu.Requests(ActionDescribeClientConnections))
	}
	for i := range 20 { // the first one is a second old now
		if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != "" {
			t.Fatalf("DescribeCurrentOp %d: %s", i+1, c)
		}
	}
	if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != "RequestLimitExceeded" {
		t.Fatalf("21st DescribeCurrentOp in one second: %q", c)
	}
}

func TestKillOps(t *testing.T) {
	f := newFake()
	h := newHarness(t, killer{f}, Options{})
	kill := func(rs string, id int64) map[string]any {
		return h.call(ActionKillOps, map[string]any{"InstanceId": "cmgo-p8vnipr5", "Operations": []map[string]any{
			{"ReplicaSetName": rs, "NodeName": "10.0.0.21:27017", "OpId": id}}})
	}
	if c := errCode(kill("cmgo-p8vnipr5_1", 9007199254740993)); c != "" {
		t.Fatal(c)
	}
	if !slices.Equal(f.killed, []string{"shard01:9007199254740993"}) {
		t.Errorf("killed %v", f.killed)
	}
	// 2^53 is not the op: nothing is killed, and that is not an error.
	if c := errCode(kill("cmgo-p8vnipr5_1", 9007199254740992)); c != "" || len(f.killed) != 1 {
		t.Errorf("kill of a missing op: %q, killed %v", c, f.killed)
	}
	// The right OpId on the wrong shard is not the op either.
	if c := errCode(kill("cmgo-p8vnipr5_2", 13)); c != "" || len(f.killed) != 1 {
		t.Errorf("kill on the wrong shard: %q, killed %v", c, f.killed)
	}
	f.killErr = errors.New("not permitted: not authorized")
	if c := errCode(kill("cmgo-p8vnipr5_2", 12)); c != "FailedOperation" {
		t.Errorf("backend refusal: %q", c)
	}
	h2 := newHarness(t, newFake(), Options{})
	resp := h2.call(ActionKillOps, map[string]any{"InstanceId": "cmgo-p8vnipr5", "Operations": []map[string]any{
		{"ReplicaSetName": "cmgo-p8vnipr5_2", "NodeName": "10.0.0.21:27017", "OpId": 12}}})
	if errCode(resp) != "FailedOperation" {
		t.Errorf("kill without a Killer backend: %v", resp)
	}
}

func TestDescribeDBInstances(t *testing.T) {
	h := newHarness(t, newFake(), Options{ExtraInstances: []string{"cmgo-a", "cmgo-b"}})
	resp := h.call(ActionDescribeDBInstances, map[string]any{"Limit": 2})
	list := resp["InstanceDetails"].([]any)
	if resp["TotalCount"] != json.Number("3") || len(list) != 2 {
		t.Fatalf("response %v", resp)
	}
	main := list[0].(map[string]any)
	if main["InstanceId"] != "cmgo-p8vnipr5" || main["MongoVersion"] != "MONGO_70_WT" || main["ClusterType"] != json.Number("1") {
		t.Errorf("instance = %v", main)
	}
	if sets := main["ReplicaSets"].([]any); len(sets) != 3 {
		t.Errorf("replica sets = %v", sets)
	}
	resp = h.call(ActionDescribeDBInstances, map[string]any{"InstanceIds": []string{"cmgo-b"}})
	if l := resp["InstanceDetails"].([]any); len(l) != 1 || l[0].(map[string]any)["InstanceId"] != "cmgo-b" {
		t.Errorf("by id: %v", resp)
	}
	h.reg = "ap-beijing"
	if resp := h.call(ActionDescribeDBInstances, map[string]any{}); resp["TotalCount"] != json.Number("0") {
		t.Errorf("other region: %v", resp)
	}
}

func TestBackendFailureAndInjectedErrors(t *testing.T) {
	f := newFake()
	h := newHarness(t, f, Options{})
	params := map[string]any{"InstanceId": "cmgo-p8vnipr5"}
	f.snapErr = fmt.Errorf("connection refused\x1b[2J")
	resp := h.call(ActionDescribeCurrentOp, params)
	if errCode(resp) != "InternalError" || strings.Contains(fmt.Sprint(resp), "\x1b") {
		t.Errorf("backend failure: %v", resp)
	}
	f.snapErr = nil
	h.emu.InjectError(ActionDescribeCurrentOp, "InternalError.DBError", "boom", 2)
	for i, want := range []string{"InternalError.DBError", "InternalError.DBError", ""} {
		if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != want {
			t.Errorf("call %d: %q, want %q", i, c, want)
		}
	}
	h.emu.InjectError(ActionDescribeCurrentOp, "RequestLimitExceeded", "x", -1)
	h.now = h.now.Add(time.Second)
	for range 3 {
		if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != "RequestLimitExceeded" {
			t.Errorf("forever injection stopped: %q", c)
		}
	}
	h.emu.ClearErrors()
	if c := errCode(h.call(ActionDescribeCurrentOp, params)); c != "" {
		t.Errorf("after ClearErrors: %q", c)
	}
}

func TestStart(t *testing.T) {
	e := New(newFake(), Options{})
	url, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || e.URL() != url {
		t.Errorf("url %q", url)
	}
	resp, err := http.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Post(url, "application/json", strings.NewReader("{}")); err == nil {
		t.Error("still serving after Close")
	}
}
