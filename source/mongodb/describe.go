package mongodb

import (
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// What each operation is: the command's name (its first field), a one-line summary of its
// query, and the progress the server reports. A whole document and a lean one give the same
// answer: the lean projection computes server-side, with the same rules, exactly the parts
// the summary is made of (see leanPartFields), bounded in size.

const (
	// leanMaxPart bounds the query a lean document carries whole (BSON bytes): a larger one
	// is sent as its first leanPartKeys field names, each cut to leanKeyLen characters.
	leanMaxPart  = 512
	leanPartKeys = 8
	leanKeyLen   = 64
)

// partFields are the command fields a summary is taken from, in order: the first that is
// present and not null (MongoDB's $ifNull) is the query (source.DescribeCommand's rule).
var partFields = []string{"filter", "q", "query"}

// describe fills the session's CommandName, Summary and Progress.
func (l *layout) describe(doc bson.Raw, s *source.Session) {
	s.Progress = progressOf(doc)
	var first, text string
	var part source.QueryPart
	if l.lean {
		first, text, part = leanShape(doc)
	} else {
		first, text, part = fullShape(doc)
	}
	if first == "$truncated" {
		s.CommandName = source.TextName(text)
		s.Summary = source.QueryPart{Text: text}.Summary()
		return
	}
	s.CommandName = source.CommandName(s.Op, first)
	s.Summary = part.Summary()
}

// progressOf reads progress {done, total} (index builds and the like).
func progressOf(doc bson.Raw) *source.Progress {
	done, ok1 := num(doc, "progress", "done")
	total, ok2 := num(doc, "progress", "total")
	if !ok1 || !ok2 {
		return nil
	}
	return source.NewProgress(done, total)
}

// fullShape reads a whole document: the command's first field name, a truncated command's
// text, and the query part.
func fullShape(doc bson.Raw) (first, text string, part source.QueryPart) {
	v, ok := lookup(doc, "command")
	if !ok {
		v, ok = lookup(doc, "cursor", "originatingCommand")
	}
	cmd, isDoc := v.DocumentOK()
	if !ok || !isDoc {
		return "", "", part
	}
	src := cmd
	if e, err := cmd.IndexErr(0); err == nil {
		first = e.Key()
		if s, ok := e.Value().StringValueOK(); ok && first == "$truncated" {
			text = prefixCP(s, leanMaxValue)
		}
		if first == "getMore" { // what a getMore works on is its cursor's command
			src = nil
			if oc, ok := lookup(doc, "cursor", "originatingCommand"); ok {
				src, _ = oc.DocumentOK()
			}
		}
	}
	if src == nil {
		return first, text, part
	}
	q, stages := queryOf(src)
	part.Stages = stages
	if d, ok := q.DocumentOK(); ok && q.Type == bson.TypeEmbeddedDocument {
		if len(d) <= leanMaxPart {
			part.Doc = docJSON(d)
		} else {
			part.Keys, part.NKeys = firstKeys(d)
		}
	}
	return first, text, part
}

// queryOf picks the query out of a command as leanPartFields does server-side: filter, q,
// query, the pipeline's first stage, the first update's or delete's q, the first index's key.
// stages is the pipeline's length when none of filter, q and query is set.
func queryOf(cmd bson.Raw) (q bson.RawValue, stages int) {
	for _, f := range partFields {
		if v, ok := lookup(cmd, f); ok && !nullish(v) {
			return v, 0
		}
	}
	if v, ok := lookup(cmd, "pipeline"); ok && v.Type == bson.TypeArray {
		arr, _ := v.ArrayOK()
		vals, _ := arr.Values()
		stages = len(vals)
		if len(vals) > 0 && !nullish(vals[0]) {
			return vals[0], stages
		}
	}
	for _, f := range [][2]string{{"updates", "q"}, {"deletes", "q"}, {"indexes", "key"}} {
		v, ok := lookup(cmd, f[0])
		if !ok || v.Type != bson.TypeArray {
			continue
		}
		arr, _ := v.ArrayOK()
		vals, _ := arr.Values()
		if len(vals) == 0 {
			continue
		}
		el, ok := vals[0].DocumentOK()
		if !ok || vals[0].Type != bson.TypeEmbeddedDocument {
			continue
		}
		if x, ok := lookup(el, f[1]); ok && !nullish(x) {
			return x, stages
		}
	}
	return bson.RawValue{}, stages
}

func nullish(v bson.RawValue) bool { return v.Type == bson.TypeNull || v.Type == bson.TypeUndefined }

// firstKeys are a document's first leanPartKeys field names, each cut to leanKeyLen
// characters, and how many fields it has.
func firstKeys(d bson.Raw) (keys []string, n int) {
	elems, err := d.Elements()
	if err != nil {
		return nil, 0
	}
	for i, e := range elems {
		if i < leanPartKeys {
			keys = append(keys, prefixCP(e.Key(), leanKeyLen))
		}
	}
	return keys, len(elems)
}

// prefixCP is s cut to n code points, as $substrCP cuts it.
func prefixCP(s string, n int) string {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// leanShape reads what leanPartFields sent.
func leanShape(doc bson.Raw) (first, text string, part source.QueryPart) {
	first = rawStr(doc, "N")
	if first == "$truncated" {
		text = rawStr(doc, "V")
	}
	if v, ok := lookup(doc, "Q"); ok {
		if d, ok := v.DocumentOK(); ok && v.Type == bson.TypeEmbeddedDocument {
			part.Doc = docJSON(d)
		}
	}
	if v, ok := lookup(doc, "F"); ok {
		if arr, ok := v.ArrayOK(); ok {
			vals, _ := arr.Values()
			for _, k := range vals {
				if s, ok := k.StringValueOK(); ok {
					part.Keys = append(part.Keys, s)
				}
			}
		}
		if n, ok := num(doc, "Z"); ok && n > 0 && n < 1<<31 {
			part.NKeys = int(n)
		}
	}
	if n, ok := num(doc, "P"); ok && n > 0 && n < 1<<31 {
		part.Stages = int(n)
	}
	return first, text, part
}

// leanPartFields are the lean projection's fields for leanShape: the query part whole (Q)
// when small, else its first field names (F) and count (Z), and the pipeline's length (P).
// cmd is the command expression (the command, or an idle cursor's originatingCommand).
func leanPartFields(cmd any) bson.D {
	remove := "$$REMOVE"
	let := func(name string, v, in any) bson.D {
		return bson.D{{Key: "$let", Value: bson.D{{Key: "vars", Value: bson.D{{Key: name, Value: v}}}, {Key: "in", Value: in}}}}
	}
	first := func(x any) bson.D {
		return cond(isArray(x), bson.D{{Key: "$arrayElemAt", Value: bson.A{x, 0}}}, remove)
	}
	fieldOf := func(el any, name string) bson.D {
		return let("e", el, cond(isType("$$e", "object"), "$$e."+name, remove))
	}
	firstKey := let("f", bson.D{{Key: "$arrayElemAt", Value: bson.A{bson.D{{Key: "$objectToArray", Value: "$$cmd"}}, 0}}}, "$$f.k")
	// src is what the query is read from: the command, or a getMore's cursor's command.
	withSrc := func(in any) bson.D {
		src := cond(isType("$$cmd", "object"),
			cond(eq(firstKey, "getMore"), "$cursor.originatingCommand", "$$cmd"), remove)
		return let("cmd", cmd, let("src", src, in))
	}
	fqq := ifNull("$$src.filter", ifNull("$$src.q", "$$src.query"))
	chain := ifNull(fqq, ifNull(first("$$src.pipeline"), ifNull(fieldOf(first("$$src.updates"), "q"),
		ifNull(fieldOf(first("$$src.deletes"), "q"), fieldOf(first("$$src.indexes"), "key")))))
	// withPart evaluates in with $$q the query part when it is a document, small or large.
	withPart := func(small bool, in any) bson.D {
		size := bson.D{{Key: "$bsonSize", Value: "$$q"}}
		fits := bson.D{{Key: "$lte", Value: bson.A{size, leanMaxPart}}}
		inner := cond(fits, in, remove)
		if !small {
			inner = cond(fits, remove, in)
		}
		return withSrc(cond(isType("$$src", "object"), let("q", chain, cond(isType("$$q", "object"), inner, remove)), remove))
	}
	pairs := bson.D{{Key: "$objectToArray", Value: "$$q"}}
	keys := bson.D{{Key: "$map", Value: bson.D{
		{Key: "input", Value: bson.D{{Key: "$slice", Value: bson.A{pairs, leanPartKeys}}}},
		{Key: "as", Value: "kv"},
		{Key: "in", Value: bson.D{{Key: "$substrCP", Value: bson.A{"$$kv.k", 0, leanKeyLen}}}},
	}}}
	stages := cond(isType("$$src", "object"),
		cond(eq(ifNull(fqq, nil), nil), cond(isArray("$$src.pipeline"), bson.D{{Key: "$size", Value: "$$src.pipeline"}}, remove), remove),
		remove)
	return bson.D{
		{Key: "Q", Value: withPart(true, "$$q")},
		{Key: "F", Value: withPart(false, keys)},
		{Key: "Z", Value: withPart(false, bson.D{{Key: "$size", Value: pairs}})},
		{Key: "P", Value: withSrc(stages)},
	}
}
