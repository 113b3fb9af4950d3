package tencent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables and files the credentials come from.
const (
	EnvSecretID        = "TENCENTCLOUD_SECRET_ID"
	EnvSecretKey       = "TENCENTCLOUD_SECRET_KEY"
	EnvSessionToken    = "TENCENTCLOUD_SESSION_TOKEN"
	EnvSecurityToken   = "TENCENTCLOUD_SECURITY_TOKEN" // the Terraform provider's name, accepted too
	EnvRegion          = "TENCENTCLOUD_REGION"
	EnvCredentialsFile = "TENCENTCLOUD_CREDENTIALS_FILE"
)

// Credentials are a Tencent Cloud API key pair, with the session token of temporary
// credentials. Printing them with any fmt verb never reveals the key or the token.
type Credentials struct {
	SecretID, SecretKey, Token string
	// file is the profile file they were read from ("" = the environment), for error hints.
	file string
}

// String masks everything but the tail of the secret ID.
func (c Credentials) String() string {
	tok := ""
	if c.Token != "" {
		tok = ", Token:***"
	}
	key := "<none>"
	if c.SecretKey != "" {
		key = "***"
	}
	return "{SecretID:" + maskID(c.SecretID) + ", SecretKey:" + key + tok + "}"
}

// GoString is used by %#v.
func (c Credentials) GoString() string { return "tencent.Credentials" + c.String() }

// Format makes every verb (%v %+v %#v %s %q %x …) print the masked form.
func (c Credentials) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// maskID keeps the "AKID" prefix and the last four characters, enough to tell keys apart.
func maskID(id string) string {
	switch {
	case id == "":
		return "<none>"
	case len(id) <= 8:
		return "****"
	default:
		return id[:4] + "…" + id[len(id)-4:]
	}
}

// CredentialsFromEnv reads TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and the optional
// TENCENTCLOUD_SESSION_TOKEN (or TENCENTCLOUD_SECURITY_TOKEN); when neither key variable is
// set it reads the profile file $TENCENTCLOUD_CREDENTIALS_FILE or ~/.tencentcloud/credentials
// (section [default], keys secret_id, secret_key and optionally token).
func CredentialsFromEnv() (Credentials, error) {
	id := strings.TrimSpace(os.Getenv(EnvSecretID))
	key := strings.TrimSpace(os.Getenv(EnvSecretKey))
	token := strings.TrimSpace(os.Getenv(EnvSessionToken))
	if token == "" {
		token = strings.TrimSpace(os.Getenv(EnvSecurityToken))
	}
	switch {
	case id != "" && key != "":
		return Credentials{SecretID: id, SecretKey: key, Token: token}, nil
	case id != "":
		return Credentials{}, fmt.Errorf("tencent: %s is set but %s is empty: set both to an API key pair from the CAM console (API Key Management)", EnvSecretID, EnvSecretKey)
	case key != "":
		return Credentials{}, fmt.Errorf("tencent: %s is set but %s is empty: set both to an API key pair from the CAM console (API Key Management)", EnvSecretKey, EnvSecretID)
	}

	path, explicit := os.Getenv(EnvCredentialsFile), true
	if path == "" {
		explicit = false
		home, err := os.UserHomeDir()
		if err != nil {
			return Credentials{}, errNoCredentials("")
		}
		path = filepath.Join(home, ".tencentcloud", "credentials")
	}
	c, err := readProfile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !explicit:
		return Credentials{}, errNoCredentials(path)
	case err != nil:
		return Credentials{}, fmt.Errorf("tencent: credentials file %s: %w", path, err)
	}
	if c.Token == "" {
		c.Token = token
	}
	c.file = path
	return c, nil
}

func errNoCredentials(path string) error {
	where := "~/.tencentcloud/credentials"
	if path != "" {
		where = path
	}
	return fmt.Errorf("tencent: no credentials: set %s and %s (and %s for temporary credentials), or put secret_id and secret_key under [default] in %s",
		EnvSecretID, EnvSecretKey, EnvSessionToken, where)
}

// readProfile reads the [default] section of an INI credentials file.
func readProfile(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, err
	}
	defer f.Close()
	var c Credentials
	section := ""
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if section != "default" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "secret_id":
			c.SecretID = v
		case "secret_key":
			c.SecretKey = v
		case "token", "session_token":
			c.Token = v
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, err
	}
	if c.SecretID == "" || c.SecretKey == "" {
		return Credentials{}, fmt.Errorf("no secret_id and secret_key under [default]: add them, or set %s and %s", EnvSecretID, EnvSecretKey)
	}
	return c, nil
}
