package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
)

func TestUserCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errOut := run(t, "init", "--dev", "--data-dir", data)
	if code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	// The first super-admin, once, with a one-time password.
	if !regexp.MustCompile(`super-admin created: username "admin", one-time password [a-z2-7]{5}(-[a-z2-7]{5}){3}`).MatchString(out) {
		t.Errorf("init output: %q", out)
	}
	if code, out, _ := run(t, "init", "--dev", "--data-dir", data); code != 0 || strings.Contains(out, "super-admin created") {
		t.Errorf("second init: %d %q", code, out)
	}

	code, out, errOut = run(t, "user", "create", "--dev", "--data-dir", data, "--tenant", "clinic",
		"--username", "JSmith", "--role", "physician", "--email", "jane@example.org", "--name", "Jane Smith", "--json")
	if code != 0 {
		t.Fatalf("user create: %d %s", code, errOut)
	}
	var created struct {
		ID       string `json:"user_id"`
		Username string `json:"username"`
		OTP      string `json:"one_time_password"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Username != "jsmith" || created.OTP == "" {
		t.Fatalf("user create output %q: %v", out, err)
	}
	for _, bad := range [][]string{
		{"--username", "jsmith", "--role", "nurse"},    // taken
		{"--username", "bob", "--role", "radiologist"}, // no such role
		{"--username", "b c", "--role", "nurse"},       // bad username
		{"--username", "carol", "--role", "nurse", "--email", "not an address"},
	} {
		args := append([]string{"user", "create", "--dev", "--data-dir", data, "--tenant", "clinic"}, bad...)
		if code, _, errOut := run(t, args...); code != 1 || errOut == "" {
			t.Errorf("ward %v: exit %d %q, want 1 with a message", bad, code, errOut)
		}
	}
	if code, _, _ := run(t, "user", "create", "--dev", "--data-dir", data, "--username", "dave"); code != 2 {
		t.Errorf("create without --role: exit %d, want 2", code)
	}

	// list shows the one account of the tenant; disable and enable.
	code, out, _ = run(t, "user", "list", "--dev", "--data-dir", data, "--tenant", "clinic", "--json")
	var rows []struct {
		ID       string `json:"user_id"`
		Username string `json:"username"`
		Disabled bool   `json:"disabled"`
	}
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil || len(rows) != 1 || rows[0].ID != created.ID {
		t.Fatalf("user list: %d %q %v", code, out, err)
	}
	if code, _, errOut := run(t, "user", "disable", "--dev", "--data-dir", data, created.ID); code != 0 {
		t.Fatalf("user disable: %s", errOut)
	}
	_, out, _ = run(t, "user", "list", "--dev", "--data-dir", data, "--tenant", "clinic")
	if !strings.Contains(out, "disabled") {
		t.Errorf("list after disable: %q", out)
	}
	if code, _, errOut := run(t, "user", "enable", "--dev", "--data-dir", data, created.ID); code != 0 {
		t.Fatalf("user enable: %s", errOut)
	}
	if code, _, _ := run(t, "user", "disable", "--dev", "--data-dir", data, "u-nobody"); code != 1 {
		t.Errorf("disable an unknown account: exit %d", code)
	}
	for _, sub := range []string{"unlock", "reset-mfa"} {
		if code, _, errOut := run(t, "user", sub, "--dev", "--data-dir", data, created.ID); code != 0 {
			t.Errorf("user %s: %s", sub, errOut)
		}
		if code, _, _ := run(t, "user", sub, "--dev", "--data-dir", data, "u-nobody"); code != 1 {
			t.Errorf("user %s of an unknown account: exit %d", sub, code)
		}
	}

	// invite prints a single-use invitation once; bad input is refused.
	code, out, errOut = run(t, "user", "invite", "--dev", "--data-dir", data, "--tenant", "clinic", "--role", "nurse", "--ttl", "24h", "--json")
	var inv struct {
		Invitation string `json:"invitation"`
		Expires    string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(out), &inv); code != 0 || err != nil || !strings.HasPrefix(inv.Invitation, "ward_inv_") {
		t.Fatalf("user invite: %d %q %q", code, out, errOut)
	}
	for _, bad := range [][]string{{"--role", "super-admin"}, {"--role", "wizard"}, {"--role", "nurse", "--ttl", "1000h"}} {
		args := append([]string{"user", "invite", "--dev", "--data-dir", data, "--tenant", "clinic"}, bad...)
		if code, _, errOut := run(t, args...); code != 1 || errOut == "" {
			t.Errorf("ward user invite %v: exit %d %q, want 1 with a message", bad, code, errOut)
		}
	}

	// Every change is in the audit trail, as the operator's, and the
	// ledger verifies.
	db, err := app.OpenDB(context.Background(), devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	err = ledger.Trail{R: db}.Events(context.Background(), 0, func(_ uint64, e audit.Event) error {
		if (e.EntityType == "User" || e.EntityType == "Invitation") && strings.HasPrefix(e.ActorID, "os:") {
			got = append(got, e.Subtype)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "user-create,user-create,user-disable,user-enable,user-unlock,user-reset-mfa,invitation" {
		t.Errorf("account events %q", got)
	}
	if code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data); code != 0 {
		t.Errorf("audit verify: %q %q", vout, verr)
	}
}
