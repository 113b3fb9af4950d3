package agg

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// wrapped parses an Extended JSON array (relaxed: 1 is int32, 1.5 double,
// {"$numberLong":"1"} int64) into its elements.
func wrapped(t testing.TB, s string) bson.A {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(`{"v":`+s+`}`), false, &d); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	a, ok := d[0].Value.(bson.A)
	if !ok {
		t.Fatalf("test JSON %s is not an array", s)
	}
	return a
}

func docs(t testing.TB, s string) []bson.D {
	t.Helper()
	var out []bson.D
	for _, x := range wrapped(t, s) {
		d, ok := x.(bson.D)
		if !ok {
			t.Fatalf("test JSON element %v is not a document", x)
		}
		out = append(out, d)
	}
	return out
}

func pipe(t testing.TB, s string) []bson.Raw {
	t.Helper()
	var out []bson.Raw
	for _, d := range docs(t, s) {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// canonical renders documents as canonical Extended JSON, so types are compared too
// (int32 vs int64 vs double).
func canonical(t testing.TB, ds []bson.D) string {
	t.Helper()
	parts := make([]string, len(ds))
	for i, d := range ds {
		b, err := bson.MarshalExtJSON(d, true, false)
		if err != nil {
			t.Fatalf("marshal %v: %v", d, err)
		}
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

type runCase struct {
	name     string
	in       string // documents, Extended JSON array
	pipeline string // stages, Extended JSON array
	want     string // expected documents, Extended JSON array
}

func runCases(t *testing.T, cases []runCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Run(docs(t, tc.in), pipe(t, tc.pipeline))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if g, w := canonical(t, got), canonical(t, docs(t, tc.want)); g != w {
				t.Errorf("pipeline %s\n got: %s\nwant: %s", tc.pipeline, g, w)
			}
		})
	}
}

type errCase struct {
	name     string
	in       string
	pipeline string
	code     int32
	msg      string // substring of the message
}

func errCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				in = `[{"a": 1, "s": "x", "arr": [1]}]`
			}
			_, err := Run(docs(t, in), pipe(t, tc.pipeline))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("pipeline %s: got %v, want *Error code %d", tc.pipeline, err, tc.code)
			}
			if e.Code != tc.code || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("pipeline %s: got %d %s %q, want %d containing %q", tc.pipeline, e.Code, e.Name, e.Msg, tc.code, tc.msg)
			}
			if e.Name == "" {
				t.Errorf("error has no codeName")
			}
		})
	}
}
