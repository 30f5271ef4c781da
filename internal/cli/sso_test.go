package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/identity"
)

func TestUserSSOLink(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if code, _, errOut := run(t, "init", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	cfgFile := filepath.Join(dir, "ward.toml")
	err := os.WriteFile(cfgFile, []byte(`
[[sso]]
tenant = "clinic"
name = "okta"
issuer = "https://clinic.okta.example"
client_id = "0oa1ward"
client_secret_file = "/nonexistent/okta.secret"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	create := func(tenant, username, role string) string {
		t.Helper()
		code, out, errOut := run(t, "user", "create", "--dev", "--data-dir", data, "--tenant", tenant, "--username", username, "--role", role, "--json")
		var p struct {
			ID string `json:"user_id"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("user create: %d %s", code, errOut)
		}
		return p.ID
	}
	doc := create("clinic", "doc", "physician")
	pat := create("clinic", "pat", "patient")
	far := create("elsewhere", "far", "nurse")
	const subject = "00u1subject42"
	flags := []string{"--dev", "--data-dir", data, "--config", cfgFile, "--provider", "clinic/okta"}

	code, out, errOut := run(t, append([]string{"user", "sso-link", doc, "--subject", subject}, flags...)...)
	if code != 0 || !strings.Contains(out, "sso-link: "+doc+" to clinic/okta") || strings.Contains(out, subject) {
		t.Fatalf("sso-link: %d %q %q", code, out, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"linked already", []string{"user", "sso-link", doc, "--subject", subject}, 1},
		{"another subject at the same provider", []string{"user", "sso-link", doc, "--subject", "00u1other"}, 1},
		{"a patient", []string{"user", "sso-link", pat, "--subject", "00u1pat"}, 1},
		{"an account of another tenant", []string{"user", "sso-link", far, "--subject", "00u1far"}, 1},
		{"an unknown account", []string{"user", "sso-link", "u-nobody", "--subject", "00u1x"}, 1},
		{"no subject", []string{"user", "sso-link", doc}, 2},
		{"no account", []string{"user", "sso-link", "--subject", "00u1x"}, 2},
	} {
		if code, _, errOut := run(t, append(tc.args, flags...)...); code != tc.code || code == 1 && errOut == "" {
			t.Errorf("%s: exit %d %q, want %d", tc.name, code, errOut, tc.code)
		}
	}
	if code, _, errOut := run(t, "user", "sso-link", doc, "--subject", "00u1x", "--dev", "--data-dir", data, "--config", cfgFile, "--provider", "clinic/entra"); code != 1 || !strings.Contains(errOut, "no identity provider clinic/entra") {
		t.Errorf("unknown provider: %d %q", code, errOut)
	}

	// The link is by the configured issuer.
	ctx := context.Background()
	db, err := app.OpenDB(ctx, devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	l, err := db.SSOLink(ctx, "https://clinic.okta.example", subject)
	db.Close()
	if err != nil || l.PersonID != doc {
		t.Fatalf("stored link %+v, %v", l, err)
	}

	if code, out, errOut := run(t, append([]string{"user", "sso-unlink", doc}, flags...)...); code != 0 || !strings.Contains(out, "(1 link(s))") {
		t.Fatalf("sso-unlink: %d %q %q", code, out, errOut)
	}
	if code, _, _ := run(t, append([]string{"user", "sso-unlink", doc}, flags...)...); code != 1 {
		t.Errorf("sso-unlink again: exit %d, want 1", code)
	}

	// Both are in the trail as the operator's, without the subject.
	db, err = app.OpenDB(ctx, devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SSOLink(ctx, "https://clinic.okta.example", subject); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("link after sso-unlink: %v", err)
	}
	var got []string
	err = ledger.Trail{R: db}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		if strings.Contains(fmtEvent(e), subject) {
			t.Errorf("event reveals the subject: %+v", e)
		}
		if strings.HasPrefix(e.Subtype, "user-sso") && strings.HasPrefix(e.ActorID, "os:") && e.EntityID == doc && e.Tenant == "clinic" {
			got = append(got, e.Subtype)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "user-sso-link,user-sso-unlink" {
		t.Errorf("sso events %q", got)
	}
}

func fmtEvent(e audit.Event) string {
	b, _ := json.Marshal(e)
	return string(b)
}
