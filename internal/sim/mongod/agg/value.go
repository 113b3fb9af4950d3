package agg

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// missingT marks an absent value (a field that does not exist). It never reaches an output
// document: setters skip it and arrays turn it into null.
type missingT struct{}

var missing any = missingT{}

func isMissing(v any) bool { _, ok := v.(missingT); return ok }

// isNullish reports whether v is null, undefined or missing.
func isNullish(v any) bool {
	switch v.(type) {
	case nil, missingT, bson.Undefined, bson.Null:
		return true
	}
	return false
}

// maxDepth bounds nesting of stages and values, like MongoDB's BSON depth limit, so hostile
// input cannot exhaust the stack.
const maxDepth = 180

// fromRaw converts a BSON document to a bson.D with canonical Go types (int32, int64, float64,
// string, bool, nil, bson.D, bson.A, bson.ObjectID, bson.DateTime, …), validating as it goes.
func fromRaw(r bson.Raw, depth int) (bson.D, error) {
	if depth > maxDepth {
		return nil, errf(codeOverflow, "BSON nesting exceeds the maximum depth of %d", maxDepth)
	}
	elems, err := r.Elements()
	if err != nil {
		return nil, errf(codeFailedToParse, "invalid BSON: %v", err)
	}
	d := make(bson.D, 0, len(elems))
	for _, e := range elems {
		k, err := e.KeyErr()
		if err != nil {
			return nil, errf(codeFailedToParse, "invalid BSON key: %v", err)
		}
		rv, err := e.ValueErr()
		if err != nil {
			return nil, errf(codeFailedToParse, "invalid BSON value for %q: %v", k, err)
		}
		v, err := fromRawValue(rv, depth)
		if err != nil {
			return nil, err
		}
		d = append(d, bson.E{Key: k, Value: v})
	}
	return d, nil
}

func fromRawValue(rv bson.RawValue, depth int) (any, error) {
	bad := func() (any, error) {
		return nil, errf(codeFailedToParse, "invalid BSON value of type %s", rv.Type)
	}
	switch rv.Type {
	case bson.TypeDouble:
		if f, ok := rv.DoubleOK(); ok {
			return f, nil
		}
	case bson.TypeString:
		if s, ok := rv.StringValueOK(); ok {
			return s, nil
		}
	case bson.TypeEmbeddedDocument:
		if d, ok := rv.DocumentOK(); ok {
			return fromRaw(d, depth+1)
		}
	case bson.TypeArray:
		if a, ok := rv.ArrayOK(); ok {
			if depth+1 > maxDepth {
				return nil, errf(codeOverflow, "BSON nesting exceeds the maximum depth of %d", maxDepth)
			}
			vals, err := a.Values()
			if err != nil {
				return nil, errf(codeFailedToParse, "invalid BSON array: %v", err)
			}
			out := make(bson.A, 0, len(vals))
			for _, ev := range vals {
				v, err := fromRawValue(ev, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			return out, nil
		}
	case bson.TypeBinary:
		if st, data, ok := rv.BinaryOK(); ok {
			return bson.Binary{Subtype: st, Data: data}, nil
		}
	case bson.TypeUndefined:
		return bson.Undefined{}, nil
	case bson.TypeObjectID:
		if o, ok := rv.ObjectIDOK(); ok {
			return o, nil
		}
	case bson.TypeBoolean:
		if b, ok := rv.BooleanOK(); ok {
			return b, nil
		}
	case bson.TypeDateTime:
		if t, ok := rv.DateTimeOK(); ok {
			return bson.DateTime(t), nil
		}
	case bson.TypeNull:
		return nil, nil
	case bson.TypeRegex:
		if p, o, ok := rv.RegexOK(); ok {
			return bson.Regex{Pattern: p, Options: o}, nil
		}
	case bson.TypeDBPointer:
		if ns, id, ok := rv.DBPointerOK(); ok {
			return bson.DBPointer{DB: ns, Pointer: id}, nil
		}
	case bson.TypeJavaScript:
		if s, ok := rv.JavaScriptOK(); ok {
			return bson.JavaScript(s), nil
		}
	case bson.TypeSymbol:
		if s, ok := rv.SymbolOK(); ok {
			return bson.Symbol(s), nil
		}
	case bson.TypeCodeWithScope:
		if c, sc, ok := rv.CodeWithScopeOK(); ok {
			return bson.CodeWithScope{Code: bson.JavaScript(c), Scope: sc}, nil
		}
	case bson.TypeInt32:
		if i, ok := rv.Int32OK(); ok {
			return i, nil
		}
	case bson.TypeTimestamp:
		if t, i, ok := rv.TimestampOK(); ok {
			return bson.Timestamp{T: t, I: i}, nil
		}
	case bson.TypeInt64:
		if i, ok := rv.Int64OK(); ok {
			return i, nil
		}
	case bson.TypeDecimal128:
		if d, ok := rv.Decimal128OK(); ok {
			return d, nil
		}
	case bson.TypeMinKey:
		return bson.MinKey{}, nil
	case bson.TypeMaxKey:
		return bson.MaxKey{}, nil
	}
	return bad()
}

// norm maps the Go types a caller may put in a bson.D (int, []string, bson.M, time.Time, …)
// to the canonical ones. The common canonical types return at once without allocating.
func norm(v any) any {
	switch x := v.(type) {
	case nil, missingT, string, int32, int64, float64, bool, bson.D, bson.A, bson.ObjectID,
		bson.DateTime, bson.Timestamp, bson.Binary, bson.Regex, bson.Decimal128, bson.MinKey,
		bson.MaxKey, bson.Undefined, bson.Symbol, bson.JavaScript, bson.CodeWithScope, bson.DBPointer:
		return v
	case bson.Null:
		return nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int32(x)
		}
		return int64(x)
	case int8:
		return int32(x)
	case int16:
		return int32(x)
	case uint8:
		return int32(x)
	case uint16:
		return int32(x)
	case uint32:
		return int64(x)
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case time.Time:
		return bson.NewDateTimeFromTime(x)
	case []any:
		return bson.A(x)
	case []string:
		out := make(bson.A, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case []bson.D:
		out := make(bson.A, len(x))
		for i, d := range x {
			out[i] = d
		}
		return out
	case bson.M:
		return mapToD(x)
	case map[string]any:
		return mapToD(x)
	case bson.E:
		return bson.D{x}
	case bson.Raw:
		if d, err := fromRaw(x, 0); err == nil {
			return d
		}
		return nil
	}
	return normSlow(v)
}

func mapToD(m map[string]any) bson.D {
	d := make(bson.D, 0, len(m))
	for k, v := range m {
		d = append(d, bson.E{Key: k, Value: v})
	}
	sort.Slice(d, func(i, j int) bool { return d[i].Key < d[j].Key })
	return d
}

// normSlow handles anything else the driver can marshal (structs, typed slices and maps,
// pointers) by a round trip through BSON; what cannot be marshalled is null.
func normSlow(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		return norm(rv.Elem().Interface())
	}
	raw, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return nil
	}
	d, err := fromRaw(raw, 0)
	if err != nil || len(d) != 1 {
		return nil
	}
	return d[0].Value
}

// asDoc returns v as a document when it is one.
func asDoc(v any) (bson.D, bool) {
	switch x := norm(v).(type) {
	case bson.D:
		return x, true
	}
	return nil, false
}

// asArray returns v as an array when it is one.
func asArray(v any) (bson.A, bool) {
	switch x := norm(v).(type) {
	case bson.A:
		return x, true
	}
	return nil, false
}

// lookup returns the value of field key in d, or missing.
func lookup(d bson.D, key string) any {
	for i := range d {
		if d[i].Key == key {
			return norm(d[i].Value)
		}
	}
	return missing
}

// Canonical type order of BSON values (MongoDB's canonicalizeBSONType).
const (
	canonMinKey    = -1
	canonMissing   = 0 // and undefined
	canonNull      = 5
	canonNumber    = 10
	canonString    = 15 // and symbol
	canonObject    = 20
	canonArray     = 25
	canonBinary    = 30
	canonObjectID  = 35
	canonBool      = 40
	canonDate      = 45
	canonTimestamp = 47
	canonRegex     = 50
	canonDBPointer = 55
	canonCode      = 60
	canonCodeScope = 65
	canonMaxKey    = 127
)

// canon returns the canonical type of a normalised value.
func canon(v any) int {
	switch v.(type) {
	case bson.MinKey:
		return canonMinKey
	case missingT, bson.Undefined:
		return canonMissing
	case nil, bson.Null:
		return canonNull
	case int32, int64, float64, bson.Decimal128:
		return canonNumber
	case string, bson.Symbol:
		return canonString
	case bson.D:
		return canonObject
	case bson.A:
		return canonArray
	case bson.Binary:
		return canonBinary
	case bson.ObjectID:
		return canonObjectID
	case bool:
		return canonBool
	case bson.DateTime:
		return canonDate
	case bson.Timestamp:
		return canonTimestamp
	case bson.Regex:
		return canonRegex
	case bson.DBPointer:
		return canonDBPointer
	case bson.JavaScript:
		return canonCode
	case bson.CodeWithScope:
		return canonCodeScope
	case bson.MaxKey:
		return canonMaxKey
	}
	return canonNull
}

// typeName is the $type alias of a value ("missing" for an absent one).
func typeName(v any) string {
	switch v.(type) {
	case missingT:
		return "missing"
	case float64:
		return "double"
	case string:
		return "string"
	case bson.D:
		return "object"
	case bson.A:
		return "array"
	case bson.Binary:
		return "binData"
	case bson.Undefined:
		return "undefined"
	case bson.ObjectID:
		return "objectId"
	case bool:
		return "bool"
	case bson.DateTime:
		return "date"
	case nil, bson.Null:
		return "null"
	case bson.Regex:
		return "regex"
	case bson.DBPointer:
		return "dbPointer"
	case bson.JavaScript:
		return "javascript"
	case bson.Symbol:
		return "symbol"
	case bson.CodeWithScope:
		return "javascriptWithScope"
	case int32:
		return "int"
	case bson.Timestamp:
		return "timestamp"
	case int64:
		return "long"
	case bson.Decimal128:
		return "decimal"
	case bson.MinKey:
		return "minKey"
	case bson.MaxKey:
		return "maxKey"
	}
	return "null"
}

// typeCodes maps $type aliases to BSON type numbers.
var typeCodes = map[string]int{
	"double": 1, "string": 2, "object": 3, "array": 4, "binData": 5, "undefined": 6,
	"objectId": 7, "bool": 8, "date": 9, "null": 10, "regex": 11, "dbPointer": 12,
	"javascript": 13, "symbol": 14, "javascriptWithScope": 15, "int": 16, "timestamp": 17,
	"long": 18, "decimal": 19, "minKey": -1, "maxKey": 127,
}

// typeCode is the BSON type number of a normalised value (0 for missing).
func typeCode(v any) int {
	if isMissing(v) {
		return 0
	}
	return typeCodes[typeName(v)]
}

// num returns a numeric value as float64 and whether v is a number.
func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case bson.Decimal128:
		return decToFloat(x), true
	}
	return 0, false
}

func decToFloat(d bson.Decimal128) float64 {
	f, err := strconv.ParseFloat(d.String(), 64)
	if err != nil {
		switch d.String() {
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		return math.NaN()
	}
	return f
}

// isNumber reports whether v is a BSON number.
func isNumber(v any) bool { return canon(v) == canonNumber }

// asInt64 returns an integral number as int64 (doubles only when integral and in range).
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && x >= -9.223372036854775e18 && x <= 9.223372036854775e18 {
			return int64(x), true
		}
	case bson.Decimal128:
		return asInt64(decToFloat(x))
	}
	return 0, false
}

// cmpInt compares two ints.
func cmpInt[T int | int64 | uint32 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNumbers compares two BSON numbers exactly (int64 against double included). NaN is
// less than every number and equal to itself, as in MongoDB.
func compareNumbers(a, b any) int {
	ai, aInt := intOf(a)
	bi, bInt := intOf(b)
	if aInt && bInt {
		return cmpInt(ai, bi)
	}
	if aInt {
		return compareIntFloat(ai, floatOf(b))
	}
	if bInt {
		return -compareIntFloat(bi, floatOf(a))
	}
	af, bf := floatOf(a), floatOf(b)
	an, bn := math.IsNaN(af), math.IsNaN(bf)
	switch {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	return cmpInt(af, bf)
}

func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func floatOf(v any) float64 {
	f, _ := num(v)
	return f
}

func compareIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= 9.223372036854775807e18:
		return -1
	case f < -9.223372036854775807e18:
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c
	}
	return cmpInt(0, f-t)
}

// compare orders two normalised values the way MongoDB does: first by canonical type, then by
// value within the type. Missing sorts with undefined, below null.
func compare(a, b any) int {
	return compareDepth(a, b, 0)
}

func compareDepth(a, b any, depth int) int {
	ca, cb := canon(a), canon(b)
	if ca != cb {
		return cmpInt(ca, cb)
	}
	if depth > maxDepth {
		return 0
	}
	switch ca {
	case canonNumber:
		return compareNumbers(a, b)
	case canonString:
		return cmpString(strOf(a), strOf(b))
	case canonObject:
		x, y := a.(bson.D), b.(bson.D)
		for i := 0; i < len(x) && i < len(y); i++ {
			xv, yv := norm(x[i].Value), norm(y[i].Value)
			if c := cmpInt(canon(xv), canon(yv)); c != 0 {
				return c
			}
			if c := cmpString(x[i].Key, y[i].Key); c != 0 {
				return c
			}
			if c := compareDepth(xv, yv, depth+1); c != 0 {
				return c
			}
		}
		return cmpInt(len(x), len(y))
	case canonArray:
		x, y := a.(bson.A), b.(bson.A)
		for i := 0; i < len(x) && i < len(y); i++ {
			if c := compareDepth(norm(x[i]), norm(y[i]), depth+1); c != 0 {
				return c
			}
		}
		return cmpInt(len(x), len(y))
	case canonBinary:
		x, y := a.(bson.Binary), b.(bson.Binary)
		if c := cmpInt(len(x.Data), len(y.Data)); c != 0 {
			return c
		}
		if c := cmpInt(int(x.Subtype), int(y.Subtype)); c != 0 {
			return c
		}
		return bytes.Compare(x.Data, y.Data)
	case canonObjectID:
		x, y := a.(bson.ObjectID), b.(bson.ObjectID)
		return bytes.Compare(x[:], y[:])
	case canonBool:
		x, y := a.(bool), b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case canonDate:
		return cmpInt(int64(a.(bson.DateTime)), int64(b.(bson.DateTime)))
	case canonTimestamp:
		x, y := a.(bson.Timestamp), b.(bson.Timestamp)
		if c := cmpInt(x.T, y.T); c != 0 {
			return c
		}
		return cmpInt(x.I, y.I)
	case canonRegex:
		x, y := a.(bson.Regex), b.(bson.Regex)
		if c := cmpString(x.Pattern, y.Pattern); c != 0 {
			return c
		}
		return cmpString(x.Options, y.Options)
	case canonDBPointer:
		x, y := a.(bson.DBPointer), b.(bson.DBPointer)
		if c := cmpString(x.DB, y.DB); c != 0 {
			return c
		}
		return bytes.Compare(x.Pointer[:], y.Pointer[:])
	case canonCode:
		return cmpString(string(a.(bson.JavaScript)), string(b.(bson.JavaScript)))
	case canonCodeScope:
		x, y := a.(bson.CodeWithScope), b.(bson.CodeWithScope)
		if c := cmpString(string(x.Code), string(y.Code)); c != 0 {
			return c
		}
		xs, _ := asDoc(x.Scope)
		ys, _ := asDoc(y.Scope)
		return compareDepth(xs, ys, depth+1)
	}
	return 0 // same canonical type with a single value: null, missing, minKey, maxKey
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func strOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bson.Symbol:
		return string(x)
	}
	return ""
}

// equal is value equality as MongoDB's expressions and $group see it (1 == 1.0).
func equal(a, b any) bool { return compare(a, b) == 0 }

// truthy is MongoDB's boolean coercion: false, null, undefined, missing and zero are false.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil, missingT, bson.Undefined, bson.Null:
		return false
	case int32:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bson.Decimal128:
		return decToFloat(x) != 0
	}
	return true
}

// appendKey appends a canonical encoding of v to buf such that two values encode the same
// iff they are equal (numbers of different types included), for $group and $addToSet.
func appendKey(buf []byte, v any, depth int) []byte {
	v = norm(v)
	c := canon(v)
	buf = append(buf, byte(c+1))
	if depth > maxDepth {
		return buf
	}
	switch c {
	case canonNumber:
		if i, ok := intOf(v); ok {
			buf = append(buf, 'i')
			return binary.BigEndian.AppendUint64(buf, uint64(i))
		}
		f := floatOf(v)
		if f == math.Trunc(f) && f >= -9.223372036854775e18 && f <= 9.223372036854775e18 {
			buf = append(buf, 'i')
			return binary.BigEndian.AppendUint64(buf, uint64(int64(f)))
		}
		if math.IsNaN(f) {
			f = math.NaN()
		}
		buf = append(buf, 'f')
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f))
	case canonString:
		return appendStr(buf, strOf(v))
	case canonObject:
		d := v.(bson.D)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(d)))
		for _, e := range d {
			buf = appendStr(buf, e.Key)
			buf = appendKey(buf, e.Value, depth+1)
		}
		return buf
	case canonArray:
		a := v.(bson.A)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(a)))
		for _, e := range a {
			buf = appendKey(buf, e, depth+1)
		}
		return buf
	case canonBinary:
		x := v.(bson.Binary)
		buf = append(buf, x.Subtype)
		return appendStr(buf, string(x.Data))
	case canonObjectID:
		x := v.(bson.ObjectID)
		return append(buf, x[:]...)
	case canonBool:
		if v.(bool) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case canonDate:
		return binary.BigEndian.AppendUint64(buf, uint64(v.(bson.DateTime)))
	case canonTimestamp:
		x := v.(bson.Timestamp)
		buf = binary.BigEndian.AppendUint32(buf, x.T)
		return binary.BigEndian.AppendUint32(buf, x.I)
	case canonRegex:
		x := v.(bson.Regex)
		return appendStr(appendStr(buf, x.Pattern), x.Options)
	case canonDBPointer:
		x := v.(bson.DBPointer)
		return append(appendStr(buf, x.DB), x.Pointer[:]...)
	case canonCode:
		return appendStr(buf, string(v.(bson.JavaScript)))
	case canonCodeScope:
		x := v.(bson.CodeWithScope)
		buf = appendStr(buf, string(x.Code))
		sc, _ := asDoc(x.Scope)
		return appendKey(buf, sc, depth+1)
	}
	return buf
}

func appendStr(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}
