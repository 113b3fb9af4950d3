package huawei

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/huaweiapi"
	"github.com/currentop/currentop/source"
)

func TestCredentialsFromEnv(t *testing.T) {
	tests := []struct {
		name              string
		ak, sk, tok, stok string
		want              Credentials
		wantErr           []string
	}{
		{name: "AK/SK", ak: "AK1", sk: "SK1", want: Credentials{AK: "AK1", SK: "SK1"}},
		{name: "AK/SK with whitespace", ak: " AK1\n", sk: "SK1\n", want: Credentials{AK: "AK1", SK: "SK1"}},
		{name: "temporary AK/SK", ak: "AK1", sk: "SK1", stok: "ST", want: Credentials{AK: "AK1", SK: "SK1", SecurityToken: "ST"}},
		{name: "AK/SK preferred over a token", ak: "AK1", sk: "SK1", tok: "T", want: Credentials{AK: "AK1", SK: "SK1"}},
		{name: "token", tok: "T", want: Credentials{Token: "T"}},
		{name: "AK only", ak: "AK1", wantErr: []string{EnvSK}},
		{name: "SK only", sk: "SK1", wantErr: []string{EnvAK}},
		{name: "nothing", wantErr: []string{EnvAK, EnvSK, EnvToken, "--token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAK, tt.ak)
			t.Setenv(EnvSK, tt.sk)
			t.Setenv(EnvToken, tt.tok)
			t.Setenv(EnvSecurityToken, tt.stok)
			got, err := CredentialsFromEnv()
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				if tt.sk != "" && strings.Contains(err.Error(), tt.sk) {
					t.Errorf("error reveals the SK: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got.debug(), tt.want.debug())
			}
		})
	}
}

// debug shows every field, for test failure messages only.
func (c Credentials) debug() string {
	return fmt.Sprintf("AK=%q SK=%q Token=%q SecurityToken=%q", c.AK, c.SK, c.Token, c.SecurityToken)
}

func TestNoSecretInAnyOutput(t *testing.T) {
	const (
		sk    = "SKsecretValue1234567890abcdefABCDEF"
		tok   = "MIIatokenValue1234567890abcdefABCDEF"
		stok  = "SecurityTokenValue1234567890abcdef"
		ak    = "QTWAOYTTINDUT2QVKYUC"
		akOut = "QTWA…UC"
	)
	creds := Credentials{AK: ak, SK: sk, Token: tok, SecurityToken: stok}
	cfg := Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "i1", Credentials: creds, Timeout: time.Second}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	for _, v := range []any{creds, &creds, cfg, &cfg, src, []any{creds}, map[string]Credentials{"k": creds}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T %v", "%10v", "%-20s"} {
			outputs = append(outputs, fmt.Sprintf(verb, v))
		}
	}
	outputs = append(outputs, creds.String(), creds.GoString(), fmt.Sprint(creds), fmt.Sprintln(cfg))
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(b))
	// Errors from failed calls.
	e := newEnv(t, nil, func(o *huaweiapi.Options, c *Config) { c.Credentials = creds })
	_, err = e.src.Snapshot(context.Background(), source.Query{})
	if err == nil {
		t.Fatal("wrong credentials accepted")
	}
	outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	var auth *AuthError
	if errors.As(err, &auth) {
		outputs = append(outputs, fmt.Sprintf("%+v", *auth.API))
	}
	for _, out := range outputs {
		for _, secret := range []string{sk, tok, stok} {
			if strings.Contains(out, secret) {
				t.Errorf("output reveals a secret: %s", out)
			}
		}
	}
	if s := creds.String(); !strings.Contains(s, akOut) || !strings.Contains(s, "SK:***") || !strings.Contains(s, "Token:***") {
		t.Errorf("String() = %q: should identify the key and mask the rest", s)
	}
}

func TestNewValidates(t *testing.T) {
	ok := Credentials{AK: "AK", SK: "SK"}
	tests := []struct {
		name    string
		cfg     Config
		env     map[string]string
		wantErr string
		target  string
		host    string
	}{
		{name: "minimal", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Credentials: ok},
			target: "huawei:cn-north-4/", host: "https://dds.cn-north-4.myhuaweicloud.com"},
		{name: "eu site", cfg: Config{Region: "eu-west-101", ProjectID: "p1", InstanceID: "i1", NodeID: "n1", Credentials: ok},
			target: "huawei:eu-west-101/i1/n1", host: "https://dds.eu-west-101.myhuaweicloud.eu"},
		{name: "env fallbacks", cfg: Config{InstanceID: "i1", Credentials: ok}, env: map[string]string{EnvRegion: "ap-southeast-1", EnvProjectID: "p9"},
			target: "huawei:ap-southeast-1/i1", host: "https://dds.ap-southeast-1.myhuaweicloud.com"},
		{name: "loopback http endpoint", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Endpoint: "http://127.0.0.1:8080/", Credentials: ok},
			target: "huawei:cn-north-4/", host: "http://127.0.0.1:8080"},
		{name: "endpoint without scheme", cfg: Config{ProjectID: "p1", Endpoint: "dds.example.com", Credentials: ok},
			target: "huawei:dds.example.com/", host: "https://dds.example.com"},
		{name: "no credentials", cfg: Config{Region: "cn-north-4", ProjectID: "p1"}, wantErr: EnvAK},
		{name: "half a key", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Credentials: Credentials{AK: "AK"}}, wantErr: "both"},
		{name: "no project", cfg: Config{Region: "cn-north-4", Credentials: ok}, wantErr: "--project-id"},
		{name: "no region", cfg: Config{ProjectID: "p1", Credentials: ok}, wantErr: "--region"},
		{name: "bad region", cfg: Config{Region: "CN North", ProjectID: "p1", Credentials: ok}, wantErr: "--region"},
		{name: "bad instance", cfg: Config{Region: "cn-north-4", ProjectID: "p1", InstanceID: "../x", Credentials: ok}, wantErr: "--instance"},
		{name: "bad node", cfg: Config{Region: "cn-north-4", ProjectID: "p1", NodeID: "a/b", Credentials: ok}, wantErr: "--node"},
		{name: "plain http to a remote host", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Endpoint: "http://dds.example.com", Credentials: ok}, wantErr: "https"},
		{name: "other scheme", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Endpoint: "ftp://x", Credentials: ok}, wantErr: "https"},
		{name: "endpoint with credentials", cfg: Config{Region: "cn-north-4", ProjectID: "p1", Endpoint: "https://admin:S3cretPass@x", Credentials: ok}, wantErr: "credentials do not belong in the endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvRegion, tt.env[EnvRegion])
			t.Setenv(EnvProjectID, tt.env[EnvProjectID])
			src, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "S3cretPass") {
					t.Fatalf("err reveals the endpoint's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.target != tt.target {
				t.Errorf("target = %q, want %q", src.target, tt.target)
			}
			if got := src.c.base.String(); got != tt.host {
				t.Errorf("endpoint = %q, want %q", got, tt.host)
			}
		})
	}
	src, _ := New(Config{Region: "cn-north-4", ProjectID: "p1", Credentials: ok})
	if _, err := src.Snapshot(context.Background(), source.Query{}); err == nil || !strings.Contains(err.Error(), "--instance") {
		t.Errorf("snapshot without an instance: %v", err)
	}
}
