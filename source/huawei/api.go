package huawei

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The four DDS v3 actions this source calls (shared/reference/cloud-apis.md §2.4–2.7).
const (
	actionListSessions  = "ListSessions"
	actionDeleteSession = "DeleteSession"
	actionConnStats     = "ShowConnectionStatistics"
	actionListInstances = "ListInstances"
)

// PageLimit is the largest page ListSessions accepts (SDK v0.1.207 and the docs: [1, 20]).
const PageLimit = 20

// listSessionsResponse is GET /v3/{project_id}/nodes/{node_id}/sessions. Sessions stay raw so
// that one malformed element is skipped instead of failing the page.
type listSessionsResponse struct {
	TotalCount flexInt           `json:"total_count"`
	Sessions   []json.RawMessage `json:"sessions"`
}

// apiSession is QuerySessionResponse. Every field tolerates odd JSON types: the API is untrusted.
type apiSession struct {
	ID          flexString `json:"id"`
	Active      flexBool   `json:"active"`
	Operation   flexString `json:"operation"`
	Type        flexString `json:"type"`
	CostTime    flexInt    `json:"cost_time"` // µs, documented as a string
	PlanSummary flexString `json:"plan_summary"`
	Host        flexString `json:"host"`
	Client      flexString `json:"client"`
	Description flexString `json:"description"`
	Namespace   flexString `json:"namespace"`
	DB          flexString `json:"db"`   // newer API versions
	User        flexString `json:"user"` // newer API versions, MongoDB ≥ 4.2
}

// connStatsResponse is GET /v3/{project_id}/instances/{instance_id}/conn-statistics.
type connStatsResponse struct {
	TotalConnections      flexInt        `json:"total_connections"`
	TotalInnerConnections flexInt        `json:"total_inner_connections"`
	TotalOuterConnections flexInt        `json:"total_outer_connections"`
	InnerConnections      list[connByIP] `json:"inner_connections"`
	OuterConnections      list[connByIP] `json:"outer_connections"`
}

type connByIP struct {
	ClientIP flexString `json:"client_ip"`
	Count    flexInt    `json:"count"`
}

// listInstancesResponse is GET /v3/{project_id}/instances.
type listInstancesResponse struct {
	Instances  list[apiInstance] `json:"instances"`
	TotalCount flexInt           `json:"total_count"`
}

type apiInstance struct {
	ID        flexString `json:"id"`
	Name      flexString `json:"name"`
	Status    flexString `json:"status"`
	Port      flexString `json:"port"`
	Mode      flexString `json:"mode"` // Sharding, ReplicaSet, Single
	Region    flexString `json:"region"`
	Datastore struct {
		Type    flexString `json:"type"`
		Version flexString `json:"version"`
	} `json:"datastore"`
	Groups list[apiGroup] `json:"groups"`
}

type apiGroup struct {
	Type  flexString    `json:"type"` // shard, config, mongos, replica, single
	ID    flexString    `json:"id"`
	Name  flexString    `json:"name"`
	Nodes list[apiNode] `json:"nodes"`
}

type apiNode struct {
	ID        flexString `json:"id"`
	Name      flexString `json:"name"`
	Status    flexString `json:"status"`
	Role      flexString `json:"role"` // master (mongos), Primary, Secondary, Hidden, unknown
	PrivateIP flexString `json:"private_ip"`
	PublicIP  flexString `json:"public_ip"`
}

// deleteSessionRequest is the body of POST /v3/{project_id}/nodes/{node_id}/session.
type deleteSessionRequest struct {
	Sessions []string `json:"sessions"`
}

// list decodes a JSON array element by element, skipping elements that do not decode as T
// (and reading anything that is not an array as empty): one odd element from the API must not
// hide the others.
type list[T any] []T

func (l *list[T]) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil {
		*l = nil
		return nil
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		var v T
		if json.Unmarshal(r, &v) == nil {
			out = append(out, v)
		}
	}
	*l = out
	return nil
}

// flexString accepts a string, number, bool or null.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '{' || b[0] == '[':
		*s = flexString(b) // keep the text: a provider that sends an object still gets shown
	default:
		*s = flexString(b)
	}
	return nil
}

// flexInt accepts a number (integer or not), a numeric string, "" or null; anything else is 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(v))
	}
	*n = flexInt(parseInt(string(b)))
	return nil
}

// parseInt reads an integer, or a float rounded toward zero, clamped to int64; else 0.
func parseInt(s string) int64 {
	if s == "" || s == "null" {
		return 0
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0
	}
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// flexBool accepts true/false, "true"/"false" (any case), and numbers (non-zero is true).
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	switch strings.ToLower(s) {
	case "true", "yes":
		*v = true
	case "false", "no", "", "null":
		*v = false
	default:
		*v = parseInt(s) != 0
	}
	return nil
}
