package mongod

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// flagQuerySecondaryOk is the OP_QUERY secondaryOk (formerly slaveOk) flag bit.
const flagQuerySecondaryOk uint32 = 1 << 2

// Error codes of members that are not primary.
const (
	codeNotWritablePrimary      int32 = 10107
	codeNotPrimaryNoSecondaryOk int32 = 13435
	codeNotPrimaryOrSecondary   int32 = 13436
	codeHostUnreachable         int32 = 6
	codeFailedToSatisfyReadPref int32 = 133
)

func init() {
	codeNames[codeNotWritablePrimary] = "NotWritablePrimary"
	codeNames[codeNotPrimaryNoSecondaryOk] = "NotPrimaryNoSecondaryOk"
	codeNames[codeNotPrimaryOrSecondary] = "NotPrimaryOrSecondary"
	codeNames[codeHostUnreachable] = "HostUnreachable"
	codeNames[codeFailedToSatisfyReadPref] = "FailedToSatisfyReadPreference"
}

// Which commands a member that is not primary runs, as mongod's Command::secondaryAllowed
// says: writes need the primary; reads run on a secondary only when the client opted in
// (secondaryOk); the rest (hello, serverStatus, currentOp, killOp, getMore, …) always run.
var (
	primaryOnly = map[string]bool{
		"insert": true, "update": true, "delete": true, "findAndModify": true,
		"createIndexes": true, "dropIndexes": true, "drop": true, "create": true,
		"commitTransaction": true, "abortTransaction": true,
	}
	secondaryOptIn = map[string]bool{
		"find": true, "count": true, "distinct": true, "aggregate": true,
		"listIndexes": true, "listCollections": true, "listDatabases": true,
	}
)

// memberAllows refuses what a secondary or an arbiter would refuse.
func (c *conn) memberAllows(req *request) error {
	s := c.s
	if s.rs == nil {
		return nil
	}
	r := s.rs.role(s.rsIdx)
	switch {
	case r == rolePrimary:
		return nil
	case r == roleArbiter && (primaryOnly[req.name] || secondaryOptIn[req.name]):
		return errorf(codeNotPrimaryOrSecondary, "node is not in primary or recovering state")
	case primaryOnly[req.name]:
		return errorf(codeNotWritablePrimary, "not primary")
	case secondaryOptIn[req.name] && !req.secondaryOk:
		return errorf(codeNotPrimaryNoSecondaryOk, "not primary and secondaryOk=false")
	}
	return nil
}

// status is replSetGetStatus as member s sees the set.
func (rs *ReplicaSet) status(s *Server) bson.D {
	now := time.Now()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	self := s.rsIdx
	members := make(bson.A, 0, len(rs.members))
	for i := range rs.members {
		members = append(members, rs.memberStatusLocked(i, self, now))
	}
	voting := len(rs.members) // hidden members and the arbiter vote too
	_, applied := rs.optimeLocked(self, now)
	committed := applied
	if rs.primary >= 0 {
		_, committed = rs.optimeLocked(rs.primary, now)
	}
	d := bson.D{
		{Key: "set", Value: rs.name},
		{Key: "date", Value: bson.NewDateTimeFromTime(now)},
		{Key: "myState", Value: int32(rs.roleLocked(self))},
		{Key: "term", Value: rs.term},
	}
	if self != rs.primary && rs.primary >= 0 && !rs.state[self].arbiter {
		d = append(d, bson.E{Key: "syncSourceHost", Value: rs.members[rs.primary].Addr()}, bson.E{Key: "syncSourceId", Value: int32(rs.primary)})
	} else {
		d = append(d, bson.E{Key: "syncSourceHost", Value: ""}, bson.E{Key: "syncSourceId", Value: int32(-1)})
	}
	majority := int32(voting/2 + 1)
	return append(d,
		bson.E{Key: "heartbeatIntervalMillis", Value: int64(2000)},
		bson.E{Key: "majorityVoteCount", Value: majority},
		bson.E{Key: "writeMajorityCount", Value: majority},
		bson.E{Key: "votingMembersCount", Value: int32(voting)},
		bson.E{Key: "writableVotingMembersCount", Value: int32(len(rs.seedsLocked()))},
		bson.E{Key: "optimes", Value: bson.D{
			{Key: "lastCommittedOpTime", Value: committed},
			{Key: "readConcernMajorityOpTime", Value: committed},
			{Key: "appliedOpTime", Value: applied},
			{Key: "durableOpTime", Value: applied},
		}},
		bson.E{Key: "members", Value: members},
		bson.E{Key: "ok", Value: 1.0},
	)
}

// memberStatusLocked is one entry of replSetGetStatus.members, as member self reports it.
func (rs *ReplicaSet) memberStatusLocked(i, self int, now time.Time) bson.D {
	r := rs.roleLocked(i)
	d := bson.D{
		{Key: "_id", Value: int32(i)},
		{Key: "name", Value: rs.members[i].Addr()},
	}
	if r == roleDown {
		return append(d,
			bson.E{Key: "health", Value: 0.0},
			bson.E{Key: "state", Value: int32(r)},
			bson.E{Key: "stateStr", Value: r.String()},
			bson.E{Key: "uptime", Value: int32(0)},
			bson.E{Key: "optime", Value: bson.D{{Key: "ts", Value: bson.Timestamp{}}, {Key: "t", Value: int64(-1)}}},
			bson.E{Key: "optimeDate", Value: bson.NewDateTimeFromTime(time.Unix(0, 0))},
			bson.E{Key: "lastHeartbeat", Value: bson.NewDateTimeFromTime(now.Truncate(2 * time.Second))},
			bson.E{Key: "lastHeartbeatRecv", Value: bson.NewDateTimeFromTime(time.Unix(0, 0))},
			bson.E{Key: "pingMs", Value: int64(0)},
			bson.E{Key: "lastHeartbeatMessage", Value: "Error connecting to " + rs.members[i].Addr() + " :: caused by :: Connection refused"},
			bson.E{Key: "authenticated", Value: false},
			bson.E{Key: "configVersion", Value: int32(-1)},
			bson.E{Key: "configTerm", Value: int64(-1)},
		)
	}
	uptime := now.Sub(rs.state[i].started)
	d = append(d,
		bson.E{Key: "health", Value: 1.0},
		bson.E{Key: "state", Value: int32(r)},
		bson.E{Key: "stateStr", Value: r.String()},
		bson.E{Key: "uptime", Value: int32(uptime.Seconds())},
	)
	if r != roleArbiter {
		at, optime := rs.optimeLocked(i, now)
		d = append(d,
			bson.E{Key: "optime", Value: optime},
			bson.E{Key: "optimeDurable", Value: optime},
			bson.E{Key: "optimeDate", Value: bson.NewDateTimeFromTime(at)},
			bson.E{Key: "optimeDurableDate", Value: bson.NewDateTimeFromTime(at)},
			bson.E{Key: "lastAppliedWallTime", Value: bson.NewDateTimeFromTime(at)},
			bson.E{Key: "lastDurableWallTime", Value: bson.NewDateTimeFromTime(at)},
		)
	}
	if i != self {
		d = append(d,
			bson.E{Key: "lastHeartbeat", Value: bson.NewDateTimeFromTime(now.Truncate(2 * time.Second))},
			bson.E{Key: "lastHeartbeatRecv", Value: bson.NewDateTimeFromTime(now.Truncate(2 * time.Second))},
			bson.E{Key: "pingMs", Value: int64(0)},
			bson.E{Key: "lastHeartbeatMessage", Value: ""},
		)
	}
	sync, syncID := "", int32(-1)
	if r == roleSecondary && rs.primary >= 0 {
		sync, syncID = rs.members[rs.primary].Addr(), int32(rs.primary)
	}
	d = append(d,
		bson.E{Key: "syncSourceHost", Value: sync},
		bson.E{Key: "syncSourceId", Value: syncID},
		bson.E{Key: "infoMessage", Value: ""},
	)
	if r == rolePrimary {
		ts := bson.Timestamp{T: uint32(rs.elected.Unix()), I: 1}
		d = append(d,
			bson.E{Key: "electionTime", Value: ts},
			bson.E{Key: "electionDate", Value: bson.NewDateTimeFromTime(rs.elected.Truncate(time.Second))},
		)
	}
	d = append(d, bson.E{Key: "configVersion", Value: int32(1)}, bson.E{Key: "configTerm", Value: rs.term})
	if i == self {
		d = append(d, bson.E{Key: "self", Value: true}, bson.E{Key: "lastHeartbeatMessage", Value: ""})
	}
	return d
}
