package mongodb

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Masking works on what the user typed, not on what a parser accepts: a password may hold
// unescaped '?', '/', '@' or ':', the scheme may be mistyped or missing, and the driver reads
// the userinfo up to the first '@' while a person means the last one. So every byte that
// could be a secret under any of these readings is masked, even if that sometimes hides more
// than the password (an unescaped '@' in an option value after a user:password hides the
// hosts too; such a URI is malformed for the driver as well).

// span is a byte range [from, to) of a URI that could hold a secret.
type span struct{ from, to int }

// MaskURI returns uri with everything that could be a password or a secret option replaced
// by "***": "mongodb://app:s3cret@db1/" → "mongodb://app:***@db1/". It never fails, whatever
// the input.
func MaskURI(uri string) string {
	spans := secretSpans(uri)
	if len(spans) == 0 {
		return uri
	}
	var b strings.Builder
	b.Grow(len(uri))
	last := 0
	for _, sp := range spans {
		b.WriteString(uri[last:sp.from])
		b.WriteString("***")
		last = sp.to
	}
	b.WriteString(uri[last:])
	return b.String()
}

// secretSpans returns the ranges of uri that could be secrets, sorted and merged.
func secretSpans(uri string) []span {
	var spans []span
	if sp, ok := userinfoSpan(uri); ok {
		spans = append(spans, sp)
	}
	spans = append(spans, optionSpans(uri)...)
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	merged := spans[:0]
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// schemeEnd is the index after "mongodb:" or "mongodb+srv:" (any case, after leading
// blanks) and the slashes that follow it, or 0 when uri does not start with one followed by a
// slash. Other schemes are not recognised: in "u:/pass@host" the "u:" is a user name.
func schemeEnd(uri string) int {
	trimmed := strings.TrimLeft(uri, " \t")
	for _, scheme := range []string{"mongodb+srv:/", "mongodb:/"} {
		if len(trimmed) >= len(scheme) && strings.EqualFold(trimmed[:len(scheme)], scheme) {
			i := len(uri) - len(trimmed) + len(scheme)
			for i < len(uri) && uri[i] == '/' {
				i++
			}
			return i
		}
	}
	return 0
}

// userinfoSpan is the password of "user:password@": from the first ':' after the scheme to
// the last '@', when the ':' comes first. The user name stays visible, except after a
// mistyped "mongodb:/" with no ':' at all, where "mongodb:/secret@host" may as well be user
// "mongodb" with password "/secret".
func userinfoSpan(uri string) (span, bool) {
	start := schemeEnd(uri)
	rest := uri[start:]
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return span{}, false
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		if start > 0 && !strings.HasSuffix(uri[:start], "//") {
			return span{start, start + at}, true
		}
		return span{}, false
	}
	return span{start + colon + 1, start + at}, true
}

// optionSpans are the values of secret options, wherever "?key=" or "&key=" (or ";key=",
// which the driver also accepts) appears. A value runs to the next separator, and on over
// what can only be the rest of a password with an unescaped '&' or ';': segments without '=',
// segments whose key is no URI option, and anything while the value is still empty.
func optionSpans(uri string) []span {
	var spans []span
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c != '?' && c != '&' && c != ';' {
			continue
		}
		keyEnd := strings.IndexAny(uri[i+1:], "=&;?")
		if keyEnd < 0 || uri[i+1+keyEnd] != '=' || !isSecretParam(uri[i+1:i+1+keyEnd]) {
			continue
		}
		from := i + 1 + keyEnd + 1
		spans = append(spans, span{from, optionValueEnd(uri, from)})
	}
	return spans
}

// optionValueEnd is where the secret option value starting at from ends (see optionSpans).
func optionValueEnd(uri string, from int) int {
	to := from
	for {
		next := strings.IndexAny(uri[to:], "&;")
		if next < 0 {
			return len(uri)
		}
		to += next
		seg := uri[to+1:]
		if end := strings.IndexAny(seg, "&;"); end >= 0 {
			seg = seg[:end]
		}
		key, _, isOption := strings.Cut(seg, "=")
		empty := strings.Trim(uri[from:to], "&;") == ""
		if isOption && !empty && knownOption(key) {
			return to
		}
		to++ // the separator belongs to the password: go on
	}
}

// uriOptions are the option names the driver knows (connstring.addOptions), lower-cased.
var uriOptions = strings.Fields(`appname authmechanism authmechanismproperties authsource compressors
	connect directconnection connecttimeoutms heartbeatintervalms heartbeatfrequencyms journal
	loadbalanced localthresholdms maxidletimems maxpoolsize minpoolsize maxconnecting
	readconcernlevel readpreference readpreferencetags maxstaleness maxstalenessseconds replicaset
	retrywrites retryreads maxadaptiveretries enableoverloadretargeting servermonitoringmode
	serverselectiontimeoutms sockettimeoutms srvmaxhosts srvservicename ssl tls
	sslclientcertificatekeyfile tlscertificatekeyfile sslclientcertificatekeypassword
	tlscertificatekeyfilepassword tlscertificatefile tlsprivatekeyfile sslinsecure tlsinsecure
	sslcertificateauthorityfile tlscafile timeoutms tlsdisablecertificaterevocationcheck
	tlsdisableocspendpointcheck tlsallowinvalidcertificates tlsallowinvalidhostnames w wtimeoutms
	zlibcompressionlevel zstdcompressionlevel`)

// knownOption reports a URI option name, or any name that looks like a secret option (which
// starts a span of its own).
func knownOption(k string) bool {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	k = strings.ToLower(strings.TrimSpace(k))
	return slices.Contains(uriOptions, k) || isSecretParam(k)
}

// isSecretParam reports option names whose values are secrets: the driver's
// tlsCertificateKeyFilePassword and sslClientCertificateKeyPassword,
// authMechanismProperties (AWS_SESSION_TOKEN, …), and anything named like a password, secret
// or token (sslPEMKeyPassword of the legacy shell, misspellings). Names are compared as the
// driver reads them: unescaped and case-insensitive.
func isSecretParam(k string) bool {
	if u, err := url.QueryUnescape(k); err == nil {
		k = u
	}
	k = strings.ToLower(strings.TrimSpace(k))
	if k == "authmechanismproperties" {
		return true
	}
	for _, w := range []string{"pass", "pwd", "secret", "token", "credential"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// minSecret is the shortest secret scrubbed from messages: replacing shorter ones would
// garble every message while hiding next to nothing.
const minSecret = 3

// Secrets returns every piece of uri that could be a secret, raw and unescaped, for
// scrubbing messages (see Scrub): the masked ranges of MaskURI and the pieces of them a
// parser could read as something else (the password up to the first '@', a "host", an
// authMechanismProperties value). uri may be anything the user typed.
func Secrets(uri string) []string {
	var out []string
	add := func(v string) {
		for _, s := range []string{v, unescape(v), queryUnescape(v)} {
			if len(s) >= minSecret && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	visible := asciiLower(MaskURI(uri))
	for _, sp := range secretSpans(uri) {
		v := uri[sp.from:sp.to]
		add(v)
		// The driver may read pieces of what the user meant as a password as a host, a
		// database or an option, and echo them ("lookup secr3t-x"): each piece between the
		// characters that delimit those is a secret too, unless it is also in plain sight
		// ("mongodb" of SERVICE_NAME:mongodb would garble every message).
		for _, piece := range strings.FieldsFunc(v, isDelimiter) {
			if !strings.Contains(visible, asciiLower(piece)) {
				add(piece)
			}
		}
	}
	return out
}

// Scrub removes secrets (from Secrets) from msg, ignoring ASCII case: each occurrence
// becomes "***".
func Scrub(msg string, secrets []string) string {
	// Longest first: a whole password goes before the pieces of it that are secrets too.
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		msg = replaceFold(msg, sec, "***")
	}
	return msg
}

// scrubQuoted is Scrub for the URI parser's errors, which quote pieces of what they cannot
// parse (`invalid host "ss:w0rd"`, `invalid URL escape "%zz"`): a quoted value that shares
// minSecret bytes with a secret becomes "***" as well. Other messages do not get this: a
// server's `user "app@admin"` shares "app" with the password "app-Secret-3".
func scrubQuoted(msg string, secrets []string) string {
	msg = Scrub(msg, secrets)
	if len(secrets) == 0 {
		return msg
	}
	windows := secretWindows(secrets)
	var b strings.Builder
	for {
		q := strings.IndexByte(msg, '"')
		if q < 0 {
			break
		}
		quoted, err := strconv.QuotedPrefix(msg[q:])
		if err != nil {
			b.WriteString(msg[:q+1])
			msg = msg[q+1:]
			continue
		}
		b.WriteString(msg[:q])
		if v, err := strconv.Unquote(quoted); err == nil && sharesWindow(v, windows) {
			b.WriteString(`"***"`)
		} else {
			b.WriteString(quoted)
		}
		msg = msg[q+len(quoted):]
	}
	b.WriteString(msg)
	return b.String()
}

func secretWindows(secrets []string) map[string]bool {
	w := make(map[string]bool)
	for _, sec := range secrets {
		sec = asciiLower(sec)
		for i := 0; i+minSecret <= len(sec); i++ {
			w[sec[i:i+minSecret]] = true
		}
	}
	return w
}

// sharesWindow reports whether v has minSecret bytes in common with a secret.
func sharesWindow(v string, windows map[string]bool) bool {
	v = asciiLower(v)
	for i := 0; i+minSecret <= len(v); i++ {
		if windows[v[i:i+minSecret]] {
			return true
		}
	}
	return false
}

// replaceFold replaces old in s ignoring ASCII case: a host name taken from a password is
// echoed lower-cased by the resolver ("lookup secr3t-x").
func replaceFold(s, old, repl string) string {
	ls, lo := asciiLower(s), asciiLower(old)
	if old == "" || !strings.Contains(ls, lo) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lo)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, ls = s[i+len(old):], ls[i+len(lo):]
	}
	b.WriteString(s)
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so byte offsets stay the same.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// uriSecrets returns the URI's user name (for error messages until the driver has parsed the
// URI) and its secrets.
func uriSecrets(uri string) (user string, secrets []string) {
	if sp, ok := userinfoSpan(uri); ok && sp.from > schemeEnd(uri) {
		user = unescape(uri[schemeEnd(uri) : sp.from-1])
	}
	return user, Secrets(uri)
}

func isDelimiter(r rune) bool { return strings.ContainsRune("@/?:,&;=", r) }

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
