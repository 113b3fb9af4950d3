package source

import (
	"regexp"
	"time"
)

// Filter is a parsed filter expression: every Term must match (AND).
// The zero Filter matches everything.
type Filter struct {
	Text  string // as the user typed it
	Terms []Term
}

// TermKind says how a Term compares.
type TermKind int

const (
	// Contains: case-insensitive substring (Value is lower-cased).
	Contains TermKind = iota
	// Regex: Re matches (compiled case-insensitive).
	Regex
	// Compare: a duration comparison on the running time (Field "running").
	Compare
	// Equals: the field equals Value, ignoring case (field=value; Value as typed).
	Equals
)

// Term is one condition.
type Term struct {
	// Field is "" for any column, else one of FilterFields.
	Field string
	Kind  TermKind
	Value string         // Contains: lower-cased needle; Equals: the value as typed
	Re    *regexp.Regexp // Regex
	Cmp   string         // Compare: ">", ">=", "<", "<=", "="
	Dur   time.Duration  // Compare
	Not   bool           // negated term
}

// Ops are the values of $currentOp's "op" field (and the Op vocabularies of the cloud APIs
// that mirror it): a session's Op is one of them unless a server reports something new.
var Ops = []string{"none", "update", "insert", "query", "command", "getmore", "remove", "killcursors"}

// FilterFields are the field names a term may name.
var FilterFields = []string{"id", "type", "op", "ns", "plan", "client", "app", "user", "driver", "host", "shard", "desc", "command", "summary", "running"}

// Empty reports whether f matches everything.
func (f Filter) Empty() bool { return len(f.Terms) == 0 }
