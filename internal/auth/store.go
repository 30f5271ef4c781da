package auth

import (
	"context"
	"errors"
	"time"
)

// Errors returned by auth and its Store implementations.
var (
	// ErrNotFound means no such client or token.
	ErrNotFound = errors.New("not found")
	// ErrExists means a client with that id already exists.
	ErrExists = errors.New("already exists")
	// ErrDisabled means the client is disabled, so its secret cannot change.
	ErrDisabled = errors.New("client is disabled")
	// ErrConflict means the client's secret changed since it was read (a
	// concurrent rotation); nothing was changed.
	ErrConflict = errors.New("secret changed concurrently")
)

// Client is a service client (OAuth 2 client credentials).
type Client struct {
	ID         string
	Tenant     string
	Name       string
	Role       string
	SecretHash []byte // SHA-256 of the secret; the secret is never stored
	Created    time.Time
	Disabled   bool
	// PreviousSecretHash is the SHA-256 of the secret the last rotation
	// replaced, accepted until PreviousUntil; nil when there is none.
	PreviousSecretHash []byte
	PreviousUntil      time.Time
}

// SecretRotation replaces a client's secret hashes; see Store.RotateClientSecret.
type SecretRotation struct {
	// From is the secret hash being replaced: the rotation applies only
	// while it is still the client's current one.
	From []byte
	// Hash becomes the current secret hash.
	Hash []byte
	// PreviousHash, accepted until PreviousUntil, replaces any previous
	// secret; both are set, or both are zero to keep none.
	PreviousHash  []byte
	PreviousUntil time.Time
	// RevokeTokens deletes the client's access tokens in the same change.
	RevokeTokens bool
}

// Token is an issued opaque access token, stored by its hash.
type Token struct {
	Hash     []byte // SHA-256 of the bearer token
	ClientID string
	Tenant   string
	Role     string
	Issued   time.Time
	Expires  time.Time
}

// Store persists clients and tokens; the database backends implement it.
type Store interface {
	// CreateClient stores a new client; ErrExists if the id is taken.
	CreateClient(ctx context.Context, c Client) error
	// Client returns the client with that id, or ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)
	// Clients lists clients of a tenant, oldest first.
	Clients(ctx context.Context, tenant string) ([]Client, error)
	// SetClientDisabled disables or enables a client; disabling also
	// deletes its tokens and forgets its previous secret. ErrNotFound if
	// absent.
	SetClientDisabled(ctx context.Context, id string, disabled bool) error
	// RotateClientSecret applies r to the client atomically: ErrNotFound
	// if absent, ErrDisabled if disabled, ErrConflict if its current
	// secret hash is no longer r.From; nothing changes on error.
	RotateClientSecret(ctx context.Context, id string, r SecretRotation) error
	// PutToken stores an issued token.
	PutToken(ctx context.Context, t Token) error
	// Token returns the token with that hash, or ErrNotFound.
	Token(ctx context.Context, hash []byte) (Token, error)
	// DeleteExpiredTokens removes tokens that expired before now.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
}
