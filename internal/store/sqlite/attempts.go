package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CountAttempt counts one attempt of key in the fixed window of length
// window that holds now, and returns the count so far in that window.
// Windows that ended before the previous one are deleted on the way.
func (d *DB) CountAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	start := now.Truncate(window).UnixNano()
	var n int
	err := d.exec(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(context.Background(), `DELETE FROM sign_in_attempts WHERE window_ns < ?`, start-int64(window)); err != nil {
			return fmt.Errorf("sqlite: count attempt: %w", mapErr(err))
		}
		err := tx.QueryRowContext(context.Background(), `INSERT INTO sign_in_attempts (key, window_ns, count) VALUES (?, ?, 1)
			ON CONFLICT (key, window_ns) DO UPDATE SET count = count + 1 RETURNING count`, key, start).Scan(&n)
		if err != nil {
			return fmt.Errorf("sqlite: count attempt: %w", mapErr(err))
		}
		return nil
	})
	return n, err
}
