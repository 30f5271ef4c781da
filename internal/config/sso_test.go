package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSSO loads [[sso]] tables from a file and checks what Finish
// refuses, with an error that names the table and the setting.
func TestSSO(t *testing.T) {
	const okta = `
[[sso]]
tenant = "clinic-a"
name = "okta"
issuer = "https://clinic-a.okta.example"
client_id = "0oa1ward"
client_secret_file = "/etc/ward/okta.secret"
scopes = ["email", "groups"]
trust_mfa = true
`
	const keycloak = `
[[sso]]
tenant = "clinic-a"
name = "keycloak"
issuer = "http://127.0.0.1:8080/realms/staff"
client_id = "ward"
client_secret_file = "/etc/ward/kc.secret"
link_by_email = true
`
	cases := []struct {
		name    string
		env     string // "" production
		toml    string
		wantErr string // "" accepted
	}{
		{"okta", "", okta, ""},
		{"loopback http in development", Development, okta + keycloak, ""},
		{"loopback http in production", "", okta + keycloak, "sso[2] (clinic-a/keycloak): issuer must be an https:// URL"},
		{"non-loopback http", Development, strings.Replace(okta, "https://clinic-a", "http://clinic-a", 1), "sso[1] (clinic-a/okta): issuer must be an https:// URL"},
		{"name used twice", "", okta + okta, "sso[2] (clinic-a/okta): name is used twice"},
		{"same name in another tenant", "", okta + strings.Replace(okta, `tenant = "clinic-a"`, `tenant = "clinic-b"`, 1), ""},
		{"no tenant", "", strings.Replace(okta, `tenant = "clinic-a"`, ``, 1), "sso[1]: tenant"},
		{"bad name", "", strings.Replace(okta, `name = "okta"`, `name = "Okta SSO"`, 1), "sso[1]: name must be 1 to 32"},
		{"long name", "", strings.Replace(okta, `name = "okta"`, `name = "`+strings.Repeat("o", 33)+`"`, 1), "sso[1]: name must be 1 to 32"},
		{"issuer with a query", "", strings.Replace(okta, `.example"`, `.example?x=1"`, 1), "issuer must be an absolute URL"},
		{"issuer with user info", "", strings.Replace(okta, `https://clinic-a`, `https://u:p@clinic-a`, 1), "issuer must be an absolute URL"},
		{"no issuer", "", strings.Replace(okta, `issuer = "https://clinic-a.okta.example"`, ``, 1), "issuer must be"},
		{"no client id", "", strings.Replace(okta, `client_id = "0oa1ward"`, ``, 1), "client_id is required"},
		{"no secret file", "", strings.Replace(okta, `client_secret_file = "/etc/ward/okta.secret"`, ``, 1), "client_secret_file is required"},
		{"secret inline", "", strings.Replace(okta, `client_secret_file = "/etc/ward/okta.secret"`, `client_secret = "hunter2"`, 1), "unknown setting"},
		{"scope with a space", "", strings.Replace(okta, `"groups"`, `"groups offline_access"`, 1), "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ward.toml")
			if err := os.WriteFile(file, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(file, env(map[string]string{"WARD_ENV": tc.env, "WARD_KMS": "local:/k", "WARD_AUDIT_KEY": "/a",
				"WARD_TLS_CERT": "/c", "WARD_TLS_KEY": "/k"}))
			if err == nil {
				err = c.Finish()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}

	file := filepath.Join(t.TempDir(), "ward.toml")
	if err := os.WriteFile(file, []byte(okta), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.FindSSO("clinic-a", "okta")
	if !ok || p.Issuer != "https://clinic-a.okta.example" || !p.TrustMFA || p.LinkByEmail || len(p.Scopes) != 2 {
		t.Errorf("FindSSO = %+v, %t", p, ok)
	}
	if _, ok := c.FindSSO("clinic-b", "okta"); ok {
		t.Error("FindSSO found a provider of another tenant")
	}
}
