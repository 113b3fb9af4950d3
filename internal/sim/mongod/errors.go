package mongod

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Server error codes the simulator answers with (codeName in codeNames).
const (
	codeBadValue            int32 = 2
	codeFailedToParse       int32 = 9
	codeUnauthorized        int32 = 13
	codeTypeMismatch        int32 = 14
	codeAuthFailed          int32 = 18
	codeIllegalOperation    int32 = 20
	codeNoSuchTransaction   int32 = 251
	codeCursorNotFound      int32 = 43
	codeCommandNotFound     int32 = 59
	codeShardNotFound       int32 = 70
	codeInvalidNamespace    int32 = 73
	codeNoReplication       int32 = 76
	codeInterrupted         int32 = 11601
	codeUnsupportedOpQuery  int32 = 352
	codeProtocolError       int32 = 17
	codeCurrentOpNotFirst   int32 = 40602
	codeIDLUnknownField     int32 = 40415
	codeKillOpBadFormat     int32 = 28625
	codeKillOpMissingOp     int32 = 50759
	codeKillOpUnsupportedOp int32 = 50760
)

var codeNames = map[int32]string{
	codeBadValue:           "BadValue",
	codeFailedToParse:      "FailedToParse",
	codeUnauthorized:       "Unauthorized",
	codeTypeMismatch:       "TypeMismatch",
	codeAuthFailed:         "AuthenticationFailed",
	codeIllegalOperation:   "IllegalOperation",
	codeNoSuchTransaction:  "NoSuchTransaction",
	codeCursorNotFound:     "CursorNotFound",
	codeCommandNotFound:    "CommandNotFound",
	codeShardNotFound:      "ShardNotFound",
	codeInvalidNamespace:   "InvalidNamespace",
	codeNoReplication:      "NoReplicationEnabled",
	codeInterrupted:        "Interrupted",
	codeUnsupportedOpQuery: "UnsupportedOpQueryCommand",
	codeProtocolError:      "ProtocolError",
}

// cmdError is a command failure as the server reports it: {ok:0, errmsg, code, codeName}.
type cmdError struct {
	code int32
	name string
	msg  string
}

func (e *cmdError) Error() string { return fmt.Sprintf("%s (%d): %s", e.name, e.code, e.msg) }

func errorf(code int32, format string, args ...any) *cmdError {
	name, ok := codeNames[code]
	if !ok {
		name = fmt.Sprintf("Location%d", code)
	}
	return &cmdError{code: code, name: name, msg: fmt.Sprintf(format, args...)}
}

// doc renders the error reply; code is always int32 (the driver ignores other types).
func (e *cmdError) doc() bson.D {
	return bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: e.msg},
		{Key: "code", Value: e.code},
		{Key: "codeName", Value: e.name},
	}
}
