package breakglass

import (
	"context"
	"time"
)

// Store keeps grants and reviews; the database backends implement it.
// It returns ErrNotFound, ErrActive, ErrEnded and ErrClosed (wrapped) as
// documented.
type Store interface {
	// CreateBreakGlass stores grant g, its review r and the in-app alert
	// a in one transaction: ErrActive, and nothing stored, if g's person
	// has a grant to g's patient in g's tenant active at g.Started.
	CreateBreakGlass(ctx context.Context, g Grant, r Review, a Alert) error
	// ActiveBreakGlass returns the person's grant to the patient in
	// tenant that is active at t (the one ending last, should there be
	// several), or ErrNotFound. It is asked on every request: one index
	// seek.
	ActiveBreakGlass(ctx context.Context, tenant, personID, patientID string, t time.Time) (Grant, error)
	// BreakGlassGrant returns the grant with that id, or ErrNotFound.
	BreakGlassGrant(ctx context.Context, id string) (Grant, error)
	// EndBreakGlass ends the grant early at t, by person by: ErrEnded if
	// it was ended before or is over by t; ErrNotFound if absent.
	EndBreakGlass(ctx context.Context, id, by string, t time.Time) error
	// BreakGlassReview returns the review with that id, or ErrNotFound.
	BreakGlassReview(ctx context.Context, id string) (Review, error)
	// BreakGlassReviews lists a tenant's open reviews oldest first, or
	// its closed ones most recently closed first; at most limit.
	BreakGlassReviews(ctx context.Context, tenant string, open bool, limit int) ([]Review, error)
	// CloseBreakGlassReview closes the review at t by person by with
	// disposition and sealed notes (nil for none): ErrClosed if it was
	// closed before; ErrNotFound if absent.
	CloseBreakGlassReview(ctx context.Context, id, by string, t time.Time, disposition string, sealedNotes []byte) error
}

// Sealer encrypts free text at rest per tenant; the app adapts the
// keyring (the same shape as identity.Sealer, so one adapter serves
// both).
type Sealer interface {
	Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// Recipient is a privacy officer to e-mail.
type Recipient struct {
	ID    string
	Email string // "" if the account has none: not e-mailed
}

// Officers finds a tenant's privacy officers; the app implements it over
// internal/identity (enabled accounts with the privacy-officer role).
type Officers interface {
	PrivacyOfficers(ctx context.Context, tenant string) ([]Recipient, error)
}

// Mailer sends one plain-text e-mail to the addresses in to;
// notify.SMTP implements it.
type Mailer interface {
	Send(ctx context.Context, to []string, subject, body string) error
}
