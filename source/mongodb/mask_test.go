package mongodb

import (
	"strings"
	"testing"
)

// uriTemplates embed a password where a user could put one: the userinfo of a URI (with a
// scheme, a mistyped one, or none) and the secret options.
var uriTemplates = []func(user, pw, host, opt string) string{
	func(u, p, h, o string) string { return "mongodb://" + u + ":" + p + "@" + h + "/?" + o },
	func(u, p, h, o string) string { return "mongodb+srv://" + u + ":" + p + "@" + h + "/admin?" + o },
	func(u, p, h, o string) string { return u + ":" + p + "@" + h },
	func(u, p, h, o string) string { return "mongodb:/" + u + ":" + p + "@" + h + "/" },
	func(u, p, h, o string) string {
		return "mongodb://" + h + "/?" + o + "&tlsCertificateKeyFilePassword=" + p + "&w=1"
	},
	func(u, p, h, o string) string { return "mongodb://" + h + "/?sslPEMKeyPassword=" + p },
	func(u, p, h, o string) string {
		return "mongodb://" + u + "@" + h + "/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:" + p + "&" + o
	},
	func(u, p, h, o string) string {
		return "mongodb://" + h + "/?" + o + ";sslClientCertificateKeyPassword=" + p
	},
}

// occurrences counts the (possibly overlapping) places sub occurs in s.
func occurrences(s, sub string) int {
	n := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			n++
		}
	}
	return n
}

// FuzzMaskURI: whatever surrounds it, a password of 4 bytes or more never survives MaskURI,
// nor Scrub of a message quoting the whole URI. Passwords that also occur elsewhere in the
// URI (as the user name, a host, …) or contain the mask's '*' cannot be told apart from the
// text around them and are skipped.
func FuzzMaskURI(f *testing.F) {
	seeds := [][4]string{
		{"mon", "pa?S3cr3t", "host", "appName=x"},
		{"u", "S3cr3t", "localhost", ""},
		{"u", "p@ss/w:rd", "h1:1,h2:2", "replicaSet=rs0"},
		{"me@corp.com", "S3cr3t", "db1", "appName=a@b"},
		{"", "S3&cr;3t=x", "h", "w=1"},
		{"u", "%53%33cr3t", "h", "tls=true"},
		{"mongodb", "/S3cr3t", "h", ""},
	}
	for i, s := range seeds {
		f.Add(uint8(i), s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, tmpl uint8, user, pw, host, opt string) {
		uri := uriTemplates[int(tmpl)%len(uriTemplates)](user, pw, host, opt)
		masked := MaskURI(uri)
		msg := Scrub("cannot connect to "+uri+": failed", Secrets(uri))
		if len(pw) < 4 || strings.Contains(pw, "*") || occurrences(uri, pw) != 1 {
			return
		}
		if int(tmpl)%len(uriTemplates) == 2 && (strings.EqualFold(user, "mongodb") || strings.EqualFold(user, "mongodb+srv")) {
			return // "mongodb:/pw@host" reads as a mistyped scheme; see userinfoSpan
		}
		if strings.Contains(masked, pw) {
			t.Fatalf("MaskURI(%q) = %q keeps the password %q", uri, masked, pw)
		}
		if strings.Contains(msg, pw) {
			t.Fatalf("Scrub of %q = %q keeps the password %q", uri, msg, pw)
		}
	})
}
