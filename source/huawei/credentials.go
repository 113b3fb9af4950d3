package huawei

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables read by CredentialsFromEnv and New. The AK/SK names are the official
// Huawei Cloud SDK's; the SDK has no variable for an IAM token or a region, so those two are
// currentop's own.
const (
	EnvAK            = "HUAWEICLOUD_SDK_AK"
	EnvSK            = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN" // with temporary AK/SK only
	EnvProjectID     = "HUAWEICLOUD_SDK_PROJECT_ID"
	EnvToken         = "HUAWEICLOUD_TOKEN" // an IAM token (X-Subject-Token), instead of AK/SK
	EnvRegion        = "HUAWEICLOUD_REGION"
)

// Credentials authenticate API calls: an access key pair (AK/SK, signed with SDK-HMAC-SHA256),
// optionally temporary (SecurityToken), or an IAM token sent as X-Auth-Token. When both are set
// the AK/SK pair is used: tokens expire after 24 hours, keys do not.
//
// Printing Credentials with any fmt verb never reveals SK, SecurityToken or Token.
type Credentials struct {
	AK, SK, Token string
	// SecurityToken accompanies a temporary AK/SK pair (X-Security-Token).
	SecurityToken string
}

// CredentialsFromEnv reads HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (plus
// HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary keys), or else an IAM token from HUAWEICLOUD_TOKEN.
func CredentialsFromEnv() (Credentials, error) {
	c := Credentials{
		AK:            strings.TrimSpace(os.Getenv(EnvAK)),
		SK:            strings.TrimSpace(os.Getenv(EnvSK)),
		SecurityToken: strings.TrimSpace(os.Getenv(EnvSecurityToken)),
		Token:         strings.TrimSpace(os.Getenv(EnvToken)),
	}
	switch {
	case c.AK != "" && c.SK != "":
		c.Token = ""
		return c, nil
	case c.AK != "" && c.SK == "":
		return Credentials{}, fmt.Errorf("huawei: %s is set but %s is empty: set both (the secret access key of the same access key)", EnvAK, EnvSK)
	case c.AK == "" && c.SK != "":
		return Credentials{}, fmt.Errorf("huawei: %s is set but %s is empty: set both (the access key ID of the same access key)", EnvSK, EnvAK)
	case c.Token != "":
		c.SecurityToken = ""
		return c, nil
	}
	return Credentials{}, fmt.Errorf("huawei: no credentials: set %s and %s to an access key of an IAM user allowed to use DDS, or pass an IAM token with --token or %s", EnvAK, EnvSK, EnvToken)
}

// validate checks that exactly one usable way to authenticate is present.
func (c Credentials) validate() error {
	switch {
	case c.AK != "" && c.SK != "":
		return nil
	case c.AK != "" || c.SK != "":
		return errors.New("huawei: incomplete access key: both the AK and the SK are needed (" + EnvAK + ", " + EnvSK + ")")
	case c.Token != "":
		return nil
	}
	return fmt.Errorf("huawei: no credentials: set %s and %s, or pass an IAM token with --token or %s", EnvAK, EnvSK, EnvToken)
}

// useAKSK reports whether requests are signed (rather than carrying a token).
func (c Credentials) useAKSK() bool { return c.AK != "" && c.SK != "" }

// secrets are the values that must never appear in any output.
func (c Credentials) secrets() []string {
	var s []string
	for _, v := range []string{c.SK, c.Token, c.SecurityToken} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// String describes the credentials without their secrets: the AK is shortened, everything
// else is masked.
func (c Credentials) String() string {
	var parts []string
	if c.AK != "" {
		parts = append(parts, "AK:"+maskAK(c.AK))
	}
	if c.SK != "" {
		parts = append(parts, "SK:***")
	}
	if c.SecurityToken != "" {
		parts = append(parts, "SecurityToken:***")
	}
	if c.Token != "" {
		parts = append(parts, "Token:***")
	}
	return "huawei.Credentials{" + strings.Join(parts, " ") + "}"
}

// GoString is String: %#v must not reveal secrets either.
func (c Credentials) GoString() string { return c.String() }

// Format implements fmt.Formatter so that every verb and flag (%v, %+v, %#v, %s, %q, %x …),
// including inside structs that embed Credentials, prints the masked form.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

// MarshalJSON writes the masked form, so that logging a Config as JSON reveals nothing either.
func (c Credentials) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// maskAK keeps enough of an access key ID to tell keys apart.
func maskAK(ak string) string {
	if len(ak) <= 8 {
		return "***"
	}
	return ak[:4] + "…" + ak[len(ak)-2:]
}
