package sqlite

import "context"

// Ping checks that the database answers a query, for readiness probes.
func (d *DB) Ping(ctx context.Context) error {
	return d.r.PingContext(ctx)
}
