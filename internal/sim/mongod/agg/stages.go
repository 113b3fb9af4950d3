package agg

import (
	"math"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Run evaluates the pipeline stages over docs and returns the result documents. Documents
// that pass through unchanged are returned as is (not copied); docs is not modified.
//
// stages are the pipeline after the $currentOp stage the simulator handles itself. Errors are
// *Error with MongoDB's code, codeName and message.
func Run(docs []bson.D, stages []bson.Raw) ([]bson.D, error) {
	p, err := parsePipeline(stages)
	if err != nil {
		return nil, err
	}
	return p.run(docs)
}

type stage interface {
	run(docs []bson.D) ([]bson.D, error)
}

type pipeline []stage

func (p pipeline) run(docs []bson.D) ([]bson.D, error) {
	var err error
	for _, s := range p {
		if docs, err = s.run(docs); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

func parsePipeline(stages []bson.Raw) (pipeline, error) {
	specs := make([]bson.D, 0, len(stages))
	for _, raw := range stages {
		d, err := fromRaw(raw, 0)
		if err != nil {
			return nil, err
		}
		specs = append(specs, d)
	}
	return parseStages(specs, 0)
}

func parseStages(specs []bson.D, depth int) (pipeline, error) {
	p := make(pipeline, 0, len(specs))
	for _, d := range specs {
		if len(d) != 1 {
			return nil, errf(40323, "A pipeline stage specification object must contain exactly one field.")
		}
		s, err := parseStage(d[0].Key, norm(d[0].Value), depth)
		if err != nil {
			return nil, err
		}
		p = append(p, s...)
	}
	return p, nil
}

func parseStage(name string, v any, depth int) ([]stage, error) {
	one := func(s stage, err error) ([]stage, error) {
		if err != nil {
			return nil, err
		}
		return []stage{s}, nil
	}
	switch name {
	case "$match":
		d, ok := v.(bson.D)
		if !ok {
			return nil, errf(15959, "the match filter must be an expression in an object")
		}
		m, err := compileMatch(d, depth+1)
		return one(matchStage{m}, err)
	case "$group":
		return one(parseGroup(v, depth+1))
	case "$project", "$addFields", "$set":
		d, ok := v.(bson.D)
		if !ok {
			if name == "$project" {
				return nil, errf(15969, "$project specification must be an object")
			}
			return nil, errf(40272, "%s specification stage must be an object, got %s", name, typeName(v))
		}
		pr, err := parseProjection(name, d, name != "$project", depth+1)
		return one(projectStage{pr}, err)
	case "$unset":
		var fields []string
		switch x := v.(type) {
		case string:
			fields = []string{x}
		case bson.A:
			for _, f := range x {
				s, ok := norm(f).(string)
				if !ok {
					return nil, errf(31120, "$unset specification must be a string or an array containing only string values")
				}
				fields = append(fields, s)
			}
		default:
			return nil, errf(31002, "$unset specification must be a string or an array")
		}
		if len(fields) == 0 {
			return nil, errf(31119, "$unset specification must be a string or an array with at least one field")
		}
		spec := make(bson.D, len(fields))
		for i, f := range fields {
			spec[i] = bson.E{Key: f, Value: int32(0)}
		}
		pr, err := parseProjection("$unset", spec, false, depth+1)
		return one(projectStage{pr}, err)
	case "$sort":
		return one(parseSort(v))
	case "$limit":
		n, err := countArg(v, 15957, "the limit must be specified as a number", 15958, "the limit must be positive", false)
		return one(limitStage(n), err)
	case "$skip":
		n, err := countArg(v, 15972, "Argument to $skip must be a number.", 15956, "Argument to $skip cannot be negative", true)
		return one(skipStage(n), err)
	case "$count":
		s, ok := v.(string)
		switch {
		case !ok:
			return nil, errf(40156, "the count field must be a non-empty string")
		case s == "":
			return nil, errf(40157, "the count field must be a non-empty string")
		case strings.HasPrefix(s, "$"):
			return nil, errf(40158, "the count field cannot be a $-prefixed path")
		case strings.Contains(s, "."):
			return nil, errf(40160, "the count field cannot contain '.'")
		case strings.ContainsRune(s, 0):
			return nil, errf(40159, "the count field cannot contain a null byte")
		}
		return one(countStage(s), nil)
	case "$unwind":
		return one(parseUnwind(v))
	case "$facet":
		return one(parseFacet(v, depth))
	case "$replaceRoot", "$replaceWith":
		arg := v
		if name == "$replaceRoot" {
			d, ok := v.(bson.D)
			if !ok {
				return nil, errf(40228, "expected an object as specification for $replaceRoot stage, got %s", typeName(v))
			}
			arg = missing
			for _, e := range d {
				if e.Key != "newRoot" {
					return nil, errf(40415, "BSON field '$replaceRoot.%s' is an unknown field.", e.Key)
				}
				arg = norm(e.Value)
			}
			if isMissing(arg) {
				return nil, errf(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field")
			}
		}
		x, err := parseExpr(arg, newScope(), depth+1)
		return one(replaceRootStage{x}, err)
	case "$sortByCount":
		x, err := parseExpr(v, newScope(), depth+1)
		if err != nil {
			return nil, err
		}
		if _, isField := x.(fieldExpr); !isField {
			if d, ok := v.(bson.D); !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
				return nil, errf(40148, "the sortByCount field must be defined as a $-prefixed path or an expression")
			}
		}
		g := &groupStage{id: x, accs: []accSpec{{field: "count", op: "$count"}}}
		return []stage{g, &sortStage{keys: []sortKey{{parts: []string{"count"}, desc: true}}}}, nil
	case "$currentOp":
		return nil, errf(40602, "$currentOp is only valid as the first stage in a pipeline")
	}
	return nil, errf(40324, "Unrecognized pipeline stage name: '%s'", name)
}

// countArg parses the argument of $limit/$skip: a number with an integral value.
func countArg(v any, typeCode int32, typeMsg string, rangeCode int32, rangeMsg string, zeroOK bool) (int64, error) {
	f, ok := num(v)
	if !ok {
		return 0, errf(typeCode, "%s", typeMsg)
	}
	n, ok := asInt64(v)
	if !ok {
		if math.IsNaN(f) || f != math.Trunc(f) {
			return 0, errf(codeFailedToParse, "invalid argument: %s", formatDouble(f))
		}
		return 0, errf(rangeCode, "%s", rangeMsg)
	}
	if n < 0 || (n == 0 && !zeroOK) {
		return 0, errf(rangeCode, "%s", rangeMsg)
	}
	return n, nil
}

type matchStage struct{ m matcher }

func (s matchStage) run(docs []bson.D) ([]bson.D, error) {
	out := make([]bson.D, 0, len(docs)/2+1)
	for _, d := range docs {
		if s.m.match(d) {
			out = append(out, d)
		}
	}
	return out, nil
}

type projectStage struct{ p *projection }

func (s projectStage) run(docs []bson.D) ([]bson.D, error) {
	out := make([]bson.D, len(docs))
	c := newCtx(nil)
	for i, d := range docs {
		c.reset(d)
		r, err := s.p.apply(c, d)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

type limitStage int64

func (s limitStage) run(docs []bson.D) ([]bson.D, error) {
	if int64(len(docs)) > int64(s) {
		return docs[:s], nil
	}
	return docs, nil
}

type skipStage int64

func (s skipStage) run(docs []bson.D) ([]bson.D, error) {
	if int64(len(docs)) <= int64(s) {
		return []bson.D{}, nil
	}
	return docs[s:], nil
}

type countStage string

func (s countStage) run(docs []bson.D) ([]bson.D, error) {
	if len(docs) == 0 {
		return []bson.D{}, nil
	}
	var n any = int32(len(docs))
	if len(docs) > math.MaxInt32 {
		n = int64(len(docs))
	}
	return []bson.D{{{Key: string(s), Value: n}}}, nil
}

type replaceRootStage struct{ e expr }

func (s replaceRootStage) run(docs []bson.D) ([]bson.D, error) {
	out := make([]bson.D, len(docs))
	c := newCtx(nil)
	for i, d := range docs {
		c.reset(d)
		v, err := s.e.eval(c)
		if err != nil {
			return nil, err
		}
		nd, ok := v.(bson.D)
		if !ok {
			return nil, errf(40228, "'newRoot' expression must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'. Input document: %s", show(v), typeName(v), show(d))
		}
		out[i] = nd
	}
	return out, nil
}

// ---- $sort ----

type sortKey struct {
	parts []string
	desc  bool
}

type sortStage struct{ keys []sortKey }

func parseSort(v any) (*sortStage, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(15973, "the $sort key specification must be an object")
	}
	if len(d) == 0 {
		return nil, errf(15976, "$sort stage must have at least one sort key")
	}
	s := &sortStage{}
	for _, e := range d {
		parts, ok := splitPath(e.Key)
		if !ok {
			return nil, errf(40352, "FieldPath cannot be constructed with empty string")
		}
		val := norm(e.Value)
		if md, ok := val.(bson.D); ok {
			// {$meta: "textScore"} etc. sort by nothing here.
			if len(md) == 1 && md[0].Key == "$meta" {
				continue
			}
			return nil, errf(17312, "$meta is the only expression supported by $sort right now")
		}
		n, ok := asInt64(val)
		if !ok || (n != 1 && n != -1) {
			return nil, errf(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		s.keys = append(s.keys, sortKey{parts: parts, desc: n == -1})
	}
	return s, nil
}

// sortValue is the value a document sorts by for one key: missing is null, and an array
// sorts by its smallest element ascending and its largest descending (an empty array sorts
// before null).
func sortValue(d bson.D, k sortKey) any {
	var best any
	found := false
	visitPath(d, k.parts, func(v any, elem bool) bool {
		if a, ok := v.(bson.A); ok && !elem {
			if len(a) == 0 && !found {
				best, found = bson.Undefined{}, true
			}
			return false
		}
		if isMissing(v) {
			v = nil
		}
		if !found {
			best, found = v, true
			return false
		}
		c := compare(v, best)
		if (k.desc && c > 0) || (!k.desc && c < 0) {
			best = v
		}
		return false
	})
	if !found {
		return nil
	}
	return best
}

func (s *sortStage) run(docs []bson.D) ([]bson.D, error) {
	if len(s.keys) == 0 {
		return docs, nil
	}
	type row struct {
		d    bson.D
		keys []any
	}
	rows := make([]row, len(docs))
	keys := make([]any, len(docs)*len(s.keys))
	for i, d := range docs {
		rk := keys[i*len(s.keys) : (i+1)*len(s.keys)]
		for j, k := range s.keys {
			rk[j] = sortValue(d, k)
		}
		rows[i] = row{d, rk}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		for j, k := range s.keys {
			c := compare(rows[a].keys[j], rows[b].keys[j])
			if c == 0 {
				continue
			}
			if k.desc {
				return c > 0
			}
			return c < 0
		}
		return false
	})
	out := make([]bson.D, len(rows))
	for i, r := range rows {
		out[i] = r.d
	}
	return out, nil
}

// ---- $unwind ----

type unwindStage struct {
	parts      []string
	indexField []string
	preserve   bool
}

func parseUnwind(v any) (*unwindStage, error) {
	s := &unwindStage{}
	var path string
	switch x := v.(type) {
	case string:
		path = x
	case bson.D:
		hasPath := false
		for _, e := range x {
			ev := norm(e.Value)
			switch e.Key {
			case "path":
				p, ok := ev.(string)
				if !ok {
					return nil, errf(28808, "expected a string as the path for $unwind stage, got %s", typeName(ev))
				}
				path, hasPath = p, true
			case "includeArrayIndex":
				p, ok := ev.(string)
				if !ok {
					return nil, errf(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage, got %s", typeName(ev))
				}
				if p == "" {
					return nil, errf(28810, "expected a non-empty string for the includeArrayIndex option to $unwind stage, got string")
				}
				if strings.HasPrefix(p, "$") {
					return nil, errf(28822, "includeArrayIndex option to $unwind stage should not be prefixed with a '$': %s", p)
				}
				parts, ok := splitPath(p)
				if !ok {
					return nil, errf(15998, "FieldPath field names may not be empty strings.")
				}
				s.indexField = parts
			case "preserveNullAndEmptyArrays":
				b, ok := ev.(bool)
				if !ok {
					return nil, errf(28809, "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got %s", typeName(ev))
				}
				s.preserve = b
			default:
				return nil, errf(28811, "unrecognized option to $unwind stage: %s", e.Key)
			}
		}
		if !hasPath {
			return nil, errf(28812, "no path specified to $unwind stage")
		}
	default:
		return nil, errf(15981, "expected either a string or an object as specification for $unwind stage, got %s", typeName(v))
	}
	if path == "" {
		return nil, errf(40719, "$unwind path cannot be empty")
	}
	if !strings.HasPrefix(path, "$") {
		return nil, errf(28818, "path option to $unwind stage should be prefixed with a '$': %s", path)
	}
	parts, err := parseFieldPath(path[1:])
	if err != nil {
		return nil, err
	}
	s.parts = parts
	return s, nil
}

func (s *unwindStage) run(docs []bson.D) ([]bson.D, error) {
	out := make([]bson.D, 0, len(docs))
	for _, d := range docs {
		v := getPathNoArrays(d, s.parts)
		emit := func(val any, idx any) {
			nd := setPath(d, s.parts, val)
			if s.indexField != nil {
				nd = setPath(nd, s.indexField, idx)
			}
			out = append(out, nd)
		}
		switch x := v.(type) {
		case bson.A:
			if len(x) == 0 {
				if s.preserve {
					emit(missing, nil)
				}
				continue
			}
			for i, e := range x {
				emit(e, int64(i))
			}
		default:
			if isNullish(v) {
				if s.preserve {
					if s.indexField != nil {
						out = append(out, setPath(d, s.indexField, nil))
					} else {
						out = append(out, d)
					}
				}
				continue
			}
			emit(v, nil)
		}
	}
	return out, nil
}

// getPathNoArrays follows a path through sub-documents only ($unwind does not traverse arrays
// on the way).
func getPathNoArrays(d bson.D, parts []string) any {
	var cur any = d
	for _, p := range parts {
		cd, ok := cur.(bson.D)
		if !ok {
			return missing
		}
		cur = lookup(cd, p)
	}
	return cur
}

// ---- $facet ----

type facetStage struct {
	names []string
	pipes []pipeline
}

func parseFacet(v any, depth int) (*facetStage, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(15947, "the $facet specification must be a non-empty object, but found: %s", typeName(v))
	}
	if len(d) == 0 {
		return nil, errf(40169, "the $facet specification must be a non-empty object")
	}
	if depth > 10 {
		return nil, errf(codeOverflow, "$facet nesting is too deep")
	}
	f := &facetStage{}
	for _, e := range d {
		if e.Key == "" || strings.HasPrefix(e.Key, "$") || strings.Contains(e.Key, ".") {
			return nil, errf(40352, "facet names must be non-empty, not start with '$' and not contain '.': %q", e.Key)
		}
		arr, ok := asArray(e.Value)
		if !ok {
			return nil, errf(40170, "arguments to $facet must be arrays, %s is type %s", e.Key, typeName(norm(e.Value)))
		}
		specs := make([]bson.D, 0, len(arr))
		for _, st := range arr {
			sd, ok := asDoc(st)
			if !ok {
				return nil, errf(40171, "subpipeline of $facet must be an array of objects, but found an element of type %s", typeName(norm(st)))
			}
			if len(sd) == 1 {
				switch sd[0].Key {
				case "$facet", "$out", "$merge", "$collStats", "$indexStats", "$currentOp":
					return nil, errf(40600, "%s is not allowed to be used within a $facet stage", sd[0].Key)
				}
			}
			specs = append(specs, sd)
		}
		p, err := parseStages(specs, depth+1)
		if err != nil {
			return nil, err
		}
		f.names = append(f.names, e.Key)
		f.pipes = append(f.pipes, p)
	}
	return f, nil
}

func (f *facetStage) run(docs []bson.D) ([]bson.D, error) {
	out := make(bson.D, 0, len(f.names))
	for i, p := range f.pipes {
		in := docs[:len(docs):len(docs)] // sub-pipelines must not append into each other
		res, err := p.run(in)
		if err != nil {
			return nil, err
		}
		arr := make(bson.A, len(res))
		for j, r := range res {
			arr[j] = r
		}
		out = append(out, bson.E{Key: f.names[i], Value: arr})
	}
	return []bson.D{out}, nil
}
