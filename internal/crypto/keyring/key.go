package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const (
	keyLen   = 32 // AES-256
	idLen    = 16 // key ids are 16 random bytes, shown as 32 lowercase hex digits
	nonceLen = 12 // GCM standard nonce
	tagLen   = 16 // GCM tag

	// Key names (StoredKey.Name).
	nameTenant        = "tenant"   // the tenant master key, wrapped by the KMS
	nameData          = "data"     // the tenant's shared data key
	nameIndex         = "index"    // the tenant's blind-index key (HMAC, never seals)
	patientNamePrefix = "patient/" // + patient id: that patient's data key

	wrapFormatV1 = 0x01 // first byte of a key wrapped by a tenant master key
)

// key is an unwrapped key. Its material lives only inside aead; the
// formatting methods redact, so a stray %v or slog call cannot leak it.
// A key is immutable once built and shared by every goroutine.
type key struct {
	tenant string
	id     string      // 32 lowercase hex digits
	rawID  [idLen]byte // id decoded, as written in ciphertext headers
	name   string      // nameTenant, nameData or patientNamePrefix+id
	aead   cipher.AEAD // AES-256-GCM; nil for the index key
	index  *IndexKey   // the index key's HMAC; nil for other keys
}

// newKey builds a key from its material; the caller clears material.
func newKey(tenant, id, name string, material []byte) (*key, error) {
	rawID, ok := parseID(id)
	if !ok {
		return nil, fmt.Errorf("keyring: malformed key id: %w", ErrIntegrity)
	}
	if len(material) != keyLen {
		return nil, fmt.Errorf("keyring: key %s has %d bytes, want %d: %w", id, len(material), keyLen, ErrIntegrity)
	}
	if name == nameIndex {
		return &key{tenant: tenant, id: id, rawID: rawID, name: name, index: newIndexKey(tenant, id, material)}, nil
	}
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: key %s: %w", id, err)
	}
	return &key{tenant: tenant, id: id, rawID: rawID, name: name, aead: aead}, nil
}

// isTenantKey reports whether k is a tenant master key, which wraps data
// keys and never seals records.
func (k *key) isTenantKey() bool { return k.name == nameTenant }

// isDataKey reports whether k seals records: the tenant's shared data key
// or a patient's.
func (k *key) isDataKey() bool {
	return k.name == nameData || strings.HasPrefix(k.name, patientNamePrefix)
}

// String identifies the key without revealing it.
func (k key) String() string {
	return "keyring.key{tenant: " + k.tenant + ", id: " + k.id + ", kind: " + kind(k.name) + ", material: REDACTED}"
}

// GoString is String, so %#v redacts too.
func (k key) GoString() string { return k.String() }

// Format writes String for every verb, so no verb prints the material.
func (k key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue lets slog log the key's identity, never its material.
func (k key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant", k.tenant),
		slog.String("id", k.id),
		slog.String("kind", kind(k.name)),
		slog.String("material", "REDACTED"),
	)
}

// kind names the sort of key without the patient id, for messages.
func kind(name string) string {
	switch {
	case name == nameTenant:
		return "tenant master key"
	case name == nameData:
		return "tenant data key"
	case name == nameIndex:
		return "tenant index key"
	case strings.HasPrefix(name, patientNamePrefix):
		return "patient data key"
	}
	return "unknown key"
}

// validName reports whether name is one the keyring creates.
func validName(name string) bool {
	return name == nameTenant || name == nameData || name == nameIndex ||
		(strings.HasPrefix(name, patientNamePrefix) && len(name) > len(patientNamePrefix))
}

// dataKeyName is the StoredKey.Name of a patient's data key, or of the
// tenant's shared data key when patient is "".
func dataKeyName(patient string) string {
	if patient == "" {
		return nameData
	}
	return patientNamePrefix + patient
}

// parseID decodes a key id of 32 lowercase hex digits.
func parseID(id string) (raw [idLen]byte, ok bool) {
	if len(id) != 2*idLen || strings.ToLower(id) != id {
		return raw, false
	}
	if _, err := hex.Decode(raw[:], []byte(id)); err != nil {
		return raw, false
	}
	return raw, true
}

// wrapAAD is the additional data that binds a wrapped key to its row:
// tenant, key id, name and the id of the key that wrapped it. A wrapped
// key copied to another row, tenant or name fails to unwrap. Fields are
// length-prefixed so no two field lists encode alike.
func wrapAAD(tenant, id, name, wrappedBy string) []byte {
	const label = "ward keyring wrap v1"
	b := make([]byte, 0, len(label)+4*4+len(tenant)+len(id)+len(name)+len(wrappedBy))
	b = append(b, label...)
	for _, f := range [...]string{tenant, id, name, wrappedBy} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// wrapWith wraps material under a tenant master key:
// 0x01 | nonce | ciphertext and tag.
func wrapWith(parent *key, rand io.Reader, material, aad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceLen, 1+nonceLen+len(material)+tagLen)
	out[0] = wrapFormatV1
	if _, err := io.ReadFull(rand, out[1:]); err != nil {
		return nil, fmt.Errorf("keyring: random nonce: %w", err)
	}
	return parent.aead.Seal(out, out[1:], material, aad), nil
}

// unwrapWith reverses wrapWith. Its errors say nothing about the key;
// the caller wraps them with ErrIntegrity.
func unwrapWith(parent *key, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < 1+nonceLen+tagLen || wrapped[0] != wrapFormatV1 {
		return nil, errors.New("malformed wrapped key")
	}
	material, err := parent.aead.Open(nil, wrapped[1:1+nonceLen], wrapped[1+nonceLen:], aad)
	if err != nil {
		return nil, errors.New("wrapped key failed authentication")
	}
	return material, nil
}
