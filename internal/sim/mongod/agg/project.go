package agg

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// projNode is one level of a $project / $addFields specification.
type projNode struct {
	order []string
	items map[string]*projItem
}

type projItem struct {
	include bool      // inclusion ({a: 1})
	exclude bool      // exclusion ({a: 0})
	expr    expr      // computed value
	child   *projNode // nested spec ({a: {b: 1}} or "a.b")
}

func newProjNode() *projNode { return &projNode{items: map[string]*projItem{}} }

func (n *projNode) item(key string) *projItem {
	it, ok := n.items[key]
	if !ok {
		it = &projItem{}
		n.items[key] = it
		n.order = append(n.order, key)
	}
	return it
}

// hasExpr reports whether the subtree computes any value.
func (n *projNode) hasExpr() bool {
	for _, it := range n.items {
		if it.expr != nil || (it.child != nil && it.child.hasExpr()) {
			return true
		}
	}
	return false
}

type projMode int

const (
	modeUnknown projMode = iota
	modeInclude
	modeExclude
)

// projection is a compiled $project, $addFields or $unset.
type projection struct {
	root      *projNode
	mode      projMode
	addFields bool
	excludeID bool // inclusion mode: _id was explicitly excluded
	idSet     bool // _id mentioned in the spec
}

func parseProjection(stage string, spec bson.D, addFields bool, depth int) (*projection, error) {
	p := &projection{root: newProjNode(), addFields: addFields}
	if len(spec) == 0 {
		if addFields {
			return p, nil
		}
		return nil, errf(51272, "Invalid %s :: caused by :: projection specification must have at least one field", stage)
	}
	if err := p.parseLevel(stage, p.root, spec, "", depth); err != nil {
		return nil, err
	}
	if !addFields && p.mode == modeUnknown {
		// Only _id was given: {_id: 0} is an exclusion, {_id: 1} an inclusion.
		if it := p.root.items["_id"]; it != nil && it.exclude {
			p.mode = modeExclude
		} else {
			p.mode = modeInclude
		}
	}
	return p, nil
}

func (p *projection) parseLevel(stage string, node *projNode, spec bson.D, prefix string, depth int) error {
	if depth > maxDepth {
		return errf(codeOverflow, "projection nesting exceeds the maximum depth of %d", maxDepth)
	}
	for _, e := range spec {
		if e.Key == "" {
			return errf(40352, "Invalid %s :: caused by :: FieldPath cannot be constructed with empty string", stage)
		}
		if strings.HasPrefix(e.Key, "$") {
			return errf(16410, "Invalid %s :: caused by :: FieldPath field names may not start with '$'. Consider using $getField or $setField.", stage)
		}
		parts, ok := splitPath(e.Key)
		if !ok {
			return errf(15998, "Invalid %s :: caused by :: FieldPath field names may not be empty strings.", stage)
		}
		full := prefix + e.Key
		// Walk down the dotted path, creating children.
		n := node
		for _, part := range parts[:len(parts)-1] {
			it := n.item(part)
			if it.include || it.exclude || it.expr != nil {
				return errf(31250, "Invalid %s :: caused by :: Path collision at %s", stage, full)
			}
			if it.child == nil {
				it.child = newProjNode()
			}
			n = it.child
		}
		last := parts[len(parts)-1]
		it := n.item(last)
		if it.include || it.exclude || it.expr != nil || (it.child != nil && len(parts) > 1) {
			return errf(31250, "Invalid %s :: caused by :: Path collision at %s", stage, full)
		}
		v := norm(e.Value)
		isID := prefix == "" && e.Key == "_id"
		if !p.addFields {
			if isNumber(v) || isBool(v) {
				if truthy(v) {
					if isID {
						p.idSet = true
						it.include = true
						continue
					}
					if err := p.setMode(stage, modeInclude, full); err != nil {
						return err
					}
					it.include = true
				} else {
					if isID {
						p.idSet, p.excludeID = true, true
						it.exclude = true
						continue
					}
					if err := p.setMode(stage, modeExclude, full); err != nil {
						return err
					}
					it.exclude = true
				}
				continue
			}
			if d, ok := v.(bson.D); ok && len(d) > 0 && !strings.HasPrefix(d[0].Key, "$") {
				if it.child == nil {
					it.child = newProjNode()
				}
				if err := p.parseLevel(stage, it.child, d, full+".", depth+1); err != nil {
					return err
				}
				continue
			}
			if d, ok := v.(bson.D); ok && len(d) == 0 {
				return errf(51270, "Invalid %s :: caused by :: An empty sub-projection is not a valid value. Found empty object at path", stage)
			}
			if isID {
				p.idSet = true
			} else if err := p.setMode(stage, modeInclude, full); err != nil {
				return err
			}
		} else if d, ok := v.(bson.D); ok && len(d) > 0 && !strings.HasPrefix(d[0].Key, "$") {
			// $addFields merges a nested document spec into the embedded document.
			if it.child == nil {
				it.child = newProjNode()
			}
			if err := p.parseLevel(stage, it.child, d, full+".", depth+1); err != nil {
				return err
			}
			continue
		}
		x, err := parseExpr(v, newScope(), depth+1)
		if err != nil {
			return err
		}
		it.expr = x
	}
	return nil
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

func (p *projection) setMode(stage string, m projMode, path string) error {
	if p.mode == modeUnknown || p.mode == m {
		p.mode = m
		return nil
	}
	if m == modeExclude {
		return errf(31254, "Invalid %s :: caused by :: Cannot do exclusion on field %s in inclusion projection", stage, path)
	}
	return errf(31253, "Invalid %s :: caused by :: Cannot do inclusion on field %s in exclusion projection", stage, path)
}

func (p *projection) apply(c *ctx, d bson.D) (bson.D, error) {
	switch {
	case p.addFields:
		return p.root.applyAdd(c, d, 0)
	case p.mode == modeExclude:
		return p.root.applyExclude(d, 0), nil
	}
	return p.root.applyInclude(c, d, true, p.excludeID, 0)
}

// applyInclude builds the inclusion projection of d: included fields in document order, then
// computed fields in specification order.
func (n *projNode) applyInclude(c *ctx, d bson.D, top, excludeID bool, depth int) (bson.D, error) {
	out := make(bson.D, 0, len(n.order)+1)
	done := make(map[string]bool, len(n.order))
	for _, e := range d {
		it := n.items[e.Key]
		if it == nil {
			if top && e.Key == "_id" && !excludeID {
				out = append(out, e)
			}
			continue
		}
		switch {
		case it.include:
			out = append(out, e)
			done[e.Key] = true
		case it.child != nil:
			v, err := it.child.includeValue(c, norm(e.Value), depth+1)
			if err != nil {
				return nil, err
			}
			if !isMissing(v) {
				out = append(out, bson.E{Key: e.Key, Value: v})
			}
			done[e.Key] = true
		}
	}
	for _, k := range n.order {
		it := n.items[k]
		switch {
		case it.expr != nil:
			v, err := it.expr.eval(c)
			if err != nil {
				return nil, err
			}
			if !isMissing(v) {
				out = setField(out, k, v)
			}
		case it.child != nil && !done[k] && it.child.hasExpr():
			v, err := it.child.applyInclude(c, nil, false, false, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, bson.E{Key: k, Value: v})
		}
	}
	return out, nil
}

func (n *projNode) includeValue(c *ctx, v any, depth int) (any, error) {
	if depth > maxDepth {
		return missing, nil
	}
	switch x := v.(type) {
	case bson.D:
		return n.applyInclude(c, x, false, false, depth)
	case bson.A:
		out := make(bson.A, 0, len(x))
		for _, e := range x {
			r, err := n.includeValue(c, norm(e), depth+1)
			if err != nil {
				return nil, err
			}
			if !isMissing(r) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	if n.hasExpr() {
		return n.applyInclude(c, nil, false, false, depth)
	}
	return missing, nil
}

func (n *projNode) applyExclude(d bson.D, depth int) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		it := n.items[e.Key]
		switch {
		case it == nil:
			out = append(out, e)
		case it.exclude:
		case it.child != nil:
			out = append(out, bson.E{Key: e.Key, Value: it.child.excludeValue(norm(e.Value), depth+1)})
		default:
			out = append(out, e)
		}
	}
	return out
}

func (n *projNode) excludeValue(v any, depth int) any {
	if depth > maxDepth {
		return v
	}
	switch x := v.(type) {
	case bson.D:
		return n.applyExclude(x, depth)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			out[i] = n.excludeValue(norm(e), depth+1)
		}
		return out
	}
	return v
}

// applyAdd is $addFields: a copy of d with each computed field set in place (or appended, or
// removed when the value is missing), nested specs merged into embedded documents.
func (n *projNode) applyAdd(c *ctx, d bson.D, depth int) (bson.D, error) {
	out := make(bson.D, len(d), len(d)+len(n.order))
	copy(out, d)
	for _, k := range n.order {
		it := n.items[k]
		var v any
		var err error
		if it.expr != nil {
			v, err = it.expr.eval(c)
		} else {
			v, err = it.child.addValue(c, lookup(out, k), depth+1)
		}
		if err != nil {
			return nil, err
		}
		if isMissing(v) {
			for i := range out {
				if out[i].Key == k {
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			continue
		}
		out = setField(out, k, v)
	}
	return out, nil
}

func (n *projNode) addValue(c *ctx, v any, depth int) (any, error) {
	if depth > maxDepth {
		return v, nil
	}
	switch x := v.(type) {
	case bson.D:
		return n.applyAdd(c, x, depth)
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			r, err := n.addValue(c, norm(e), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return n.applyAdd(c, nil, depth)
}
