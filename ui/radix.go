package ui

// radixSort orders items by key (descending when desc), ties by tie ascending, with an LSD
// radix sort: a sort of 100 000 rows from an unrelated order costs a few passes over them
// rather than ~1.7 million comparisons. Byte positions where every item has the same byte
// are skipped (most keys vary in a few low bytes). tmp is scratch of any size; the sorted
// items and the (possibly grown) scratch are returned.
func radixSort(items, tmp []sortItem, desc bool) ([]sortItem, []sortItem) {
	n := len(items)
	if n < 2 {
		return items, tmp
	}
	if cap(tmp) < n {
		tmp = make([]sortItem, n)
	}
	tmp = tmp[:n]
	flip := uint64(0)
	if desc {
		flip = ^uint64(0)
	}
	// digits 0–3 are the tie's bytes, 4–11 the key's, least significant first.
	var counts [12][256]int
	for i := range items {
		t, k := items[i].tie, items[i].key^flip
		for d := 0; d < 4; d++ {
			counts[d][byte(t>>(8*d))]++
		}
		for d := 0; d < 8; d++ {
			counts[4+d][byte(k>>(8*d))]++
		}
	}
	src, dst := items, tmp
	for d := 0; d < 12; d++ {
		c := &counts[d]
		if c[digit(&src[0], d, flip)] == n {
			continue // every item has this byte: the pass would not move anything
		}
		var pos [256]int
		sum := 0
		for b := range c {
			pos[b] = sum
			sum += c[b]
		}
		for i := range src {
			b := digit(&src[i], d, flip)
			dst[pos[b]] = src[i]
			pos[b]++
		}
		src, dst = dst, src
	}
	return src, dst
}

func digit(it *sortItem, d int, flip uint64) byte {
	if d < 4 {
		return byte(it.tie >> (8 * d))
	}
	return byte((it.key ^ flip) >> (8 * (d - 4)))
}
