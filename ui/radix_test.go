package ui

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// The radix sort gives the comparison sort's order: key (either direction), then tie.
func TestRadixSortMatchesComparisonSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 17, 1000, 5000} {
		for _, spread := range []uint64{1, 7, 1 << 20, 1<<63 + 5} {
			for _, desc := range []bool{false, true} {
				items := make([]sortItem, n)
				for i := range items {
					items[i] = sortItem{key: r.Uint64N(spread) ^ (1 << 63), tie: uint32(r.IntN(n + 1)), idx: int32(i)}
				}
				want := slices.Clone(items)
				slices.SortStableFunc(want, func(a, b sortItem) int {
					c := cmp.Compare(a.key, b.key)
					if desc {
						c = -c
					}
					return cmp.Or(c, cmp.Compare(a.tie, b.tie))
				})
				got, _ := radixSort(items, nil, desc)
				if !slices.Equal(got, want) {
					t.Fatalf("n=%d spread=%d desc=%v: radix order differs", n, spread, desc)
				}
			}
		}
	}
}
