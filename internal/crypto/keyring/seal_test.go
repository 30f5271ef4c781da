package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	f := newFixture(t, Options{})
	big := make([]byte, 1<<20)
	rand.Read(big)
	for _, tc := range []struct {
		name    string
		patient string
		pt      []byte
		aad     []byte
	}{
		{"empty", "p1", nil, []byte("acme|Patient|p1|1")},
		{"oneByte", "p1", []byte{0}, []byte("acme|Patient|p1|1")},
		{"json", "p1", []byte(`{"resourceType":"Patient","name":[{"text":"` + canary + `"}]}`), []byte("acme|Patient|p1|2")},
		{"nilAAD", "p2", []byte("body"), nil},
		{"tenantDataKey", "", []byte(`{"resourceType":"Organization"}`), []byte("acme|Organization|o1|1")},
		{"oneMiB", "p3", big, []byte("acme|Binary|b1|1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := dataKey(t, f.kr, "acme", tc.patient)
			ct := seal(t, f.kr, "acme", id, tc.pt, tc.aad)
			if got := open(t, f.kr, "acme", ct, tc.aad); !bytes.Equal(got, tc.pt) {
				t.Fatal("Open returned a different plaintext")
			}
			// Another process, nothing cached, reads it through the KeyStore.
			if got := open(t, f.another(), "acme", ct, tc.aad); !bytes.Equal(got, tc.pt) {
				t.Fatal("Open in a fresh Keyring returned a different plaintext")
			}
		})
	}
}

func TestCiphertextLayout(t *testing.T) {
	f := newFixture(t, Options{})
	id := dataKey(t, f.kr, "acme", "p1")
	pt := []byte("hello")
	ct := seal(t, f.kr, "acme", id, pt, nil)
	if len(ct) != Overhead+len(pt) || Overhead != 1+16+12+16 {
		t.Fatalf("len = %d, want %d", len(ct), 1+16+12+16+len(pt))
	}
	if ct[0] != 0x01 {
		t.Fatalf("version byte = %#x, want 0x01", ct[0])
	}
	if got := hex.EncodeToString(ct[1:17]); got != id {
		t.Fatalf("header key id = %s, want %s", got, id)
	}
	again := seal(t, f.kr, "acme", id, pt, nil)
	if bytes.Equal(ct[17:29], again[17:29]) {
		t.Fatal("two Seals used the same nonce")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	f := newFixture(t, Options{})
	aad := []byte("acme|Patient|p1|1")
	id := dataKey(t, f.kr, "acme", "p1")
	ct := seal(t, f.kr, "acme", id, []byte(`{"resourceType":"Patient"}`), aad)

	regions := []struct {
		name       string
		start, end int
	}{
		{"version", 0, 1},
		{"keyID", 1, 17},
		{"nonce", 17, 29},
		{"ciphertext", 29, len(ct) - 16},
		{"tag", len(ct) - 16, len(ct)},
	}
	for _, r := range regions {
		t.Run("flip/"+r.name, func(t *testing.T) {
			for i := r.start; i < r.end; i++ {
				for _, bit := range []byte{0x01, 0x80} {
					c := bytes.Clone(ct)
					c[i] ^= bit
					for _, kr := range []*Keyring{f.kr, f.another()} {
						_, err := kr.Open(t.Context(), "acme", c, aad)
						wantErr(t, err, ErrIntegrity)
					}
				}
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		for n := range len(ct) {
			_, err := f.kr.Open(t.Context(), "acme", ct[:n], aad)
			wantErr(t, err, ErrIntegrity)
		}
		_, err := f.kr.Open(t.Context(), "acme", nil, aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("appended", func(t *testing.T) {
		_, err := f.kr.Open(t.Context(), "acme", append(bytes.Clone(ct), 0), aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("unknownVersion", func(t *testing.T) {
		for _, v := range []byte{0x00, 0x02, 0xff} {
			c := bytes.Clone(ct)
			c[0] = v
			_, err := f.kr.Open(t.Context(), "acme", c, aad)
			wantErr(t, err, ErrIntegrity)
		}
	})
	t.Run("aadMismatch", func(t *testing.T) {
		for _, other := range [][]byte{nil, []byte("acme|Patient|p1|2"), []byte("acme|Patient|p2|1"), aad[:len(aad)-1]} {
			_, err := f.kr.Open(t.Context(), "acme", ct, other)
			wantErr(t, err, ErrIntegrity)
		}
	})
	t.Run("otherPatientsKey", func(t *testing.T) {
		// Swap the header's key id for another patient's key of the same tenant.
		other := dataKey(t, f.kr, "acme", "p2")
		c := bytes.Clone(ct)
		raw, _ := hex.DecodeString(other)
		copy(c[1:17], raw)
		_, err := f.kr.Open(t.Context(), "acme", c, aad)
		wantErr(t, err, ErrIntegrity)
	})
	t.Run("tenantMasterKeyInHeader", func(t *testing.T) {
		tk := f.store.named(t, "acme", "tenant")
		c := bytes.Clone(ct)
		raw, _ := hex.DecodeString(tk.ID)
		copy(c[1:17], raw)
		_, err := f.kr.Open(t.Context(), "acme", c, aad)
		wantErr(t, err, ErrIntegrity)
	})
}

func TestSealDoesNoWrites(t *testing.T) {
	f := newFixture(t, Options{})
	id := dataKey(t, f.kr, "acme", "p1")
	creates, _, _ := f.store.counts()

	cold := f.another() // nothing cached: Seal must read, not write
	ct := seal(t, cold, "acme", id, []byte("body"), nil)
	open(t, f.kr, "acme", ct, nil)

	var missing [16]byte
	rand.Read(missing[:])
	_, err := cold.Seal(t.Context(), "acme", hex.EncodeToString(missing[:]), []byte("body"), nil)
	wantErr(t, err, ErrKeyNotFound)
	_, err = cold.Seal(t.Context(), "unknown-tenant", id, []byte("body"), nil)
	wantErr(t, err, ErrKeyNotFound)

	if after, _, _ := f.store.counts(); after != creates {
		t.Fatalf("Seal called CreateKey %d times", after-creates)
	}
}

func TestSealRefusesBadKeyIDs(t *testing.T) {
	f := newFixture(t, Options{})
	dataKey(t, f.kr, "acme", "p1")
	tk := f.store.named(t, "acme", "tenant")
	for name, id := range map[string]string{
		"empty":           "",
		"short":           "abc",
		"upper":           strings.ToUpper(tk.ID),
		"nonHex":          strings.Repeat("z", 32),
		"tenantMasterKey": tk.ID,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.kr.Seal(t.Context(), "acme", id, []byte("body"), nil)
			wantErr(t, err, ErrKeyNotFound)
		})
	}
}

func TestEmptyTenant(t *testing.T) {
	f := newFixture(t, Options{})
	id := dataKey(t, f.kr, "acme", "p1")
	ct := seal(t, f.kr, "acme", id, []byte("x"), nil)
	if _, err := f.kr.DataKey(t.Context(), "", "p1"); err == nil {
		t.Error("DataKey accepted an empty tenant")
	}
	if _, err := f.kr.Seal(t.Context(), "", id, []byte("x"), nil); err == nil {
		t.Error("Seal accepted an empty tenant")
	}
	if _, err := f.kr.Open(t.Context(), "", ct, nil); err == nil {
		t.Error("Open accepted an empty tenant")
	}
}

func FuzzOpen(f *testing.F) {
	fx := newFixture(f, Options{})
	id := dataKey(f, fx.kr, "acme", "p1")
	valid := seal(f, fx.kr, "acme", id, []byte(`{"resourceType":"Patient"}`), []byte("aad"))
	f.Add(valid)
	f.Add(valid[:Overhead])
	f.Add([]byte{0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, ct []byte) {
		pt, err := fx.kr.Open(context.Background(), "acme", ct, []byte("aad"))
		if err == nil {
			if !bytes.Equal(ct, valid) {
				t.Fatalf("Open accepted a ciphertext Seal did not make: %x", ct)
			}
			return
		}
		if pt != nil {
			t.Fatal("Open returned plaintext with an error")
		}
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("err = %v, want ErrIntegrity", err)
		}
	})
}
