package source

import (
	"cmp"
	"slices"
	"strings"
)

// SortSessions orders sessions as the live view does by default: the longest running first,
// ties by ID: by the text before its trailing number in natural order (NaturalCompare), then
// by that number ("shard01:9" before "shard01:10", "conn9" before "conn10"), so that equal
// running times keep one order from one snapshot to the next.
func SortSessions(ss []Session) {
	order := SessionOrder(ss)
	// Apply the permutation in place, cycle by cycle: each session moves once.
	for i := range order {
		if order[i] < 0 || int(order[i]) == i {
			continue
		}
		tmp := ss[i]
		j := i
		for {
			k := int(order[j])
			order[j] = -1
			if k == i {
				ss[j] = tmp
				break
			}
			ss[j] = ss[k]
			j = k
		}
	}
}

// sessionKey is what SessionOrder sorts: two integers per session, so that sorting 100 000
// sessions works on integers that sit together instead of chasing pointers into them.
type sessionKey struct {
	run    uint64 // the running time, inverted: ascending order puts the longest first
	id     uint64 // see idKey
	idx    int32
	exotic bool // see idKey
}

const (
	numBits = 40 // trailing numbers below 2^40 fit the key
	numMask = uint64(1)<<numBits - 1
	hasNum  = uint64(1) << numBits // the ID has a trailing number
	// The head's rank is above hasNum; ranks beyond what fits share the last one.
	headShift = numBits + 1
	headMax   = uint64(1)<<(64-headShift) - 1
)

// idKey packs an ID's place in the tie order into one integer: its head's rank, then no
// number before a number, then the number. exotic says the key cannot tell the ID's place
// among others with its head (leading zeros, huge numbers, millions of heads): the key puts
// it first among the numbered ones, and SessionOrder compares those groups by whole IDs.
func idKey(rank uint32, num uint64, flag uint8) (key uint64, exotic bool) {
	r := uint64(rank)
	if flag&idExotic != 0 || num > numMask || r >= headMax {
		return min(r, headMax)<<headShift | hasNum, true
	}
	key = r<<headShift | num
	if flag&idHasNum != 0 {
		key |= hasNum
	}
	return key, false
}

const (
	idHasNum = 1 << iota
	idExotic // a trailing number with leading zeros or too long
)

// SessionOrder returns the indexes of ss in SortSessions' order, leaving ss as it is.
//
// It is a radix sort of two integers per session (the running time and the ID's key), which
// sorts 100 000 sessions in a few passes over 20 bytes each instead of 1.7 million
// comparisons.
func SessionOrder(ss []Session) []int32 {
	keys := make([]sessionKey, len(ss))
	heads := make([]string, len(ss))
	flags := make([]uint8, len(ss))
	for i := range ss { // the only pass over the sessions themselves
		var num uint64
		heads[i], num, flags[i] = splitID(ss[i].ID)
		keys[i] = sessionKey{run: ^uint64(max(ss[i].RunningUS, 0)), id: num, idx: int32(i)}
	}
	anyExotic := false
	for i, r := range rankTexts(heads) {
		keys[i].id, keys[i].exotic = idKey(r, keys[i].id, flags[i])
		anyExotic = anyExotic || keys[i].exotic
	}
	keys = radixSort(keys, make([]sessionKey, len(keys)))
	if anyExotic {
		sortSameHead(keys, ss)
	}
	order := make([]int32, len(keys))
	for i := range keys {
		order[i] = keys[i].idx
	}
	return order
}

// sortSameHead orders, by whole IDs, each run of keys with the same running time and head
// that holds an exotic one: within one head, natural order is the order the keys give (the
// number, then leading zeros), and it also places the IDs the keys could not.
func sortSameHead(keys []sessionKey, ss []Session) {
	for i := 0; i < len(keys); {
		j, ex := i+1, keys[i].exotic
		for j < len(keys) && keys[j].run == keys[i].run && keys[j].id>>headShift == keys[i].id>>headShift {
			ex = ex || keys[j].exotic
			j++
		}
		if ex && j-i > 1 {
			slices.SortStableFunc(keys[i:j], func(a, b sessionKey) int {
				return NaturalCompare(ss[a.idx].ID, ss[b.idx].ID)
			})
		}
		i = j
	}
}

// radixSort sorts keys by (run, id), stably, using buf (as long as keys) as scratch; it
// returns whichever of the two holds the result. Bytes every key shares are skipped.
func radixSort(keys, buf []sessionKey) []sessionKey {
	if len(keys) < 2 {
		return keys
	}
	var diffRun, diffID uint64
	for i := range keys {
		diffRun |= keys[i].run ^ keys[0].run
		diffID |= keys[i].id ^ keys[0].id
	}
	var count [256]int
	pass := func(get func(*sessionKey) uint64, shift uint) {
		count = [256]int{}
		for i := range keys {
			count[byte(get(&keys[i])>>shift)]++
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for i := range keys {
			d := byte(get(&keys[i]) >> shift)
			buf[count[d]] = keys[i]
			count[d]++
		}
		keys, buf = buf, keys
	}
	id := func(k *sessionKey) uint64 { return k.id }
	run := func(k *sessionKey) uint64 { return k.run }
	for shift := uint(0); shift < 64; shift += 8 {
		if byte(diffID>>shift) != 0 {
			pass(id, shift)
		}
	}
	for shift := uint(0); shift < 64; shift += 8 {
		if byte(diffRun>>shift) != 0 {
			pass(run, shift)
		}
	}
	return keys
}

// idHead is the ID without its trailing number.
func idHead(id string) string {
	i := len(id)
	for i > 0 && isDigit(id[i-1]) {
		i--
	}
	return id[:i]
}

// splitID splits an ID into its text and its trailing number: "shard01:4119786" is
// ("shard01:", 4119786), "conn12" ("conn", 12), "sess" ("sess", none).
func splitID(id string) (head string, num uint64, flag uint8) {
	head = idHead(id)
	digits := id[len(head):]
	if digits == "" {
		return head, 0, 0
	}
	if len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return head, 0, idHasNum | idExotic
	}
	for j := 0; j < len(digits); j++ {
		num = num*10 + uint64(digits[j]-'0')
	}
	return head, num, idHasNum
}

// rankTexts gives each text its rank among the distinct texts in natural order. IDs share
// few heads ("conn", "shard01:"), so most are found in a small map.
func rankTexts(texts []string) []uint32 {
	seen := map[string]uint32{}
	var distinct []string
	ids := make([]uint32, len(texts))
	last, lastID := "", uint32(0)
	for i, t := range texts {
		if i > 0 && t == last {
			ids[i] = lastID
			continue
		}
		id, ok := seen[t]
		if !ok {
			id = uint32(len(distinct))
			seen[t] = id
			distinct = append(distinct, t)
		}
		ids[i], last, lastID = id, t, id
	}
	byName := make([]uint32, len(distinct))
	for i := range byName {
		byName[i] = uint32(i)
	}
	slices.SortFunc(byName, func(a, b uint32) int { return NaturalCompare(distinct[a], distinct[b]) })
	rank := make([]uint32, len(distinct))
	for r, id := range byName {
		rank[id] = uint32(r)
	}
	for i, id := range ids {
		ids[i] = rank[id]
	}
	return ids
}

// SortClients orders clients as the live view does by default: most connections first, ties
// by IP in natural order.
func SortClients(cs []Client) {
	slices.SortStableFunc(cs, func(a, b Client) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return NaturalCompare(a.IP, b.IP)
	})
}

// NaturalCompare orders text the way a person reads it: runs of digits compare as numbers
// ("conn9" < "conn10", "10.0.0.9" < "10.0.0.10"), a number with leading zeros after the
// same number without them, everything else byte by byte.
func NaturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && a[i] == '0' {
				i++
			}
			for j < len(b) && b[j] == '0' {
				j++
			}
			ni, nj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			if la, lb := i-ni, j-nj; la != lb {
				return cmp.Compare(la, lb)
			}
			if c := strings.Compare(a[ni:i], b[nj:j]); c != 0 {
				return c
			}
			if la, lb := i-si, j-sj; la != lb { // "007" after "7"
				return cmp.Compare(la, lb)
			}
			continue
		}
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		i++
		j++
	}
	return cmp.Compare(len(a)-i, len(b)-j)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
