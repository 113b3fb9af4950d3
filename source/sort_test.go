package source

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSortSessions(t *testing.T) {
	ss := []Session{
		{ID: "conn10"}, {ID: "7", RunningUS: 5}, {ID: "conn9"}, {ID: "shard10:3", RunningUS: 9},
		{ID: "shard9:4", RunningUS: 9}, {ID: "conn"}, {ID: "10", RunningUS: 5}, {ID: "conn009"},
		{ID: "conn9"}, {ID: "a/b/12", RunningUS: 1 << 40}, {ID: "neg", RunningUS: -5},
	}
	SortSessions(ss)
	var got []string
	for _, s := range ss {
		got = append(got, s.ID)
	}
	want := "a/b/12 shard9:4 shard10:3 7 10 conn conn9 conn9 conn009 conn10 neg"
	if strings.Join(got, " ") != want {
		t.Errorf("order %s\nwant  %s", strings.Join(got, " "), want)
	}
}

// referenceOrder is SessionOrder's rule written plainly.
func referenceOrder(ss []Session) []int32 {
	order := make([]int32, len(ss))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &ss[a], &ss[b]
		if c := cmp.Compare(max(y.RunningUS, 0), max(x.RunningUS, 0)); c != 0 {
			return c
		}
		if c := NaturalCompare(idHead(x.ID), idHead(y.ID)); c != 0 {
			return c
		}
		if c := NaturalCompare(x.ID, y.ID); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order
}

func TestSessionOrderMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	heads := []string{"", "conn", "shard01:", "shard1:", "shard10:", "rs0/10.0.0.1:7017:1/", "x9y", "x", "cursor:"}
	for round := 0; round < 200; round++ {
		ss := make([]Session, 1+r.IntN(60))
		for i := range ss {
			id := heads[r.IntN(len(heads))]
			switch r.IntN(6) {
			case 0: // no number
			case 1:
				id += "00" + fmt.Sprint(r.IntN(20))
			case 2:
				id += fmt.Sprint(r.Uint64())
			case 3:
				id += strings.Repeat("9", 25)
			default:
				id += fmt.Sprint(r.IntN(30))
			}
			ss[i] = Session{ID: id, RunningUS: int64(r.IntN(3)) - 1}
		}
		got, want := SessionOrder(ss), referenceOrder(ss)
		if !slices.Equal(got, want) {
			var g, w []string
			for i := range got {
				g, w = append(g, ss[got[i]].ID), append(w, ss[want[i]].ID)
			}
			t.Fatalf("round %d:\ngot  %q\nwant %q", round, g, w)
		}
	}
}

func TestSortClients(t *testing.T) {
	cs := []Client{{IP: "10.0.0.10", Count: 2}, {IP: "10.0.0.9", Count: 2}, {IP: "::1", Count: 7}, {IP: "10.0.0.1", Count: 1}}
	SortClients(cs)
	var got []string
	for _, c := range cs {
		got = append(got, c.IP)
	}
	if want := "::1 10.0.0.9 10.0.0.10 10.0.0.1"; strings.Join(got, " ") != want {
		t.Errorf("order %s, want %s", strings.Join(got, " "), want)
	}
}

func TestNaturalCompare(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"conn9", "conn10", -1}, {"10.0.0.9:80", "10.0.0.10:80", -1}, {"7", "007", -1},
		{"a", "a", 0}, {"ab", "ab1", -1}, {"b", "a10", 1},
	} {
		if got := NaturalCompare(tt.a, tt.b); got != tt.want {
			t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := NaturalCompare(tt.b, tt.a); got != -tt.want {
			t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
