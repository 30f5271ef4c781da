package ledger

import (
	"context"
	"fmt"
	"math"

	"github.com/wardhealth/ward/internal/audit"
)

// Trail reads a ledger's stored events, decoded, for the readers of the
// audit trail (GET /audit/events, the alert watcher).
type Trail struct {
	R Reader
	// L, if set, is the running ledger over R: Events first waits until
	// every event it has acknowledged is stored (Ledger.Sync).
	L *Ledger
}

// Events calls fn for every stored event with index >= from, in index
// order; an error from fn stops the scan and is returned.
func (t Trail) Events(ctx context.Context, from uint64, fn func(index uint64, e audit.Event) error) error {
	if t.L != nil {
		if err := t.L.Sync(ctx); err != nil {
			return err
		}
	}
	return t.R.ScanLeaves(ctx, from, math.MaxUint64, func(index uint64, data, _ []byte) error {
		_, e, err := DecodeLeaf(data)
		if err != nil {
			return fmt.Errorf("audit event %d: %w", index, err)
		}
		return fn(index, e)
	})
}
