package keyring

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func TestIndexKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{})
	ik, err := f.kr.IndexKey(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("Patient|family|p|smi")
	tok := ik.AppendToken(nil, msg)
	if len(tok) != TokenLen {
		t.Fatalf("token has %d bytes, want %d", len(tok), TokenLen)
	}
	if bytes.Contains(tok, msg[:3]) || bytes.Equal(tok, make([]byte, TokenLen)) {
		t.Fatal("token looks like its input")
	}

	// Another process over the same store computes the same tokens.
	ik2, err := f.another().IndexKey(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got := ik2.AppendToken(nil, msg); !bytes.Equal(got, tok) {
		t.Fatal("a second keyring computes other tokens for the same tenant")
	}
	if ik2.ID() != ik.ID() {
		t.Fatalf("index key id %s, then %s", ik.ID(), ik2.ID())
	}
	// Another tenant's tokens differ.
	other, err := f.kr.IndexKey(ctx, "t2")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.AppendToken(nil, msg), tok) {
		t.Fatal("two tenants share index tokens")
	}
	// Tokens are truncated HMAC-SHA256 (checked against the key material
	// the store holds wrapped: unwrap it through the tenant key).
	sk, err := f.store.KeyByName(ctx, "t1", nameIndex)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := f.kr.parentKey(ctx, "t1", sk.WrappedBy)
	if err != nil {
		t.Fatal(err)
	}
	material, err := unwrapWith(parent, sk.Wrapped, wrapAAD(sk.Tenant, sk.ID, sk.Name, sk.WrappedBy))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, material)
	m.Write(msg)
	if want := m.Sum(nil)[:TokenLen]; !bytes.Equal(tok, want) {
		t.Fatal("token is not HMAC-SHA256 truncated to TokenLen bytes")
	}
	// The index key never seals or opens records.
	if _, err := f.kr.Seal(ctx, "t1", ik.ID(), []byte(canary), nil); err == nil {
		t.Fatal("Seal accepted the index key")
	}
	if s := fmt.Sprintf("%v %+v %#v %s", ik, ik, ik, ik); strings.Contains(s, string(material)) || !strings.Contains(s, "REDACTED") {
		t.Fatalf("formatting an IndexKey: %q", s)
	}
	if _, err := f.kr.IndexKey(ctx, ""); err == nil {
		t.Fatal("IndexKey accepted an empty tenant")
	}
}
