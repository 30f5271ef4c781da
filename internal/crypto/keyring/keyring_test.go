package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/crypto/kms"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
)

const canary = "CANARY-PHI-Jane-Doe-1970-01-01-SSN-078-05-1120"

type fixture struct {
	kek   *localkms.KMS
	store *memStore
	rand  *recordingRand
	kr    *Keyring
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{kek: newKEK(t), store: newMemStore(), rand: &recordingRand{}}
	if opts.Rand == nil {
		opts.Rand = f.rand
	}
	f.kr = New(f.kek, f.store, opts)
	return f
}

// another returns a second Keyring over the same KEK and store, as
// another ward process would have: nothing cached.
func (f *fixture) another() *Keyring { return New(f.kek, f.store, Options{}) }

func dataKey(t testing.TB, kr *Keyring, tenant, patient string) string {
	t.Helper()
	id, err := kr.DataKey(context.Background(), tenant, patient)
	if err != nil {
		t.Fatalf("DataKey(%q, %q): %v", tenant, patient, err)
	}
	return id
}

func seal(t testing.TB, kr *Keyring, tenant, keyID string, pt, aad []byte) []byte {
	t.Helper()
	ct, err := kr.Seal(context.Background(), tenant, keyID, pt, aad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return ct
}

func open(t testing.TB, kr *Keyring, tenant string, ct, aad []byte) []byte {
	t.Helper()
	pt, err := kr.Open(context.Background(), tenant, ct, aad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return pt
}

func wantErr(t testing.TB, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("err = %v, want it to wrap %v", err, target)
		}
	}
}

func TestDataKeyIDs(t *testing.T) {
	f := newFixture(t, Options{})
	p1 := dataKey(t, f.kr, "acme", "p1")
	p2 := dataKey(t, f.kr, "acme", "p2")
	shared := dataKey(t, f.kr, "acme", "")
	other := dataKey(t, f.kr, "globex", "p1")
	for _, id := range []string{p1, p2, shared, other} {
		if _, ok := parseID(id); !ok {
			t.Fatalf("key id %q is not 32 lowercase hex digits", id)
		}
	}
	if p1 == p2 || p1 == shared || p2 == shared || p1 == other {
		t.Fatalf("distinct keys share an id: p1 %s p2 %s shared %s globex/p1 %s", p1, p2, shared, other)
	}
	if again := dataKey(t, f.kr, "acme", "p1"); again != p1 {
		t.Fatalf("same patient, new id: %s then %s", p1, again)
	}
	// A second Keyring sharing the KeyStore finds the same keys.
	kr2 := f.another()
	if got := dataKey(t, kr2, "acme", "p1"); got != p1 {
		t.Fatalf("second Keyring: patient key %s, want %s", got, p1)
	}
	if got := dataKey(t, kr2, "acme", ""); got != shared {
		t.Fatalf("second Keyring: shared key %s, want %s", got, shared)
	}
	// acme: tenant, p1, p2, data; globex: tenant, p1.
	if _, inserts, _ := f.store.counts(); inserts != 6 {
		t.Fatalf("store holds %d keys, want 6 (2 tenant master keys, 4 data keys)", inserts)
	}
}

func TestStoredKeyHierarchy(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	f := newFixture(t, Options{Now: func() time.Time { return now }})
	dataKey(t, f.kr, "acme", "p1")
	dataKey(t, f.kr, "acme", "")
	tk := f.store.named(t, "acme", "tenant")
	if tk.WrappedBy != f.kek.KeyID() {
		t.Errorf("tenant key WrappedBy = %q, want KEK id %q", tk.WrappedBy, f.kek.KeyID())
	}
	for _, name := range []string{"data", "patient/p1"} {
		dk := f.store.named(t, "acme", name)
		if dk.WrappedBy != tk.ID {
			t.Errorf("%s WrappedBy = %q, want tenant key %q", name, dk.WrappedBy, tk.ID)
		}
	}
	for _, k := range f.store.all() {
		if !k.Created.Equal(now) || k.Created.Location() != time.UTC {
			t.Errorf("%s Created = %v, want %v in UTC", k.Name, k.Created, now)
		}
		if k.Tenant != "acme" {
			t.Errorf("%s Tenant = %q", k.Name, k.Tenant)
		}
	}
}

func TestCrossTenant(t *testing.T) {
	f := newFixture(t, Options{})
	aad := []byte("Patient|p1|1")
	idA := dataKey(t, f.kr, "tenant-a", "p1")
	dataKey(t, f.kr, "tenant-b", "p1")
	ct := seal(t, f.kr, "tenant-a", idA, []byte(canary), aad)

	t.Run("warmCache", func(t *testing.T) {
		_, err := f.kr.Open(t.Context(), "tenant-b", ct, aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("coldCache", func(t *testing.T) {
		_, err := f.another().Open(t.Context(), "tenant-b", ct, aad)
		wantErr(t, err, ErrIntegrity, ErrKeyNotFound)
	})
	t.Run("sealWithOtherTenantsKey", func(t *testing.T) {
		for _, kr := range []*Keyring{f.kr, f.another()} {
			_, err := kr.Seal(t.Context(), "tenant-b", idA, []byte(canary), aad)
			wantErr(t, err, ErrKeyNotFound)
		}
	})
	t.Run("storeIgnoringTenant", func(t *testing.T) {
		// Even a KeyStore that leaked another tenant's row is caught.
		kr := New(f.kek, leakyStore{f.store}, Options{})
		_, err := kr.Open(t.Context(), "tenant-b", ct, aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("wrappedKeyMovedToOtherTenant", func(t *testing.T) {
		// Move tenant-a's patient key row into tenant-b, with WrappedBy
		// pointing at tenant-b's master key: the wrapping AAD binds the
		// tenant and the wrapping key, so it cannot unwrap.
		row := f.store.named(t, "tenant-a", "patient/p1")
		row.Tenant = "tenant-b"
		row.WrappedBy = f.store.named(t, "tenant-b", "tenant").ID
		f.store.put(row) // same id: replaces tenant-a's row
		_, err := f.another().Open(t.Context(), "tenant-b", ct, aad)
		wantErr(t, err, ErrIntegrity)
	})
}

// leakyStore ignores the tenant in KeyByID, as a buggy backend might.
type leakyStore struct{ *memStore }

func (s leakyStore) KeyByID(_ context.Context, _, id string) (StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.byID[id]
	if !ok {
		return StoredKey{}, ErrKeyNotFound
	}
	return cloneKey(k), nil
}

func TestWrappedKeyBinding(t *testing.T) {
	aad := []byte("acme|Patient|p1|1")
	setup := func(t *testing.T) (*fixture, []byte) {
		f := newFixture(t, Options{})
		id := dataKey(t, f.kr, "acme", "p1")
		dataKey(t, f.kr, "acme", "p2")
		return f, seal(t, f.kr, "acme", id, []byte(canary), aad)
	}
	for name, tamper := range map[string]func(t *testing.T, f *fixture){
		"swapWrappedBetweenPatients": func(t *testing.T, f *fixture) {
			p1, p2 := f.store.named(t, "acme", "patient/p1"), f.store.named(t, "acme", "patient/p2")
			p1.Wrapped = p2.Wrapped
			f.store.put(p1)
		},
		"renamed": func(t *testing.T, f *fixture) {
			p1 := f.store.named(t, "acme", "patient/p1")
			p1.Name = "patient/p9"
			f.store.put(p1)
		},
		"flipBitInWrapped": func(t *testing.T, f *fixture) {
			p1 := f.store.named(t, "acme", "patient/p1")
			p1.Wrapped[len(p1.Wrapped)/2] ^= 1
			f.store.put(p1)
		},
		"truncatedWrapped": func(t *testing.T, f *fixture) {
			p1 := f.store.named(t, "acme", "patient/p1")
			p1.Wrapped = p1.Wrapped[:10]
			f.store.put(p1)
		},
		"wrappedBySelf": func(t *testing.T, f *fixture) {
			p1 := f.store.named(t, "acme", "patient/p1")
			p1.WrappedBy = p1.ID
			f.store.put(p1)
		},
		"wrappedByDataKey": func(t *testing.T, f *fixture) {
			p1, p2 := f.store.named(t, "acme", "patient/p1"), f.store.named(t, "acme", "patient/p2")
			p1.WrappedBy = p2.ID
			f.store.put(p1)
		},
		"flipBitInTenantKey": func(t *testing.T, f *fixture) {
			tk := f.store.named(t, "acme", "tenant")
			tk.Wrapped[len(tk.Wrapped)-1] ^= 1
			f.store.put(tk)
		},
		"tenantKeyRenamed": func(t *testing.T, f *fixture) {
			tk := f.store.named(t, "acme", "tenant")
			tk.Name = "data"
			f.store.put(tk)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, ct := setup(t)
			tamper(t, f)
			_, err := f.another().Open(t.Context(), "acme", ct, aad)
			wantErr(t, err, ErrIntegrity)
		})
	}
}

func TestWrongKEK(t *testing.T) {
	aad := []byte("acme|Patient|p1|1")
	f := newFixture(t, Options{})
	id := dataKey(t, f.kr, "acme", "p1")
	ct := seal(t, f.kr, "acme", id, []byte(canary), aad)

	t.Run("otherKeyFile", func(t *testing.T) {
		kr := New(newKEK(t), f.store, Options{})
		_, err := kr.Open(t.Context(), "acme", ct, aad)
		wantErr(t, err, ErrIntegrity)
		_, err = kr.DataKey(t.Context(), "acme", "p1")
		wantErr(t, err, ErrIntegrity)
		_, err = kr.Seal(t.Context(), "acme", id, []byte("x"), aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("sameIDOtherKey", func(t *testing.T) {
		// A key file forged with the right id but other key material gets
		// past the id check and must fail authentication in the KMS.
		kek := forgedKEK(t, f.kek.KeyID())
		if kek.KeyID() != f.kek.KeyID() {
			t.Fatal("forged KEK has another id")
		}
		_, err := New(kek, f.store, Options{}).Open(t.Context(), "acme", ct, aad)
		wantErr(t, err, ErrIntegrity, kms.ErrUnwrap)
	})
}

// forgedKEK writes a key file with the given KeyID and a fresh key.
func forgedKEK(t *testing.T, keyID string) *localkms.KMS {
	t.Helper()
	raw := make([]byte, 32)
	rand.Read(raw)
	content := "ward-kek v1\nmode: development\nid: " + strings.TrimPrefix(keyID, "local:") +
		"\nkey: " + base64.StdEncoding.EncodeToString(raw) + "\n"
	path := filepath.Join(t.TempDir(), "forged")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := localkms.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestShreddedKey(t *testing.T) {
	f := newFixture(t, Options{})
	aad := []byte("acme|Patient|p1|1")
	id := dataKey(t, f.kr, "acme", "p1")
	ct := seal(t, f.kr, "acme", id, []byte(canary), aad)
	f.store.remove(id)
	_, err := f.another().Open(t.Context(), "acme", ct, aad)
	wantErr(t, err, ErrKeyNotFound, ErrIntegrity)

	// Destroying the tenant master key makes every data key unreadable.
	id2 := dataKey(t, f.kr, "acme", "p2")
	ct2 := seal(t, f.kr, "acme", id2, []byte(canary), aad)
	f.store.remove(f.store.named(t, "acme", "tenant").ID)
	_, err = f.another().Open(t.Context(), "acme", ct2, aad)
	wantErr(t, err, ErrKeyNotFound, ErrIntegrity)
}

func TestConcurrentFirstUseCreatesOneKey(t *testing.T) {
	f := newFixture(t, Options{})
	const n = 64
	ids := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ids[i], errs[i] = f.kr.DataKey(context.Background(), "acme", "p1")
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("DataKey: %v", errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent DataKey returned %s and %s", ids[0], ids[i])
		}
	}
	creates, inserts, _ := f.store.counts()
	if inserts != 2 || creates != 2 {
		t.Fatalf("CreateKey called %d times, inserted %d keys; want 2 and 2 (tenant master key, patient key)", creates, inserts)
	}
}

func TestConcurrentFirstUseAcrossKeyrings(t *testing.T) {
	f := newFixture(t, Options{})
	krs := []*Keyring{f.kr, f.another(), f.another(), f.another()}
	const perKeyring = 16
	ids := make(chan string, len(krs)*perKeyring)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, kr := range krs {
		for range perKeyring {
			wg.Go(func() {
				<-start
				id, err := kr.DataKey(context.Background(), "acme", "p1")
				if err != nil {
					t.Error(err)
				}
				ids <- id
			})
		}
	}
	close(start)
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("Keyrings disagree on the key: %s and %s", first, id)
		}
	}
	if _, inserts, _ := f.store.counts(); inserts != 2 {
		t.Fatalf("store holds %d keys, want 2", inserts)
	}
}

func TestLostCreateRace(t *testing.T) {
	// Keyring B looks, finds nothing (A has not committed yet), creates its
	// own keys, and CreateKey hands back A's: B must use A's keys.
	f := newFixture(t, Options{})
	idA := dataKey(t, f.kr, "acme", "p1")
	ctA := seal(t, f.kr, "acme", idA, []byte(canary), nil)

	hs := &hidingStore{memStore: f.store, hide: 2} // hide both "patient/p1" and "tenant"
	krB := New(f.kek, hs, Options{})
	idB := dataKey(t, krB, "acme", "p1")
	if idB != idA {
		t.Fatalf("losing Keyring uses key %s, want the winner's %s", idB, idA)
	}
	if creates, inserts, _ := f.store.counts(); creates != 4 || inserts != 2 {
		t.Fatalf("CreateKey calls %d, inserts %d; want 4 and 2", creates, inserts)
	}
	open(t, krB, "acme", ctA, nil)
	ctB := seal(t, krB, "acme", idB, []byte(canary), nil)
	open(t, f.kr, "acme", ctB, nil)
}

func TestConcurrentUse(t *testing.T) {
	// A small cache makes goroutines evict and reload keys under each other.
	f := newFixture(t, Options{CacheSize: 3})
	krs := []*Keyring{f.kr, New(f.kek, f.store, Options{CacheSize: 3})}
	tenants := []string{"acme", "globex"}
	patients := []string{"", "p1", "p2", "p3", "p4", "p5"}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			ctx := context.Background()
			for i := range 60 {
				kr := krs[(g+i)%len(krs)]
				other := krs[(g+i+1)%len(krs)]
				c := g + i
				tenant := tenants[c%len(tenants)]
				patient := patients[(c/len(tenants))%len(patients)]
				id, err := kr.DataKey(ctx, tenant, patient)
				if err != nil {
					t.Error(err)
					return
				}
				pt := []byte(fmt.Sprintf("%s/%s/%d/%d", tenant, patient, g, i))
				ct, err := kr.Seal(ctx, tenant, id, pt, []byte(tenant))
				if err != nil {
					t.Error(err)
					return
				}
				got, err := other.Open(ctx, tenant, ct, []byte(tenant))
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, pt) {
					t.Error("concurrent round trip returned a different plaintext")
					return
				}
			}
		})
	}
	wg.Wait()
	if _, inserts, _ := f.store.counts(); inserts != len(tenants)*(1+len(patients)) {
		t.Fatalf("store holds %d keys, want %d", inserts, len(tenants)*(1+len(patients)))
	}
	for _, kr := range krs {
		if n := kr.cache.len(); n > 3 {
			t.Fatalf("cache holds %d keys, bound is 3", n)
		}
	}
}

func TestCacheEviction(t *testing.T) {
	f := newFixture(t, Options{CacheSize: 2})
	type sealed struct {
		id      string
		ct, aad []byte
	}
	var all []sealed
	for i := range 10 {
		patient := fmt.Sprintf("p%d", i)
		id := dataKey(t, f.kr, "acme", patient)
		aad := []byte("acme|Patient|" + patient)
		all = append(all, sealed{id, seal(t, f.kr, "acme", id, []byte(patient), aad), aad})
		if n := f.kr.cache.len(); n > 2 {
			t.Fatalf("cache holds %d keys, bound is 2", n)
		}
	}
	for pass := range 2 {
		for i := range all {
			s := all[len(all)-1-i] // newest first, then again
			if pass == 1 {
				s = all[i]
			}
			if got := open(t, f.kr, "acme", s.ct, s.aad); !bytes.HasPrefix(got, []byte("p")) {
				t.Fatalf("Open returned %q", got)
			}
			if again := dataKey(t, f.kr, "acme", strings.TrimPrefix(string(s.aad), "acme|Patient|")); again != s.id {
				t.Fatalf("after eviction DataKey returned %s, want %s", again, s.id)
			}
		}
	}
	if n := f.kr.cache.len(); n > 2 {
		t.Fatalf("cache holds %d keys, bound is 2", n)
	}
	if _, inserts, _ := f.store.counts(); inserts != 11 {
		t.Fatalf("store holds %d keys, want 11: eviction must not create new keys", inserts)
	}
}

func TestNoPlaintextOrKeyMaterialLeaks(t *testing.T) {
	f := newFixture(t, Options{})
	aad := []byte("acme|Patient|p1|1")
	var cts [][]byte
	for _, p := range []string{"p1", "p2", ""} {
		id := dataKey(t, f.kr, "acme", p)
		cts = append(cts, seal(t, f.kr, "acme", id, []byte(canary), aad))
	}
	// Errors from failed opens, formatted Keyrings and log output are
	// places a secret could escape to as well.
	var text strings.Builder
	for _, ct := range cts {
		c := bytes.Clone(ct)
		c[len(c)-1] ^= 1
		if _, err := f.kr.Open(t.Context(), "acme", c, aad); err != nil {
			text.WriteString(err.Error())
		}
		if _, err := f.kr.Open(t.Context(), "globex", ct, aad); err != nil {
			text.WriteString(err.Error())
		}
	}
	fmt.Fprintf(&text, "%v %+v %#v", f.kr, f.kr, f.kr)
	slog.New(slog.NewJSONHandler(&text, nil)).Info("keyring", "kr", f.kr, "cache", f.kr.cache)

	material := f.rand.material()
	if len(material) != 4 { // tenant master key, p1, p2, shared data key
		t.Fatalf("recorded %d keys, want 4", len(material))
	}
	var haystacks [][]byte
	haystacks = append(haystacks, cts...)
	for _, k := range f.store.all() {
		haystacks = append(haystacks, k.Wrapped, []byte(fmt.Sprintf("%+v", k)))
	}
	haystacks = append(haystacks, []byte(text.String()))
	for _, h := range haystacks {
		if bytes.Contains(h, []byte(canary)) {
			t.Fatal("plaintext canary found in output")
		}
		for _, m := range material {
			for enc, needle := range encodings(m) {
				if bytes.Contains(h, needle) {
					t.Fatalf("key material found in output (%s)", enc)
				}
			}
		}
	}
}

// encodings returns the forms in which a secret might leak.
func encodings(b []byte) map[string][]byte {
	return map[string][]byte{
		"raw":     b,
		"hex":     []byte(hex.EncodeToString(b)),
		"HEX":     []byte(strings.ToUpper(hex.EncodeToString(b))),
		"base64":  []byte(base64.RawStdEncoding.EncodeToString(b)),
		"decimal": []byte(strings.Trim(fmt.Sprint(b), "[]")),
	}
}

func TestKeyFormattingRedacts(t *testing.T) {
	material := bytes.Repeat([]byte{0xAB}, keyLen)
	k, err := newKey("acme", strings.Repeat("0", 32), "patient/p1", bytes.Clone(material))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s %q %x %X %d %v %+v", k, k, k, k, k, k, k, k, *k, []*key{k})
	slog.New(slog.NewJSONHandler(&out, nil)).Info("k", "key", k, "value", *k)
	slog.New(slog.NewTextHandler(&out, nil)).Info("k", slog.Any("key", k))
	s := out.String()
	if !strings.Contains(s, "REDACTED") {
		t.Fatalf("formatting does not redact: %s", s)
	}
	if strings.Contains(s, "p1") {
		t.Fatalf("formatting shows the patient id: %s", s)
	}
	for enc, needle := range encodings(material) {
		if bytes.Contains(out.Bytes(), needle) {
			t.Fatalf("formatting shows key material (%s): %s", enc, s)
		}
	}
	// Go's expanded AES key schedule starts with the key itself.
	for _, b := range []string{"ab ab ab ab", "abababab", "171 171 171 171"} {
		if strings.Contains(strings.ToLower(s), b) {
			t.Fatalf("formatting shows key bytes: %s", s)
		}
	}
}

func TestRandFailure(t *testing.T) {
	f := newFixture(t, Options{})
	id := dataKey(t, f.kr, "acme", "p1")
	f.rand.setFail(true)
	if _, err := f.kr.DataKey(t.Context(), "acme", "p2"); !errors.Is(err, errRandFailed) {
		t.Fatalf("DataKey with a failing random source: err = %v", err)
	}
	if _, err := f.kr.Seal(t.Context(), "acme", id, []byte("x"), nil); !errors.Is(err, errRandFailed) {
		t.Fatalf("Seal with a failing random source: err = %v", err)
	}
	if creates, inserts, _ := f.store.counts(); creates != inserts {
		t.Fatal("a key was written despite the failure")
	}
	f.rand.setFail(false)
	dataKey(t, f.kr, "acme", "p2")
}

func TestDefaults(t *testing.T) {
	kr := New(newKEK(t), newMemStore(), Options{CacheSize: -1})
	if kr.cache.max != DefaultCacheSize || kr.rand == nil || kr.now == nil {
		t.Fatal("zero Options did not select the defaults")
	}
	id := dataKey(t, kr, "acme", "p1")
	open(t, kr, "acme", seal(t, kr, "acme", id, []byte("x"), nil), nil)
}
