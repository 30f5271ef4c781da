package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// rotationFixture is a service over a real SQLite store, a clock the test
// moves, and one client created at the start.
type rotationFixture struct {
	s      *auth.Service
	db     *sqlite.DB
	now    time.Time
	id     string
	secret string // the client's secret at creation
}

func newRotationFixture(t *testing.T) *rotationFixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &rotationFixture{db: db, now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	f.s = auth.NewService(db, auth.Options{TokenTTL: 15 * time.Minute, Now: func() time.Time { return f.now }})
	id, secret, err := f.s.CreateClient(context.Background(), "default", "lab system", auth.RoleService)
	if err != nil {
		t.Fatal(err)
	}
	f.id, f.secret = id, secret.Reveal()
	return f
}

func (f *rotationFixture) rotate(t *testing.T, o auth.RotateOptions) auth.Rotation {
	t.Helper()
	r, err := f.s.RotateSecret(context.Background(), f.id, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// accepts checks which secrets get a token now.
func (f *rotationFixture) accepts(t *testing.T, secrets map[string]bool) {
	t.Helper()
	for name, want := range secrets {
		_, p, err := f.s.IssueToken(context.Background(), f.id, name)
		switch {
		case want && (err != nil || p.ID != f.id):
			t.Errorf("at %s: secret %s refused: %v", f.now.Format(time.TimeOnly), label(name), err)
		case !want && !errors.Is(err, auth.ErrInvalidCredentials):
			t.Errorf("at %s: secret %s: err = %v, want ErrInvalidCredentials", f.now.Format(time.TimeOnly), label(name), err)
		}
	}
}

// label names a secret in a failure message without printing it whole.
func label(secret string) string {
	if len(secret) < 12 {
		return "(short)"
	}
	return secret[:12] + "…"
}

func TestRotateSecretRetiresOldSecretAtOnce(t *testing.T) {
	f := newRotationFixture(t)
	ctx := context.Background()
	tok, _, err := f.s.IssueToken(ctx, f.id, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	r := f.rotate(t, auth.RotateOptions{})
	if !strings.HasPrefix(r.Secret.Reveal(), "ward_cs_") || len(r.Secret.Reveal()) < 40 || r.Secret.Reveal() == f.secret {
		t.Fatalf("new secret is weak or unchanged")
	}
	if r.ClientID != f.id || r.Tenant != "default" || !r.PreviousUntil.IsZero() || r.TokensRevoked {
		t.Errorf("rotation = %+v", r)
	}
	f.accepts(t, map[string]bool{r.Secret.Reveal(): true, f.secret: false})
	// Issued tokens stay valid until they expire.
	if _, err := f.s.Authenticate(ctx, tok.Reveal()); err != nil {
		t.Errorf("token issued before the rotation refused: %v", err)
	}
	f.now = f.now.Add(15 * time.Minute)
	if _, err := f.s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("expired token accepted: %v", err)
	}
}

func TestRotateSecretGrace(t *testing.T) {
	f := newRotationFixture(t)
	start := f.now
	r := f.rotate(t, auth.RotateOptions{Grace: time.Hour})
	if want := start.Add(time.Hour); !r.PreviousUntil.Equal(want) {
		t.Errorf("PreviousUntil = %v, want %v", r.PreviousUntil, want)
	}
	f.accepts(t, map[string]bool{r.Secret.Reveal(): true, f.secret: true})
	f.now = start.Add(time.Hour - time.Nanosecond)
	f.accepts(t, map[string]bool{r.Secret.Reveal(): true, f.secret: true})
	f.now = start.Add(time.Hour) // the grace period ends here
	f.accepts(t, map[string]bool{r.Secret.Reveal(): true, f.secret: false})
	f.now = start.Add(48 * time.Hour)
	f.accepts(t, map[string]bool{r.Secret.Reveal(): true, f.secret: false, "": false, r.Secret.Reveal() + "x": false})
}

func TestRotateSecretKeepsOnePrevious(t *testing.T) {
	f := newRotationFixture(t)
	r1 := f.rotate(t, auth.RotateOptions{Grace: time.Hour})
	r2 := f.rotate(t, auth.RotateOptions{Grace: time.Hour})
	// The second rotation's previous secret is the first one's; the
	// original is gone although its grace period had not ended.
	f.accepts(t, map[string]bool{f.secret: false, r1.Secret.Reveal(): true, r2.Secret.Reveal(): true})
	// A rotation without grace retires every older secret.
	r3 := f.rotate(t, auth.RotateOptions{})
	f.accepts(t, map[string]bool{f.secret: false, r1.Secret.Reveal(): false, r2.Secret.Reveal(): false, r3.Secret.Reveal(): true})
}

func TestRotateSecretRevokeTokens(t *testing.T) {
	f := newRotationFixture(t)
	ctx := context.Background()
	tok, _, err := f.s.IssueToken(ctx, f.id, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	r := f.rotate(t, auth.RotateOptions{Grace: time.Hour, RevokeTokens: true})
	if !r.TokensRevoked {
		t.Error("rotation does not report its tokens revoked")
	}
	if _, err := f.s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("revoked token accepted: %v", err)
	}
	// Revoking tokens does not cut the grace period short.
	f.accepts(t, map[string]bool{f.secret: true, r.Secret.Reveal(): true})
}

func TestRotateSecretRefusals(t *testing.T) {
	f := newRotationFixture(t)
	ctx := context.Background()
	before, err := f.db.Client(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		id   string
		o    auth.RotateOptions
		want error // nil: any error
	}{
		{"unknown client", "c-nope", auth.RotateOptions{}, auth.ErrNotFound},
		{"negative grace", f.id, auth.RotateOptions{Grace: -time.Second}, nil},
		{"grace over a week", f.id, auth.RotateOptions{Grace: auth.MaxRotationGrace + time.Second}, nil},
	} {
		_, err := f.s.RotateSecret(ctx, tc.id, tc.o)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if after, err := f.db.Client(ctx, f.id); err != nil || string(after.SecretHash) != string(before.SecretHash) {
		t.Errorf("refused rotations changed the client: %v", err)
	}
	if _, err := f.s.RotateSecret(ctx, f.id, auth.RotateOptions{Grace: auth.MaxRotationGrace}); err != nil {
		t.Errorf("grace of exactly a week refused: %v", err)
	}

	// A disabled client cannot be rotated, and nothing changes.
	if err := f.s.DisableClient(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	before, err = f.db.Client(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.s.RotateSecret(ctx, f.id, auth.RotateOptions{Grace: time.Hour})
	if !errors.Is(err, auth.ErrDisabled) || !strings.Contains(err.Error(), "client is disabled") {
		t.Errorf("rotating a disabled client: %v, want ErrDisabled", err)
	}
	after, err := f.db.Client(ctx, f.id)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.SecretHash) != string(before.SecretHash) || after.PreviousSecretHash != nil || !after.Disabled {
		t.Errorf("refused rotation changed the client: %+v", after)
	}
}

func TestDisableRetiresPreviousSecret(t *testing.T) {
	f := newRotationFixture(t)
	ctx := context.Background()
	r := f.rotate(t, auth.RotateOptions{Grace: time.Hour})
	if err := f.s.DisableClient(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetClientDisabled(ctx, f.id, false); err != nil {
		t.Fatal(err)
	}
	f.accepts(t, map[string]bool{f.secret: false, r.Secret.Reveal(): true})
}

func TestRevertRotation(t *testing.T) {
	f := newRotationFixture(t)
	ctx := context.Background()
	r1 := f.rotate(t, auth.RotateOptions{Grace: time.Hour})
	r2 := f.rotate(t, auth.RotateOptions{})
	if err := f.s.RevertRotation(ctx, r2); err != nil {
		t.Fatal(err)
	}
	// Back to the state after r1: its secret, and the original in grace.
	f.accepts(t, map[string]bool{f.secret: true, r1.Secret.Reveal(): true, r2.Secret.Reveal(): false})
	f.now = f.now.Add(time.Hour)
	f.accepts(t, map[string]bool{f.secret: false, r1.Secret.Reveal(): true})

	// A rotation that is no longer current is not reverted over a newer one.
	r3 := f.rotate(t, auth.RotateOptions{})
	if err := f.s.RevertRotation(ctx, r1); !errors.Is(err, auth.ErrConflict) {
		t.Errorf("reverting a superseded rotation: %v, want ErrConflict", err)
	}
	f.accepts(t, map[string]bool{r3.Secret.Reveal(): true, r1.Secret.Reveal(): false})
	if err := f.s.RevertRotation(ctx, auth.Rotation{}); err == nil {
		t.Error("reverting a zero Rotation succeeded")
	}
}
