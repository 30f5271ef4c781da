package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/auth"
)

// RunAuthStore runs the conformance suite for auth.Store. open must return
// a new, empty store each call and arrange its own cleanup. Timestamps are
// compared at microsecond precision.
func RunAuthStore(t *testing.T, open func(t *testing.T) auth.Store) {
	base := time.Date(2025, 5, 6, 7, 8, 9, 123_456_000, time.UTC)
	client := func(id, tenant string, created time.Time) auth.Client {
		h := sha256.Sum256([]byte("secret of " + id))
		return auth.Client{ID: id, Tenant: tenant, Name: "client " + id, Role: "system", SecretHash: h[:], Created: created}
	}
	token := func(value, clientID string, expires time.Time) auth.Token {
		h := sha256.Sum256([]byte(value))
		return auth.Token{Hash: h[:], ClientID: clientID, Tenant: tenantA, Role: "system", Issued: base, Expires: expires}
	}
	sameClient := func(t *testing.T, got, want auth.Client) {
		t.Helper()
		if got.ID != want.ID || got.Tenant != want.Tenant || got.Name != want.Name || got.Role != want.Role ||
			string(got.SecretHash) != string(want.SecretHash) || !got.Created.Equal(want.Created) || got.Disabled != want.Disabled ||
			string(got.PreviousSecretHash) != string(want.PreviousSecretHash) || !got.PreviousUntil.Equal(want.PreviousUntil) {
			t.Errorf("client = %+v, want %+v", got, want)
		}
	}
	sameToken := func(t *testing.T, got, want auth.Token) {
		t.Helper()
		if string(got.Hash) != string(want.Hash) || got.ClientID != want.ClientID || got.Tenant != want.Tenant ||
			got.Role != want.Role || !got.Issued.Equal(want.Issued) || !got.Expires.Equal(want.Expires) {
			t.Errorf("token = %+v, want %+v", got, want)
		}
	}

	t.Run("Clients", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		if _, err := s.Client(ctx, "c1"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Client of missing = %v, want ErrNotFound", err)
		}
		c2 := client("c2", tenantA, base.Add(time.Second))
		c1 := client("c1", tenantA, base)
		cb := client("cb", tenantB, base)
		for _, c := range []auth.Client{c2, c1, cb} {
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateClient(ctx, client("c1", tenantB, base)); !errors.Is(err, auth.ErrExists) {
			t.Errorf("CreateClient with a taken id = %v, want ErrExists", err)
		}
		got, err := s.Client(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		sameClient(t, got, c1)
		list, err := s.Clients(ctx, tenantA)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("Clients(%s) = %d clients, want 2", tenantA, len(list))
		}
		sameClient(t, list[0], c1) // oldest first
		sameClient(t, list[1], c2)
		if list, err := s.Clients(ctx, "nobody"); err != nil || len(list) != 0 {
			t.Errorf("Clients of an unknown tenant = %v, %v", list, err)
		}
	})

	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		if err := s.CreateClient(ctx, client("c1", tenantA, base)); err != nil {
			t.Fatal(err)
		}
		missing := sha256.Sum256([]byte("missing"))
		if _, err := s.Token(ctx, missing[:]); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Token of missing = %v, want ErrNotFound", err)
		}
		now := base.Add(time.Hour)
		expired := token("expired", "c1", now.Add(-time.Microsecond))
		edge := token("edge", "c1", now) // expires at now: not before now
		live := token("live", "c1", now.Add(time.Hour))
		for _, tk := range []auth.Token{expired, edge, live} {
			if err := s.PutToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Token(ctx, live.Hash)
		if err != nil {
			t.Fatal(err)
		}
		sameToken(t, got, live)
		n, err := s.DeleteExpiredTokens(ctx, now)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredTokens = %d, %v; want 1", n, err)
		}
		if _, err := s.Token(ctx, expired.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("expired token still there: %v", err)
		}
		for _, tk := range []auth.Token{edge, live} {
			if _, err := s.Token(ctx, tk.Hash); err != nil {
				t.Errorf("unexpired token gone: %v", err)
			}
		}
	})

	t.Run("RotateClientSecret", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		sum := func(v string) []byte { h := sha256.Sum256([]byte(v)); return h[:] }
		if err := s.RotateClientSecret(ctx, "nobody", auth.SecretRotation{From: sum("x"), Hash: sum("y")}); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("RotateClientSecret of missing = %v, want ErrNotFound", err)
		}
		c1, c2 := client("c1", tenantA, base), client("c2", tenantA, base)
		for _, c := range []auth.Client{c1, c2} {
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		far := base.Add(24 * time.Hour)
		t1, other := token("t1", "c1", far), token("t2", "c2", far)
		for _, tk := range []auth.Token{t1, other} {
			if err := s.PutToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		check := func(t *testing.T, want auth.Client) {
			t.Helper()
			got, err := s.Client(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameClient(t, got, want)
		}

		// A stale From (another rotation got there first) changes nothing,
		// nor does a previous secret without an end.
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: sum("stale"), Hash: sum("new")}); !errors.Is(err, auth.ErrConflict) {
			t.Errorf("RotateClientSecret from a stale hash = %v, want ErrConflict", err)
		}
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: c1.SecretHash, Hash: sum("new"), PreviousHash: c1.SecretHash}); err == nil {
			t.Error("RotateClientSecret accepted a previous secret without an end")
		}
		check(t, c1)

		// With a previous secret; tokens stay.
		until := base.Add(time.Hour)
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: c1.SecretHash, Hash: sum("new1"),
			PreviousHash: c1.SecretHash, PreviousUntil: until}); err != nil {
			t.Fatal(err)
		}
		want := c1
		want.SecretHash, want.PreviousSecretHash, want.PreviousUntil = sum("new1"), c1.SecretHash, until
		check(t, want)
		if _, err := s.Token(ctx, t1.Hash); err != nil {
			t.Errorf("token deleted by a rotation without RevokeTokens: %v", err)
		}

		// Without one, the previous secret goes; RevokeTokens deletes
		// this client's tokens and no other's.
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: sum("new1"), Hash: sum("new2"), RevokeTokens: true}); err != nil {
			t.Fatal(err)
		}
		want.SecretHash, want.PreviousSecretHash, want.PreviousUntil = sum("new2"), nil, time.Time{}
		check(t, want)
		if _, err := s.Token(ctx, t1.Hash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("token survived RevokeTokens: %v", err)
		}
		if _, err := s.Token(ctx, other.Hash); err != nil {
			t.Errorf("another client's token was deleted: %v", err)
		}
		check(t, c2)

		// Disabling forgets the previous secret; a disabled client's
		// secret cannot change.
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: sum("new2"), Hash: sum("new3"),
			PreviousHash: sum("new2"), PreviousUntil: until}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetClientDisabled(ctx, "c1", true); err != nil {
			t.Fatal(err)
		}
		want.SecretHash, want.Disabled = sum("new3"), true
		check(t, want)
		if err := s.RotateClientSecret(ctx, "c1", auth.SecretRotation{From: sum("new3"), Hash: sum("new4")}); !errors.Is(err, auth.ErrDisabled) {
			t.Errorf("RotateClientSecret of a disabled client = %v, want ErrDisabled", err)
		}
		check(t, want)
	})

	t.Run("DisableDeletesTokens", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), context.Background()
		if err := s.SetClientDisabled(ctx, "nobody", true); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SetClientDisabled of missing = %v, want ErrNotFound", err)
		}
		for _, id := range []string{"c1", "c2"} {
			if err := s.CreateClient(ctx, client(id, tenantA, base)); err != nil {
				t.Fatal(err)
			}
		}
		far := base.Add(24 * time.Hour)
		t1, t2, other := token("t1", "c1", far), token("t2", "c1", far), token("t3", "c2", far)
		for _, tk := range []auth.Token{t1, t2, other} {
			if err := s.PutToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetClientDisabled(ctx, "c1", true); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Client(ctx, "c1"); err != nil || !c.Disabled {
			t.Errorf("after disabling, Client = %+v, %v", c, err)
		}
		for _, tk := range []auth.Token{t1, t2} {
			if _, err := s.Token(ctx, tk.Hash); !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("disabled client's token survived: %v", err)
			}
		}
		if _, err := s.Token(ctx, other.Hash); err != nil {
			t.Errorf("another client's token was deleted: %v", err)
		}
		if err := s.SetClientDisabled(ctx, "c1", false); err != nil {
			t.Fatal(err)
		}
		if c, err := s.Client(ctx, "c1"); err != nil || c.Disabled {
			t.Errorf("after enabling, Client = %+v, %v", c, err)
		}
	})
}
