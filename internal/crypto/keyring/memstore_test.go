package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
)

// memStore is an in-memory KeyStore: a fake at the database boundary,
// until the SQLite KeyStore is wired in. It counts calls so tests can
// check that Seal never writes and that first uses create one key.
type memStore struct {
	mu      sync.Mutex
	byID    map[string]StoredKey
	creates int // CreateKey calls
	inserts int // keys CreateKey actually inserted
	reads   int // KeyByName and KeyByID calls
}

func newMemStore() *memStore { return &memStore{byID: make(map[string]StoredKey)} }

func cloneKey(k StoredKey) StoredKey {
	k.Wrapped = bytes.Clone(k.Wrapped)
	return k
}

func (s *memStore) KeyByName(_ context.Context, tenant, name string) (StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	for _, k := range s.byID {
		if k.Tenant == tenant && k.Name == name {
			return cloneKey(k), nil
		}
	}
	return StoredKey{}, ErrKeyNotFound
}

func (s *memStore) KeyByID(_ context.Context, tenant, id string) (StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	k, ok := s.byID[id]
	if !ok || k.Tenant != tenant {
		return StoredKey{}, ErrKeyNotFound
	}
	return cloneKey(k), nil
}

func (s *memStore) CreateKey(_ context.Context, k StoredKey) (StoredKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates++
	for _, old := range s.byID {
		if old.Tenant == k.Tenant && old.Name == k.Name {
			return cloneKey(old), nil
		}
	}
	if _, ok := s.byID[k.ID]; ok {
		return StoredKey{}, fmt.Errorf("duplicate key id %s", k.ID)
	}
	s.byID[k.ID] = cloneKey(k)
	s.inserts++
	return cloneKey(k), nil
}

// all returns every stored key, ordered by tenant and name.
func (s *memStore) all() []StoredKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StoredKey
	for _, k := range s.byID {
		out = append(out, cloneKey(k))
	}
	slices.SortFunc(out, func(a, b StoredKey) int {
		if c := bytes.Compare([]byte(a.Tenant), []byte(b.Tenant)); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.Name), []byte(b.Name))
	})
	return out
}

// named returns the tenant's stored key with that name.
func (s *memStore) named(t *testing.T, tenant, name string) StoredKey {
	t.Helper()
	k, err := s.KeyByName(context.Background(), tenant, name)
	if err != nil {
		t.Fatalf("stored key %s/%s: %v", tenant, name, err)
	}
	return k
}

// put replaces or adds a row as is, as an attacker with database access might.
func (s *memStore) put(k StoredKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[k.ID] = cloneKey(k)
}

// remove deletes a row, as crypto-shredding does.
func (s *memStore) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

func (s *memStore) counts() (creates, inserts, reads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates, s.inserts, s.reads
}

// hidingStore hides keys from KeyByName until it has been called hide
// times, so a Keyring sees "absent" and races to create a key that
// another Keyring already stored.
type hidingStore struct {
	*memStore
	mu   sync.Mutex
	hide int
}

func (h *hidingStore) KeyByName(ctx context.Context, tenant, name string) (StoredKey, error) {
	h.mu.Lock()
	hidden := h.hide > 0
	h.hide--
	h.mu.Unlock()
	if hidden {
		return StoredKey{}, ErrKeyNotFound
	}
	return h.memStore.KeyByName(ctx, tenant, name)
}

// newKEK creates and opens a local key file.
func newKEK(t testing.TB) *localkms.KMS {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	if err := localkms.Create(path, localkms.Development); err != nil {
		t.Fatal(err)
	}
	k, err := localkms.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// recordingRand reads from crypto/rand and remembers every 32-byte read:
// the key material the Keyring generated.
type recordingRand struct {
	mu   sync.Mutex
	keys [][]byte
	fail bool
}

var errRandFailed = errors.New("random source failed")

func (r *recordingRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return 0, errRandFailed
	}
	if _, err := rand.Read(p); err != nil {
		return 0, err
	}
	if len(p) == keyLen {
		r.keys = append(r.keys, bytes.Clone(p))
	}
	return len(p), nil
}

func (r *recordingRand) setFail(fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = fail
}

func (r *recordingRand) material() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}
