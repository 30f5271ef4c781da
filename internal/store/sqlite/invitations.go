package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
)

// Invitations, for identity.Store.

const invitationColumns = `hash, tenant, role, email, name, created_by, created_ns, expires_ns, used_ns, person_id, fhir_user`

// CreateInvitation implements identity.Store.
func (d *DB) CreateInvitation(ctx context.Context, inv identity.Invitation) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO invitations (`+invitationColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?)`, inv.Hash, inv.Tenant, inv.Role, inv.Email, inv.Name,
			inv.CreatedBy, inv.Created.UnixNano(), inv.Expires.UnixNano(), inv.FHIRUser)
		if err != nil {
			return fmt.Errorf("sqlite: create invitation: %w", mapErr(err))
		}
		return nil
	})
}

// Invitation implements identity.Store.
func (d *DB) Invitation(ctx context.Context, hash []byte) (identity.Invitation, error) {
	var (
		inv                    identity.Invitation
		created, expires, used int64
		person                 sql.NullString
	)
	err := d.r.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE hash = ?`, hash).Scan(
		&inv.Hash, &inv.Tenant, &inv.Role, &inv.Email, &inv.Name, &inv.CreatedBy, &created, &expires, &used, &person, &inv.FHIRUser)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Invitation{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.Invitation{}, fmt.Errorf("sqlite: invitation: %w", mapErr(err))
	}
	inv.Created, inv.Expires, inv.Used = fromUnixNano(created), fromUnixNano(expires), fromUnixNano(used)
	inv.PersonID = person.String
	return inv, nil
}

// RedeemInvitation implements identity.Store: the account and the
// invitation's use commit together, and only one redemption can win.
func (d *DB) RedeemInvitation(ctx context.Context, hash []byte, at time.Time, p identity.Person) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		if err := insertPerson(tx, p); err != nil {
			return err
		}
		res, err := tx.ExecContext(context.Background(), `UPDATE invitations SET used_ns = ?, person_id = ?
			WHERE hash = ? AND used_ns = 0 AND expires_ns > ?`, at.UnixNano(), p.ID, hash, at.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: redeem invitation: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return identity.ErrNotFound
		}
		return nil
	})
}
