//go:build !auditdiscard

package app

import (
	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/ledger"
)

// AuditDiscarded reports a build whose API records no audit events (the
// auditdiscard tag, for benchmarks only). It is false here: every
// request's events go to the ledger.
const AuditDiscarded = false

// auditRecorders are the API's recorders: the ledger itself for reads
// and failures, and the ledger in the write's own transaction for writes.
func auditRecorders(led *ledger.Ledger) (audit.Recorder, api.TxRecorder) {
	return led, ledgerTx{led}
}
