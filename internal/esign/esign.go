// Package esign makes and checks electronic signatures of FHIR resource
// versions. A signature is a compact JWS (RFC 7515, EdDSA over Ed25519)
// whose payload binds the signer's account, the exact version signed
// (Type/id/_history/v) and the SHA-256 of that version's stored JSON; it
// travels in a FHIR Provenance (signature.data, sigFormat
// application/jose). The package is pure: keys come from the caller.
package esign

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// AuthorSignature is the ASTM E1762 signature type ward's signatures
// carry: the author's signature.
const AuthorSignature = "1.2.840.10065.1.12.1.1"

// Claims are what a signature asserts.
type Claims struct {
	Issuer   string `json:"iss"`    // the deployment's base URL
	Tenant   string `json:"tenant"` // the tenant of the signer and the target
	Signer   string `json:"sub"`    // the signer's account id
	Role     string `json:"role"`   // the signer's role when signing
	Target   string `json:"target"` // Type/id/_history/version
	Digest   string `json:"digest"` // Digest of the target version's JSON
	Type     string `json:"sig"`    // signature type, AuthorSignature
	SignedAt int64  `json:"iat"`    // Unix seconds
}

// Key is a tenant's signing key.
type Key struct {
	ID      string // JWS kid
	Private ed25519.PrivateKey
}

// Errors.
var (
	// ErrInvalid wraps every reason a signature does not verify.
	ErrInvalid = errors.New("esign: signature does not verify")
	// ErrUnknownKey means the signature names a key the tenant does not have.
	ErrUnknownKey = errors.New("esign: unknown signing key")
)

// maxJWS bounds a signature read back from a Provenance.
const maxJWS = 8 << 10

var targetRe = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64}/_history/[1-9][0-9]{0,18}$`)

// Digest is "sha256:" and the unpadded base64url SHA-256 of a resource
// version's stored JSON.
func Digest(body []byte) string {
	h := sha256.Sum256(body)
	return "sha256:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// Target names one resource version.
func Target(typ, id string, version int64) string {
	return fmt.Sprintf("%s/%s/_history/%d", typ, id, version)
}

// Sign returns the compact JWS of c under k.
func Sign(k Key, c Claims) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("ward-signature+jws").WithHeader(jose.HeaderKey("kid"), k.ID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.Private}, opts)
	if err != nil {
		return "", fmt.Errorf("esign: %w", err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("esign: %w", err)
	}
	return obj.CompactSerialize()
}

func (c Claims) check() error {
	if c.Signer == "" || c.Tenant == "" || c.Issuer == "" || c.Type == "" || c.SignedAt <= 0 {
		return fmt.Errorf("%w: incomplete claims", ErrInvalid)
	}
	if !targetRe.MatchString(c.Target) {
		return fmt.Errorf("%w: the target must be Type/id/_history/version", ErrInvalid)
	}
	if len(c.Digest) != len("sha256:")+43 || c.Digest[:7] != "sha256:" {
		return fmt.Errorf("%w: the digest must be sha256:<base64url>", ErrInvalid)
	}
	return nil
}

// Verify checks a compact JWS with the public key that key returns for
// its kid and returns its claims. It checks the signature only; the
// caller compares the claims with the target version (Check).
func Verify(jws string, key func(kid string) (ed25519.PublicKey, error)) (Claims, error) {
	if len(jws) > maxJWS {
		return Claims{}, fmt.Errorf("%w: too long", ErrInvalid)
	}
	obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return Claims{}, fmt.Errorf("%w: not a compact EdDSA JWS", ErrInvalid)
	}
	kid := obj.Signatures[0].Header.KeyID
	pub, err := key(kid)
	if err != nil {
		return Claims{}, err
	}
	payload, err := obj.Verify(pub)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: bad signature", ErrInvalid)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("%w: payload is not the claims", ErrInvalid)
	}
	if err := c.check(); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// Check compares verified claims with the version they should cover:
// its tenant, Type/id/_history/v and stored JSON.
func (c Claims) Check(tenant, target string, body []byte) error {
	switch {
	case c.Tenant != tenant:
		return fmt.Errorf("%w: signed in another tenant", ErrInvalid)
	case c.Target != target:
		return fmt.Errorf("%w: signs another resource version", ErrInvalid)
	case c.Digest != Digest(body):
		return fmt.Errorf("%w: the resource version differs from what was signed", ErrInvalid)
	}
	return nil
}

// UserSystem is the identifier system of ward account ids in FHIR
// references.
const UserSystem = "urn:ward:user"

// Provenance is the FHIR R4 Provenance recording signature jws with
// claims c (which Sign made it from).
func Provenance(c Claims, jws string) ([]byte, error) {
	when := time.Unix(c.SignedAt, 0).UTC().Format(time.RFC3339)
	who := map[string]any{"identifier": map[string]any{"system": UserSystem, "value": c.Signer}}
	sigType := []any{map[string]any{"system": "urn:iso-astm:E1762-95:2013", "code": c.Type, "display": "Author's Signature"}}
	return json.Marshal(map[string]any{
		"resourceType": "Provenance",
		"target":       []any{map[string]any{"reference": c.Target}},
		"recorded":     when,
		"agent": []any{map[string]any{
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"}}},
			"who": who,
		}},
		"signature": []any{map[string]any{
			"type": sigType, "when": when, "who": who,
			"targetFormat": "application/fhir+json", "sigFormat": "application/jose",
			"data": base64.StdEncoding.EncodeToString([]byte(jws)),
		}},
	})
}

// FromProvenance returns the JWS of a Provenance made by Provenance and
// the version its target names.
func FromProvenance(body []byte) (jws, target string, err error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Target       []struct {
			Reference string `json:"reference"`
		} `json:"target"`
		Signature []struct {
			SigFormat string `json:"sigFormat"`
			Data      string `json:"data"`
		} `json:"signature"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Provenance" {
		return "", "", fmt.Errorf("%w: not a Provenance", ErrInvalid)
	}
	if len(p.Target) != 1 || len(p.Signature) != 1 || p.Signature[0].SigFormat != "application/jose" {
		return "", "", fmt.Errorf("%w: not a ward signature (one target, one application/jose signature)", ErrInvalid)
	}
	raw, err := base64.StdEncoding.DecodeString(p.Signature[0].Data)
	if err != nil || len(raw) > maxJWS {
		return "", "", fmt.Errorf("%w: signature data is not base64 of a JWS", ErrInvalid)
	}
	return string(raw), p.Target[0].Reference, nil
}
