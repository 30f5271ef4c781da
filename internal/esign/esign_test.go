package esign_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/esign"
)

func keyPair(t *testing.T, id string) (esign.Key, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return esign.Key{ID: id, Private: priv}, pub
}

func TestSignVerify(t *testing.T) {
	k, pub := keyPair(t, "k1")
	_, otherPub := keyPair(t, "k1")
	body := []byte(`{"resourceType":"Observation","id":"o1","meta":{"versionId":"2"},"status":"final"}`)
	c := esign.Claims{Issuer: "https://ward.example.org", Tenant: "clinic", Signer: "u-abc", Role: "physician",
		Target: esign.Target("Observation", "o1", 2), Digest: esign.Digest(body), Type: esign.AuthorSignature, SignedAt: 1795000000}
	jws, err := esign.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(pk ed25519.PublicKey) func(string) (ed25519.PublicKey, error) {
		return func(kid string) (ed25519.PublicKey, error) {
			if kid != "k1" {
				return nil, esign.ErrUnknownKey
			}
			return pk, nil
		}
	}
	got, err := esign.Verify(jws, keys(pub))
	if err != nil || got != c {
		t.Fatalf("verify: %+v, %v", got, err)
	}
	if err := got.Check("clinic", "Observation/o1/_history/2", body); err != nil {
		t.Errorf("check the signed version: %v", err)
	}
	for name, err := range map[string]error{
		"another version":  got.Check("clinic", "Observation/o1/_history/3", body),
		"changed content":  got.Check("clinic", "Observation/o1/_history/2", []byte(strings.Replace(string(body), "final", "amended", 1))),
		"another tenant":   got.Check("other", "Observation/o1/_history/2", body),
		"another key":      second(esign.Verify(jws, keys(otherPub))),
		"truncated":        second(esign.Verify(jws[:len(jws)-4], keys(pub))),
		"garbage":          second(esign.Verify("not.a.jws", keys(pub))),
		"too long":         second(esign.Verify(strings.Repeat("a", 9000), keys(pub))),
		"alg none":         second(esign.Verify(noneJWS(jws), keys(pub))),
		"changed payload":  second(esign.Verify(swapPayload(jws, strings.Replace(payloadOf(jws), "u-abc", "u-xyz", 1)), keys(pub))),
		"incomplete claim": second(esign.Sign(k, esign.Claims{Tenant: "clinic"})),
	} {
		if !errors.Is(err, esign.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := esign.Verify(jws, func(string) (ed25519.PublicKey, error) { return nil, esign.ErrUnknownKey }); !errors.Is(err, esign.ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}

	// The Provenance carries the JWS and the target.
	prov, err := esign.Provenance(c, jws)
	if err != nil {
		t.Fatal(err)
	}
	gotJWS, target, err := esign.FromProvenance(prov)
	if err != nil || gotJWS != jws || target != c.Target {
		t.Fatalf("from provenance: %q %q %v", target, gotJWS, err)
	}
	for _, bad := range []string{`{}`, `{"resourceType":"Patient"}`, `{"resourceType":"Provenance","target":[],"signature":[]}`, `not json`} {
		if _, _, err := esign.FromProvenance([]byte(bad)); !errors.Is(err, esign.ErrInvalid) {
			t.Errorf("provenance %s: %v", bad, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func payloadOf(jws string) string {
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[1])
	return string(b)
}

func swapPayload(jws, payload string) string {
	p := strings.Split(jws, ".")
	p[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
	return strings.Join(p, ".")
}

// noneJWS is jws re-headed with alg "none" and no signature.
func noneJWS(jws string) string {
	p := strings.Split(jws, ".")
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + p[1] + "."
}
