package tencent

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/currentop/currentop/source"
)

// maxOperation bounds the Operation text parsed for details.
const maxOperation = 256 << 10

// opDoc is the part of a $currentOp document the sessions pane shows. CurrentOp.Operation
// carries the whole document as JSON text (relaxed or canonical Extended JSON); every field
// is optional and read leniently: an odd type leaves the field empty, never an error.
type opDoc struct {
	Opid           json.RawMessage
	Client         json.RawMessage                       `json:"client"`
	ClientS        json.RawMessage                       `json:"client_s"`
	AppName        json.RawMessage                       `json:"appName"`
	ClientMetadata json.RawMessage                       `json:"clientMetadata"`
	EffectiveUsers json.RawMessage                       `json:"effectiveUsers"`
	PlanSummary    json.RawMessage                       `json:"planSummary"`
	ConnectionID   json.RawMessage                       `json:"connectionId"`
	WaitingForLock json.RawMessage                       `json:"waitingForLock"`
	NumYields      json.RawMessage                       `json:"numYields"`
	KillPending    json.RawMessage                       `json:"killPending"`
	Msg            json.RawMessage                       `json:"msg"`
	Type           json.RawMessage                       `json:"type"`
	Command        json.RawMessage                       `json:"command"`
	Progress       struct{ Done, Total json.RawMessage } `json:"progress"`
	Cursor         struct {
		OriginatingCommand json.RawMessage `json:"originatingCommand"`
	} `json:"cursor"`
}

// enrich fills what the API's own fields lack (client, app, user, driver, plan, connection,
// yields, lock wait, kill pending, internal) from the Operation document when it is one.
func enrich(s *source.Session, operation, query string) {
	if isAwaitableHello([]byte(query)) {
		s.Internal = true
	}
	s.CommandName, s.Summary = source.DescribeCommand(s.Op, s.Command)
	// The API has no lock-wait field of its own: only an Operation document that has
	// waitingForLock can say, and "false" without it would claim "not blocked".
	s.LockUnknown = true
	if len(operation) == 0 || len(operation) > maxOperation || operation[0] != '{' {
		return
	}
	var d opDoc
	if json.Unmarshal([]byte(operation), &d) != nil {
		return
	}
	describe(s, &d)
	var md struct {
		Application struct{ Name json.RawMessage } `json:"application"`
		Driver      struct{ Name, Version json.RawMessage }
		Mongos      struct{ Client json.RawMessage }
	}
	if len(d.ClientMetadata) > 0 {
		_ = json.Unmarshal(d.ClientMetadata, &md) // lenient: a mismatch leaves fields empty
	}
	s.Client = first(jsonStr(md.Mongos.Client), jsonStr(d.Client), jsonStr(d.ClientS))
	s.App = first(jsonStr(d.AppName), jsonStr(md.Application.Name))
	if name := jsonStr(md.Driver.Name); name != "" {
		s.Driver = source.Clean(strings.TrimSpace(name + " " + jsonStr(md.Driver.Version)))
	}
	var users []struct{ User, DB json.RawMessage }
	_ = json.Unmarshal(d.EffectiveUsers, &users)
	if len(users) > 0 {
		if u := jsonStr(users[0].User); u != "" {
			s.User = u
			if db := jsonStr(users[0].DB); db != "" {
				s.User = source.Clean(u + "@" + db)
			}
		}
	}
	s.PlanSummary = jsonStr(d.PlanSummary)
	s.ConnectionID, _ = jsonInt(d.ConnectionID)
	if n, ok := jsonInt(d.NumYields); ok && n >= 0 {
		s.NumYields = n
	}
	s.WaitingForLock = jsonBool(d.WaitingForLock)
	s.LockUnknown = len(d.WaitingForLock) == 0 || string(d.WaitingForLock) == "null"
	s.KillPending = jsonBool(d.KillPending)
	s.Msg = jsonStr(d.Msg)
	if typ := jsonStr(d.Type); typ == source.TypeIdleSession || typ == source.TypeIdleCursor {
		s.Type, s.Active = typ, false
	}

	if internalOp(&d, users, jsonStr(md.Driver.Name), s) {
		s.Internal = true
	}
}

// internalOp says whether the Operation document d is the server's own work, as the direct
// source classifies it: no network connection, the internal __system user, cluster members'
// connections, replication, awaitable hello heartbeats.
func internalOp(d *opDoc, users []struct{ User, DB json.RawMessage }, driver string, s *source.Session) bool {
	if len(d.Opid) > 0 && len(d.ConnectionID) == 0 && jsonStr(d.Type) != source.TypeIdleCursor {
		return true
	}
	for _, u := range users {
		if jsonStr(u.User) == "__system" {
			return true
		}
	}
	if strings.HasPrefix(driver, "NetworkInterfaceTL") {
		return true
	}
	if strings.EqualFold(s.Op, "getmore") && s.NS == "local.oplog.rs" {
		return true
	}
	if len(d.Command) == 0 || d.Command[0] != '{' {
		return false
	}
	var cmd map[string]json.RawMessage
	if json.Unmarshal(d.Command, &cmd) != nil {
		return false
	}
	_, hb := cmd["replSetHeartbeat"]
	_, up := cmd["replSetUpdatePosition"]
	_, hello := cmd["hello"]
	_, isMaster := cmd["isMaster"]
	_, ismaster := cmd["ismaster"]
	_, tv := cmd["topologyVersion"]
	return hb || up || ((hello || isMaster || ismaster) && tv)
}

// describe fills what the statement text left unknown from the Operation document: the
// command's name and summary (from its command when Query is empty, a getMore's from its
// cursor's command) and the progress of an index build.
func describe(s *source.Session, d *opDoc) {
	if s.CommandName == "" && len(d.Command) > 0 {
		s.CommandName, s.Summary = source.DescribeCommand(s.Op, d.Command)
	}
	if s.CommandName == "getMore" && s.Summary == "" && len(d.Cursor.OriginatingCommand) > 0 {
		_, s.Summary = source.DescribeCommand(s.Op, d.Cursor.OriginatingCommand)
	}
	done, ok1 := jsonInt(d.Progress.Done)
	total, ok2 := jsonInt(d.Progress.Total)
	if ok1 && ok2 {
		s.Progress = source.NewProgress(done, total)
	}
}

// isAwaitableHello: a driver's streaming heartbeat waits up to maxAwaitTimeMS and shows as an
// active operation the whole time.
func isAwaitableHello(cmd []byte) bool {
	return (hasKey(cmd, "hello") || hasKey(cmd, "isMaster") || hasKey(cmd, "ismaster")) && hasKey(cmd, "topologyVersion")
}

// hasKey reports whether the JSON object doc has the top-level key.
func hasKey(doc []byte, key string) bool {
	if len(doc) == 0 || len(doc) > maxOperation || doc[0] != '{' || !bytes.Contains(doc, []byte(`"`+key+`"`)) {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// jsonStr is a JSON string value, cleaned; "" for anything else.
func jsonStr(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return source.Clean(s)
}

func jsonBool(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

// jsonInt reads an integer written plainly or as canonical Extended JSON
// ({"$numberLong": "…"}, {"$numberInt": "…"}).
func jsonInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	if raw[0] == '{' {
		var w struct {
			Long string `json:"$numberLong"`
			Int  string `json:"$numberInt"`
		}
		if json.Unmarshal(raw, &w) != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(first(w.Long, w.Int), 10, 64)
		return n, err == nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(raw), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, false
		}
		return int64(f), true
	}
	return n, true
}
