package mongodb

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMaskURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mongodb://app:s3cret@db1/", "mongodb://app:***@db1/"},
		{"mongodb://app@db1:27017/", "mongodb://app@db1:27017/"},
		{"mongodb://db1,db2:27018/?replicaSet=rs0", "mongodb://db1,db2:27018/?replicaSet=rs0"},
		{"mongodb+srv://u:p%40ss@cluster0.example.net/?retryWrites=true", "mongodb+srv://u:***@cluster0.example.net/?retryWrites=true"},
		{"mongodb://u:pa/ss@h1:1,h2:2/admin?tls=true", "mongodb://u:***@h1:1,h2:2/admin?tls=true"},
		{"mongodb://u:p@ss@h/", "mongodb://u:***@h/"},
		{"mongodb://u:@h/", "mongodb://u:***@h/"},
		{"mongodb://:S3cr3t@h/", "mongodb://:***@h/"},
		{"mongodb://h/?appName=a@b", "mongodb://h/?appName=a@b"},
		{"mongodb://h/?tls=true&tlsCertificateKeyFilePassword=k3y&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0k", "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&authMechanism=MONGODB-AWS&authMechanismProperties=***"},
		{"db1:27017", "db1:27017"},
		{"", ""},
		// An unescaped '?' in the password: the driver accepts it, and so must the mask.
		{"mongodb://mon:pa?S3cr3t@host/", "mongodb://mon:***@host/"},
		{"mongodb://mon:pa?S3cr3t@host/?appName=x", "mongodb://mon:***@host/?appName=x"},
		// Scheme typos and no scheme at all.
		{"u:S3cr3t@localhost", "u:***@localhost"},
		{"mongodb:/u:S3cr3t@host/", "mongodb:/u:***@host/"},
		{"mongodb:u:S3cr3t@host/", "mongodb:***@host/"},
		{"mongodb//u:S3cr3t@host/", "mongodb//u:***@host/"},
		{"mongo://u:S3cr3t@host/", "mongo:***@host/"},
		{"MONGODB://u:S3cr3t@host/", "MONGODB://u:***@host/"},
		{" mongodb://u:S3cr3t@host/", " mongodb://u:***@host/"},
		{"u:/S3cr3t@host/", "u:***@host/"},
		{"mongodb:/S3cr3t@host/", "mongodb:/***@host/"},
		{"mongodb://app@host/", "mongodb://app@host/"},
		// A user name with an unescaped '@' (an e-mail address): the password still goes.
		{"mongodb://me@corp.com:S3cr3t@host/", "mongodb://me@corp.com:***@host/"},
		// Secret options, however they are spelled or separated.
		{"mongodb://h/?sslPEMKeyPassword=S3cr3t", "mongodb://h/?sslPEMKeyPassword=***"},
		{"mongodb://h/?SSLClientCertificateKeyPassword=S3cr3t&w=1", "mongodb://h/?SSLClientCertificateKeyPassword=***&w=1"},
		{"mongodb://h/?tlsCertificateKeyFile%50assword=S3cr3t", "mongodb://h/?tlsCertificateKeyFile%50assword=***"},
		{"mongodb://h/?w=1;tlsCertificateKeyFilePassword=S3cr3t;w=2", "mongodb://h/?w=1;tlsCertificateKeyFilePassword=***;w=2"},
		{"mongodb://h/?tlsCertificateKeyFilePassword=S3&cr3t&w=1", "mongodb://h/?tlsCertificateKeyFilePassword=***&w=1"},
		{"mongodb://h/?tlsCertificateKeyFilePassword=S3&x=cr3t;appName=a", "mongodb://h/?tlsCertificateKeyFilePassword=***;appName=a"},
		{"mongodb://h/?tlsCertificateKeyFilePassword=&w=1", "mongodb://h/?tlsCertificateKeyFilePassword=***"},
		{"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:S3cr3t,X:y", "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***"},
		{"mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:tok@en", "mongodb://h/?authMechanismProperties=***"},
		{"mongodb://u:S3cr3t@h/?tlsCertificateKeyFilePassword=k3y", "mongodb://u:***@h/?tlsCertificateKeyFilePassword=***"},
	}
	for _, tt := range tests {
		if got := MaskURI(tt.in); got != tt.want {
			t.Errorf("MaskURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURISecrets(t *testing.T) {
	user, secrets := uriSecrets("mongodb://mon%40corp:p%40ss-word@h/?tlsCertificateKeyFilePassword=k3y-pass&authMechanismProperties=AWS_SESSION_TOKEN:t0k3n")
	if user != "mon@corp" {
		t.Errorf("user %q", user)
	}
	for _, want := range []string{"p%40ss-word", "p@ss-word", "k3y-pass", "t0k3n"} {
		if !slices.Contains(secrets, want) {
			t.Errorf("secrets %q lack %q", secrets, want)
		}
	}
	if got := Scrub("auth failed for p@ss-word and p%40ss-word", secrets); got != "auth failed for *** and ***" {
		t.Errorf("scrub: %q", got)
	}
	// A piece of a masked value that is also in plain sight is not a secret.
	if secrets := Secrets("mongodb://h/?authMechanism=GSSAPI&authMechanismProperties=SERVICE_NAME:mongodb"); slices.Contains(secrets, "mongodb") {
		t.Errorf("secrets %q include the scheme", secrets)
	}
}

// The driver quotes pieces of a URI it cannot parse; a piece of a password is a secret too.
func TestScrubQuotedPieces(t *testing.T) {
	secrets := Secrets("mongodb://u:p@ss:w0rd/db@h/")
	msg := `error parsing uri: invalid host "ss:w0rd": port must be an integer: strconv.Atoi: parsing "w0rd": invalid syntax; host "db1"`
	want := `error parsing uri: invalid host "***": port must be an integer: strconv.Atoi: parsing "***": invalid syntax; host "db1"`
	if got := scrubQuoted(msg, secrets); got != want {
		t.Errorf("scrubQuoted:\n got %s\nwant %s", got, want)
	}
	if got := scrubQuoted(`a "broken \" quote`, secrets); got != `a "broken \" quote` {
		t.Errorf("scrubQuoted changed text without secrets: %s", got)
	}
}

func TestOpenBadURI(t *testing.T) {
	for _, uri := range []string{"", "db1:27017", "http://db1/", "mongodb://u:Secr3t-x@/", "mongodb://u:Secr3t-x@h/?replicaSet=", "mongodb://u:Secr3t-x@h:99999/",
		"u:Secr3t-x@localhost", "mongodb:/u:Secr3t-x@host/", "mongodb://u:Secr3t-x/db@h/", "mongodb://u:p@Secr3t-x/db@h/",
		"mongodb://u:Secr3t-x%zz@h/", "mongodb://h/?authMechanismProperties=Secr3t-x", "mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:Secr3t-x%zz",
		"mongodb://h/?tlsCertificateKeyFilePassword=Secr3t-x%zz", "mongodb://u:Secr3t-x@h/?authMechanism=MONGODB-X509",
		"mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:Secr3t-x"} {
		s, err := Open(t.Context(), Config{URI: uri, Timeout: 500 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", uri)
			continue
		}
		if strings.Contains(err.Error(), "Secr3t") || strings.Contains(err.Error(), "cr3t-x") {
			t.Errorf("Open(%q): password leaked: %v", uri, err)
		}
		if !strings.Contains(err.Error(), "URI") && !strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("Open(%q): unclear error %v", uri, err)
		}
	}
}
