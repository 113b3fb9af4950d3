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
)

// Term is one condition.
type Term struct {
	// Field is "" for any column, else one of FilterFields.
	Field string
	Kind  TermKind
	Value string         // Contains: lower-cased needle
	Re    *regexp.Regexp // Regex
	Cmp   string         // Compare: ">", ">=", "<", "<=", "="
	Dur   time.Duration  // Compare
	Not   bool           // negated term
}

// FilterFields are the field names a term may name.
var FilterFields = []string{"id", "type", "op", "ns", "plan", "client", "app", "user", "driver", "host", "shard", "desc", "running"}

// Empty reports whether f matches everything.
func (f Filter) Empty() bool { return len(f.Terms) == 0 }
