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
		{"mongodb://h/?appName=a@b", "mongodb://h/?appName=a@b"},
		{"mongodb://h/?tls=true&tlsCertificateKeyFilePassword=k3y&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0k", "mongodb://h/?tls=true&tlsCertificateKeyFilePassword=***&authMechanism=MONGODB-AWS&authMechanismProperties=***"},
		{"db1:27017", "db1:27017"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskURI(tt.in); got != tt.want {
			t.Errorf("MaskURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURISecrets(t *testing.T) {
	user, secrets := uriSecrets("mongodb://mon%40corp:p%40ss-word@h/?tlsCertificateKeyFilePassword=k3y-pass")
	if user != "mon@corp" {
		t.Errorf("user %q", user)
	}
	for _, want := range []string{"p%40ss-word", "p@ss-word", "k3y-pass"} {
		if !slices.Contains(secrets, want) {
			t.Errorf("secrets %q lack %q", secrets, want)
		}
	}
	if got := scrub("auth failed for p@ss-word and p%40ss-word", secrets); got != "auth failed for *** and ***" {
		t.Errorf("scrub: %q", got)
	}
}

func TestOpenBadURI(t *testing.T) {
	for _, uri := range []string{"", "db1:27017", "http://db1/", "mongodb://u:Secr3t-x@/", "mongodb://u:Secr3t-x@h/?replicaSet=", "mongodb://u:Secr3t-x@h:99999/"} {
		s, err := Open(t.Context(), Config{URI: uri, Timeout: 500 * time.Millisecond})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", uri)
			continue
		}
		if strings.Contains(err.Error(), "Secr3t-x") {
			t.Errorf("Open(%q): password leaked: %v", uri, err)
		}
		if !strings.Contains(err.Error(), "URI") && !strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("Open(%q): unclear error %v", uri, err)
		}
	}
}
