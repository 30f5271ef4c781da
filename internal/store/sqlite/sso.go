package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
	sqlite3 "modernc.org/sqlite/lib"
)

// Single sign-on links and sign-ins in progress, for identity.Store.

// PeopleByEmail implements identity.Store.
func (d *DB) PeopleByEmail(ctx context.Context, tenant, email string) ([]identity.Person, error) {
	if email == "" {
		return nil, nil
	}
	return d.queryPeople(ctx, `WHERE tenant = ? AND email = ? COLLATE NOCASE ORDER BY created_ns, rowid`, tenant, email)
}

// SSOLink implements identity.Store.
func (d *DB) SSOLink(ctx context.Context, issuer, subject string) (identity.SSOLink, error) {
	l := identity.SSOLink{Issuer: issuer, Subject: subject}
	var created int64
	err := d.r.QueryRowContext(ctx, `SELECT person_id, created_ns FROM sso_links WHERE issuer = ? AND subject = ?`, issuer, subject).
		Scan(&l.PersonID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.SSOLink{}, identity.ErrNotFound
	}
	if err != nil {
		return identity.SSOLink{}, fmt.Errorf("sqlite: sso link: %w", mapErr(err))
	}
	l.Created = fromUnixNano(created)
	return l, nil
}

// CreateSSOLink implements identity.Store; identity.ErrNotFound if the
// account does not exist.
func (d *DB) CreateSSOLink(ctx context.Context, l identity.SSOLink) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO sso_links (issuer, subject, person_id, created_ns) VALUES (?, ?, ?, ?)`,
			l.Issuer, l.Subject, l.PersonID, l.Created.UnixNano())
		switch {
		case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY), isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE):
			return fmt.Errorf("create sso link: %w", identity.ErrExists)
		case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY):
			return fmt.Errorf("create sso link: %w", identity.ErrNotFound)
		case err != nil:
			return fmt.Errorf("sqlite: create sso link: %w", mapErr(err))
		}
		return nil
	})
}

// DeleteSSOLinks implements identity.Store.
func (d *DB) DeleteSSOLinks(ctx context.Context, personID, issuer, subject string) (int, error) {
	var n int64
	err := d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), `DELETE FROM sso_links WHERE person_id = ? AND issuer = ? AND (? = '' OR subject = ?)`,
			personID, issuer, subject, subject)
		if err != nil {
			return fmt.Errorf("sqlite: delete sso links: %w", mapErr(err))
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// PutSSOStart implements identity.Store.
func (d *DB) PutSSOStart(ctx context.Context, st identity.SSOStart, now time.Time) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		bg := context.Background()
		if _, err := tx.ExecContext(bg, `DELETE FROM sso_sign_ins WHERE expires_ns <= ?`, now.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: put sso sign-in: %w", mapErr(err))
		}
		_, err := tx.ExecContext(bg, `INSERT INTO sso_sign_ins (state_hash, binding_hash, tenant, provider, nonce, verifier, expires_ns)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, st.StateHash, st.BindingHash, st.Tenant, st.Provider, st.Nonce, st.Verifier, st.Expires.UnixNano())
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return fmt.Errorf("put sso sign-in: %w", identity.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put sso sign-in: %w", mapErr(err))
		}
		return nil
	})
}

// TakeSSOStart implements identity.Store.
func (d *DB) TakeSSOStart(ctx context.Context, stateHash []byte) (identity.SSOStart, error) {
	st := identity.SSOStart{StateHash: stateHash}
	err := d.exec(ctx, func(tx *sql.Tx) error {
		var expires int64
		err := tx.QueryRowContext(context.Background(), `DELETE FROM sso_sign_ins WHERE state_hash = ?
			RETURNING binding_hash, tenant, provider, nonce, verifier, expires_ns`, stateHash).
			Scan(&st.BindingHash, &st.Tenant, &st.Provider, &st.Nonce, &st.Verifier, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return identity.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sqlite: take sso sign-in: %w", mapErr(err))
		}
		st.Expires = fromUnixNano(expires)
		return nil
	})
	if err != nil {
		return identity.SSOStart{}, err
	}
	return st, nil
}
