package ledger_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.key")
	vkey, err := ledger.CreateKeyFile(path, origin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := ledger.CreateKeyFile(path, origin, rand.Reader); err == nil {
		t.Error("CreateKeyFile overwrote an existing key")
	}
	s, v, err := ledger.LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != origin || v.Name() != origin || s.KeyHash() != v.KeyHash() {
		t.Errorf("signer %s/%x, verifier %s/%x", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	// The published verifier key checks what the loaded signer signs.
	pub, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 1, Hash: make([]byte, 32)}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.OpenCheckpoint(signed, pub); err != nil {
		t.Errorf("published key rejects the signer's checkpoint: %v", err)
	}
	skey, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ledger.VerifierKey(strings.TrimSpace(string(skey))); err != nil || got != vkey {
		t.Errorf("VerifierKey = %q, %v; want %q", got, err, vkey)
	}
	if !strings.HasPrefix(string(skey), "PRIVATE+KEY+"+origin+"+") {
		t.Errorf("key file is not in signed-note format")
	}
}

func TestLoadKeyFileRefusesLooseMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "audit.key")
	if _, err := ledger.CreateKeyFile(path, origin, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ledger.LoadKeyFile(path); err == nil {
		t.Error("loaded a key file readable by its group")
	}
}

func TestParseSignerKeyRejects(t *testing.T) {
	for _, skey := range []string{"", "PRIVATE+KEY+x+00000000+AAAA", "not a key"} {
		if _, _, err := ledger.ParseSignerKey(skey); err == nil {
			t.Errorf("ParseSignerKey(%q) succeeded", skey)
		}
	}
}
