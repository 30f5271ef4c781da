package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/crypto/keyring"
)

// RunKeyStore runs the conformance suite for keyring.KeyStore. open must
// return a new, empty store each call and arrange its own cleanup.
// Timestamps are compared at microsecond precision.
func RunKeyStore(t *testing.T, open func(t *testing.T) keyring.KeyStore) {
	created := time.Date(2025, 5, 6, 7, 8, 9, 123_456_000, time.UTC)
	mk := func(tenant, id, name string) keyring.StoredKey {
		return keyring.StoredKey{
			Tenant: tenant, ID: id, Name: name, WrappedBy: "kek-1",
			Wrapped: []byte("wrapped:" + id), Created: created,
		}
	}
	same := func(t *testing.T, got, want keyring.StoredKey) {
		t.Helper()
		if got.Tenant != want.Tenant || got.ID != want.ID || got.Name != want.Name ||
			got.WrappedBy != want.WrappedBy || string(got.Wrapped) != string(want.Wrapped) ||
			!got.Created.Equal(want.Created) {
			t.Errorf("key = %+v, want %+v", got, want)
		}
	}

	t.Run("CreateAndLookUp", func(t *testing.T) {
		t.Parallel()
		ks, ctx := open(t), context.Background()
		if _, err := ks.KeyByName(ctx, tenantA, "data"); !errors.Is(err, keyring.ErrKeyNotFound) {
			t.Errorf("KeyByName of missing = %v, want ErrKeyNotFound", err)
		}
		if _, err := ks.KeyByID(ctx, tenantA, "k1"); !errors.Is(err, keyring.ErrKeyNotFound) {
			t.Errorf("KeyByID of missing = %v, want ErrKeyNotFound", err)
		}
		k := mk(tenantA, "k1", "data")
		got, err := ks.CreateKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, k)
		if got, err = ks.KeyByName(ctx, tenantA, "data"); err != nil {
			t.Fatal(err)
		}
		same(t, got, k)
		if got, err = ks.KeyByID(ctx, tenantA, "k1"); err != nil {
			t.Fatal(err)
		}
		same(t, got, k)
	})

	t.Run("CreateKeepsFirst", func(t *testing.T) {
		t.Parallel()
		ks, ctx := open(t), context.Background()
		first := mk(tenantA, "k1", "patient/p1")
		if _, err := ks.CreateKey(ctx, first); err != nil {
			t.Fatal(err)
		}
		got, err := ks.CreateKey(ctx, mk(tenantA, "k2", "patient/p1"))
		if err != nil {
			t.Fatal(err)
		}
		same(t, got, first)
		if _, err := ks.KeyByID(ctx, tenantA, "k2"); !errors.Is(err, keyring.ErrKeyNotFound) {
			t.Errorf("the losing key was stored: %v", err)
		}
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		t.Parallel()
		ks, ctx := open(t), context.Background()
		a, b := mk(tenantA, "k1", "tenant"), mk(tenantB, "k2", "tenant")
		for _, k := range []keyring.StoredKey{a, b} {
			if got, err := ks.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			} else {
				same(t, got, k)
			}
		}
		if got, err := ks.KeyByName(ctx, tenantB, "tenant"); err != nil {
			t.Fatal(err)
		} else {
			same(t, got, b)
		}
		if _, err := ks.KeyByID(ctx, tenantB, "k1"); !errors.Is(err, keyring.ErrKeyNotFound) {
			t.Errorf("tenant B found tenant A's key by id: %v", err)
		}
	})

	t.Run("CreateRace", func(t *testing.T) {
		t.Parallel()
		ks, ctx := open(t), context.Background()
		const n = 20
		got := make([]keyring.StoredKey, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = ks.CreateKey(ctx, mk(tenantA, fmt.Sprintf("k%d", i), "data")) })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("CreateKey %d: %v", i, errs[i])
			}
			if got[i].ID != got[0].ID {
				t.Fatalf("racing CreateKey returned keys %s and %s", got[0].ID, got[i].ID)
			}
		}
		stored, err := ks.KeyByName(ctx, tenantA, "data")
		if err != nil || stored.ID != got[0].ID {
			t.Errorf("stored key %s, %v; want %s", stored.ID, err, got[0].ID)
		}
		for i := range n {
			if id := fmt.Sprintf("k%d", i); id != stored.ID {
				if _, err := ks.KeyByID(ctx, tenantA, id); !errors.Is(err, keyring.ErrKeyNotFound) {
					t.Errorf("losing key %s was stored: %v", id, err)
				}
			}
		}
	})
}
