package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

// migrationFiles holds the schema, one file per version:
// migrations/NNNN_name.sql, applied in order and never edited once released.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema version.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations lists the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlite: migration %s: name must be NNNN_name.sql", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return int(a.version - b.version) })
	for i := range ms {
		if ms[i].version != int64(i+1) {
			return nil, fmt.Errorf("sqlite: migrations must be numbered 1, 2, 3...; found %s", ms[i].name)
		}
	}
	return ms, nil
}

// migrateRetrying is migrate, retried for a few seconds while the file
// is busy: SQLite answers SQLITE_BUSY without waiting (busy_timeout does
// not apply) when another process is switching a new file to WAL mode.
func migrateRetrying(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := migrate(ctx, db)
		if !errors.Is(err, store.ErrBusy) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// migrate brings the schema up to date in one IMMEDIATE transaction, so
// two processes opening a new file at once apply each migration once.
// A database whose schema is newer than this binary is refused.
func migrate(ctx context.Context, db *sql.DB) (err error) {
	ms, err := migrations()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", mapErr(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL DEFAULT (unixepoch()) -- Unix seconds
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", mapErr(err))
	}
	var have int64
	if err = tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", mapErr(err))
	}
	if have > int64(len(ms)) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this program's (%d)", have, len(ms))
	}
	for _, m := range ms[have:] {
		if _, err = tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, mapErr(err))
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.name, mapErr(err))
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", mapErr(err))
	}
	return nil
}
