//go:build auditdiscard

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesAuditDiscard: a build that records no audit events
// (benchmarks only) refuses to serve, before opening the app or binding
// a socket.
func TestServeRefusesAuditDiscard(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errOut := run(t, "serve", "--dev", "--data-dir", data, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "auditdiscard") || !strings.Contains(errOut, "refuses to serve") {
		t.Fatalf("serve in an auditdiscard build: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "listening") {
		t.Errorf("serve in an auditdiscard build listened: %q", out)
	}
	if _, err := os.Stat(filepath.Join(data, "ward.db")); err == nil {
		t.Error("serve in an auditdiscard build opened the database")
	}
}
