package agg

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// splitPath splits a dotted path, rejecting empty components.
func splitPath(p string) ([]string, bool) {
	if p == "" {
		return nil, false
	}
	parts := strings.Split(p, ".")
	for _, s := range parts {
		if s == "" {
			return nil, false
		}
	}
	return parts, true
}

// arrayIndex returns the array index a path component names, if it is a plain decimal number.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// visitFn receives one candidate value of a query path. elem is true when the value is an
// element of an array reached at the end of the path (the array itself is visited first with
// elem false). It returns true to stop.
type visitFn func(v any, elem bool) bool

// visitPath walks a query path through a document the way MongoDB's matcher does: arrays on
// the way are traversed element by element (and numeric components index them), a leaf array
// is visited whole and then element by element, and an absent field is visited as missing.
// It reports whether fn stopped the walk.
func visitPath(d bson.D, parts []string, fn visitFn) bool {
	return visitValue(d, parts, fn, 0)
}

func visitValue(cur any, parts []string, fn visitFn, depth int) bool {
	d, ok := cur.(bson.D)
	if !ok {
		return fn(missing, false)
	}
	v := lookup(d, parts[0])
	rest := parts[1:]
	if len(rest) == 0 {
		return visitLeaf(v, fn)
	}
	if depth > maxDepth {
		return false
	}
	switch x := v.(type) {
	case bson.D:
		return visitValue(x, rest, fn, depth+1)
	case bson.A:
		if idx, ok := arrayIndex(rest[0]); ok {
			if idx < len(x) {
				ev := norm(x[idx])
				if len(rest) == 1 {
					if visitLeaf(ev, fn) {
						return true
					}
				} else if visitValue(ev, rest[1:], fn, depth+1) {
					return true
				}
			}
		}
		for _, e := range x {
			if ed, ok := norm(e).(bson.D); ok {
				if visitValue(ed, rest, fn, depth+1) {
					return true
				}
			}
		}
		return false
	}
	return fn(missing, false)
}

func visitLeaf(v any, fn visitFn) bool {
	if fn(v, false) {
		return true
	}
	if a, ok := v.(bson.A); ok {
		for _, e := range a {
			if fn(norm(e), true) {
				return true
			}
		}
	}
	return false
}

// getPath evaluates an aggregation field path: through arrays it collects the values found in
// each element (documents and nested arrays; scalars are skipped), so "$a.b" over
// [{b:1},{c:2},{b:3}] is [1,3]. Absent fields are missing.
func getPath(v any, parts []string) any {
	return getPathDepth(norm(v), parts, 0)
}

func getPathDepth(v any, parts []string, depth int) any {
	if len(parts) == 0 {
		return v
	}
	if depth > maxDepth {
		return missing
	}
	switch x := v.(type) {
	case bson.D:
		return getPathDepth(lookup(x, parts[0]), parts[1:], depth+1)
	case bson.A:
		out := make(bson.A, 0, len(x))
		for _, e := range x {
			switch ev := norm(e).(type) {
			case bson.D, bson.A:
				if r := getPathDepth(ev, parts, depth+1); !isMissing(r) {
					out = append(out, r)
				}
			}
		}
		return out
	}
	return missing
}

// setPath returns a copy of d with the dotted path set to v (or removed when v is missing),
// creating sub-documents as needed; d itself is not modified.
func setPath(d bson.D, parts []string, v any) bson.D {
	out := make(bson.D, 0, len(d)+1)
	out = append(out, d...)
	for i := range out {
		if out[i].Key != parts[0] {
			continue
		}
		if len(parts) == 1 {
			if isMissing(v) {
				return append(out[:i], out[i+1:]...)
			}
			out[i].Value = v
			return out
		}
		sub, _ := asDoc(out[i].Value)
		out[i].Value = setPath(sub, parts[1:], v)
		return out
	}
	if isMissing(v) {
		return out
	}
	if len(parts) == 1 {
		return append(out, bson.E{Key: parts[0], Value: v})
	}
	return append(out, bson.E{Key: parts[0], Value: setPath(nil, parts[1:], v)})
}
