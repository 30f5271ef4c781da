package storetest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/wardhealth/ward/internal/crypto/keyring"
)

// Keyring is a small in-memory store.Keyring for tests: one random
// AES-256-GCM key per (tenant, patient), made on first use. A ciphertext
// is len(keyID) || keyID || nonce || sealed; a failed authentication wraps
// keyring.ErrIntegrity, as the real keyring's does.
type Keyring struct {
	calls atomic.Int64 // every method call, to check validation does no I/O

	mu    sync.Mutex
	aeads map[string]cipher.AEAD // tenant "/" keyID
	named map[string]string      // tenant "/" patient -> keyID
}

// NewKeyring returns an empty Keyring.
func NewKeyring() *Keyring {
	return &Keyring{aeads: make(map[string]cipher.AEAD), named: make(map[string]string)}
}

// Calls reports how many times the Keyring's store.Keyring methods ran.
func (k *Keyring) Calls() int64 { return k.calls.Load() }

// KeyID returns the id of the data key made for tenant and patient, or ""
// if there is none yet.
func (k *Keyring) KeyID(tenant, patient string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.named[tenant+"/"+patient]
}

// DataKey implements store.Keyring.
func (k *Keyring) DataKey(ctx context.Context, tenant, patient string) (string, error) {
	k.calls.Add(1)
	k.mu.Lock()
	defer k.mu.Unlock()
	if id, ok := k.named[tenant+"/"+patient]; ok {
		return id, nil
	}
	key := make([]byte, 32)
	idb := make([]byte, 8)
	_, _ = rand.Read(key)
	_, _ = rand.Read(idb)
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	id := hex.EncodeToString(idb)
	k.aeads[tenant+"/"+id] = aead
	k.named[tenant+"/"+patient] = id
	return id, nil
}

func (k *Keyring) aead(tenant, keyID string) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, ok := k.aeads[tenant+"/"+keyID]
	if !ok {
		return nil, fmt.Errorf("storetest keyring: %w", keyring.ErrKeyNotFound)
	}
	return a, nil
}

// Seal implements store.Keyring.
func (k *Keyring) Seal(ctx context.Context, tenant, keyID string, plaintext, aad []byte) ([]byte, error) {
	k.calls.Add(1)
	a, err := k.aead(tenant, keyID)
	if err != nil {
		return nil, err
	}
	if len(keyID) > 255 {
		return nil, errors.New("storetest keyring: key id too long")
	}
	out := make([]byte, 0, 1+len(keyID)+a.NonceSize()+len(plaintext)+a.Overhead())
	out = append(out, byte(len(keyID)))
	out = append(out, keyID...)
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return a.Seal(out, nonce, plaintext, aad), nil
}

// Open implements store.Keyring.
func (k *Keyring) Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error) {
	k.calls.Add(1)
	if len(ciphertext) < 1 || len(ciphertext) < 1+int(ciphertext[0]) {
		return nil, fmt.Errorf("storetest keyring: short header: %w", keyring.ErrIntegrity)
	}
	n := int(ciphertext[0])
	a, err := k.aead(tenant, string(ciphertext[1:1+n]))
	if err != nil {
		return nil, err
	}
	rest := ciphertext[1+n:]
	if len(rest) < a.NonceSize() {
		return nil, fmt.Errorf("storetest keyring: short ciphertext: %w", keyring.ErrIntegrity)
	}
	pt, err := a.Open(nil, rest[:a.NonceSize()], rest[a.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("storetest keyring: %w", keyring.ErrIntegrity)
	}
	return pt, nil
}
