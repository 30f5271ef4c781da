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

func newService(t *testing.T, now *time.Time) *auth.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return auth.NewService(db, auth.Options{TokenTTL: 15 * time.Minute, Now: func() time.Time { return *now }})
}

func TestClientCredentials(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s := newService(t, &now)
	ctx := context.Background()
	id, secret, err := s.CreateClient(ctx, "default", "lab system", auth.RoleService)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret.Reveal(), "ward_cs_") || len(secret.Reveal()) < 40 {
		t.Fatalf("weak secret format")
	}
	tok, p, err := s.IssueToken(ctx, id, secret.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != "default" || p.Role != auth.RoleService || p.ID != id {
		t.Fatalf("principal %+v", p)
	}
	got, err := s.Authenticate(ctx, tok.Reveal())
	if err != nil || got != p {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	for name, tc := range map[string][2]string{
		"wrong secret":   {id, secret.Reveal() + "x"},
		"unknown client": {"c-nope", secret.Reveal()},
		"empty secret":   {id, ""},
	} {
		if _, _, err := s.IssueToken(ctx, tc[0], tc[1]); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.Authenticate(ctx, "ward_at_forged"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("forged token: %v", err)
	}
	if _, err := s.Authenticate(ctx, "Bearer x"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("malformed token: %v", err)
	}
	now = now.Add(15 * time.Minute)
	if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("expired token accepted: %v", err)
	}
	now = now.Add(-time.Minute)
	if err := s.DisableClient(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("token of a disabled client accepted: %v", err)
	}
	if _, _, err := s.IssueToken(ctx, id, secret.Reveal()); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("disabled client got a token: %v", err)
	}
}

func TestCreateClientValidation(t *testing.T) {
	now := time.Now()
	s := newService(t, &now)
	for name, a := range map[string][3]string{
		"bad tenant": {"Default!", "x", "service"},
		"bad name":   {"default", "", "service"},
		"bad role":   {"default", "x", "root"},
	} {
		if _, _, err := s.CreateClient(context.Background(), a[0], a[1], a[2]); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestSecretRedacts(t *testing.T) {
	s := auth.Secret("ward_cs_supersecret")
	for _, out := range []string{s.String(), s.GoString()} {
		if strings.Contains(out, "supersecret") {
			t.Errorf("secret leaked: %q", out)
		}
	}
	b, _ := s.MarshalText()
	if strings.Contains(string(b), "supersecret") {
		t.Error("secret leaked through MarshalText")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := auth.NewLimiter(1, 3, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("ip"); !ok {
			t.Fatalf("burst event %d refused", i)
		}
	}
	ok, wait := l.Allow("ip")
	if ok || wait <= 0 {
		t.Fatalf("over the burst allowed (%v, %v)", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("keys are not independent")
	}
	now = now.Add(time.Second)
	if ok, _ := l.Allow("ip"); !ok {
		t.Fatal("not refilled after a second")
	}
}
