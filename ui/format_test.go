package ui

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// The running column of an operation that reports 2^63-1 µs: saturated, not "0s".
func TestRunningSaturates(t *testing.T) {
	s := source.Session{ID: "1", Type: source.TypeOp, Active: true, RunningUS: math.MaxInt64}
	if got := runningText(&s); got != ">100y" {
		t.Errorf("running 2^63-1 µs shows %q, want >100y", got)
	}
}

func TestCount(t *testing.T) {
	tests := map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567", 838448: "838,448"}
	for n, want := range tests {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		w     int
		right bool
		want  string
	}{
		{"abc", 5, false, "abc  "},
		{"abc", 5, true, "  abc"},
		{"abcdef", 4, false, "abc…"},
		{"订单服务", 5, false, "订单…"}, // wide characters count two cells
		{"x", 0, false, ""},
	}
	for _, tc := range tests {
		got := fit(tc.s, tc.w, tc.right)
		if got != tc.want || ansi.StringWidth(got) != max(tc.w, 0) {
			t.Errorf("fit(%q, %d) = %q (%d cells), want %q", tc.s, tc.w, got, ansi.StringWidth(got), tc.want)
		}
	}
}

func TestFitTail(t *testing.T) {
	tests := []struct {
		s    string
		w    int
		want string
	}{
		{"4119786", 10, "4119786   "},
		{"cmgo-demo0001_0/demo-rs0-a:37915/53", 16, "…-rs0-a:37915/53"},
		{"订单服务/53", 6, "…务/53"}, // wide characters count two cells
		{"x", 0, ""},
	}
	for _, tc := range tests {
		got := fitTail(tc.s, tc.w)
		if got != tc.want || ansi.StringWidth(got) != max(tc.w, 0) {
			t.Errorf("fitTail(%q, %d) = %q (%d cells), want %q", tc.s, tc.w, got, ansi.StringWidth(got), tc.want)
		}
	}
}

func TestNaturalOrder(t *testing.T) {
	in := []string{"conn10", "conn9", "10.0.0.10:80", "10.0.0.9:80", "10.0.0.9:1000", "a", "", "conn011", "shard02:7", "shard01:12"}
	want := []string{"", "10.0.0.9:80", "10.0.0.9:1000", "10.0.0.10:80", "a", "conn9", "conn10", "conn011", "shard01:12", "shard02:7"}
	got := slices.Clone(in)
	slices.SortFunc(got, naturalCompare)
	if !slices.Equal(got, want) {
		t.Fatalf("naturalCompare order %q, want %q", got, want)
	}
	got = slices.Clone(in)
	slices.SortFunc(got, func(a, b string) int { return strings.Compare(naturalKey(a), naturalKey(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("naturalKey order %q, want %q", got, want)
	}
}

func TestSplitTail(t *testing.T) {
	tests := []struct {
		s, head string
		tail    uint64
		ok      bool
	}{
		{"conn123", "conn", 123, true},
		{"10.0.0.1:27017", "10.0.0.1:", 27017, true},
		{"4119786", "", 4119786, true},
		{"ReplBatcher", "ReplBatcher", 0, false},
		{"x12345678901", "x12345678901", 0, false}, // too long for the key
	}
	for _, tc := range tests {
		h, n, ok := splitTail(tc.s)
		if h != tc.head || n != tc.tail || ok != tc.ok {
			t.Errorf("splitTail(%q) = %q, %d, %v; want %q, %d, %v", tc.s, h, n, ok, tc.head, tc.tail, tc.ok)
		}
	}
}

// TestKeySortMatchesReference checks the integer-key sort against a plain comparator sort
// on generated data, for every sessions column and both directions.
func TestKeySortMatchesReference(t *testing.T) {
	snap := synthSnapshot(3000, 99)
	for i := range snap.Sessions { // some shared values with different trailing numbers
		if i%7 == 0 {
			snap.Sessions[i].App = "worker-" + count(i%13)
		}
	}
	src := &fakeKiller{}
	src.set(snap)
	h := newHarness(t, Options{Source: src})
	p := &h.m.panes.sess
	for _, c := range p.cols {
		for _, desc := range []bool{false, true} {
			p.sortKey, p.desc = c.key, desc
			p.sort()
			ref := slices.Clone(p.rows)
			slices.SortFunc(ref, func(a, b int32) int {
				ra, rb := &p.data[a], &p.data[b]
				r := 0
				switch {
				case c.num != nil:
					r = cmpInt64(c.num(ra), c.num(rb))
				case c.str != nil:
					r = refTextCompare(c.str(ra), c.str(rb))
				}
				if desc {
					r = -r
				}
				if r == 0 {
					r = compareID(ra, rb)
				}
				return r
			})
			if !slices.Equal(p.rows, ref) {
				t.Fatalf("column %s desc=%v: key sort differs from the reference sort", c.key, desc)
			}
		}
	}
}

// refTextCompare is the documented text order: by the text before a trailing number of at
// most 9 digits (naturally), then by that number, values without one first.
func refTextCompare(a, b string) int {
	ha, na, oka := splitTail(a)
	hb, nb, okb := splitTail(b)
	if c := strings.Compare(naturalKey(ha), naturalKey(hb)); c != 0 {
		return c
	}
	if oka != okb {
		if !oka {
			return -1
		}
		return 1
	}
	return cmpInt64(int64(na), int64(nb))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestLineEdit(t *testing.T) {
	e := newLineEdit("/ ", 20)
	for _, k := range []tea.KeyPressMsg{
		{Code: 'a', Text: "a"}, {Code: 'b', Text: "b"}, {Code: tea.KeyLeft}, {Code: 'X', Text: "X"},
		{Code: tea.KeyEnd}, {Code: tea.KeySpace, Text: " "}, {Code: 'c', Text: "c"},
	} {
		e.update(k)
	}
	if e.Value() != "aXb c" {
		t.Fatalf("value %q, want %q", e.Value(), "aXb c")
	}
	e.update(tea.KeyPressMsg{Code: 'w', Mod: tea.ModCtrl})
	if e.Value() != "aXb " {
		t.Fatalf("ctrl+w: %q", e.Value())
	}
	e.update(tea.PasteMsg{Content: "x\x1b[31my\nz"})
	if e.Value() != "aXb x[31my z" {
		t.Fatalf("paste keeps no control characters: %q", e.Value())
	}
	e.update(tea.PasteMsg{Content: strings.Repeat("q", 50)})
	if len([]rune(e.Value())) != 20 {
		t.Fatalf("limit: %d runes", len([]rune(e.Value())))
	}
	if handled := e.update(tea.KeyPressMsg{Code: 'x', Mod: tea.ModCtrl}); handled {
		t.Fatal("unknown ctrl keys are not the editor's")
	}
	view, x := e.view(12)
	if ansi.StringWidth(view) > 12 || x > 12 {
		t.Fatalf("view %q (cursor %d) exceeds 12 cells", view, x)
	}
}

func TestPrettyJSON(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"object", `{"find":"orders","filter":{"a":1}}`, "{\n  \"find\": \"orders\",\n  \"filter\": {\n    \"a\": 1\n  }\n}"},
		{"provider text", `"db.orders.find({a: 1})"`, "db.orders.find({a: 1})"},
		{"none", ``, "(none)"},
		{"invalid", `{"find":`, `{"find":`},
	}
	for _, tc := range tests {
		if got := prettyJSON(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("%s: prettyJSON = %q, want %q", tc.name, got, tc.want)
		}
	}
	long := strings.Repeat("é", 3000) + "\x1b]0;title\x07"
	got := cleanLong(long)
	if strings.ContainsRune(got, 0x1b) || strings.Count(got, "é") != 3000 {
		t.Fatalf("cleanLong lost text or kept an escape: %d é, esc=%v", strings.Count(got, "é"), strings.ContainsRune(got, 0x1b))
	}
}

func TestWrapHangsUnderIndent(t *testing.T) {
	wrapped := wrapHanging([]string{"    field:text   one column contains it; fields: id type op ns plan client app", "short"}, 40)
	want := []string{
		"    field:text   one column contains",
		"      it; fields: id type op ns plan",
		"      client app",
		"short",
	}
	if !slices.Equal(wrapped, want) {
		t.Fatalf("wrapped:\n%q\nwant\n%q", wrapped, want)
	}
	for _, l := range wrapped {
		if ansi.StringWidth(l) > 40 {
			t.Errorf("line %q is wider than 40", l)
		}
	}
}
