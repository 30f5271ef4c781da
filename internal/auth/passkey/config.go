package passkey

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// DefaultTimeout is the ceremony timeout when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Bounds of Config.Timeout. The WebAuthn specification recommends 5 to 10
// minutes when user verification is required; less than 30 s leaves no
// time to find a security key.
const (
	minTimeout = 30 * time.Second
	maxTimeout = 10 * time.Minute
)

// Config describes the relying party: the site passkeys are bound to.
type Config struct {
	// RPID is the relying party id, a lower-case domain such as
	// "ward.example.org". Passkeys are bound to it, so changing it later
	// makes every registered passkey unusable.
	RPID string
	// RPDisplayName is the name an authenticator may show, such as "ward".
	RPDisplayName string
	// Origins are the exact origins the browser reports, such as
	// "https://ward.example.org:8443": scheme, host and port, no path. Each
	// host must be RPID or a subdomain of it. http is allowed only for
	// localhost, for development.
	Origins []string
	// Timeout is how long a person has to finish a ceremony; it is sent to
	// the browser and enforced by Finish. Zero means DefaultTimeout; it
	// must be between 30 s and 10 min.
	Timeout time.Duration
	// Now returns the current time; nil means time.Now. Tests pass a fixed
	// clock so that expiry needs no sleeping.
	Now func() time.Time
}

// Passkeys runs WebAuthn ceremonies for one relying party. It holds no
// mutable state and is safe for concurrent use.
type Passkeys struct {
	web     *webauthn.WebAuthn
	rpID    string
	timeout time.Duration
	now     func() time.Time
}

// New checks cfg and returns a Passkeys for it. Errors wrap ErrConfig and
// say which field is wrong.
func New(cfg Config) (*Passkeys, error) {
	if err := validRPID(cfg.RPID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.RPDisplayName) == "" {
		return nil, fmt.Errorf("%w: RPDisplayName is empty", ErrConfig)
	}
	if len(cfg.Origins) == 0 {
		return nil, fmt.Errorf("%w: Origins is empty", ErrConfig)
	}
	for i, o := range cfg.Origins {
		if err := validOrigin(o, cfg.RPID); err != nil {
			return nil, fmt.Errorf("%w: Origins[%d] %q: %s", ErrConfig, i, o, err)
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < minTimeout || timeout > maxTimeout {
		return nil, fmt.Errorf("%w: Timeout %s is not between %s and %s", ErrConfig, timeout, minTimeout, maxTimeout)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	noResidentKeyRequired := false
	web, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             append([]string(nil), cfg.Origins...),
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &noResidentKeyRequired,
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			UserVerification:   protocol.VerificationRequired,
		},
		// Expiry is enforced here, with the injected clock, not by the
		// library's time.Now; these only set the timeout sent to browsers.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
			Registration: webauthn.TimeoutConfig{Timeout: timeout, TimeoutUVD: timeout},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Passkeys{web: web, rpID: cfg.RPID, timeout: timeout, now: now}, nil
}

func validRPID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: RPID is empty", ErrConfig)
	}
	if id != strings.ToLower(id) {
		return fmt.Errorf("%w: RPID %q must be lower case", ErrConfig, id)
	}
	if strings.ContainsAny(id, ":/") {
		return fmt.Errorf("%w: RPID %q must be a bare domain, without scheme, port or path", ErrConfig, id)
	}
	if err := protocol.ValidateRPID(id); err != nil {
		return fmt.Errorf("%w: RPID %q: %w", ErrConfig, id, err)
	}
	return nil
}

// validOrigin reports why o cannot be an origin for rpID: browsers send the
// origin as scheme://host[:port], lower case, and WebAuthn requires the RP
// id to be the host or a parent domain of it.
func validOrigin(o, rpID string) error {
	u, err := url.Parse(o)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("scheme must be https")
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(o, "#") {
		return errors.New("must be scheme://host[:port] with nothing after it")
	}
	if o != strings.ToLower(o) {
		return errors.New("must be lower case")
	}
	host := u.Hostname()
	if u.Scheme == "http" && host != "localhost" && !strings.HasSuffix(host, ".localhost") {
		return errors.New("scheme must be https (http only for localhost)")
	}
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return errors.New("host is neither RPID nor a subdomain of it")
	}
	return nil
}
