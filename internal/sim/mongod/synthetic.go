package mongod

import (
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SYNTHETIC connections: generated $currentOp documents for scale tests. They have no socket;
// they exist only as idle entries in $currentOp and in serverStatus.connections. Addresses
// are from the documentation ranges (RFC 5737 TEST-NET-1/2/3 and RFC 3849 2001:db8::/32).

// synthApp is one application profile of synthetic clients.
type synthApp struct {
	app, driver, driverVersion, platform string
	os                                   bson.D
	user                                 string
	pool                                 int // connections per client host
}

var synthApps = []synthApp{
	{"orders-api", "mongo-go-driver", "2.9.3", "go1.26.8", bson.D{{Key: "type", Value: "linux"}, {Key: "architecture", Value: "amd64"}}, "ordersApp", 24},
	{"billing-worker", "nodejs", "6.10.0", "Node.js v20.11.1, LE (unified)", bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "linux"}, {Key: "architecture", Value: "x64"}, {Key: "version", Value: "5.15.0-1050-aws"}}, "billing", 12},
	{"reporting", "PyMongo", "4.10.1", "CPython 3.12.3.final.0", bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Linux"}, {Key: "architecture", Value: "x86_64"}, {Key: "version", Value: "5.15.0"}}, "reporting", 8},
	{"inventory-sync", "mongo-java-driver|sync", "5.2.1", "Java/Eclipse Adoptium/21.0.5+11-LTS", bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Linux"}, {Key: "architecture", Value: "amd64"}, {Key: "version", Value: "5.15.0"}}, "inventory", 30},
	{"checkout-web", "nodejs", "6.10.0", "Node.js v20.11.1, LE (unified)", bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "linux"}, {Key: "architecture", Value: "x64"}, {Key: "version", Value: "5.15.0-1050-aws"}}, "checkout", 16},
	{"search-indexer", "mongo-go-driver", "2.9.3", "go1.26.8", bson.D{{Key: "type", Value: "linux"}, {Key: "architecture", Value: "amd64"}}, "search", 20},
	// The legacy mongo shell: a person at a terminal, not the cluster.
	{"MongoDB Shell", "MongoDB Internal Client", "4.4.29", "", bson.D{{Key: "type", Value: "Linux"}, {Key: "name", Value: "Ubuntu"}, {Key: "architecture", Value: "x86_64"}, {Key: "version", Value: "20.04"}}, "dba", 1},
}

// synthAppPattern spreads the application profiles over client hosts.
var synthAppPattern = []int{0, 1, 0, 2, 3, 4, 0, 5, 1, 2, 0, 6, 4, 3}

// synthHost is one synthetic client machine.
type synthHost struct {
	ip     string
	v6     bool
	app    *synthApp
	meta   bson.D
	users  []*userCred
	usersA bson.A
}

// synthConn is one synthetic idle connection.
type synthConn struct {
	id   int32
	port int
	host *synthHost
}

// synthAddrs lists the client addresses: three TEST-NET /24s (.1–.199; .200+ are kept for
// replica-set peers) and a few 2001:db8::/32 hosts.
var synthAddrs = func() []string {
	var out []string
	for i := 1; i < 200; i++ {
		out = append(out, fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("203.0.113.%d", i))
	}
	// IPv6 clients early in the list so small synthetic sets include some.
	v6 := []string{"2001:db8::5", "2001:db8::17", "2001:db8:1::a", "2001:db8:2::42"}
	for i, a := range v6 {
		at := 3 + i*5
		out = append(out[:at], append([]string{a}, out[at:]...)...)
	}
	return out
}()

// synthState is where synthetic generation continues after the previous AddSynthetic.
type synthState struct {
	hosts    []*synthHost
	hostIdx  int
	leftHere int
}

func (s *Server) synthHostLocked(idx int) *synthHost {
	st := &s.synthGen
	for len(st.hosts) <= idx {
		i := len(st.hosts)
		app := &synthApps[synthAppPattern[i%len(synthAppPattern)]]
		addr := synthAddrs[i%len(synthAddrs)]
		h := &synthHost{ip: addr, v6: isV6(addr), app: app}
		h.meta = bson.D{{Key: "application", Value: bson.D{{Key: "name", Value: app.app}}}}
		h.meta = append(h.meta, bson.E{Key: "driver", Value: bson.D{{Key: "name", Value: app.driver}, {Key: "version", Value: app.driverVersion}}})
		h.meta = append(h.meta, bson.E{Key: "os", Value: app.os})
		if app.platform != "" {
			h.meta = append(h.meta, bson.E{Key: "platform", Value: app.platform})
		}
		if s.authEnabled() {
			// Synthetic users are not real accounts: nobody can log in as them.
			h.users = []*userCred{{name: app.user, db: "admin"}}
			h.usersA = usersArray(h.users)
		}
		st.hosts = append(st.hosts, h)
	}
	return st.hosts[idx]
}

func isV6(addr string) bool {
	for i := 0; i < len(addr); i++ {
		if addr[i] == ':' {
			return true
		}
	}
	return false
}

// AddSynthetic adds n synthetic idle connections (n <= 0 adds none).
func (s *Server) AddSynthetic(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.synthGen
	synth := make([]synthConn, len(s.synth), len(s.synth)+n)
	copy(synth, s.synth) // a new slice: $currentOp may be reading the old one without the lock
	for range n {
		h := s.synthHostLocked(st.hostIdx)
		if st.leftHere == 0 {
			st.leftHere = h.app.pool
		}
		s.nextConnID++
		s.totalCreated++
		i := len(synth)
		synth = append(synth, synthConn{id: s.nextConnID, port: 32768 + (i*7919)%28000, host: h})
		st.leftHere--
		if st.leftHere == 0 {
			st.hostIdx++
		}
	}
	s.synth = synth
}

// synthDoc renders an idle synthetic connection like §2.6 example B.
func (s *Server) synthDoc(sc *synthConn, nowStr string) bson.D {
	h := sc.host
	client := h.ip + ":" + strconv.Itoa(sc.port)
	if h.v6 {
		client = "[" + h.ip + "]:" + strconv.Itoa(sc.port)
	}
	d := make(bson.D, 0, 11)
	d = append(d,
		bson.E{Key: "type", Value: "op"},
		bson.E{Key: "host", Value: s.hostPort},
		bson.E{Key: "desc", Value: "conn" + strconv.Itoa(int(sc.id))},
		bson.E{Key: "connectionId", Value: sc.id},
		bson.E{Key: "client", Value: client},
		bson.E{Key: "appName", Value: h.app.app},
		bson.E{Key: "clientMetadata", Value: h.meta},
		bson.E{Key: "active", Value: false},
		bson.E{Key: "currentOpTime", Value: nowStr},
	)
	if h.usersA != nil {
		d = append(d, bson.E{Key: "effectiveUsers", Value: h.usersA})
	}
	if s.ver.atLeast(5, 0) {
		d = append(d, bson.E{Key: "threaded", Value: true})
	}
	return d
}
