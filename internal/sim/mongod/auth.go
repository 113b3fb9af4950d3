package mongod

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// scramIterations is the server default for SCRAM-SHA-256.
const scramIterations = 15000

// Privileges (actions) the simulator checks, and the built-in roles that grant them.
const (
	actServerStatus = "serverStatus" // serverStatus, hostInfo, replSetGetStatus, listShards
	actInprog       = "inprog"       // $currentOp allUsers:true; anything on mongos
	actKillOp       = "killop"       // killOp on other users' operations
	actRead         = "find"
	actWrite        = "insert"
)

var roleActions = map[string][]string{
	"clusterMonitor": {actServerStatus, actInprog},
	"hostManager":    {actKillOp},
	"root":           {actServerStatus, actInprog, actKillOp, actRead, actWrite},
	"readWrite":      {actRead, actWrite},
	"read":           {actRead},
}

type userCred struct {
	name, db string
	roles    []string
	actions  []string // granted by a custom role
	creds    scram.StoredCredentials
	uid      []byte // SHA-256 of "name@db", the lsid.uid of its sessions
}

func userKey(db, name string) string { return db + "\x00" + name }

func buildUsers(list []User) (map[string]*userCred, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make(map[string]*userCred, len(list))
	for _, u := range list {
		if u.Name == "" || u.Password == "" {
			return nil, errors.New("sim/mongod: every Options.Users entry needs a Name and a Password")
		}
		if u.DB == "" {
			u.DB = "admin"
		}
		for _, r := range u.Roles {
			if _, ok := roleActions[r]; !ok {
				return nil, fmt.Errorf("sim/mongod: user %q has unknown role %q; use clusterMonitor, hostManager, root, readWrite or read", u.Name, r)
			}
		}
		for _, a := range u.Actions {
			if !slices.Contains([]string{actServerStatus, actInprog, actKillOp, actRead, actWrite}, a) {
				return nil, fmt.Errorf("sim/mongod: user %q has unknown action %q; use serverStatus, inprog, killop, find or insert", u.Name, a)
			}
		}
		client, err := scram.SHA256.NewClient(u.Name, u.Password, "")
		if err != nil {
			return nil, fmt.Errorf("sim/mongod: user %q: %w", u.Name, err)
		}
		salt := sha256.Sum256([]byte("sim/mongod salt " + u.DB + "." + u.Name))
		uid := sha256.Sum256([]byte(u.Name + "@" + u.DB))
		out[userKey(u.DB, u.Name)] = &userCred{
			name:    u.Name,
			db:      u.DB,
			roles:   slices.Clone(u.Roles),
			actions: slices.Clone(u.Actions),
			creds:   client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt[:16]), Iters: scramIterations}),
			uid:     uid[:],
		}
	}
	return out, nil
}

func (u *userCred) has(action string) bool {
	if slices.Contains(u.actions, action) {
		return true
	}
	for _, r := range u.roles {
		if slices.Contains(roleActions[r], action) {
			return true
		}
	}
	return false
}

// can reports whether the connection's users hold a privilege (always true without auth).
func (c *conn) can(action string) bool {
	if !c.s.authEnabled() {
		return true
	}
	for _, u := range c.snapshotUsers() {
		if u.has(action) {
			return true
		}
	}
	return false
}

// coauthorized mirrors AuthorizationSession::isCoauthorizedWith: both unauthenticated, or
// sharing a user.
func coauthorized(mine, theirs []*userCred) bool {
	if len(mine) == 0 && len(theirs) == 0 {
		return true
	}
	for _, a := range mine {
		if slices.Contains(theirs, a) {
			return true
		}
	}
	return false
}

// saslState is one SCRAM conversation on a connection.
type saslState struct {
	conv      *scram.ServerConversation
	user      *userCred
	skipEmpty bool
	finished  bool // server-final sent, waiting for the empty exchange
}

func errAuthFailed() error { return errorf(codeAuthFailed, "Authentication failed.") }

// startSASL begins a conversation for db with the client-first payload.
func (c *conn) startSASL(db string, cmd bson.Raw) (bson.D, error) {
	s := c.s
	mech, _ := cmd.Lookup("mechanism").StringValueOK()
	if mech != "SCRAM-SHA-256" {
		return nil, errorf(codeAuthFailed, "Authentication failed.")
	}
	_, payload, ok := cmd.Lookup("payload").BinaryOK()
	if !ok {
		return nil, errorf(codeBadValue, "saslStart needs a binary payload")
	}
	st := &saslState{}
	opts, _ := cmd.Lookup("options").DocumentOK()
	st.skipEmpty, _ = opts.Lookup("skipEmptyExchange").BooleanOK()
	srv, err := scram.SHA256.NewServer(func(name string) (scram.StoredCredentials, error) {
		u, ok := s.users[userKey(db, name)]
		if !ok {
			return scram.StoredCredentials{}, errors.New("unknown user")
		}
		st.user = u
		return u.creds, nil
	})
	if err != nil {
		return nil, errAuthFailed()
	}
	st.conv = srv.NewConversation()
	out, err := st.conv.Step(string(payload))
	if err != nil {
		c.sasl = nil
		return nil, errAuthFailed()
	}
	c.sasl = st
	return bson.D{
		{Key: "conversationId", Value: int32(1)},
		{Key: "done", Value: false},
		{Key: "payload", Value: bson.Binary{Data: []byte(out)}},
		{Key: "ok", Value: 1.0},
	}, nil
}

func cmdSaslStart(c *conn, req *request) (any, error) {
	if !c.s.authEnabled() {
		return nil, errAuthFailed()
	}
	return c.startSASL(req.db, req.body)
}

func cmdSaslContinue(c *conn, req *request) (any, error) {
	st := c.sasl
	if st == nil {
		return nil, errorf(17, "No SASL session state found")
	}
	_, payload, _ := req.body.Lookup("payload").BinaryOK()
	if st.finished {
		c.sasl = nil
		return saslDone(nil), nil
	}
	out, err := st.conv.Step(string(payload))
	if err != nil || !st.conv.Valid() || st.user == nil {
		c.sasl = nil
		return nil, errAuthFailed()
	}
	s := c.s
	s.mu.Lock()
	if !slices.Contains(c.users, st.user) {
		c.users = append(slices.Clone(c.users), st.user)
	}
	s.mu.Unlock()
	if st.skipEmpty {
		c.sasl = nil
		return saslDone([]byte(out)), nil
	}
	st.finished = true
	return bson.D{
		{Key: "conversationId", Value: int32(1)},
		{Key: "done", Value: false},
		{Key: "payload", Value: bson.Binary{Data: []byte(out)}},
		{Key: "ok", Value: 1.0},
	}, nil
}

func saslDone(payload []byte) bson.D {
	if payload == nil {
		payload = []byte{}
	}
	return bson.D{
		{Key: "conversationId", Value: int32(1)},
		{Key: "done", Value: true},
		{Key: "payload", Value: bson.Binary{Data: payload}},
		{Key: "ok", Value: 1.0},
	}
}
