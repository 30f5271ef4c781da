package identity

import (
	"context"
	"time"
)

// Store keeps accounts; the database backends implement it. It returns
// ErrNotFound and ErrExists (wrapped) as documented.
type Store interface {
	// CreatePerson stores a new account; ErrExists if its id, or its
	// username in its tenant, is taken.
	CreatePerson(ctx context.Context, p Person) error
	// Person returns the account with that id, or ErrNotFound.
	Person(ctx context.Context, id string) (Person, error)
	// PersonByUsername returns the account with that (normalised)
	// username in tenant ("" for super-admins), or ErrNotFound.
	PersonByUsername(ctx context.Context, tenant, username string) (Person, error)
	// People lists a tenant's accounts ("" for super-admins), oldest first.
	People(ctx context.Context, tenant string) ([]Person, error)
	// SetPersonDisabled disables or enables an account; ErrNotFound if
	// absent.
	SetPersonDisabled(ctx context.Context, id string, disabled bool) error
	// SetPassword replaces an account's password hash and history;
	// ErrNotFound if absent.
	SetPassword(ctx context.Context, id, hash string, history []string, changed time.Time, mustChange bool) error
}
