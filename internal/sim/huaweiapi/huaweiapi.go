// Package huaweiapi emulates the Huawei Cloud DDS API v3 calls currentop uses — ListSessions,
// DeleteSession, ShowConnectionStatistics and ListInstances — over HTTP, serving the sessions
// and clients of a simulated deployment (a deployment.Deployment, normally the direct source
// on sim/mongod with its workload). It checks SDK-HMAC-SHA256 signatures or IAM tokens, enforces
// the page limit and throttles like the API Gateway (HTTP 429, APIGW.0308). It exists for
// tests and `currentop --demo --source huawei`; it is not a general DDS implementation.
package huaweiapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/currentop/currentop/internal/sim/deployment"
)

// Demo credentials and IDs for `currentop --demo --source huawei`. They open nothing real.
const (
	DemoAK        = "DEMOAKCURRENTOP00001"
	DemoSK        = "demoSKcurrentopNotARealSecret0000000001"
	DemoToken     = "demo-iam-token-currentop"
	DemoProjectID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	DemoInstance  = "c0ffee0d15c0494da2ed3b1e6a00demoin02"
	DemoNode      = "c0ffee0d15c0494da2ed3b1e6a00demono02"
)

// Options configure an Emulator. Zero values take the defaults given.
type Options struct {
	// AK/SK is the accepted access key; Token the accepted IAM token ("" accepts none).
	AK, SK, Token string
	ProjectID     string // default DemoProjectID
	InstanceID    string // default DemoInstance
	InstanceName  string // default "currentop-demo"
	Region        string // default "cn-north-4"
	// Mode is "ReplicaSet" (default), "Sharding" or "Single".
	Mode string
	// Nodes of the instance; default one Primary (DemoNode for DemoInstance) served by the backend.
	Nodes []Node
	// MaxLimit is the largest ListSessions page (default 20, the documented range [1, 20]).
	MaxLimit int
	// Rate is requests per second per action before HTTP 429 (default 50); negative: no limit.
	Rate  float64
	Burst int // default max(1, Rate)
	// MaxSkew is the accepted X-Sdk-Date clock difference (default 15 minutes).
	MaxSkew time.Duration
	// CacheTTL reuses a backend snapshot for the pages after the first of a listing, and for
	// connection statistics and instance details (default 2 s).
	CacheTTL time.Duration
	// Now is the emulator's clock (default time.Now): the signature's date, the rate limits
	// and the cache follow it.
	Now func() time.Time
}

// Node is one node of the emulated instance.
type Node struct {
	ID, Name  string
	Role      string // "master" (mongos), "Primary", "Secondary", "Hidden"
	Group     string // "mongos", "shard", "config", "replica", "single"
	PrivateIP string
	// Backend serves the node's sessions and clients; nil means the node does not serve
	// sessions (ListSessions answers DBS.200001 as the API does for e.g. a shard node).
	Backend deployment.Deployment
}

// Emulator is an http.Handler emulating the DDS API for one project and instance.
type Emulator struct {
	opts     Options
	limiters map[string]*rate.Limiter
	calls    sync.Map // action → *atomic.Int64

	mu    sync.Mutex
	cache map[deployment.Deployment]cached

	srv *http.Server
}

type cached struct {
	snap *deployment.State
	at   time.Time
}

// New returns an emulator serving backend as the instance's node(s).
func New(backend deployment.Deployment, opts Options) *Emulator {
	if opts.ProjectID == "" {
		opts.ProjectID = DemoProjectID
	}
	if opts.InstanceID == "" {
		opts.InstanceID = DemoInstance
	}
	if opts.InstanceName == "" {
		opts.InstanceName = "currentop-demo"
	}
	if opts.Region == "" {
		opts.Region = "cn-north-4"
	}
	if opts.Mode == "" {
		opts.Mode = "ReplicaSet"
	}
	if opts.MaxLimit <= 0 {
		opts.MaxLimit = 20
	}
	if opts.Rate == 0 {
		opts.Rate = 50
	}
	if opts.Burst <= 0 {
		opts.Burst = max(1, int(opts.Rate))
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 15 * time.Minute
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 2 * time.Second
	}
	if len(opts.Nodes) == 0 {
		id := DemoNode
		if opts.InstanceID != DemoInstance {
			id = strings.TrimSuffix(opts.InstanceID, "in02") + "no02"
		}
		group := "replica"
		if opts.Mode == "Single" {
			group = "single"
		}
		opts.Nodes = []Node{{ID: id, Name: opts.InstanceName + "_replica_node_1", Role: "Primary", Group: group,
			PrivateIP: "192.168.0.11", Backend: backend}}
	}
	e := &Emulator{opts: opts, limiters: map[string]*rate.Limiter{}, cache: map[deployment.Deployment]cached{}}
	for _, a := range []string{actionListSessions, actionDeleteSession, actionConnStats, actionListInstances} {
		lim := rate.Inf
		if opts.Rate > 0 {
			lim = rate.Limit(opts.Rate)
		}
		e.limiters[a] = rate.NewLimiter(lim, opts.Burst)
	}
	return e
}

const (
	actionListSessions  = "ListSessions"
	actionDeleteSession = "DeleteSession"
	actionConnStats     = "ShowConnectionStatistics"
	actionListInstances = "ListInstances"
)

// Start serves the emulator on a loopback port and returns its base URL.
func (e *Emulator) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("huaweiapi: listen: %w", err)
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go e.srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// Close stops a server started with Start.
func (e *Emulator) Close() error {
	if e.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return e.srv.Shutdown(ctx)
}

// NodeIDs lists the IDs of the emulated nodes.
func (e *Emulator) NodeIDs() []string {
	ids := make([]string, len(e.opts.Nodes))
	for i, n := range e.opts.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// Calls reports how many requests for action were received (authenticated or not).
func (e *Emulator) Calls(action string) int64 {
	if v, ok := e.calls.Load(action); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

func (e *Emulator) now() time.Time {
	if e.opts.Now != nil {
		return e.opts.Now()
	}
	return time.Now()
}

// ServeHTTP routes like the API Gateway: unknown API → 404 APIGW.0101, then authentication
// (401 APIGW.0301), then throttling (429 APIGW.0308), then the action.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", requestID())
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	action, project, id := route(r.Method, parts)
	if action == "" {
		writeError(w, http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment")
		return
	}
	c, _ := e.calls.LoadOrStore(action, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "APIGW.0201", "Request body could not be read")
		return
	}
	if why := e.authFailure(r, body); why != "" {
		writeError(w, http.StatusUnauthorized, "APIGW.0301", why)
		return
	}
	if !e.limiters[action].AllowN(e.now(), 1) {
		writeError(w, http.StatusTooManyRequests, "APIGW.0308",
			fmt.Sprintf("The throttling threshold has been reached: policy user over ratelimit,limit:%v,time:1 second", e.opts.Rate))
		return
	}
	if project != e.opts.ProjectID {
		writeError(w, http.StatusForbidden, "DBS.200010", "Authentication failed: the project does not own this resource")
		return
	}
	switch action {
	case actionListSessions:
		e.listSessions(w, r, id)
	case actionDeleteSession:
		e.deleteSession(w, r, id, body)
	case actionConnStats:
		e.connStats(w, r, id)
	case actionListInstances:
		e.listInstances(w, r)
	}
}

// route maps method and path to an action, the project ID and the node or instance ID.
func route(method string, p []string) (action, project, id string) {
	if len(p) < 3 || p[0] != "v3" {
		return "", "", ""
	}
	switch {
	case method == http.MethodGet && len(p) == 5 && p[2] == "nodes" && p[4] == "sessions":
		return actionListSessions, p[1], p[3]
	case method == http.MethodPost && len(p) == 5 && p[2] == "nodes" && p[4] == "session":
		return actionDeleteSession, p[1], p[3]
	case method == http.MethodGet && len(p) == 5 && p[2] == "instances" && p[4] == "conn-statistics":
		return actionConnStats, p[1], p[3]
	case method == http.MethodGet && len(p) == 3 && p[2] == "instances":
		return actionListInstances, p[1], ""
	}
	return "", "", ""
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (e *Emulator) node(id string) (Node, bool) {
	for _, n := range e.opts.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// snapshot returns the backend's view with everything included, reused for CacheTTL so that
// consecutive pages see one consistent list (fresh forces a new one).
func (e *Emulator) snapshot(ctx context.Context, b deployment.Deployment, fresh bool) (*deployment.State, error) {
	e.mu.Lock()
	c, ok := e.cache[b]
	e.mu.Unlock()
	if ok && !fresh && e.now().Sub(c.at) < e.opts.CacheTTL {
		return c.snap, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snap, err := b.Read(ctx)
	if err != nil {
		return nil, err
	}
	if snap == nil {
		return nil, errors.New("the deployment returned nothing")
	}
	e.mu.Lock()
	e.cache[b] = cached{snap: snap, at: e.now()}
	e.mu.Unlock()
	return snap, nil
}

// wireSession is QuerySessionResponse as the API renders it (see the seed): operation is the
// command as a JSON string, cost_time a string of microseconds.
type wireSession struct {
	ID          string `json:"id"`
	Active      bool   `json:"active"`
	Operation   string `json:"operation"`
	Type        string `json:"type"`
	CostTime    string `json:"cost_time"`
	PlanSummary string `json:"plan_summary"`
	Host        string `json:"host"`
	Client      string `json:"client"`
	Description string `json:"description"`
	Namespace   string `json:"namespace"`
	DB          string `json:"db,omitempty"`
	User        string `json:"user,omitempty"`
}

func render(s deployment.Op, n Node) wireSession {
	w := wireSession{
		ID:          s.ID,
		Active:      s.Active,
		Operation:   operationText(s),
		Type:        s.Kind,
		PlanSummary: s.PlanSummary,
		Host:        s.Host,
		Client:      s.Client,
		Description: s.Desc,
		Namespace:   s.NS,
	}
	if w.Type == "" {
		w.Type = "none"
	}
	if s.Active {
		w.CostTime = strconv.FormatInt(s.RunningUS, 10)
	}
	if w.Host == "" {
		w.Host = n.PrivateIP + ":8635"
	}
	if db, _, ok := strings.Cut(s.NS, "."); ok {
		w.DB = db
	}
	if user, _, ok := strings.Cut(s.User, "@"); ok {
		w.User = user
	} else {
		w.User = s.User
	}
	return w
}

func (e *Emulator) listSessions(w http.ResponseWriter, r *http.Request, nodeID string) {
	n, ok := e.node(nodeID)
	if !ok {
		writeError(w, http.StatusNotFound, "DBS.200002", "The instance or node does not exist or has been deleted")
		return
	}
	if n.Backend == nil {
		writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error: this node type does not support querying sessions")
		return
	}
	q := r.URL.Query()
	offset, ok1 := intParam(q.Get("offset"), 0)
	limit, ok2 := intParam(q.Get("limit"), 10)
	if !ok1 || !ok2 || offset < 0 || limit < 1 || limit > e.opts.MaxLimit {
		writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error")
		return
	}
	var costMin int64 = -1
	if q.Has("cost_time") && q.Get("cost_time") != "" {
		v, err := strconv.ParseInt(q.Get("cost_time"), 10, 32)
		if err != nil || v < 0 {
			writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error")
			return
		}
		costMin = v
	}
	// A listing from offset 0 sees the deployment now; later pages reuse that view so that
	// paging is consistent.
	snap, err := e.snapshot(r.Context(), n.Backend, offset == 0)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "DBS.200999", "Internal error: "+err.Error())
		return
	}
	var matched []wireSession
	for _, s := range snap.Ops {
		ws := render(s, n)
		if !matches(q, "plan_summary", ws.PlanSummary) || !matches(q, "type", ws.Type) || !matches(q, "namespace", ws.Namespace) {
			continue
		}
		if q.Has("cost_time") {
			// Documented: an empty cost_time matches sessions whose cost_time is empty;
			// otherwise sessions running longer than the value.
			if costMin < 0 && ws.CostTime != "" {
				continue
			}
			if costMin >= 0 && (ws.CostTime == "" || s.RunningUS <= costMin) {
				continue
			}
		}
		matched = append(matched, ws)
	}
	page := []wireSession{}
	if offset < len(matched) {
		page = matched[offset:min(offset+limit, len(matched))]
	}
	writeJSON(w, map[string]any{"total_count": len(matched), "sessions": page})
}

// matches applies one string filter: absent matches everything, present (even empty) is equality.
func matches(q map[string][]string, key, v string) bool {
	vals, present := q[key]
	if !present {
		return true
	}
	return len(vals) > 0 && vals[0] == v
}

func intParam(s string, def int) (int, bool) {
	if s == "" {
		return def, true
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

func (e *Emulator) deleteSession(w http.ResponseWriter, r *http.Request, nodeID string, body []byte) {
	n, ok := e.node(nodeID)
	if !ok {
		writeError(w, http.StatusNotFound, "DBS.200002", "The instance or node does not exist or has been deleted")
		return
	}
	var req struct {
		Sessions []string `json:"sessions"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Sessions) == 0 {
		writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error")
		return
	}
	if n.Backend == nil {
		writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error: this node type does not support killing sessions")
		return
	}
	killer, ok := n.Backend.(deployment.Killer)
	if !ok {
		writeError(w, http.StatusBadRequest, "DBS.200004", "Operation is illegal: killing sessions is not supported on this instance")
		return
	}
	snap, err := e.snapshot(r.Context(), n.Backend, true)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "DBS.200999", "Internal error: "+err.Error())
		return
	}
	byID := map[string]deployment.Op{}
	for _, s := range snap.Ops {
		byID[s.ID] = s
	}
	var targets []deployment.Op
	for _, id := range req.Sessions {
		s, ok := byID[id]
		if !ok {
			continue // already ended: nothing to do, as for a repeated kill
		}
		if !s.Active {
			writeError(w, http.StatusBadRequest, "DBS.200004", "Operation is illegal: inactive sessions cannot be terminated")
			return
		}
		targets = append(targets, s)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	for _, err := range killer.Kill(ctx, targets) {
		if err != nil {
			writeError(w, http.StatusBadRequest, "DBS.200004", "Operation is illegal: the session could not be terminated: "+err.Error())
			return
		}
	}
	e.mu.Lock()
	delete(e.cache, n.Backend)
	e.mu.Unlock()
	writeJSON(w, struct{}{})
}

type connCount struct {
	ClientIP string `json:"client_ip"`
	Count    int    `json:"count"`
}

func (e *Emulator) connStats(w http.ResponseWriter, r *http.Request, instanceID string) {
	if instanceID != e.opts.InstanceID {
		writeError(w, http.StatusNotFound, "DBS.200002", "The instance does not exist or has been deleted")
		return
	}
	var backends []deployment.Deployment
	if nodeID := r.URL.Query().Get("node_id"); nodeID != "" {
		n, ok := e.node(nodeID)
		if !ok {
			writeError(w, http.StatusNotFound, "DBS.200002", "The instance or node does not exist or has been deleted")
			return
		}
		if n.Backend != nil {
			backends = append(backends, n.Backend)
		}
	} else {
		for _, n := range e.opts.Nodes {
			if n.Backend != nil && !slices.Contains(backends, n.Backend) {
				backends = append(backends, n.Backend)
			}
		}
	}
	inner, outer := map[string]int{}, map[string]int{}
	for _, b := range backends {
		snap, err := e.snapshot(r.Context(), b, false)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "DBS.200999", "Internal error: "+err.Error())
			return
		}
		for _, c := range snap.Clients {
			if c.Internal {
				inner[c.IP] += c.Count
			} else {
				outer[c.IP] += c.Count
			}
		}
	}
	in, inTotal := top200(inner)
	out, outTotal := top200(outer)
	writeJSON(w, map[string]any{
		"total_connections":       inTotal + outTotal,
		"total_inner_connections": inTotal,
		"total_outer_connections": outTotal,
		"inner_connections":       in,
		"outer_connections":       out,
	})
}

// top200 lists at most 200 IPs, most connections first, as the API does; total counts all.
func top200(m map[string]int) ([]connCount, int) {
	list := make([]connCount, 0, len(m))
	total := 0
	for ip, n := range m {
		list = append(list, connCount{ip, n})
		total += n
	}
	slices.SortFunc(list, func(a, b connCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.ClientIP, b.ClientIP)
	})
	if len(list) > 200 {
		list = list[:200]
	}
	return list, total
}

func (e *Emulator) listInstances(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, ok1 := intParam(q.Get("offset"), 0)
	limit, ok2 := intParam(q.Get("limit"), 100)
	if !ok1 || !ok2 || offset < 0 || limit < 1 || limit > 100 {
		writeError(w, http.StatusBadRequest, "DBS.200001", "Parameter Error")
		return
	}
	insts := []any{}
	if id := q.Get("id"); (id == "" || id == e.opts.InstanceID) && offset == 0 {
		insts = append(insts, e.instance(r.Context()))
	}
	writeJSON(w, map[string]any{"instances": insts, "total_count": len(insts)})
}

// instance renders QueryInstanceResponse for the emulated instance.
func (e *Emulator) instance(ctx context.Context) map[string]any {
	version := ""
	for _, n := range e.opts.Nodes {
		if n.Backend == nil {
			continue
		}
		if snap, err := e.snapshot(ctx, n.Backend, false); err == nil {
			version = majorMinor(snap.Server.Version)
			break
		}
	}
	groups := map[string][]map[string]any{}
	var order []string
	for _, n := range e.opts.Nodes {
		g := n.Group
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], map[string]any{
			"id": n.ID, "name": n.Name, "status": "normal", "role": n.Role,
			"private_ip": n.PrivateIP, "public_ip": "", "spec_code": "dds.mongodb.s6.large.2.repset",
			"availability_zone": e.opts.Region + "a",
		})
	}
	var gl []map[string]any
	for _, g := range order {
		gl = append(gl, map[string]any{"type": g, "id": "", "name": "", "status": "normal", "nodes": groups[g]})
	}
	return map[string]any{
		"id": e.opts.InstanceID, "name": e.opts.InstanceName, "status": "normal", "port": "8635",
		"mode": e.opts.Mode, "region": e.opts.Region, "engine": "wiredTiger", "ssl": 1,
		"datastore": map[string]any{"type": "DDS-Community", "version": version, "patch_available": false},
		"groups":    gl,
	}
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}
