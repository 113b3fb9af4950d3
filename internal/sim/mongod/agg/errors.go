// Package agg evaluates MongoDB aggregation pipelines over in-memory documents, for the wire
// simulator in sim/mongod. It implements the stages and operators a monitoring client sends
// ($match, $group, $project, $addFields, $sort, $limit, $skip, $count, $unwind, $facet, …)
// with MongoDB's semantics: query matching over dotted paths and arrays, numeric comparison
// across int32/int64/double, BSON type-bracket ordering, and MongoDB's error codes.
//
// Everything here is untrusted input from a client: malformed stages return *Error, never a
// panic.
package agg

import "fmt"

// Error is a server error as MongoDB reports it: code, codeName and errmsg.
type Error struct {
	Code int32
	Name string // codeName, e.g. "BadValue" or "Location40324"
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Name, e.Code, e.Msg) }

// Named error codes MongoDB uses in the aggregation layer.
const (
	codeBadValue                = 2
	codeFailedToParse           = 9
	codeTypeMismatch            = 14
	codeOverflow                = 15
	codeInvalidPipelineOperator = 168
)

var codeNames = map[int32]string{
	1:                           "InternalError",
	codeBadValue:                "BadValue",
	codeFailedToParse:           "FailedToParse",
	codeTypeMismatch:            "TypeMismatch",
	codeOverflow:                "Overflow",
	codeInvalidPipelineOperator: "InvalidPipelineOperator",
	16:                          "InvalidLength",
	28:                          "PathNotViable",
	40:                          "ConflictingUpdateOperators",
	51091:                       "Location51091",
	241:                         "ConversionFailure",
}

// errf builds an *Error with MongoDB's codeName for code ("Location<code>" when it has none).
func errf(code int32, format string, args ...any) *Error {
	name, ok := codeNames[code]
	if !ok {
		name = fmt.Sprintf("Location%d", code)
	}
	return &Error{Code: code, Name: name, Msg: fmt.Sprintf(format, args...)}
}
