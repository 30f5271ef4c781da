package kmstest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/crypto/kms"
)

// gcmProvider is a minimal correct provider: AES-256-GCM with random
// nonces. It shows the suite passes a provider that keeps the contract.
type gcmProvider struct {
	aead      cipher.AEAD
	fixed     bool // broken: zero nonce every time
	ignoreAAD bool // broken: aad not authenticated
	plainErr  bool // broken: errors do not wrap kms.ErrUnwrap
}

func newGCM(t *testing.T) *gcmProvider {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &gcmProvider{aead: aead}
}

func (p *gcmProvider) KeyID() string { return "test:gcm" }

func (p *gcmProvider) Wrap(_ context.Context, pt, aad []byte) ([]byte, error) {
	nonce := make([]byte, 12)
	if !p.fixed {
		rand.Read(nonce)
	}
	if p.ignoreAAD {
		aad = nil
	}
	return p.aead.Seal(nonce, nonce, pt, aad), nil
}

func (p *gcmProvider) Unwrap(_ context.Context, w, aad []byte) ([]byte, error) {
	fail := kms.ErrUnwrap
	if p.plainErr {
		fail = errors.New("unwrap failed")
	}
	if len(w) < 12+16 {
		return nil, fail
	}
	if p.ignoreAAD {
		aad = nil
	}
	pt, err := p.aead.Open(nil, w[:12], w[12:], aad)
	if err != nil {
		return nil, fail
	}
	return pt, nil
}

// plainProvider is broken: it stores the plaintext as is.
type plainProvider struct{}

func (plainProvider) KeyID() string { return "test:plain" }
func (plainProvider) Wrap(_ context.Context, pt, _ []byte) ([]byte, error) {
	return append([]byte{1}, pt...), nil
}
func (plainProvider) Unwrap(_ context.Context, w, _ []byte) ([]byte, error) {
	if len(w) < 2 || w[0] != 1 {
		return nil, kms.ErrUnwrap
	}
	return w[1:], nil
}

func TestRunPassesCorrectProvider(t *testing.T) {
	Run(t, newGCM(t))
}

const brokenEnv = "KMSTEST_BROKEN_PROVIDER"

// TestRunCatchesBrokenProviders runs the suite, in a child process,
// against providers that each break one rule, and checks that the
// subtest for that rule fails.
func TestRunCatchesBrokenProviders(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in child process")
	}
	for broken, wantFail := range map[string]string{
		"fixedNonce": "DistinctNonces",
		"ignoreAAD":  "AADBinding",
		"plainErr":   "TamperDetection",
		"plaintext":  "NoPlaintextInOutput",
	} {
		t.Run(broken, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenProviderChild$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+broken)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("Run passed a provider with %s", broken)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenProviderChild/"+wantFail) {
				t.Fatalf("subtest %s did not fail; output:\n%s", wantFail, out)
			}
		})
	}
}

func TestBrokenProviderChild(t *testing.T) {
	var p kms.Provider
	switch os.Getenv(brokenEnv) {
	case "":
		t.Skip("run by TestRunCatchesBrokenProviders")
	case "fixedNonce":
		g := newGCM(t)
		g.fixed = true
		p = g
	case "ignoreAAD":
		g := newGCM(t)
		g.ignoreAAD = true
		p = g
	case "plainErr":
		g := newGCM(t)
		g.plainErr = true
		p = g
	case "plaintext":
		p = plainProvider{}
	}
	Run(t, p)
}
