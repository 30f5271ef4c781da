package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/auth"
)

// TestClientRotate creates a client with the CLI, rotates its secret and
// checks which secrets the token service then accepts, as an integration
// switching to the new secret would see it.
func TestClientRotate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := run(t, "init", "--dev", "--data-dir", data); code != 0 {
		t.Fatalf("init: %s", errOut)
	}
	dd := []string{"--dev", "--data-dir", data}
	cmd := func(args ...string) []string { return append(append([]string{"client"}, args...), dd...) }

	code, out, errOut := run(t, append(cmd("create", "--tenant", "clinic", "--name", "lab", "--role", "service"), "--json")...)
	var created struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil {
		t.Fatalf("client create: %d %q %q", code, out, errOut)
	}

	ctx := context.Background()
	db, err := app.OpenDB(ctx, devConfig(t, data))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	as := auth.NewService(db, auth.Options{})
	issues := func(t *testing.T, secret string, want bool) {
		t.Helper()
		_, _, err := as.IssueToken(ctx, created.ID, secret)
		if want && err != nil {
			t.Errorf("secret refused: %v", err)
		}
		if !want && !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("secret: err = %v, want ErrInvalidCredentials", err)
		}
	}
	tok, _, err := as.IssueToken(ctx, created.ID, created.Secret)
	if err != nil {
		t.Fatal(err)
	}

	// Rotate with the ID first and flags after it, as the synopsis shows.
	code, out, errOut = run(t, "client", "rotate", created.ID, "--json", "--dev", "--data-dir", data)
	var rotated struct {
		ID            string `json:"client_id"`
		Secret        string `json:"client_secret"`
		PreviousUntil string `json:"previous_secret_expires_at"`
		TokensRevoked bool   `json:"tokens_revoked"`
	}
	if err := json.Unmarshal([]byte(out), &rotated); code != 0 || err != nil {
		t.Fatalf("client rotate: %d %q %q", code, out, errOut)
	}
	if rotated.ID != created.ID || !strings.HasPrefix(rotated.Secret, "ward_cs_") || rotated.Secret == created.Secret ||
		rotated.PreviousUntil != "" || rotated.TokensRevoked {
		t.Errorf("client rotate --json: %q", out)
	}
	issues(t, rotated.Secret, true)
	issues(t, created.Secret, false)
	if _, err := as.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Errorf("a token issued before the rotation stopped working: %v", err)
	}

	// With a grace period the replaced secret keeps working; the text
	// output says until when. Flags before the ID work too.
	code, out, errOut = run(t, append(cmd("rotate", "--grace", "2h"), created.ID)...)
	if code != 0 || !strings.Contains(out, "client_secret:   ward_cs_") || !strings.Contains(out, "previous secret: works until ") ||
		!strings.Contains(out, "access tokens:   valid until they expire") {
		t.Fatalf("client rotate --grace: %d %q %q", code, out, errOut)
	}
	graced := strings.Fields(strings.SplitN(out, "client_secret:", 2)[1])[0]
	if until, err := time.Parse(time.RFC3339, strings.Fields(strings.SplitN(out, "works until ", 2)[1])[0]); err != nil ||
		until.Before(time.Now().Add(time.Hour)) || until.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("grace ends %v (%v), want in about 2h", until, err)
	}
	issues(t, graced, true)
	issues(t, rotated.Secret, true)
	issues(t, created.Secret, false)

	// --revoke-tokens ends issued tokens at once; without --grace the
	// secrets before it stop too.
	code, out, errOut = run(t, cmd("rotate", created.ID, "--revoke-tokens")...)
	if code != 0 || !strings.Contains(out, "previous secret: stopped working") || !strings.Contains(out, "access tokens:   revoked") {
		t.Fatalf("client rotate --revoke-tokens: %d %q %q", code, out, errOut)
	}
	latest := strings.Fields(strings.SplitN(out, "client_secret:", 2)[1])[0]
	if _, err := as.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("token survived --revoke-tokens: %v", err)
	}
	issues(t, latest, true)
	issues(t, graced, false)
	issues(t, rotated.Secret, false)

	// Refusals: exit 1 with a message, or 2 for usage; nothing changes.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{cmd("rotate", "c-nope"), 1, "not found"},
		{cmd("rotate", created.ID, "--grace", "169h"), 1, "grace"},
		{cmd("rotate", created.ID, "--grace", "-1m"), 1, "grace"},
		{cmd("rotate"), 2, "Usage"},
		{cmd("rotate", created.ID, "extra"), 2, "unexpected argument"},
		{cmd("rotate", created.ID, "--grace", "a week"), 2, "invalid value"},
	} {
		code, out, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) || strings.Contains(out, "ward_cs_") {
			t.Errorf("ward %v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.msg)
		}
	}
	if code, _, _ := run(t, "client", "rotate", "--help"); code != 0 {
		t.Errorf("client rotate --help: exit %d", code)
	}
	if code, _, errOut := run(t, append(cmd("disable"), created.ID)...); code != 0 {
		t.Fatalf("client disable: %s", errOut)
	}
	before, err := db.Client(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, cmd("rotate", created.ID, "--grace", "1h")...)
	if code != 1 || !strings.Contains(errOut, "client is disabled") || out != "" {
		t.Errorf("rotating a disabled client: exit %d %q %q", code, out, errOut)
	}
	if after, err := db.Client(ctx, created.ID); err != nil || !bytes.Equal(after.SecretHash, before.SecretHash) || after.PreviousSecretHash != nil {
		t.Errorf("refused rotation changed the client: %+v %v", after, err)
	}

	// Each rotation is in the audit trail as the operator's, in the
	// client's tenant, and the ledger verifies.
	var got []string
	err = ledger.Trail{R: db}.Events(ctx, 0, func(_ uint64, e audit.Event) error {
		if e.EntityType == "Client" && e.EntityID == created.ID && strings.HasPrefix(e.ActorID, "os:") {
			got = append(got, e.Subtype)
			if e.Subtype == "client-rotate" && (e.Tenant != "clinic" || e.EntryPoint != "cli") {
				t.Errorf("rotate event %+v", e)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "client-create,client-rotate,client-rotate,client-rotate,client-disable" {
		t.Errorf("client events %q", got)
	}
	if code, vout, verr := run(t, "audit", "verify", "--dev", "--data-dir", data); code != 0 {
		t.Errorf("audit verify: %q %q", vout, verr)
	}

	// No secret reaches the disk: only hashes are stored.
	err = filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range []string{created.Secret, rotated.Secret, graced, latest} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a client secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
