package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wardhealth/ward/internal/identity"
	sqlite3 "modernc.org/sqlite/lib"
)

// People's accounts, for identity.Store. Times are stored as Unix
// nanoseconds and come back in UTC.

const personColumns = `id, tenant, username, email, name, role, password_hash, password_history,
	password_changed_ns, must_change, disabled, created_ns, failed_logins, locked_until_ns, pin_hash, fhir_user`

// CreatePerson implements identity.Store.
func (d *DB) CreatePerson(ctx context.Context, p identity.Person) error {
	return d.exec(ctx, func(tx *sql.Tx) error { return insertPerson(tx, p) })
}

// insertPerson adds account p in tx; identity.ErrExists if its id, or its
// username in its tenant, is taken.
func insertPerson(tx *sql.Tx, p identity.Person) error {
	if p.ID == "" || p.Username == "" {
		return errors.New("sqlite: create person: empty id or username")
	}
	hist, err := json.Marshal(nonNilStrings(p.PasswordHistory))
	if err != nil {
		return fmt.Errorf("sqlite: create person: %w", err)
	}
	_, err = tx.ExecContext(context.Background(), `INSERT INTO people (`+personColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`,
		p.ID, p.Tenant, p.Username, p.Email, p.Name, p.Role, p.PasswordHash, string(hist),
		p.PasswordChanged.UnixNano(), p.MustChangePassword, p.Disabled, p.Created.UnixNano(), p.PINHash, p.FHIRUser)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
		return fmt.Errorf("create person: %w", identity.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create person: %w", mapErr(err))
	}
	return nil
}

// Person implements identity.Store.
func (d *DB) Person(ctx context.Context, id string) (identity.Person, error) {
	return d.onePerson(ctx, `WHERE id = ?`, id)
}

// PersonByUsername implements identity.Store.
func (d *DB) PersonByUsername(ctx context.Context, tenant, username string) (identity.Person, error) {
	return d.onePerson(ctx, `WHERE tenant = ? AND username = ?`, tenant, username)
}

func (d *DB) onePerson(ctx context.Context, where string, args ...any) (identity.Person, error) {
	ps, err := d.queryPeople(ctx, where, args...)
	if err != nil {
		return identity.Person{}, err
	}
	if len(ps) == 0 {
		return identity.Person{}, identity.ErrNotFound
	}
	return ps[0], nil
}

// People implements identity.Store.
func (d *DB) People(ctx context.Context, tenant string) ([]identity.Person, error) {
	return d.queryPeople(ctx, `WHERE tenant = ? ORDER BY created_ns, rowid`, tenant)
}

func (d *DB) queryPeople(ctx context.Context, where string, args ...any) ([]identity.Person, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+personColumns+` FROM people `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: people: %w", mapErr(err))
	}
	defer rows.Close()
	var out []identity.Person
	for rows.Next() {
		var (
			p                        identity.Person
			hist                     string
			changed, created, locked int64
		)
		if err := rows.Scan(&p.ID, &p.Tenant, &p.Username, &p.Email, &p.Name, &p.Role, &p.PasswordHash, &hist,
			&changed, &p.MustChangePassword, &p.Disabled, &created, &p.FailedLogins, &locked, &p.PINHash, &p.FHIRUser); err != nil {
			return nil, fmt.Errorf("sqlite: people: %w", mapErr(err))
		}
		if err := json.Unmarshal([]byte(hist), &p.PasswordHistory); err != nil {
			return nil, fmt.Errorf("sqlite: people: password history of %s: %w", p.ID, err)
		}
		p.PasswordChanged = time.Unix(0, changed).UTC()
		p.Created = time.Unix(0, created).UTC()
		if locked != 0 {
			p.LockedUntil = time.Unix(0, locked).UTC()
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: people: %w", mapErr(err))
	}
	return out, nil
}

// SetPersonDisabled implements identity.Store.
func (d *DB) SetPersonDisabled(ctx context.Context, id string, disabled bool) error {
	return d.updateOne(ctx, `UPDATE people SET disabled = ? WHERE id = ?`, disabled, id)
}

// SetPassword implements identity.Store.
func (d *DB) SetPassword(ctx context.Context, id, hash string, history []string, changed time.Time, mustChange bool) error {
	hist, err := json.Marshal(nonNilStrings(history))
	if err != nil {
		return fmt.Errorf("sqlite: set password: %w", err)
	}
	return d.updateOne(ctx, `UPDATE people SET password_hash = ?, password_history = ?,
		password_changed_ns = ?, must_change = ? WHERE id = ?`, hash, string(hist), changed.UnixNano(), mustChange, id)
}

// SetRole implements identity.Store.
func (d *DB) SetRole(ctx context.Context, id, role string) error {
	return d.updateOne(ctx, `UPDATE people SET role = ? WHERE id = ?`, role, id)
}

// SetFHIRUser implements identity.Store.
func (d *DB) SetFHIRUser(ctx context.Context, id, ref string) error {
	err := d.updateOne(ctx, `UPDATE people SET fhir_user = ? WHERE id = ?`, ref, id)
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
		return fmt.Errorf("link account: %w", identity.ErrExists)
	}
	return err
}

// SetPIN implements identity.Store.
func (d *DB) SetPIN(ctx context.Context, id, hash string) error {
	return d.updateOne(ctx, `UPDATE people SET pin_hash = ? WHERE id = ?`, hash, id)
}

// updateOne runs an UPDATE of one identity row (an account or a session)
// and returns identity.ErrNotFound if it matched none.
func (d *DB) updateOne(ctx context.Context, q string, args ...any) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(context.Background(), q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: update: %w", mapErr(err))
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return identity.ErrNotFound
		}
		return nil
	})
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
