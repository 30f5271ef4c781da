package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MaxRotationGrace bounds how long a replaced client secret may keep
// working: long enough to redeploy an integration, short enough that a
// leaked old secret does not linger.
const MaxRotationGrace = 168 * time.Hour

// RotateOptions tune RotateSecret; the zero value retires the old secret
// at once and leaves issued tokens alone.
type RotateOptions struct {
	// Grace keeps the replaced secret working until now+Grace (at most
	// MaxRotationGrace), so an integration can switch without downtime.
	Grace time.Duration
	// RevokeTokens deletes the client's access tokens at once; otherwise
	// they stay valid until they expire.
	RevokeTokens bool
}

// Rotation is the result of RotateSecret.
type Rotation struct {
	ClientID string
	Tenant   string
	// Secret is the new secret, to be shown once to its owner.
	Secret Secret
	// PreviousUntil is when the replaced secret stops working; zero when
	// it stopped at once.
	PreviousUntil time.Time
	TokensRevoked bool

	prior Client // the client before the rotation, for RevertRotation
}

// RotateSecret gives client id a new secret and stores only its hash.
// The replaced secret stops working at once or, with o.Grace, at
// now+Grace; only one previous secret is kept, so a second rotation
// retires the first one's predecessor. Unknown clients yield ErrNotFound,
// disabled ones ErrDisabled, and then nothing changes.
func (s *Service) RotateSecret(ctx context.Context, id string, o RotateOptions) (Rotation, error) {
	if o.Grace < 0 || o.Grace > MaxRotationGrace {
		return Rotation{}, fmt.Errorf("grace must be between 0 and %gh", MaxRotationGrace.Hours())
	}
	c, err := s.store.Client(ctx, id)
	if err != nil {
		return Rotation{}, fmt.Errorf("rotate client %s: %w", id, err)
	}
	if c.Disabled {
		return Rotation{}, fmt.Errorf("rotate client %s: %w", id, ErrDisabled)
	}
	secret, err := s.newSecret()
	if err != nil {
		return Rotation{}, err
	}
	r := SecretRotation{From: c.SecretHash, Hash: hash(string(secret)), RevokeTokens: o.RevokeTokens}
	if o.Grace > 0 {
		r.PreviousHash, r.PreviousUntil = c.SecretHash, s.now().UTC().Add(o.Grace)
	}
	if err := s.store.RotateClientSecret(ctx, id, r); err != nil {
		return Rotation{}, fmt.Errorf("rotate client %s: %w", id, err)
	}
	return Rotation{ClientID: id, Tenant: c.Tenant, Secret: secret, PreviousUntil: r.PreviousUntil,
		TokensRevoked: o.RevokeTokens, prior: c}, nil
}

// RevertRotation puts back the secrets a rotation replaced, for a caller
// that cannot account for the rotation (its audit event failed) and so
// withholds the new secret. Revoked tokens stay revoked. ErrConflict if
// the client's secret has changed again since.
func (s *Service) RevertRotation(ctx context.Context, r Rotation) error {
	if r.prior.ID == "" {
		return errors.New("revert rotation: not a rotation returned by RotateSecret")
	}
	back := SecretRotation{From: hash(string(r.Secret)), Hash: r.prior.SecretHash,
		PreviousHash: r.prior.PreviousSecretHash, PreviousUntil: r.prior.PreviousUntil}
	if err := s.store.RotateClientSecret(ctx, r.ClientID, back); err != nil {
		return fmt.Errorf("revert rotation of client %s: %w", r.ClientID, err)
	}
	return nil
}
