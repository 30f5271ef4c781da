package sqlite

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// TestSSOSignInTakenOnce checks that of concurrent callbacks for one
// sign-in exactly one gets it, and that storing a sign-in deletes those
// expired.
func TestSSOSignInTakenOnce(t *testing.T) {
	db, _ := openTemp(t, Options{})
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	put := func(state string, expires time.Time, at time.Time) {
		t.Helper()
		st := identity.SSOStart{StateHash: hash(state), BindingHash: hash("b-" + state), Tenant: "clinic", Provider: "okta",
			Nonce: "n-" + state, Verifier: "v-" + state, Expires: expires}
		if err := db.PutSSOStart(ctx, st, at); err != nil {
			t.Fatal(err)
		}
	}

	put("s1", now.Add(identity.SSOTTL), now)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			st, err := db.TakeSSOStart(ctx, hash("s1"))
			switch {
			case err == nil:
				if st.Nonce != "n-s1" || st.Verifier != "v-s1" || st.Tenant != "clinic" || st.Provider != "okta" || !st.Expires.Equal(now.Add(identity.SSOTTL)) {
					t.Errorf("took %+v", []string{st.Nonce, st.Verifier, st.Tenant, st.Provider})
				}
				wins.Add(1)
			case !errors.Is(err, identity.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d callbacks took the sign-in, want 1", wins.Load())
	}

	put("old", now.Add(time.Minute), now)
	put("new", now.Add(identity.SSOTTL+time.Minute), now.Add(time.Minute))
	if _, err := db.TakeSSOStart(ctx, hash("old")); !errors.Is(err, identity.ErrNotFound) {
		t.Errorf("an expired sign-in was kept: %v", err)
	}
	if _, err := db.TakeSSOStart(ctx, hash("new")); err != nil {
		t.Errorf("the new sign-in: %v", err)
	}
}
