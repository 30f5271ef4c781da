package index

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sealer seals and opens bytes under a tenant's data key; *keyring.Keyring.
type Sealer interface {
	DataKey(ctx context.Context, tenant, patient string) (keyID string, err error)
	Seal(ctx context.Context, tenant, keyID string, plaintext, aad []byte) ([]byte, error)
	Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// Cursors make paging links opaque: the search state (its parameters,
// which may be PHI, and the position) is sealed under the tenant's data
// key and bound to the tenant, so a link reveals nothing and cannot be
// replayed in another tenant or altered.
type Cursors struct{ s Sealer }

// NewCursors returns Cursors sealing with s.
func NewCursors(s Sealer) *Cursors { return &Cursors{s: s} }

// ErrBadCursor is returned for a cursor that does not open.
var ErrBadCursor = errors.New("invalid or expired paging cursor")

func cursorAAD(tenant string) []byte { return []byte("ward search cursor v1\x00" + tenant) }

// Seal returns the opaque, URL-safe form of state.
func (c *Cursors) Seal(ctx context.Context, tenant string, state []byte) (string, error) {
	id, err := c.s.DataKey(ctx, tenant, "")
	if err != nil {
		return "", err
	}
	ct, err := c.s.Seal(ctx, tenant, id, state, cursorAAD(tenant))
	if err != nil {
		return "", fmt.Errorf("seal cursor: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open returns the state sealed in cursor, ErrBadCursor if it does not
// authenticate for this tenant.
func (c *Cursors) Open(ctx context.Context, tenant, cursor string) ([]byte, error) {
	ct, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, ErrBadCursor
	}
	pt, err := c.s.Open(ctx, tenant, ct, cursorAAD(tenant))
	if err != nil {
		return nil, ErrBadCursor
	}
	return pt, nil
}
