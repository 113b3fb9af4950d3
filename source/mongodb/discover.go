package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/currentop/currentop/source"
)

// Discovery finds the deployment's members each refresh, cheaply: a replica set's hello
// (hosts, passives, arbiters, primary: one round trip to the primary, or to any member when
// there is none), a sharded cluster's listShards through the mongos (each shard's
// "set/host1,host2"). Hidden members are not in hello; they are looked up in
// replSetGetStatus only when the user names one.

// memberInfo is one member as discovery found it.
type memberInfo struct {
	Host    string
	Set     string // the replica set, or the shard's name
	Kind    string // "mongod" or "arbiter"
	Hidden  bool
	Primary bool // discovery names it the primary (replica sets; through mongos unknown)
}

// topology is one discovery's answer.
type topology struct {
	sharded bool
	members []memberInfo
}

// maxMembers bounds what one discovery takes from a server (a replica set has at most 50
// members; a cluster of 1000 shards is far beyond any real one).
const maxMembers = 3000

// helloInfo is what a hello says of the replica set.
type helloInfo struct {
	setName                   string
	hosts, passives, arbiters []string
	primary                   string
	mongos                    bool
}

func parseHello(raw bson.Raw) helloInfo {
	h := helloInfo{setName: str(raw, "setName"), primary: str(raw, "primary"), mongos: rawStr(raw, "msg") == "isdbgrid"}
	h.hosts = hostList(raw, "hosts")
	h.passives = hostList(raw, "passives")
	h.arbiters = hostList(raw, "arbiters")
	return h
}

// hostList reads an array of "host:port" strings, cleaned, bounded, without empties.
func hostList(raw bson.Raw, key string) []string {
	var out []string
	for _, v := range arrayValues(raw, key) {
		if h, ok := v.StringValueOK(); ok && validHost(h) && len(out) < maxMembers {
			out = append(out, h)
		}
	}
	return out
}

// validHost accepts what can be dialled as host:port: printable, no spaces or slashes (the
// session IDs of a deployment use "/" to separate the member from its own ID).
func validHost(h string) bool {
	return h != "" && len(h) <= 300 && source.Clean(h) == h && !strings.ContainsAny(h, " /,")
}

// members lists a replica set's members from its hello: data-bearing first, then arbiters.
func (h helloInfo) members() []memberInfo {
	var out []memberInfo
	seen := map[string]bool{}
	add := func(hosts []string, kind string) {
		for _, host := range hosts {
			if seen[strings.ToLower(host)] {
				continue
			}
			seen[strings.ToLower(host)] = true
			out = append(out, memberInfo{Host: host, Set: source.Clean(h.setName), Kind: kind, Primary: strings.EqualFold(host, h.primary)})
		}
	}
	add(h.hosts, "mongod")
	add(h.passives, "mongod")
	add(h.arbiters, "arbiter")
	return out
}

// parseShards reads listShards: each shard's host is "set/host1,host2" (a replica set) or
// "host1" (a single mongod).
func parseShards(raw bson.Raw) []memberInfo {
	var out []memberInfo
	for _, v := range arrayValues(raw, "shards") {
		d, ok := v.DocumentOK()
		if !ok {
			continue
		}
		name := str(d, "_id")
		set, hosts, ok := strings.Cut(rawStr(d, "host"), "/")
		if !ok {
			set, hosts = "", set
		}
		if name == "" {
			name = source.Clean(set)
		}
		for _, h := range strings.Split(hosts, ",") {
			if validHost(h) && len(out) < maxMembers {
				out = append(out, memberInfo{Host: h, Set: name, Kind: "mongod"})
			}
		}
	}
	return out
}

// discover asks the deployment for its members: listShards through a mongos, hello from a
// replica set (any member answers when there is no primary).
func (s *Source) discover(ctx context.Context) (topology, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	admin := s.client.Database("admin")
	if s.mongos {
		var raw bson.Raw
		err := admin.RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}, {Key: "comment", Value: ownComment}}).Decode(&raw)
		if err != nil {
			return topology{}, s.explain(err, "run listShards on")
		}
		return topology{sharded: true, members: parseShards(raw)}, nil
	}
	var raw bson.Raw
	err := admin.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "comment", Value: ownComment}},
		options.RunCmd().SetReadPreference(readpref.PrimaryPreferred())).Decode(&raw)
	if err != nil {
		return topology{}, s.explain(err, "run hello on")
	}
	return topology{members: parseHello(raw).members()}, nil
}

// replStatus is what replSetGetStatus says of each member.
type replStatus struct {
	state  map[string]string  // host (lower case) → stateStr
	health map[string]bool    // host → health 1
	lag    map[string]float64 // host → seconds behind the primary (data-bearing members)
}

// parseReplStatus reads replSetGetStatus: each member's state, health and lag behind the
// primary's optime (or, with no primary, behind the most recent one). Members without an
// optimeDate (arbiters, unreachable ones) get no lag.
func parseReplStatus(raw bson.Raw) replStatus {
	rs := replStatus{state: map[string]string{}, health: map[string]bool{}, lag: map[string]float64{}}
	opt := map[string]int64{}
	var primary, newest int64
	for i, v := range arrayValues(raw, "members") {
		d, ok := v.DocumentOK()
		if !ok || i >= maxMembers {
			continue
		}
		host := strings.ToLower(rawStr(d, "name"))
		if !validHost(host) {
			continue
		}
		state := str(d, "stateStr")
		rs.state[host] = state
		if h, ok := num(d, "health"); ok {
			rs.health[host] = h == 1
		}
		if dv, ok := lookup(d, "optimeDate"); ok {
			if ms, ok := dv.DateTimeOK(); ok && ms > 0 {
				opt[host] = ms
				newest = max(newest, ms)
				if state == "PRIMARY" {
					primary = ms
				}
			}
		}
	}
	if primary == 0 {
		primary = newest
	}
	for host, ms := range opt {
		rs.lag[host] = max(0, float64(primary-ms)/1000)
	}
	return rs
}

// replSetStatus runs replSetGetStatus; an error (not permitted, not a replica set) leaves
// the lag unknown.
func (s *Source) replSetStatus(ctx context.Context) (replStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var raw bson.Raw
	err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}, {Key: "comment", Value: ownComment}},
		options.RunCmd().SetReadPreference(readpref.PrimaryPreferred())).Decode(&raw)
	if err != nil {
		return replStatus{}, err
	}
	return parseReplStatus(raw), nil
}

// scope picks the members a refresh polls for the query's Members: every data-bearing member
// (default), the primaries, or the hosts named. Arbiters are listed, never polled; hidden
// members only when named (hidden lists those replSetGetStatus knows, looked up on demand).
// A named host that is no member is an error naming the members.
func scope(members []memberInfo, want string, hidden func() []memberInfo) (poll, list []memberInfo, err error) {
	want = strings.TrimSpace(want)
	switch strings.ToLower(want) {
	case "", source.MembersAll:
		for _, m := range members {
			list = append(list, m)
			if m.Kind != "arbiter" && !m.Hidden {
				poll = append(poll, m)
			}
		}
		return poll, list, nil
	case source.MembersPrimary:
		// Primaries are picked after the poll (fanout.primaries): a shard's primary is known
		// only from its members' answers.
		for _, m := range members {
			if m.Kind != "arbiter" && !m.Hidden {
				poll = append(poll, m)
			}
		}
		return poll, poll, nil
	}
	known := members
	for _, h := range strings.Split(want, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		i := findHost(known, h)
		if i < 0 && hidden != nil {
			known = append(slices.Clone(members), hidden()...)
			hidden = nil
			i = findHost(known, h)
		}
		if i < 0 {
			return nil, nil, fmt.Errorf("--members: %q is not a member of this deployment; its members are %s", source.Clean(h), hostNames(known))
		}
		m := known[i]
		list = append(list, m)
		if m.Kind != "arbiter" {
			poll = append(poll, m)
		}
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("--members: no host named; use all, primary or host:port[,host:port…] (members: %s)", hostNames(known))
	}
	return poll, list, nil
}

// findHost finds h among members: host names compare without case, and a host named
// without a port means port 27017.
func findHost(members []memberInfo, h string) int {
	if !strings.Contains(strings.TrimPrefix(h, "["), ":") || strings.HasSuffix(h, "]") {
		h += ":27017"
	}
	return slices.IndexFunc(members, func(m memberInfo) bool { return strings.EqualFold(m.Host, h) })
}

func hostNames(ms []memberInfo) string {
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		names = append(names, m.Host)
	}
	if len(names) == 0 {
		return "(none found)"
	}
	return strings.Join(names, ", ")
}

// hiddenMembers lists the members replSetGetStatus knows that discovery did not find
// (hidden ones), as of now.
func (s *Source) hiddenMembers(ctx context.Context, found []memberInfo) []memberInfo {
	rs, err := s.replSetStatus(ctx)
	if err != nil {
		return nil
	}
	set := ""
	if len(found) > 0 {
		set = found[0].Set
	}
	var out []memberInfo
	for host, state := range rs.state {
		if findHost(found, host) >= 0 {
			continue
		}
		kind := "mongod"
		if state == "ARBITER" {
			kind = "arbiter"
		}
		out = append(out, memberInfo{Host: host, Set: set, Kind: kind, Hidden: true})
	}
	slices.SortFunc(out, func(a, b memberInfo) int { return strings.Compare(a.Host, b.Host) })
	return out
}
