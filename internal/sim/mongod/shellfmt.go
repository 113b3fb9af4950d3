package mongod

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// shellString renders a document the way the server's BSONObj::toString does in error
// messages: { aggregate: 1, pipeline: [ { $currentOp: { allUsers: true } } ], $db: "admin" }.
func shellString(doc bson.Raw) string {
	var b strings.Builder
	writeDoc(&b, doc, false, 0)
	return b.String()
}

func writeDoc(b *strings.Builder, doc bson.Raw, array bool, depth int) {
	open, closing := "{", "}"
	if array {
		open, closing = "[", "]"
	}
	elems, err := doc.Elements()
	if err != nil || depth > 100 {
		b.WriteString(open + closing)
		return
	}
	if len(elems) == 0 {
		b.WriteString(open + closing)
		return
	}
	b.WriteString(open + " ")
	for i, e := range elems {
		if i > 0 {
			b.WriteString(", ")
		}
		if !array {
			b.WriteString(e.Key())
			b.WriteString(": ")
		}
		writeValue(b, e.Value(), depth)
	}
	b.WriteString(" " + closing)
}

func writeValue(b *strings.Builder, v bson.RawValue, depth int) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		writeDoc(b, v.Document(), false, depth+1)
	case bson.TypeArray:
		writeDoc(b, bson.Raw(v.Array()), true, depth+1)
	case bson.TypeString:
		b.WriteString(strconv.Quote(v.StringValue()))
	case bson.TypeInt32:
		b.WriteString(strconv.Itoa(int(v.Int32())))
	case bson.TypeInt64:
		b.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDouble:
		f := v.Double()
		if f == float64(int64(f)) && f < 1e15 && f > -1e15 {
			b.WriteString(strconv.FormatFloat(f, 'f', 1, 64))
		} else {
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case bson.TypeBoolean:
		b.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeNull:
		b.WriteString("null")
	case bson.TypeObjectID:
		fmt.Fprintf(b, "ObjectId('%s')", v.ObjectID().Hex())
	case bson.TypeDateTime:
		fmt.Fprintf(b, "new Date(%d)", v.DateTime())
	case bson.TypeTimestamp:
		t, i := v.Timestamp()
		fmt.Fprintf(b, "Timestamp(%d, %d)", t, i)
	case bson.TypeBinary:
		sub, data := v.Binary()
		if sub == 4 && len(data) == 16 {
			h := hex.EncodeToString(data)
			fmt.Fprintf(b, "UUID(\"%s-%s-%s-%s-%s\")", h[:8], h[8:12], h[12:16], h[16:20], h[20:])
		} else {
			fmt.Fprintf(b, "BinData(%d, %s)", sub, strings.ToUpper(hex.EncodeToString(data)))
		}
	default:
		b.WriteString(v.String())
	}
}
