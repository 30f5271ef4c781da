package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint signing keys are kept in the signed-note key format of
// golang.org/x/mod/sumdb/note: the private key file holds one line,
// "PRIVATE+KEY+<name>+<hash>+<base64>", and the public (verifier) key,
// "<name>+<hash>+<base64>", is what auditors need to check checkpoints.

// CreateKeyFile generates an Ed25519 checkpoint signing key for the log
// named name (the checkpoint origin, e.g. "ward.example.org/audit") and
// writes it to path with mode 0600. It refuses to overwrite an existing
// file. It returns the verifier key, to publish for auditors.
func CreateKeyFile(path, name string, rand io.Reader) (vkey string, err error) {
	skey, vkey, err := note.GenerateKey(rand, name)
	if err != nil {
		return "", fmt.Errorf("ledger: generate key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("ledger: create key file: %w", err)
	}
	if _, err := f.WriteString(skey + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("ledger: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("ledger: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("ledger: write key file: %w", err)
	}
	return vkey, nil
}

// LoadKeyFile reads a signing key written by CreateKeyFile and returns
// its signer and verifier. On Unix it refuses a file that group or others
// may read or write.
func LoadKeyFile(path string) (note.Signer, note.Verifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: open key file: %w", err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" {
		fi, err := f.Stat()
		if err != nil {
			return nil, nil, fmt.Errorf("ledger: key file: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, nil, fmt.Errorf("ledger: key file %s has mode %v; want 0600", path, fi.Mode().Perm())
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: read key file: %w", err)
	}
	return ParseSignerKey(string(bytes.TrimSpace(b)))
}

// ParseSignerKey parses a private key in signed-note format and returns
// its signer and the matching verifier.
func ParseSignerKey(skey string) (note.Signer, note.Verifier, error) {
	signer, vkey, err := parseSignerKey(skey)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: verifier key: %w", err)
	}
	if verifier.KeyHash() != signer.KeyHash() {
		return nil, nil, errors.New("ledger: signing key: key hash does not match the key")
	}
	return signer, verifier, nil
}

// VerifierKey returns the public verifier key, in signed-note format, of
// a private key in signed-note format: what auditors pass to
// note.NewVerifier to check checkpoints.
func VerifierKey(skey string) (string, error) {
	_, vkey, err := parseSignerKey(skey)
	return vkey, err
}

func parseSignerKey(skey string) (note.Signer, string, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, "", fmt.Errorf("ledger: signing key: %w", err)
	}
	// PRIVATE+KEY+name+hash+base64(alg || seed); NewSigner checked the shape.
	parts := strings.SplitN(skey, "+", 5) // base64 may contain '+'
	key, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return nil, "", errors.New("ledger: signing key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return nil, "", fmt.Errorf("ledger: verifier key: %w", err)
	}
	return signer, vkey, nil
}
