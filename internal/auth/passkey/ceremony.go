package passkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// MaxResponseSize is the largest browser response Finish accepts. Real
// responses are a few KiB; an attestation with a certificate chain stays
// well under this.
const MaxResponseSize = 64 << 10

// Ceremony is the server-side state of one ceremony between Begin and
// Finish, in an opaque, versioned encoding. It holds the challenge, the
// user handle, the allowed credential ids and the expiry time, and no
// personal data. The caller keeps it server-side (never in a client-held
// cookie), uses it once, and discards it after Finish or on expiry.
type Ceremony []byte

// ceremonyVersion is the version of the Ceremony encoding written today.
const ceremonyVersion = 1

// Ceremony kinds: a registration ceremony cannot finish a login.
const (
	kindRegistration = "registration"
	kindLogin        = "login"
)

// ceremonyState is the encoding of a Ceremony. It keeps only what Finish
// cannot derive from the configuration; the policy (user verification, RP
// id, origins) is reapplied at Finish, so altered state cannot weaken it.
type ceremonyState struct {
	V         int       `json:"v"`
	Kind      string    `json:"kind"`
	Challenge string    `json:"challenge"`
	User      []byte    `json:"user"`
	Allowed   [][]byte  `json:"allowed,omitempty"`
	Expires   time.Time `json:"expires"`
}

func (p *Passkeys) newCeremony(kind string, s *webauthn.SessionData) (Ceremony, error) {
	c, err := json.Marshal(ceremonyState{
		V:         ceremonyVersion,
		Kind:      kind,
		Challenge: s.Challenge,
		User:      s.UserID,
		Allowed:   s.AllowedCredentialIDs,
		Expires:   p.now().Add(p.timeout),
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: encode ceremony: %w", err)
	}
	return c, nil
}

// session decodes c, checks its kind, owner and expiry, and rebuilds the
// library's session data with this package's policy.
func (p *Passkeys) session(c Ceremony, kind string, u *webUser) (webauthn.SessionData, error) {
	var s ceremonyState
	if err := json.Unmarshal(c, &s); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony: %w", ErrCorrupt, err)
	}
	if s.V != ceremonyVersion || (s.Kind != kindRegistration && s.Kind != kindLogin) ||
		s.Challenge == "" || len(s.User) == 0 || s.Expires.IsZero() {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony: unknown version or kind, or missing field", ErrCorrupt)
	}
	if s.Kind != kind {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony is for %s, not %s", ErrInvalid, s.Kind, kind)
	}
	if !bytes.Equal(s.User, u.handle) {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony is for another user", ErrInvalid)
	}
	if !p.now().Before(s.Expires) {
		return webauthn.SessionData{}, ErrExpired
	}
	sd := webauthn.SessionData{
		Challenge:            s.Challenge,
		RelyingPartyID:       p.rpID,
		UserID:               s.User,
		AllowedCredentialIDs: s.Allowed,
		UserVerification:     protocol.VerificationRequired,
	}
	if kind == kindRegistration {
		sd.CredParams = webauthn.CredentialParametersDefault()
	}
	return sd, nil
}

// checkBody applies the size and syntax limits to a browser response before
// the library parses it.
func checkBody(response []byte) error {
	if len(response) > MaxResponseSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(response), MaxResponseSize)
	}
	if len(response) == 0 {
		return fmt.Errorf("%w: empty", ErrMalformed)
	}
	if !json.Valid(response) {
		return fmt.Errorf("%w: not JSON", ErrMalformed)
	}
	return nil
}

// invalid wraps a verification failure from the library. Only the
// library's short, fixed description goes into the message; its debug
// text quotes client-sent values and stays reachable with errors.As.
func invalid(step string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalid, step, err)
}
