package source

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Match reports whether the session satisfies every term. It does not allocate, so a UI can
// re-filter 100 000 sessions on every keystroke.
func (f Filter) Match(s *Session) bool {
	if s == nil {
		return f.Empty()
	}
	for i := range f.Terms {
		t := &f.Terms[i]
		if t.matchSession(s) == t.Not {
			return false
		}
	}
	return true
}

// MatchClient reports whether a client satisfies the terms that apply to clients: client/ip,
// app, user, driver, and free text over the IP, apps, users and drivers. Terms on
// session-only fields (op, ns, running, …) are ignored.
func (f Filter) MatchClient(c *Client) bool {
	if c == nil {
		return f.Empty()
	}
	for i := range f.Terms {
		t := &f.Terms[i]
		if !t.clientApplicable() {
			continue
		}
		if t.matchClient(c) == t.Not {
			return false
		}
	}
	return true
}

// HasClientTerms reports whether any term applies to clients (see MatchClient).
func (f Filter) HasClientTerms() bool {
	for i := range f.Terms {
		if f.Terms[i].clientApplicable() {
			return true
		}
	}
	return false
}

func (t *Term) clientApplicable() bool {
	if t.Kind == Compare {
		return false
	}
	switch t.Field {
	case "", "client", "app", "user", "driver":
		return true
	}
	return false
}

func (t *Term) matchClient(c *Client) bool {
	switch t.Field {
	case "client":
		return t.test(c.IP)
	case "app":
		return t.testAny(c.Apps)
	case "user":
		return t.testAny(c.Users)
	case "driver":
		return t.testAny(c.Drivers)
	}
	return t.test(c.IP) || t.testAny(c.Apps) || t.testAny(c.Users) || t.testAny(c.Drivers)
}

func (t *Term) testAny(vals []string) bool {
	for _, v := range vals {
		if t.test(v) {
			return true
		}
	}
	return false
}

// matchSession is the term without its negation.
func (t *Term) matchSession(s *Session) bool {
	if t.Kind == Compare {
		return compareDuration(s.Running(), t.Cmp, t.Dur)
	}
	switch t.Field {
	case "":
		return t.test(s.ID) || t.test(s.Op) || t.test(s.NS) || t.test(s.PlanSummary) ||
			t.test(s.Client) || t.test(s.App) || t.test(s.User) || t.test(s.Driver) ||
			t.test(s.Host) || t.test(s.Shard) || t.test(s.Desc) || t.test(s.Msg) ||
			t.test(s.CommandName) || t.test(s.Summary)
	case "running":
		return false // only comparisons apply to the running time
	}
	return t.test(sessionField(s, t.Field))
}

// sessionField returns the text of a named column.
func sessionField(s *Session, field string) string {
	switch field {
	case "id":
		return s.ID
	case "type":
		return s.Type
	case "op":
		return s.Op
	case "ns":
		return s.NS
	case "plan":
		return s.PlanSummary
	case "client":
		return s.Client
	case "app":
		return s.App
	case "user":
		return s.User
	case "driver":
		return s.Driver
	case "host":
		return s.Host
	case "shard":
		return s.Shard
	case "desc":
		return s.Desc
	case "command":
		return s.CommandName
	case "summary":
		return s.Summary
	}
	return ""
}

func compareDuration(d time.Duration, cmp string, want time.Duration) bool {
	switch cmp {
	case ">":
		return d > want
	case ">=":
		return d >= want
	case "<":
		return d < want
	case "<=":
		return d <= want
	case "=", "==":
		return d == want
	}
	return false
}

// test applies a Contains, Equals or Regex term to one string.
func (t *Term) test(s string) bool {
	switch t.Kind {
	case Regex:
		return t.Re == nil || t.Re.MatchString(s)
	case Equals:
		return strings.EqualFold(s, t.Value)
	}
	return containsFold(s, t.Value)
}

// containsFold reports whether hay contains needle, ignoring case; needle is already lower
// case (strings.ToLower). It does not allocate.
func containsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	n0 := needle[0]
	if n0 >= utf8.RuneSelf {
		return containsFoldRunes(hay, needle)
	}
	u0 := n0
	if 'a' <= n0 && n0 <= 'z' {
		u0 -= 'a' - 'A'
	}
	// Candidates start with either case of the first byte; IndexByte is vectorised.
	for i := 0; i < len(hay); {
		j := strings.IndexByte(hay[i:], n0)
		if u0 != n0 {
			if k := strings.IndexByte(hay[i:], u0); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			break
		}
		if hasPrefixFold(hay[i+j:], needle) {
			return true
		}
		i += j + 1
	}
	// A few non-ASCII letters fold to ASCII ones (the Kelvin sign to k): look rune by rune,
	// which only strings with non-ASCII bytes need.
	if hasNonASCII(hay) {
		return containsFoldRunes(hay, needle)
	}
	return false
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// hasPrefixFold reports whether hay starts with the lower-case needle, ignoring case.
func hasPrefixFold(hay, needle string) bool {
	i, j := 0, 0
	for j < len(needle) {
		if i >= len(hay) {
			return false
		}
		h, n := hay[i], needle[j]
		if h < utf8.RuneSelf && n < utf8.RuneSelf {
			if 'A' <= h && h <= 'Z' {
				h += 'a' - 'A'
			}
			if h != n {
				return false
			}
			i++
			j++
			continue
		}
		hr, hs := utf8.DecodeRuneInString(hay[i:])
		nr, ns := utf8.DecodeRuneInString(needle[j:])
		if unicode.ToLower(hr) != nr {
			return false
		}
		i += hs
		j += ns
	}
	return true
}

func containsFoldRunes(hay, needle string) bool {
	for i := 0; i < len(hay); {
		if hasPrefixFold(hay[i:], needle) {
			return true
		}
		_, size := utf8.DecodeRuneInString(hay[i:])
		i += size
	}
	return false
}
