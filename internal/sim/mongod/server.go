package mongod

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Profile is the server version the simulator pretends to be.
type Profile struct {
	Version        string
	MaxWireVersion int32
	// FerretDB, when set, is the ferretdbVersion buildInfo reports next to Version, as
	// FerretDB does (its Version is the MongoDB version it claims for drivers' sake).
	FerretDB string
	// NoCurrentOpStage refuses the $currentOp aggregation stage the way FerretDB 1.x does: it
	// runs no collection-less aggregate ({aggregate: 1}) and answers FailedToParse (9)
	// "Invalid command format: the 'aggregate' field must specify a collection name or 1".
	NoCurrentOpStage bool
	// EmptyCurrentOp makes the currentOp command answer {inprog: [], ok: 1} whatever runs, as
	// FerretDB 1.x does.
	EmptyCurrentOp bool
	// NoCurrentOpCommand removes the currentOp command: CommandNotFound (59).
	NoCurrentOpCommand bool
}

// Version profiles. The Go driver v2.9.3 talks to wire version 9 (MongoDB 4.4) and later.
var (
	Profile44 = Profile{Version: "4.4.29", MaxWireVersion: 9}
	Profile60 = Profile{Version: "6.0.20", MaxWireVersion: 17}
	Profile70 = Profile{Version: "7.0.16", MaxWireVersion: 21}
	Profile80 = Profile{Version: "8.0.4", MaxWireVersion: 25}
	// Profile42 is a server the Go driver refuses after the handshake (wire version 8): it
	// tests that a client says so. Nothing past the handshake is modelled for it.
	Profile42 = Profile{Version: "4.2.25", MaxWireVersion: 8}
	// ProfileFerretDB answers where a monitor looks as FerretDB 1.x does: buildInfo carries
	// ferretdbVersion, $currentOp is refused (no collection-less aggregates) and the currentOp
	// command lists nothing. Everything else answers as the simulated mongod 7.0 would.
	ProfileFerretDB = Profile{Version: "7.0.77", MaxWireVersion: 21, FerretDB: "v1.24.0", NoCurrentOpStage: true, EmptyCurrentOp: true}
	// ProfileNoCurrentOpStage is a MongoDB 7.0 without the $currentOp stage (refused as
	// FerretDB refuses it) whose currentOp command works: a proxy or a restricted managed service.
	ProfileNoCurrentOpStage = Profile{Version: "7.0.16", MaxWireVersion: 21, NoCurrentOpStage: true}
	// ProfileNoCurrentOp has neither the $currentOp stage nor the currentOp command.
	ProfileNoCurrentOp = Profile{Version: "7.0.16", MaxWireVersion: 21, NoCurrentOpStage: true, NoCurrentOpCommand: true}
)

// User is a SCRAM-SHA-256 user. Roles are built-in role names: "clusterMonitor",
// "hostManager", "root", "readWrite", "read". Roles apply to every database.
type User struct {
	Name, DB, Password string
	Roles              []string
}

// Options configures a simulated server.
type Options struct {
	Addr       string   // listen address, default "127.0.0.1:0"
	Profile    Profile  // default Profile80
	ReplicaSet string   // "" = standalone; else the primary of that set, with internal activity
	Mongos     bool     // answer as a mongos router (fan-out $currentOp, "shard:opid")
	Shards     []string // mongos shard names, default {"shard01", "shard02"}
	Users      []User   // non-empty: authentication required (SCRAM-SHA-256)
	Synthetic  int      // synthetic idle connections (generated documents, TEST-NET addresses)
	Host       string   // reported host name, default "localhost"
	// CurrentOpFault makes $currentOp cursors misbehave (see SetCurrentOpFault).
	CurrentOpFault CurrentOpFault
}

// maxIncomingConnections is what available+current add up to in serverStatus.
const maxIncomingConnections = 838860

// Server is a running simulated mongod or mongos.
type Server struct {
	opts      Options
	ver       version
	ln        net.Listener
	addr      string // 127.0.0.1:port
	hostPort  string // Host:port, the $currentOp host field
	processID bson.ObjectID
	started   time.Time
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	users     map[string]*userCred // key db + "\x00" + name

	opSeq      atomic.Int32 // last opid handed out
	requestSeq atomic.Int32
	replyDelay atomic.Int64 // nanoseconds
	refuse     atomic.Bool
	fault      atomic.Int32 // CurrentOpFault
	hellos     atomic.Int64 // hello replies sent (tests watch for heartbeat busy loops)

	counters struct {
		insert, query, update, delete, getmore, command atomic.Int64 // opcounters
		bytesIn, bytesOut, requests                     atomic.Int64 // network
		// opLatencies: microseconds and operations per class, counted as each command ends
		readsUS, readsOps, writesUS, writesOps, commandsUS, commandsOps atomic.Int64
	}

	mu           sync.Mutex
	conns        map[int32]*conn
	nextConnID   int32
	totalCreated int64
	forcedOpID   *int32
	cursors      map[int64]*cursor
	txns         map[string]*txnState // by lsid.id bytes
	synth        []synthConn
	synthGen     synthState
	internal     *internalActivity // replica-set internal threads and peers (nil when standalone)
	down         bool              // a member stopped by ReplicaSet.Stop: refuses and drops connections

	rs      *ReplicaSet // the set this server is a member of (StartReplicaSet), else nil
	rsIdx   int         // its index in rs
	cluster *Cluster    // the cluster this server is the mongos of (StartCluster), else nil
}

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) { return start(opts, nil, nil) }

// start is Start for the members of a replica set or cluster: users, when not nil, is the
// set's shared user table (so that mongos and shards agree on who a user is, and the SCRAM
// keys are derived once), and bind attaches the server to its set before it serves.
func start(opts Options, users map[string]*userCred, bind func(*Server)) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Profile == (Profile{}) {
		opts.Profile = Profile80
	}
	if opts.Profile.MaxWireVersion < 8 {
		return nil, fmt.Errorf("sim/mongod: profile %q has wire version %d; the oldest modelled is 8 (MongoDB 4.2, handshake only)", opts.Profile.Version, opts.Profile.MaxWireVersion)
	}
	ver, err := parseVersion(opts.Profile.Version)
	if err != nil {
		return nil, err
	}
	if opts.Host == "" {
		opts.Host = "localhost"
	}
	if opts.Mongos && len(opts.Shards) == 0 {
		opts.Shards = []string{"shard01", "shard02"}
	}
	if opts.Mongos && opts.ReplicaSet != "" {
		return nil, errors.New("sim/mongod: a server is either a mongos or a replica-set member, not both; unset Options.ReplicaSet or Options.Mongos")
	}
	if opts.Synthetic < 0 {
		return nil, fmt.Errorf("sim/mongod: Options.Synthetic is %d; use 0 or more", opts.Synthetic)
	}
	if users == nil {
		if users, err = buildUsers(opts.Users); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("sim/mongod: listen on %s: %w", opts.Addr, err)
	}
	s := &Server{
		opts:      opts,
		ver:       ver,
		ln:        ln,
		addr:      ln.Addr().String(),
		processID: bson.NewObjectID(),
		started:   time.Now(),
		done:      make(chan struct{}),
		users:     users,
		conns:     make(map[int32]*conn),
		cursors:   make(map[int64]*cursor),
		txns:      make(map[string]*txnState),
	}
	_, port, _ := net.SplitHostPort(s.addr)
	s.hostPort = net.JoinHostPort(opts.Host, port)
	if bind != nil {
		bind(s)
	}
	if opts.ReplicaSet != "" {
		s.internal = newInternalActivity(s)
	}
	s.AddSynthetic(opts.Synthetic)
	s.SetCurrentOpFault(opts.CurrentOpFault)
	s.wg.Add(1)
	go s.acceptLoop(ln)
	return s, nil
}

// Addr is the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// URI is a direct-connection URI for the driver.
func (s *Server) URI() string { return "mongodb://" + s.addr + "/?directConnection=true" }

// Close stops the listener, closes every connection and waits for all goroutines to end.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		ln := s.ln
		s.mu.Unlock()
		ln.Close()
		s.DropConnections()
	})
	s.wg.Wait()
	return nil
}

// DropConnections closes every live client connection, as a restart or a network cut would.
func (s *Server) DropConnections() {
	s.mu.Lock()
	list := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	s.mu.Unlock()
	for _, c := range list {
		c.nc.Close()
	}
}

// RefuseConnections makes the server accept and immediately close new connections.
func (s *Server) RefuseConnections(refuse bool) { s.refuse.Store(refuse) }

// SetReplyDelay delays every reply by d (0 = none).
func (s *Server) SetReplyDelay(d time.Duration) { s.replyDelay.Store(int64(max(d, 0))) }

// SetNextOpID forces the opid of the next operation that follows the hold convention (see the
// package doc), to test opid reuse; heartbeats and other commands keep counting normally.
func (s *Server) SetNextOpID(id int32) {
	s.mu.Lock()
	s.forcedOpID = &id
	s.mu.Unlock()
}

// Connections counts live real (socket) connections and synthetic ones.
func (s *Server) Connections() (real, synthetic int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns), len(s.synth)
}

func (s *Server) nextOpIDLocked(held bool) int32 {
	if held && s.forcedOpID != nil {
		id := *s.forcedOpID
		s.forcedOpID = nil
		return id
	}
	return s.opSeq.Add(1) // wraps to negative like a real server
}

func (s *Server) nextRequestID() int32 { return s.requestSeq.Add(1) }

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: back off and keep serving, like a real server.
			select {
			case <-s.done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		if s.refuse.Load() {
			nc.Close()
			continue
		}
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			nc.Close()
			return
		default:
		}
		if s.down {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		c := s.addConnLocked(nc, nc.RemoteAddr().String())
		s.mu.Unlock()
		go c.readLoop()
		go c.serve()
	}
}

// addConnLocked registers a new connection; the caller starts its two goroutines.
func (s *Server) addConnLocked(nc net.Conn, remote string) *conn {
	s.nextConnID++
	s.totalCreated++
	c := newConn(s, s.nextConnID, nc, remote)
	s.conns[c.id] = c
	s.wg.Add(2)
	return c
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
}

// authEnabled reports whether commands need an authenticated user.
func (s *Server) authEnabled() bool { return len(s.users) > 0 }

// version is a parsed "major.minor.patch".
type version struct{ major, minor, patch int }

func parseVersion(v string) (version, error) {
	parts := strings.SplitN(v, ".", 3)
	var out version
	var err error
	if len(parts) < 2 {
		return out, fmt.Errorf("sim/mongod: profile version %q is not major.minor.patch, e.g. \"8.0.4\"", v)
	}
	if out.major, err = strconv.Atoi(parts[0]); err != nil {
		return out, fmt.Errorf("sim/mongod: profile version %q: %w", v, err)
	}
	if out.minor, err = strconv.Atoi(parts[1]); err != nil {
		return out, fmt.Errorf("sim/mongod: profile version %q: %w", v, err)
	}
	if len(parts) == 3 {
		if out.patch, err = strconv.Atoi(parts[2]); err != nil {
			return out, fmt.Errorf("sim/mongod: profile version %q: %w", v, err)
		}
	}
	return out, nil
}

func (v version) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
