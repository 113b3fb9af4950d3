package source

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Free text searches a dozen columns of every session. Searching them one by one costs a
// dozen case-insensitive scans of short strings per session, each mostly call overhead; a
// UI that re-filters 100 000 sessions on every keystroke folds each session's free-text
// columns once, when a snapshot arrives, into one lower-case string (its haystack), and then
// searches that one string per session with the vectorised strings.Contains.

// foldSep separates the columns in a haystack: no needle the filter bar can produce
// contains it, so a match never spans two columns (a needle with it is searched column by
// column).
const foldSep = 0

// freeText returns the columns free text searches (keep in sync with matchSession).
func freeText(s *Session) [14]string {
	return [14]string{s.ID, s.Op, s.NS, s.PlanSummary, s.Client, s.App, s.User, s.Driver,
		s.Host, s.Shard, s.Desc, s.Msg, s.CommandName, s.Summary}
}

// Fold returns every session's haystack for MatchFolded, all in one allocation.
func Fold(ss []Session) []string {
	n := 0
	for i := range ss {
		for _, f := range freeText(&ss[i]) {
			n += len(f) + 1
		}
	}
	buf := make([]byte, 0, n+n/8) // a little room for lower-case forms that grow
	ends := make([]int, len(ss))
	for i := range ss {
		buf = appendFolded(buf, &ss[i])
		ends[i] = len(buf)
	}
	// The haystacks are views of buf, which nothing writes to again: no copy of it is
	// needed (strings.Builder does the same).
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	out := make([]string, len(ss))
	start := 0
	for i, end := range ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

// FoldSession is one session's haystack for MatchFolded.
func FoldSession(s *Session) string { return string(appendFolded(nil, s)) }

func appendFolded(dst []byte, s *Session) []byte {
	for _, f := range freeText(s) {
		dst = appendLower(dst, f)
		dst = append(dst, foldSep)
	}
	return dst
}

// appendLower appends s lower-cased rune by rune as containsFold compares (unicode.ToLower;
// invalid UTF-8 as U+FFFD, as strings.ToLower makes of a needle).
func appendLower(dst []byte, s string) []byte {
	i := 0
	// Eight ASCII bytes at a time: add 0x20 to each byte in 'A'..'Z'. For bytes below 0x80,
	// b+0x3f has its top bit set when b >= 'A' and b+0x25 when b > 'Z', with no carry
	// between bytes.
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&0x8080808080808080 != 0 {
			break
		}
		upper := (x + 0x3f3f3f3f3f3f3f3f) &^ (x + 0x2525252525252525) & 0x8080808080808080
		dst = binary.LittleEndian.AppendUint64(dst, x|upper>>2)
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// foldable reports a term MatchFolded searches in the haystack.
func (t *Term) foldable() bool {
	return t.Field == "" && t.Kind == Contains && strings.IndexByte(t.Value, foldSep) < 0
}

// MatchFolded is Match for a session whose haystack (Fold, FoldSession) is folded: free-text
// terms search the haystack, other terms the session. It gives Match's answer and does not
// allocate.
func (f Filter) MatchFolded(s *Session, folded string) bool {
	if s == nil {
		return f.Empty()
	}
	for i := range f.Terms {
		t := &f.Terms[i]
		var ok bool
		if t.foldable() {
			ok = strings.Contains(folded, t.Value)
		} else {
			ok = t.matchSession(s)
		}
		if ok == t.Not {
			return false
		}
	}
	return true
}
