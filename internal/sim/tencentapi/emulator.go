// Package tencentapi emulates the Tencent Cloud MongoDB API (version 2019-07-25) over HTTP,
// for tests and `currentop --demo --source tencent`: DescribeClientConnections,
// DescribeCurrentOp, KillOps and DescribeDBInstances, with TC3-HMAC-SHA256 signature checks,
// the published per-action rate limits, paging and parameter validation as documented
// (shared/reference/cloud-apis.md §1). Its data comes from a deployment.Deployment standing
// for the database behind the instance; kills are forwarded when it is a deployment.Killer.
//
// It is a simulator, never pointed at real users' data.
package tencentapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/currentop/currentop/internal/sim/deployment"
)

// Demo credentials and instance for `currentop --demo --source tencent`. They only open this
// emulator.
const (
	DemoSecretID  = "AKIDcurrentopDEMO00000000000000000000"
	DemoSecretKey = "currentopDemoSecretKey0000000000"
	DemoInstance  = "cmgo-demo0001"
	DemoRegion    = "ap-guangzhou"
)

// APIVersion is the only version served.
const APIVersion = "2019-07-25"

// Action names.
const (
	ActionDescribeClientConnections = "DescribeClientConnections"
	ActionDescribeCurrentOp         = "DescribeCurrentOp"
	ActionKillOps                   = "KillOps"
	ActionDescribeDBInstances       = "DescribeDBInstances"
)

// PublishedLimits are the documented requests per second per action and account.
var PublishedLimits = map[string]int{
	ActionDescribeClientConnections: 5,
	ActionDescribeCurrentOp:         20,
	ActionKillOps:                   20,
	ActionDescribeDBInstances:       20,
}

// Options configure an Emulator. Zero values take the demo defaults.
type Options struct {
	SecretID, SecretKey string
	// Token, when set, must arrive in X-TC-Token (temporary credentials).
	Token string
	// Region the instance lives in (default ap-guangzhou).
	Region string
	// InstanceID of the emulated instance (default DemoInstance); InstanceName its name.
	InstanceID, InstanceName string
	// ExtraInstances are further instance IDs DescribeDBInstances lists (with no data).
	ExtraInstances []string
	// RateLimits overrides PublishedLimits per action; a negative value disables the limit.
	RateLimits map[string]int
	// MaxSkew is the accepted clock difference of X-TC-Timestamp (default 5 minutes).
	MaxSkew time.Duration
	// Now is the emulator's clock (default time.Now).
	Now func() time.Time
	// BackendTimeout bounds each call to the backend (default 5s).
	BackendTimeout time.Duration
}

// Emulator is an http.Handler serving the API. Start serves it on loopback.
type Emulator struct {
	backend deployment.Deployment
	opts    Options

	mu       sync.Mutex
	window   map[string][]time.Time // accepted requests per secret ID + action, last second
	inject   map[string][]injected
	counts   map[string]int
	throttle map[string]int
	last     map[string][]byte
	rsIndex  map[string]int // backend shard name → replica set number, assigned once
	reqSeq   uint64
	server   *http.Server
	listener net.Listener
	url      string
}

type injected struct {
	code, message string
	times         int // remaining; negative: forever
}

// New returns an emulator for backend.
func New(backend deployment.Deployment, opts Options) *Emulator {
	if opts.SecretID == "" && opts.SecretKey == "" {
		opts.SecretID, opts.SecretKey = DemoSecretID, DemoSecretKey
	}
	if opts.Region == "" {
		opts.Region = DemoRegion
	}
	if opts.InstanceID == "" {
		opts.InstanceID = DemoInstance
	}
	if opts.InstanceName == "" {
		opts.InstanceName = "currentop-demo"
	}
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BackendTimeout <= 0 {
		opts.BackendTimeout = 5 * time.Second
	}
	return &Emulator{
		backend:  backend,
		opts:     opts,
		window:   map[string][]time.Time{},
		inject:   map[string][]injected{},
		counts:   map[string]int{},
		throttle: map[string]int{},
		last:     map[string][]byte{},
		rsIndex:  map[string]int{"": 0}, // a replica set's operations carry no shard
	}
}

// Start serves the emulator on 127.0.0.1 (a free port) and returns its URL,
// e.g. "http://127.0.0.1:41234". Close stops it.
func (e *Emulator) Start() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.server != nil {
		return e.url, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("tencentapi: listen: %w", err)
	}
	e.listener = l
	e.server = &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	e.url = "http://" + l.Addr().String()
	go e.server.Serve(l)
	return e.url, nil
}

// URL is where Start serves, or "".
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.url
}

// Close stops the server Start started.
func (e *Emulator) Close() error {
	e.mu.Lock()
	srv := e.server
	e.server = nil
	e.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// InjectError makes the next times requests for action (after authentication and rate
// limiting) fail with code and message; times < 0 keeps failing until ClearErrors.
func (e *Emulator) InjectError(action, code, message string, times int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inject[action] = append(e.inject[action], injected{code, message, times})
}

// ClearErrors removes every injected error.
func (e *Emulator) ClearErrors() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inject = map[string][]injected{}
}

// Requests is how many requests for action passed authentication and rate limiting.
func (e *Emulator) Requests(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[action]
}

// LastRequest is the body of the last request for action that passed authentication and
// rate limiting, or nil.
func (e *Emulator) LastRequest(action string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last[action]
}

// Throttled is how many requests for action were refused with RequestLimitExceeded by the
// rate limit (injected errors not counted).
func (e *Emulator) Throttled(action string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.throttle[action]
}

// apiError is an error answer.
type apiError struct{ code, message string }

func (a *apiError) Error() string { return a.code + ": " + a.message }

func errf(code, format string, args ...any) *apiError {
	return &apiError{code, fmt.Sprintf(format, args...)}
}

const maxBody = 1 << 20

// ServeHTTP answers one API call. Errors are HTTP 200 with Response.Error, like the real API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := e.requestID()
	resp, aerr := e.serve(r)
	var body []byte
	if aerr != nil {
		body, _ = json.Marshal(map[string]any{"Response": map[string]any{
			"Error":     map[string]string{"Code": aerr.code, "Message": aerr.message},
			"RequestId": reqID,
		}})
	} else {
		resp["RequestId"] = reqID
		var err error
		body, err = json.Marshal(map[string]any{"Response": resp})
		if err != nil {
			body, _ = json.Marshal(map[string]any{"Response": map[string]any{
				"Error":     map[string]string{"Code": "InternalError", "Message": "encoding the response failed"},
				"RequestId": reqID,
			}})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-TC-RequestId", reqID)
	w.Write(body)
}

func (e *Emulator) requestID() string {
	e.mu.Lock()
	e.reqSeq++
	n := e.reqSeq
	e.mu.Unlock()
	return fmt.Sprintf("c0ffee00-%04x-4000-8000-%012x", n>>48&0xffff, n&0xffffffffffff)
}

func (e *Emulator) serve(r *http.Request) (map[string]any, *apiError) {
	if r.Method != http.MethodPost {
		return nil, errf("UnsupportedOperation", "this emulator accepts POST with a JSON body only")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errf("InvalidParameter", "reading the request body: %v", err)
	}
	if len(body) > maxBody {
		return nil, errf("RequestSizeLimitExceeded", "the request body exceeds %d bytes", maxBody)
	}
	action := r.Header.Get("X-TC-Action")
	if action == "" {
		return nil, errf("MissingParameter", "the request is missing the required parameter `Action`")
	}
	if _, ok := PublishedLimits[action]; !ok {
		return nil, errf("InvalidAction", "the action `%s` does not exist", clean(action))
	}
	if v := r.Header.Get("X-TC-Version"); v != APIVersion {
		return nil, errf("NoSuchVersion", "the version `%s` of action `%s` does not exist", clean(v), action)
	}
	if aerr := e.authenticate(r, body); aerr != nil {
		return nil, aerr
	}
	region := r.Header.Get("X-TC-Region")
	if region == "" && action != ActionDescribeClientConnections {
		return nil, errf("MissingParameter", "the request is missing the required parameter `Region`")
	}
	if aerr := e.admit(action); aerr != nil {
		return nil, aerr
	}
	e.mu.Lock()
	e.last[action] = body
	e.mu.Unlock()
	if aerr := e.injected(action); aerr != nil {
		return nil, aerr
	}
	ctx, cancel := context.WithTimeout(r.Context(), e.opts.BackendTimeout)
	defer cancel()
	switch action {
	case ActionDescribeClientConnections:
		return e.describeClientConnections(ctx, region, body)
	case ActionDescribeCurrentOp:
		return e.describeCurrentOp(ctx, region, body)
	case ActionKillOps:
		return e.killOps(ctx, region, body)
	default:
		return e.describeDBInstances(ctx, region, body)
	}
}

// authenticate checks the TC3-HMAC-SHA256 signature, in the real API's order: the header's
// shape, the secret ID, the timestamp, the signature, the token.
func (e *Emulator) authenticate(r *http.Request, body []byte) *apiError {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return errf("AuthFailure.InvalidAuthorization", "the Authorization header is not a valid TC3-HMAC-SHA256 authorization")
	}
	if a.secretID != e.opts.SecretID {
		return errf("AuthFailure.SecretIdNotFound", "the SecretId is not found, please ensure that your SecretId is correct")
	}
	tsText := r.Header.Get("X-TC-Timestamp")
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errf("InvalidParameterValue", "the X-TC-Timestamp header `%s` is not a Unix time", clean(tsText))
	}
	now := e.opts.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > e.opts.MaxSkew || d < -e.opts.MaxSkew {
		return errf("AuthFailure.SignatureExpire", "the signature expired: the request timestamp %d differs from the server time %d by more than %v", ts, now.Unix(), e.opts.MaxSkew)
	}
	var headers []header
	sawHost, sawType := false, false
	for _, name := range a.signedHeaders {
		name = strings.ToLower(strings.TrimSpace(name))
		var v string
		switch name {
		case "host":
			v, sawHost = r.Host, true
		case "content-type":
			v, sawType = r.Header.Get("Content-Type"), true
		default:
			v = r.Header.Get(name)
		}
		headers = append(headers, header{name, strings.ToLower(strings.TrimSpace(v))})
	}
	if !sawHost || !sawType {
		return errf("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host")
	}
	payloadHash := sha256Hex(body)
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payloadHash = sha256Hex([]byte("UNSIGNED-PAYLOAD"))
	}
	canonical, _ := canonicalRequest(r.Method, "", headers, payloadHash)
	sts, scope := stringToSign(ts, "mongodb", canonical)
	want := signature(e.opts.SecretKey, ts, "mongodb", sts)
	if a.date+"/"+a.service+"/tc3_request" != scope || !hmac.Equal([]byte(a.signature), []byte(want)) {
		return errf("AuthFailure.SignatureFailure", "the provided credentials could not be validated, please check your signature is correct")
	}
	if e.opts.Token != "" && r.Header.Get("X-TC-Token") != e.opts.Token {
		return errf("AuthFailure.TokenFailure", "the token is invalid or expired")
	}
	return nil
}

// admit applies the per-action limit over a sliding one-second window.
func (e *Emulator) admit(action string) *apiError {
	limit, ok := e.opts.RateLimits[action]
	if !ok {
		limit = PublishedLimits[action]
	}
	now := e.opts.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if limit >= 0 {
		key := e.opts.SecretID + "\x00" + action
		w := e.window[key]
		i := 0
		for i < len(w) && now.Sub(w[i]) >= time.Second {
			i++
		}
		w = w[i:]
		if len(w) >= limit {
			e.window[key] = w
			e.throttle[action]++
			return errf("RequestLimitExceeded", "your current request rate of %s exceeds the limit of %d per second", action, limit)
		}
		e.window[key] = append(w, now)
	}
	e.counts[action]++
	return nil
}

func (e *Emulator) injected(action string) *apiError {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.inject[action]
	if len(list) == 0 {
		return nil
	}
	in := &list[0]
	aerr := &apiError{in.code, in.message}
	if in.times > 0 {
		in.times--
		if in.times == 0 {
			e.inject[action] = list[1:]
		}
	}
	return aerr
}

// decode reads the action's parameters strictly: unknown names are UnknownParameter, wrong
// types InvalidParameter.
func decode(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return errf("InvalidParameter", "the value type of parameter `%s` is invalid", te.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errf("UnknownParameter", "the parameter `%s` is not recognized", clean(name))
		}
		return errf("InvalidParameter", "the request body is not a valid JSON object: %v", err)
	}
	return nil
}

// instanceFor validates InstanceId and the region.
func (e *Emulator) instanceFor(id *string, region string) *apiError {
	if id == nil || *id == "" {
		return errf("MissingParameter", "the request is missing the required parameter `InstanceId`")
	}
	if *id != e.opts.InstanceID || (region != "" && region != e.opts.Region) {
		return errf("InvalidParameterValue.NotFoundInstance", "the instance `%s` was not found", clean(*id))
	}
	return nil
}

func (e *Emulator) snapshot(ctx context.Context) (*deployment.State, *apiError) {
	snap, err := e.backend.Read(ctx)
	if err != nil {
		return nil, errf("InternalError", "the instance did not answer: %s", clean(err.Error()))
	}
	if snap == nil {
		return nil, errf("InternalError", "the instance returned nothing")
	}
	return snap, nil
}

// DescribeClientConnections.

type clientConnectionsRequest struct {
	InstanceId *string
	Limit      *uint64
	Offset     *uint64
}

type clientConnection struct {
	IP              string `json:"IP"`
	Count           uint64 `json:"Count"`
	InternalService bool   `json:"InternalService"`
}

func (e *Emulator) describeClientConnections(ctx context.Context, region string, body []byte) (map[string]any, *apiError) {
	var req clientConnectionsRequest
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if aerr := e.instanceFor(req.InstanceId, region); aerr != nil {
		return nil, aerr
	}
	limit, offset := uint64(1000), uint64(0)
	if req.Limit != nil && *req.Limit != 0 {
		if *req.Limit > 1000 {
			return nil, errf("InvalidParameterValue", "`Limit` must be between 1 and 1000")
		}
		limit = *req.Limit
	}
	if req.Offset != nil {
		offset = *req.Offset
	}
	snap, aerr := e.snapshot(ctx)
	if aerr != nil {
		return nil, aerr
	}
	rows := make([]clientConnection, 0, len(snap.Clients))
	for _, c := range snap.Clients {
		if c.Count <= 0 {
			continue
		}
		rows = append(rows, clientConnection{IP: c.IP, Count: uint64(c.Count), InternalService: c.Internal})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].IP < rows[j].IP
	})
	total := len(rows)
	return map[string]any{"Clients": page(rows, offset, limit), "TotalCount": total}, nil
}

func page[T any](rows []T, offset, limit uint64) []T {
	if offset >= uint64(len(rows)) {
		return []T{}
	}
	end := min(offset+limit, uint64(len(rows)))
	return rows[offset:end]
}

// DescribeCurrentOp.

type currentOpRequest struct {
	InstanceId         *string
	Ns                 *string
	MillisecondRunning *uint64
	Op                 *string
	ReplicaSetName     *string
	State              *string
	Limit              *uint64
	Offset             *uint64
	OrderBy            *string
	OrderByType        *string
}

// currentOp is the API's CurrentOp; OpId is an int64 written exactly.
type currentOp struct {
	OpId             int64  `json:"OpId"`
	Ns               string `json:"Ns"`
	Query            string `json:"Query"`
	Op               string `json:"Op"`
	ReplicaSetName   string `json:"ReplicaSetName"`
	NodeName         string `json:"NodeName"`
	Operation        string `json:"Operation"`
	State            string `json:"State"`
	MicrosecsRunning uint64 `json:"MicrosecsRunning"`
	ExecNode         string `json:"ExecNode"`

	op deployment.Op
}

var opVocabulary = []string{"none", "update", "insert", "query", "command", "getmore", "remove", "killcursors"}

func (e *Emulator) describeCurrentOp(ctx context.Context, region string, body []byte) (map[string]any, *apiError) {
	var req currentOpRequest
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if aerr := e.instanceFor(req.InstanceId, region); aerr != nil {
		return nil, aerr
	}
	limit, offset := uint64(100), uint64(0)
	if req.Limit != nil && *req.Limit != 0 {
		if *req.Limit > 100 {
			return nil, errf("InvalidParameterValue", "`Limit` must be between 0 and 100")
		}
		limit = *req.Limit
	}
	if req.Offset != nil {
		if *req.Offset > 10000 {
			return nil, errf("InvalidParameterValue.QueryOutOfRange", "`Offset` must be between 0 and 10000")
		}
		offset = *req.Offset
	}
	if req.MillisecondRunning != nil && *req.MillisecondRunning > 3600000 {
		return nil, errf("InvalidParameterValue", "`MillisecondRunning` must be between 0 and 3600000")
	}
	if req.Op != nil && *req.Op != "" && !containsFold(opVocabulary, *req.Op) {
		return nil, errf("InvalidParameterValue", "`Op` must be one of %s", strings.Join(opVocabulary, ", "))
	}
	if req.State != nil && *req.State != "" && !containsFold([]string{"primary", "secondary"}, *req.State) {
		return nil, errf("InvalidParameterValue", "`State` must be primary or secondary")
	}
	if req.OrderBy != nil && *req.OrderBy != "" && !strings.EqualFold(*req.OrderBy, "MicrosecsRunning") {
		return nil, errf("InvalidParameterValue", "`OrderBy` only supports MicrosecsRunning")
	}
	desc := false
	if req.OrderByType != nil && *req.OrderByType != "" {
		switch strings.ToUpper(*req.OrderByType) {
		case "ASC":
		case "DESC":
			desc = true
		default:
			return nil, errf("InvalidParameterValue", "`OrderByType` must be ASC or DESC")
		}
	}
	snap, aerr := e.snapshot(ctx)
	if aerr != nil {
		return nil, aerr
	}
	ops, names := e.ops(snap)
	if req.ReplicaSetName != nil && *req.ReplicaSetName != "" && !names[*req.ReplicaSetName] {
		return nil, errf("InvalidParameterValue.ReplicaNotFound", "the replica set `%s` was not found", clean(*req.ReplicaSetName))
	}
	kept := ops[:0]
	for _, op := range ops {
		switch {
		case req.Ns != nil && *req.Ns != "" && op.Ns != *req.Ns,
			req.MillisecondRunning != nil && op.MicrosecsRunning <= *req.MillisecondRunning*1000,
			req.Op != nil && *req.Op != "" && !strings.EqualFold(op.Op, *req.Op),
			req.ReplicaSetName != nil && *req.ReplicaSetName != "" && op.ReplicaSetName != *req.ReplicaSetName,
			req.State != nil && *req.State != "" && !strings.EqualFold(op.State, *req.State):
			continue
		}
		kept = append(kept, op)
	}
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if a.MicrosecsRunning != b.MicrosecsRunning {
			return (a.MicrosecsRunning < b.MicrosecsRunning) != desc
		}
		if a.ReplicaSetName != b.ReplicaSetName {
			return a.ReplicaSetName < b.ReplicaSetName
		}
		return a.OpId < b.OpId
	})
	return map[string]any{"CurrentOps": page(kept, offset, limit), "TotalCount": len(kept)}, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// defaultNode is the node name used when the backend does not say which host an operation
// runs on; Tencent's node names look like ip:port:id.
const defaultNode = "10.0.0.11:7017:10001"

// ops converts the backend's sessions; names is the set of replica set names.
func (e *Emulator) ops(snap *deployment.State) ([]currentOp, map[string]bool) {
	e.mu.Lock()
	var fresh []string
	for _, s := range snap.Ops {
		if _, ok := e.rsIndex[s.Shard]; !ok && indexOf(fresh, s.Shard) < 0 {
			fresh = append(fresh, s.Shard)
		}
	}
	sort.Strings(fresh)
	for _, sh := range fresh {
		e.rsIndex[sh] = len(e.rsIndex)
	}
	names := map[string]bool{}
	for _, i := range e.rsIndex {
		names[e.rsName(i)] = true
	}
	index := make(map[string]int, len(e.rsIndex))
	for k, v := range e.rsIndex {
		index[k] = v
	}
	e.mu.Unlock()

	role := map[string]string{}
	for _, m := range snap.Members {
		role[m.Host] = strings.ToLower(m.State)
	}
	out := make([]currentOp, 0, len(snap.Ops))
	for _, s := range snap.Ops {
		state := "primary" // a single node, or a node the deployment does not describe
		if r := role[s.Host]; r == "primary" || r == "secondary" {
			state = r
		}
		node := s.Host
		if node == "" {
			node = defaultNode
		}
		op := s.Kind
		if !s.Active || op == "" {
			op = "none"
		}
		query := string(s.Command)
		if query == "" || query == "null" {
			query = "{}"
		}
		operation := query
		if len(s.Raw) > 0 {
			operation = string(s.Raw)
		}
		running := uint64(0)
		if s.RunningUS > 0 {
			running = uint64(s.RunningUS)
		}
		out = append(out, currentOp{
			OpId:             opID(s.ID),
			Ns:               s.NS,
			Query:            query,
			Op:               op,
			ReplicaSetName:   e.rsName(index[s.Shard]),
			NodeName:         node,
			Operation:        operation,
			State:            state,
			MicrosecsRunning: running,
			ExecNode:         node,
			op:               s,
		})
	}
	return out, names
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

func (e *Emulator) rsName(i int) string { return e.opts.InstanceID + "_" + strconv.Itoa(i) }

// opID is the number at the end of a backend session ID ("4119786", "shard01:4119786"), or a
// stable 63-bit hash of the ID when it has none.
func opID(id string) int64 {
	tail := id
	if i := strings.LastIndexAny(id, ":/"); i >= 0 {
		tail = id[i+1:]
	}
	if n, err := strconv.ParseInt(tail, 10, 64); err == nil {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 1)
}

// KillOps.

type killOperation struct {
	ReplicaSetName *string
	NodeName       *string
	OpId           *int64
}

type killOpsRequest struct {
	InstanceId *string
	Operations []killOperation
}

func (e *Emulator) killOps(ctx context.Context, region string, body []byte) (map[string]any, *apiError) {
	var req killOpsRequest
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	if aerr := e.instanceFor(req.InstanceId, region); aerr != nil {
		return nil, aerr
	}
	if len(req.Operations) == 0 {
		return nil, errf("MissingParameter", "the request is missing the required parameter `Operations`")
	}
	for i, o := range req.Operations {
		if o.ReplicaSetName == nil || o.NodeName == nil || o.OpId == nil {
			return nil, errf("MissingParameter", "`Operations.%d` needs ReplicaSetName, NodeName and OpId", i)
		}
	}
	snap, aerr := e.snapshot(ctx)
	if aerr != nil {
		return nil, aerr
	}
	ops, names := e.ops(snap)
	nodes := map[string]bool{}
	for _, op := range ops {
		nodes[op.ReplicaSetName+"\x00"+op.NodeName] = true
	}
	var targets []deployment.Op
	for _, o := range req.Operations {
		if !names[*o.ReplicaSetName] {
			return nil, errf("InvalidParameterValue.ReplicaNotFound", "the replica set `%s` was not found", clean(*o.ReplicaSetName))
		}
		if !nodes[*o.ReplicaSetName+"\x00"+*o.NodeName] && *o.NodeName != defaultNode {
			return nil, errf("InvalidParameterValue.NodeNotFoundInReplica", "the node `%s` is not in replica set `%s`", clean(*o.NodeName), clean(*o.ReplicaSetName))
		}
		for _, op := range ops {
			if op.ReplicaSetName == *o.ReplicaSetName && op.NodeName == *o.NodeName && op.OpId == *o.OpId {
				targets = append(targets, op.op)
			}
		}
	}
	if len(targets) == 0 {
		return map[string]any{}, nil // killing an operation that already ended is harmless
	}
	k, ok := e.backend.(deployment.Killer)
	if !ok {
		return nil, errf("FailedOperation", "killing operations is not supported by this instance")
	}
	var failed []string
	for _, err := range k.Kill(ctx, targets) {
		if err != nil {
			failed = append(failed, clean(err.Error()))
		}
	}
	if len(failed) > 0 {
		return nil, errf("FailedOperation", "kill failed: %s", strings.Join(failed, "; "))
	}
	return map[string]any{}, nil
}

// DescribeDBInstances.

type dbInstancesRequest struct {
	InstanceIds  []string
	InstanceType *int64
	ClusterType  *int64
	Status       []int64
	VpcId        *string
	SubnetId     *string
	PayMode      *int64
	Limit        *uint64
	Offset       *uint64
	OrderBy      *string
	OrderByType  *string
	ProjectIds   []uint64
	SearchKey    *string
	Tags         []struct{ TagKey, TagValue string }
}

type shardInfo struct {
	ReplicaSetId   string `json:"ReplicaSetId"`
	ReplicaSetName string `json:"ReplicaSetName"`
	SecondaryNum   uint64 `json:"SecondaryNum"`
}

type instanceDetail struct {
	InstanceId         string      `json:"InstanceId"`
	InstanceName       string      `json:"InstanceName"`
	ClusterType        uint64      `json:"ClusterType"`
	Region             string      `json:"Region"`
	Zone               string      `json:"Zone"`
	Status             int64       `json:"Status"`
	InstanceStatusDesc string      `json:"InstanceStatusDesc"`
	Vip                string      `json:"Vip"`
	Vport              uint64      `json:"Vport"`
	MongoVersion       string      `json:"MongoVersion"`
	ReplicaSets        []shardInfo `json:"ReplicaSets"`
	MongosNodeNum      uint64      `json:"MongosNodeNum"`
}

func (e *Emulator) describeDBInstances(ctx context.Context, region string, body []byte) (map[string]any, *apiError) {
	var req dbInstancesRequest
	if aerr := decode(body, &req); aerr != nil {
		return nil, aerr
	}
	limit, offset := uint64(20), uint64(0)
	if req.Limit != nil && *req.Limit != 0 {
		if *req.Limit > 100 {
			return nil, errf("InvalidParameterValue", "`Limit` must be between 1 and 100")
		}
		limit = *req.Limit
	}
	if req.Offset != nil {
		offset = *req.Offset
	}
	var all []instanceDetail
	if region == e.opts.Region {
		main := instanceDetail{InstanceId: e.opts.InstanceID, InstanceName: e.opts.InstanceName, Region: e.opts.Region,
			Zone: e.opts.Region + "-3", Status: 2, InstanceStatusDesc: "running", Vip: "10.0.0.10", Vport: 27017}
		if snap, aerr := e.snapshot(ctx); aerr == nil {
			main.MongoVersion = versionCode(snap.Server.Version)
			if snap.Server.Kind == "mongos" {
				main.ClusterType = 1
				main.MongosNodeNum = 3
			}
			_, names := e.ops(snap)
			for _, n := range sortedKeys(names) {
				main.ReplicaSets = append(main.ReplicaSets, shardInfo{ReplicaSetId: n, ReplicaSetName: n, SecondaryNum: 2})
			}
		}
		all = append(all, main)
		for i, id := range e.opts.ExtraInstances {
			all = append(all, instanceDetail{InstanceId: id, InstanceName: "extra-" + strconv.Itoa(i+1), Region: e.opts.Region,
				Zone: e.opts.Region + "-3", Status: 2, InstanceStatusDesc: "running", Vip: "10.0.1." + strconv.Itoa(i%250+1),
				Vport: 27017, MongoVersion: "MONGO_40_WT", ReplicaSets: []shardInfo{{ReplicaSetId: id + "_0", ReplicaSetName: id + "_0", SecondaryNum: 2}}})
		}
	}
	if len(req.InstanceIds) > 0 {
		want := map[string]bool{}
		for _, id := range req.InstanceIds {
			want[id] = true
		}
		kept := all[:0]
		for _, d := range all {
			if want[d.InstanceId] {
				kept = append(kept, d)
			}
		}
		all = kept
	}
	return map[string]any{"InstanceDetails": page(all, offset, limit), "TotalCount": len(all)}, nil
}

// versionCode turns "8.0.4" into "MONGO_80_WT", Tencent's version names.
func versionCode(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return "MONGO_40_WT"
	}
	return "MONGO_" + parts[0] + parts[1] + "_WT"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
