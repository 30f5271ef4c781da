package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestValidTenant(t *testing.T) {
	tests := []struct {
		name, tenant string
		ok           bool
	}{
		{"simple", "acme", true},
		{"digits and dash", "clinic-42", true},
		{"one char", "a", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"65 chars", strings.Repeat("a", 65), false},
		{"upper case", "Acme", false},
		{"underscore", "a_b", false},
		{"space", "a b", false},
		{"separator", "a|b", false},
		{"non-ASCII", "café", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidTenant(tt.tenant)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrNoTenant)) {
				t.Errorf("ValidTenant(%q) = %v, want ok=%v (else ErrNoTenant)", tt.tenant, err, tt.ok)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		name, id string
		ok       bool
	}{
		{"uuid", "0b7e7a5e-3f1c-4b8e-9d2a-6c1f0e9a8b7c", true},
		{"dots", "a.b.c", true},
		{"mixed case", "AbC-09", true},
		{"64 chars", strings.Repeat("x", 64), true},
		{"empty", "", false},
		{"65 chars", strings.Repeat("x", 65), false},
		{"slash", "a/b", false},
		{"underscore", "a_b", false},
		{"separator", "a|b", false},
		{"space", "a b", false},
		{"non-ASCII", "ñ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidID(tt.id)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("ValidID(%q) = %v, want ok=%v (else ErrInvalid)", tt.id, err, tt.ok)
			}
		})
	}
}

func TestValidType(t *testing.T) {
	for typ, ok := range map[string]bool{
		"Patient": true, "MedicationRequest": true, "": false, "Pa-tient": false,
		"Patient/1": false, "a|b": false, strings.Repeat("A", 65): false,
	} {
		if err := ValidType(typ); ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("ValidType(%q) = %v, want ok=%v", typ, err, ok)
		}
	}
}

func TestAAD(t *testing.T) {
	if got := string(AAD("acme", "Patient", "p-1", 12)); got != "acme|Patient|p-1|12" {
		t.Errorf("AAD = %q", got)
	}
	// Every component matters.
	base := string(AAD("t", "Patient", "a", 1))
	for _, other := range [][]byte{
		AAD("u", "Patient", "a", 1), AAD("t", "Person", "a", 1),
		AAD("t", "Patient", "b", 1), AAD("t", "Patient", "a", 2),
	} {
		if string(other) == base {
			t.Errorf("AAD %q equals %q", other, base)
		}
	}
}

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := make(map[string]bool)
	for range 1000 {
		u := NewUUID()
		if !re.MatchString(u) || ValidID(u) != nil {
			t.Fatalf("NewUUID() = %q, not a v4 UUID and FHIR id", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID repeated %q", u)
		}
		seen[u] = true
	}
}

func TestOpError(t *testing.T) {
	err := error(&OpError{Index: 2, Err: ErrVersionConflict})
	if err.Error() != "op 2: version conflict" || !errors.Is(err, ErrVersionConflict) {
		t.Errorf("OpError = %q", err)
	}
}

func TestCursorIsZero(t *testing.T) {
	if !(Cursor{}).IsZero() || (Cursor{Seq: 1}).IsZero() {
		t.Error("Cursor.IsZero is wrong")
	}
}
