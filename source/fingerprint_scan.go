package source

// scanner reads JSON bytes without decoding them and writes a query's shape to out. It is a
// hand-written scanner because grouping shapes every session of a refresh (tens of thousands):
// encoding/json's decoder costs several microseconds a command.
type scanner struct {
	src []byte
	i   int
	out []byte
}

func (sc *scanner) ws() {
	for sc.i < len(sc.src) {
		switch sc.src[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) eat(c byte) bool {
	if sc.i < len(sc.src) && sc.src[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// str reads a string and returns its raw contents (escapes as written).
func (sc *scanner) str() ([]byte, bool) {
	if !sc.eat('"') {
		return nil, false
	}
	start := sc.i
	for sc.i < len(sc.src) {
		switch sc.src[sc.i] {
		case '\\':
			sc.i += 2
			continue
		case '"':
			s := sc.src[start:sc.i]
			sc.i++
			return s, true
		}
		sc.i++
	}
	return nil, false
}

// scalar reads a number, true, false or null.
func (sc *scanner) scalar() bool {
	start := sc.i
	for sc.i < len(sc.src) {
		c := sc.src[sc.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' {
			break
		}
		sc.i++
	}
	return sc.i > start
}

// skip reads one value.
func (sc *scanner) skip(depth int) bool {
	if depth > maxDepth || sc.i >= len(sc.src) {
		return false
	}
	switch sc.src[sc.i] {
	case '"':
		_, ok := sc.str()
		return ok
	case '{', '[':
		closer := byte('}')
		if sc.src[sc.i] == '[' {
			closer = ']'
		}
		sc.i++
		sc.ws()
		if sc.eat(closer) {
			return true
		}
		for {
			sc.ws()
			if closer == '}' {
				if _, ok := sc.str(); !ok {
					return false
				}
				sc.ws()
				if !sc.eat(':') {
					return false
				}
				sc.ws()
			}
			if !sc.skip(depth + 1) {
				return false
			}
			sc.ws()
			if sc.eat(closer) {
				return true
			}
			if !sc.eat(',') {
				return false
			}
		}
	}
	return sc.scalar()
}

// isExtWrapper: k is one of the Extended JSON wrappers of a literal value ({"$oid": …}, …).
func isExtWrapper(k string) bool {
	switch k {
	case "$oid", "$date", "$numberLong", "$numberInt", "$numberDouble", "$numberDecimal",
		"$regularExpression", "$timestamp", "$binary", "$minKey", "$maxKey", "$undefined", "$symbol",
		"$code", "$uuid", "$regex", "$dbPointer":
		return true
	}
	return false
}

// isCollapsed: k is an operator whose list argument is a literal of any length.
func isCollapsed(k string) bool {
	switch k {
	case "$in", "$nin", "$all":
		return true
	}
	return false
}

// isKeptString: k is a field whose string values are structure, not literals: a $lookup's
// collection and fields, an $unwind's path, a $count's or $out's name.
func isKeptString(k string) bool {
	switch k {
	case "from", "localField", "foreignField", "as", "$unwind", "path", "$count", "$out", "into",
		"connectFromField", "connectToField", "$sortByCount":
		return true
	}
	return false
}

// isKeptNumber: k is a field whose numbers are structure: sort directions, projections.
func isKeptNumber(k string) bool {
	switch k {
	case "$sort", "sort", "$project", "projection", "$meta":
		return true
	}
	return false
}

// value writes the shape of one value. keep says the value's scalars are structure and are
// written as they are.
func (sc *scanner) value(depth int, keep bool) bool {
	if depth > maxDepth || sc.i >= len(sc.src) || len(sc.out) > 2*FingerprintMax {
		if sc.skip(0) {
			sc.out = append(sc.out, "…"...)
			return true
		}
		return false
	}
	switch sc.src[sc.i] {
	case '"':
		s, ok := sc.str()
		if !ok {
			return false
		}
		if keep || len(s) > 0 && s[0] == '$' {
			sc.out = append(sc.out, '"')
			sc.out = append(sc.out, Clean(string(s))...)
			sc.out = append(sc.out, '"')
		} else {
			sc.out = append(sc.out, '?')
		}
		return true
	case '{':
		return sc.object(depth, keep)
	case '[':
		return sc.array(depth, keep)
	}
	start := sc.i
	if !sc.scalar() {
		return false
	}
	if keep {
		sc.out = append(sc.out, Clean(string(sc.src[start:sc.i]))...)
	} else {
		sc.out = append(sc.out, '?')
	}
	return true
}

func (sc *scanner) object(depth int, keep bool) bool {
	mark, at := len(sc.out), sc.i
	sc.i++
	sc.out = append(sc.out, '{')
	sc.ws()
	if sc.eat('}') {
		sc.out = append(sc.out, '}')
		return true
	}
	for n := 0; ; n++ {
		sc.ws()
		k, ok := sc.str()
		if !ok {
			return false
		}
		sc.ws()
		if !sc.eat(':') {
			return false
		}
		sc.ws()
		if n == 0 && isExtWrapper(string(k)) {
			// A literal such as {"$oid": …}: the whole object is one "?".
			sc.i = at
			sc.out = sc.out[:mark]
			if !sc.skip(depth) {
				return false
			}
			sc.out = append(sc.out, '?')
			return true
		}
		if n > 0 {
			sc.out = append(sc.out, ", "...)
		}
		sc.out = appendKey(sc.out, k)
		sc.out = append(sc.out, ": "...)
		if isCollapsed(string(k)) {
			if !sc.skip(depth + 1) {
				return false
			}
			sc.out = append(sc.out, "[?]"...)
		} else if !sc.value(depth+1, keep || isKeptString(string(k)) || isKeptNumber(string(k))) {
			return false
		}
		sc.ws()
		if sc.eat('}') {
			sc.out = append(sc.out, '}')
			return true
		}
		if !sc.eat(',') {
			return false
		}
	}
}

// array writes a list of documents element by element, and a list of literals as [?]
// whatever its length.
func (sc *scanner) array(depth int, keep bool) bool {
	mark := len(sc.out)
	sc.i++
	sc.out = append(sc.out, '[')
	sc.ws()
	literal := true
	for n := 0; !sc.eat(']'); n++ {
		if n > 0 {
			if !sc.eat(',') {
				return false
			}
			sc.ws()
			sc.out = append(sc.out, ", "...)
		}
		if sc.i < len(sc.src) && (sc.src[sc.i] == '{' || sc.src[sc.i] == '[') {
			before := len(sc.out)
			if !sc.value(depth+1, keep) {
				return false
			}
			literal = literal && string(sc.out[before:]) == "?"
		} else if !sc.value(depth+1, keep) {
			return false
		} else if keep || sc.out[len(sc.out)-1] != '?' {
			literal = false
		}
		sc.ws()
		if sc.i >= len(sc.src) {
			return false
		}
	}
	if literal {
		sc.out = append(sc.out[:mark], "[?]"...)
		return true
	}
	sc.out = append(sc.out, ']')
	return true
}

// appendKey writes a field name as renderKey does, without allocating for the usual names.
func appendKey(b, k []byte) []byte {
	for i, c := range k {
		if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c == '.' || c >= '0' && c <= '9')) {
			return append(b, renderKey(Clean(string(k)))...)
		}
	}
	if len(k) == 0 {
		return append(b, `""`...)
	}
	return append(b, k...)
}
