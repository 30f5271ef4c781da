package sqlite

import (
	"errors"
	"fmt"

	"github.com/wardhealth/ward/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// mapErr marks lock timeouts (another process held the database longer
// than busy_timeout) as store.ErrBusy, so callers know they may retry.
// SQLite's messages never include bound arguments.
func mapErr(err error) error {
	if sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY {
		return fmt.Errorf("%w: %w", store.ErrBusy, err)
	}
	return err
}

// sqliteCode is the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isConstraint reports whether err is the constraint violation code
// (e.g. sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY).
func isConstraint(err error, code int) bool { return sqliteCode(err) == code }
