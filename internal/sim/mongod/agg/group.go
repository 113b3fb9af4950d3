package agg

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// accumulator state for one group.
type accState interface {
	add(v any)
	result() any
}

type accSpec struct {
	field string
	op    string
	arg   expr
}

type groupStage struct {
	id   expr
	accs []accSpec
}

func parseGroup(v any, depth int) (*groupStage, error) {
	d, ok := v.(bson.D)
	if !ok {
		return nil, errf(15947, "a group's fields must be specified in an object")
	}
	g := &groupStage{}
	sc := newScope()
	hasID := false
	for _, e := range d {
		if e.Key == "_id" {
			x, err := parseExpr(e.Value, sc, depth+1)
			if err != nil {
				return nil, err
			}
			g.id, hasID = x, true
			continue
		}
		if strings.HasPrefix(e.Key, "$") {
			return nil, errf(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
		}
		if strings.Contains(e.Key, ".") {
			return nil, errf(40235, "The field name '%s' cannot contain '.'", e.Key)
		}
		spec, ok := asDoc(e.Value)
		if !ok {
			return nil, errf(40234, "The field '%s' must be an accumulator object", e.Key)
		}
		if len(spec) != 1 {
			return nil, errf(40238, "The field '%s' must specify one accumulator", e.Key)
		}
		op := spec[0].Key
		switch op {
		case "$sum", "$avg", "$first", "$last", "$min", "$max", "$push", "$addToSet", "$count", "$mergeObjects":
		default:
			return nil, errf(15952, "unknown group operator '%s'", op)
		}
		var arg expr
		if op == "$count" {
			if cd, ok := asDoc(spec[0].Value); !ok || len(cd) != 0 {
				return nil, errf(codeTypeMismatch, "$count takes no arguments, i.e. $count:{}")
			}
		} else {
			av := norm(spec[0].Value)
			if a, ok := av.(bson.A); ok {
				if len(a) != 1 {
					return nil, errf(40237, "The %s accumulator is a unary operator", op)
				}
				av = norm(a[0])
			}
			x, err := parseExpr(av, sc, depth+1)
			if err != nil {
				return nil, err
			}
			arg = x
		}
		g.accs = append(g.accs, accSpec{field: e.Key, op: op, arg: arg})
	}
	if !hasID {
		return nil, errf(15955, "a group specification must include an _id")
	}
	return g, nil
}

type group struct {
	id   any
	accs []accState
}

func (g *groupStage) newGroup(id any) *group {
	gr := &group{id: id, accs: make([]accState, len(g.accs))}
	for i, a := range g.accs {
		switch a.op {
		case "$sum":
			gr.accs[i] = &sumAcc{}
		case "$count":
			gr.accs[i] = &sumAcc{}
		case "$avg":
			gr.accs[i] = &avgAcc{}
		case "$first":
			gr.accs[i] = &firstAcc{}
		case "$last":
			gr.accs[i] = &lastAcc{}
		case "$min":
			gr.accs[i] = &minMaxAcc{max: false}
		case "$max":
			gr.accs[i] = &minMaxAcc{max: true}
		case "$push":
			gr.accs[i] = &pushAcc{out: bson.A{}}
		case "$addToSet":
			gr.accs[i] = &setAcc{out: bson.A{}, seen: map[string]struct{}{}}
		case "$mergeObjects":
			gr.accs[i] = &mergeAcc{out: bson.D{}}
		}
	}
	return gr
}

func (g *groupStage) run(docs []bson.D) ([]bson.D, error) {
	index := map[string]*group{}
	var order []*group
	var key []byte
	c := newCtx(nil)
	for _, d := range docs {
		c.reset(d)
		id, err := g.id.eval(c)
		if err != nil {
			return nil, err
		}
		if isMissing(id) {
			id = nil
		}
		key = appendKey(key[:0], id, 0)
		gr, ok := index[string(key)]
		if !ok {
			gr = g.newGroup(id)
			index[string(key)] = gr
			order = append(order, gr)
		}
		for i, a := range g.accs {
			if a.op == "$count" {
				gr.accs[i].add(int32(1))
				continue
			}
			v, err := a.arg.eval(c)
			if err != nil {
				return nil, err
			}
			if a.op == "$mergeObjects" && !isNullish(v) {
				if _, ok := v.(bson.D); !ok {
					return nil, errf(40400, "$mergeObjects requires object inputs, but input %s is of type %s", show(v), typeName(v))
				}
			}
			gr.accs[i].add(v)
		}
	}
	out := make([]bson.D, 0, len(order))
	for _, gr := range order {
		d := make(bson.D, 0, 1+len(g.accs))
		d = append(d, bson.E{Key: "_id", Value: gr.id})
		for i, a := range g.accs {
			d = append(d, bson.E{Key: a.field, Value: gr.accs[i].result()})
		}
		out = append(out, d)
	}
	return out, nil
}

type sumAcc struct{ n numAcc }

func (a *sumAcc) add(v any) {
	// {$sum: "$arr"} in $group sums numbers only; arrays are not descended into.
	a.n.add(v)
}
func (a *sumAcc) result() any { return a.n.value() }

type avgAcc struct{ n numAcc }

func (a *avgAcc) add(v any) { a.n.add(v) }
func (a *avgAcc) result() any {
	if a.n.n == 0 {
		return nil
	}
	f, _ := num(a.n.value())
	return f / float64(a.n.n)
}

type firstAcc struct {
	v   any
	set bool
}

func (a *firstAcc) add(v any) {
	if !a.set {
		a.v, a.set = v, true
	}
}
func (a *firstAcc) result() any {
	if isMissing(a.v) {
		return nil
	}
	return a.v
}

type lastAcc struct{ v any }

func (a *lastAcc) add(v any) { a.v = v }
func (a *lastAcc) result() any {
	if isMissing(a.v) {
		return nil
	}
	return a.v
}

type minMaxAcc struct {
	max bool
	v   any
	set bool
}

func (a *minMaxAcc) add(v any) {
	if isNullish(v) {
		return
	}
	if !a.set {
		a.v, a.set = v, true
		return
	}
	c := compare(v, a.v)
	if (a.max && c > 0) || (!a.max && c < 0) {
		a.v = v
	}
}
func (a *minMaxAcc) result() any {
	if !a.set {
		return nil
	}
	return a.v
}

type pushAcc struct{ out bson.A }

func (a *pushAcc) add(v any) {
	if !isMissing(v) {
		a.out = append(a.out, v)
	}
}
func (a *pushAcc) result() any { return a.out }

type setAcc struct {
	out  bson.A
	seen map[string]struct{}
	buf  []byte
}

func (a *setAcc) add(v any) {
	if isMissing(v) {
		return
	}
	a.buf = appendKey(a.buf[:0], v, 0)
	if _, ok := a.seen[string(a.buf)]; ok {
		return
	}
	a.seen[string(a.buf)] = struct{}{}
	a.out = append(a.out, v)
}
func (a *setAcc) result() any { return a.out }

type mergeAcc struct{ out bson.D }

func (a *mergeAcc) add(v any) {
	if d, ok := v.(bson.D); ok {
		for _, e := range d {
			a.out = setField(a.out, e.Key, e.Value)
		}
	}
}
func (a *mergeAcc) result() any { return a.out }
