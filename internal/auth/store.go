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
	// deletes its tokens. ErrNotFound if absent.
	SetClientDisabled(ctx context.Context, id string, disabled bool) error
	// PutToken stores an issued token.
	PutToken(ctx context.Context, t Token) error
	// Token returns the token with that hash, or ErrNotFound.
	Token(ctx context.Context, hash []byte) (Token, error)
	// DeleteExpiredTokens removes tokens that expired before now.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)
}
