package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/wardhealth/ward/internal/crypto/keyring"
)

// DefaultHistoryCount is the page size of History when the query names none.
const DefaultHistoryCount = 100

// Read returns the current version of typ/id in tenant. If that version is
// a deletion, Read returns it (Deleted set, Body nil) together with an
// error wrapping ErrGone. ErrNotFound if the resource never existed.
func (s *Store) Read(ctx context.Context, tenant, typ, id string) (Version, error) {
	if err := validRef(tenant, typ, id); err != nil {
		return Version{}, err
	}
	row, err := s.b.Current(ctx, tenant, typ, id)
	if err != nil {
		return Version{}, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	v, err := s.open(ctx, tenant, typ, id, row)
	if err != nil {
		return v, fmt.Errorf("read %s/%s: %w", typ, id, err)
	}
	return v, nil
}

// VRead returns version versionID of typ/id in tenant. A deletion comes
// back as the Version (Deleted set) with an error wrapping ErrGone;
// ErrNotFound if there is no such version.
func (s *Store) VRead(ctx context.Context, tenant, typ, id string, versionID int64) (Version, error) {
	if err := validRef(tenant, typ, id); err != nil {
		return Version{}, err
	}
	if versionID < 1 {
		return Version{}, fmt.Errorf("vread %s/%s/_history/%d: %w", typ, id, versionID, ErrNotFound)
	}
	row, err := s.b.Version(ctx, tenant, typ, id, versionID)
	if err != nil {
		return Version{}, fmt.Errorf("vread %s/%s/_history/%d: %w", typ, id, versionID, err)
	}
	row.Version = versionID // the AAD binds the version asked for, not the one claimed
	v, err := s.open(ctx, tenant, typ, id, row)
	if err != nil {
		return v, fmt.Errorf("vread %s/%s/_history/%d: %w", typ, id, versionID, err)
	}
	return v, nil
}

// History returns versions newest first, deletions included (Deleted set,
// Body nil), and the cursor of the next page: pass it as q.Before to
// continue; the zero Cursor means there is no next page. q.Count <= 0
// means DefaultHistoryCount; it is capped at MaxHistoryCount.
func (s *Store) History(ctx context.Context, tenant string, q HistoryQuery) ([]Version, Cursor, error) {
	if err := ValidTenant(tenant); err != nil {
		return nil, Cursor{}, err
	}
	if q.Type != "" {
		if err := ValidType(q.Type); err != nil {
			return nil, Cursor{}, err
		}
	}
	if q.ID != "" {
		if q.Type == "" {
			return nil, Cursor{}, fmt.Errorf("history of an id needs a type: %w", ErrInvalid)
		}
		if err := ValidID(q.ID); err != nil {
			return nil, Cursor{}, err
		}
	}
	n := q.Count
	if n <= 0 {
		n = DefaultHistoryCount
	}
	n = min(n, MaxHistoryCount)
	q.Count = n + 1 // one more than the page tells whether another follows
	rows, err := s.b.History(ctx, tenant, q)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("history: %w", err)
	}
	var next Cursor
	if len(rows) > n {
		rows = rows[:n]
		last := rows[n-1]
		next = Cursor{LastUpdated: last.LastUpdated, Seq: last.Seq}
	}
	out := make([]Version, len(rows))
	for i, r := range rows {
		v, err := s.open(ctx, tenant, r.Type, r.ID, r.Row)
		if err != nil && !(r.Deleted && errors.Is(err, ErrGone)) {
			return nil, Cursor{}, fmt.Errorf("history %s/%s/_history/%d: %w", r.Type, r.ID, r.Version, err)
		}
		out[i] = v
	}
	return out, next, nil
}

// open turns a backend row into a Version, decrypting the body under the
// AAD of the row it was asked for (tenant, typ, id) at row.Version.
func (s *Store) open(ctx context.Context, tenant, typ, id string, row Row) (Version, error) {
	v := Version{Type: typ, ID: id, VersionID: row.Version, LastUpdated: row.LastUpdated, Deleted: row.Deleted}
	if row.Deleted {
		return v, ErrGone
	}
	body, err := s.kr.Open(ctx, tenant, row.Body, AAD(tenant, typ, id, row.Version))
	if err != nil {
		if errors.Is(err, keyring.ErrIntegrity) {
			return Version{}, fmt.Errorf("%w: %w", ErrIntegrity, err)
		}
		return Version{}, fmt.Errorf("open body: %w", err)
	}
	v.Body = body
	return v, nil
}

// validRef checks a tenant, type and id before any I/O.
func validRef(tenant, typ, id string) error {
	if err := ValidTenant(tenant); err != nil {
		return err
	}
	if err := ValidType(typ); err != nil {
		return err
	}
	return ValidID(id)
}
