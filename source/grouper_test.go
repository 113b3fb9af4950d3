package source

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestGrouperMatchesGroupSessions: a Grouper's cached shapes, over refreshes that add, drop,
// reorder and reuse IDs, group as GroupSessions does from nothing; large calls (fingerprinted
// over several goroutines when GOMAXPROCS allows) as small ones.
func TestGrouperMatchesGroupSessions(t *testing.T) {
	for _, n := range []int{40, 3 * minFingerprintChunk} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			base := benchSessions(n)
			for i := range base {
				if i%11 == 0 { // a server's hash of the shape (benchSessions' i%4)
					base[i].QueryShapeHash = "ABCDEF01230" + strconv.Itoa(i%4)
				}
			}
			steps := [][]Session{base}
			next := append([]Session(nil), base...)
			for i := range next[:n/4] { // the same IDs, other commands
				next[i].Command = json.RawMessage(`{"count":"orders","query":{"x":` + strconv.Itoa(i) + `}}`)
				next[i].CommandName = "count"
				if next[i].QueryShapeHash != "" {
					next[i].QueryShapeHash = "ABCDEF012399"
				}
			}
			next = append(next[n/10:], next[:n/10]...) // reordered
			steps = append(steps, next)
			dup := append(append([]Session(nil), base[:n/2]...), base[n/4:n/2]...) // IDs twice, half gone
			dup[len(dup)-1].Command, dup[len(dup)-1].Summary = nil, "{other: 1}"
			steps = append(steps, dup, base)
			var g Grouper
			for k, ss := range steps {
				for _, by := range []string{"shape", "client"} {
					got, want := g.Group(ss, by), GroupSessions(ss, by)
					if !reflect.DeepEqual(got, want) {
						diffGroups(t, got, want)
						t.Fatalf("step %d by %s: the Grouper's %d groups differ from GroupSessions' %d", k, by, len(got), len(want))
					}
					if by == "shape" {
						checkShapes(t, ss, got)
					}
				}
			}
		})
	}
}

func diffGroups(t *testing.T, got, want []Group) {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, w := got[i], want[i]
			g.IDs, w.IDs = nil, nil
			t.Logf("group %d:\n got %+v (%d IDs)\nwant %+v (%d IDs)", i, g, len(got[i].IDs), w, len(want[i].IDs))
		}
	}
}

// checkShapes checks that each group holds the sessions of its shape, worked out one by one.
func checkShapes(t *testing.T, ss []Session, groups []Group) {
	t.Helper()
	shapes := map[string][]string{} // by ID (some twice): each session's key and hash
	for i := range ss {
		s := &ss[i]
		shapes[s.ID] = append(shapes[s.ID], Fingerprint(s)+" "+s.QueryShapeHash)
	}
	n := 0
	for _, g := range groups {
		for _, id := range g.IDs {
			n++
			if g.QueryShapeHash == "" && !slices.Contains(shapes[id], g.Key+" ") ||
				g.QueryShapeHash != "" && !slices.ContainsFunc(shapes[id], func(k string) bool { return strings.HasSuffix(k, " "+g.QueryShapeHash) }) {
				t.Fatalf("session %s (%s) is in group %q %s", id, shapes[id], g.Key, g.QueryShapeHash)
			}
		}
	}
	if n != len(ss) {
		t.Fatalf("%d sessions in groups, want %d", n, len(ss))
	}
}

func TestShapeFieldIsItsIndex(t *testing.T) {
	for i, f := range shapeFields {
		if got := shapeField(f); got != i {
			t.Errorf("shapeField(%q) = %d, want %d", f, got, i)
		}
	}
	if shapeField("find") != -1 {
		t.Error("find is no shape field")
	}
}
