//go:build auditdiscard

package app

import (
	"context"

	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/store"
)

// AuditDiscarded reports a build whose API records no audit events. It
// is true here: the auditdiscard tag exists only to measure what the
// ledger costs a request (make bench-audit-overhead), and such a build
// must never serve (ward serve refuses it).
const AuditDiscarded = true

// auditRecorders are recorders that drop every event. The ledger is still
// opened by Open, so startup and shutdown are the same as a real build's.
func auditRecorders(*ledger.Ledger) (audit.Recorder, api.TxRecorder) {
	return discard{}, discard{}
}

// discard accepts events and writes nothing.
type discard struct{}

func (discard) Record(context.Context, []audit.Event) error { return nil }
func (discard) RecordTx(store.Tx, []audit.Event) error      { return nil }
func (discard) Committed()                                  {}
