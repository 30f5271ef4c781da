package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Tenants' role privileges (internal/access), stored as JSON.

// RolePrivileges returns a tenant's edited roles: role → privileges JSON.
func (d *DB) RolePrivileges(ctx context.Context, tenant string) (map[string][]byte, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT role, privileges FROM role_privileges WHERE tenant = ?`, tenant)
	if err != nil {
		return nil, fmt.Errorf("sqlite: role privileges: %w", mapErr(err))
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var role, privs string
		if err := rows.Scan(&role, &privs); err != nil {
			return nil, fmt.Errorf("sqlite: role privileges: %w", mapErr(err))
		}
		out[role] = []byte(privs)
	}
	return out, rows.Err()
}

// SetRolePrivileges stores a role's privileges for a tenant (privs JSON),
// or removes them (privs nil: back to the built-in ones).
func (d *DB) SetRolePrivileges(ctx context.Context, tenant, role string, privs []byte, by string, at time.Time) error {
	return d.exec(ctx, func(tx *sql.Tx) error {
		var err error
		if privs == nil {
			_, err = tx.ExecContext(context.Background(), `DELETE FROM role_privileges WHERE tenant = ? AND role = ?`, tenant, role)
		} else {
			_, err = tx.ExecContext(context.Background(), `INSERT INTO role_privileges (tenant, role, privileges, updated_ns, updated_by)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, role) DO UPDATE SET privileges = excluded.privileges,
				updated_ns = excluded.updated_ns, updated_by = excluded.updated_by`, tenant, role, string(privs), at.UnixNano(), by)
		}
		if err != nil {
			return fmt.Errorf("sqlite: set role privileges: %w", mapErr(err))
		}
		return nil
	})
}
