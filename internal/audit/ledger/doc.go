// Package ledger is the tamper-evident audit ledger: audit events are the
// leaves of an RFC 6962 Merkle tree, and the tree is committed to by
// Ed25519-signed checkpoints in the C2SP signed-note format, which are
// stored and also written to sinks outside the database.
//
// The parts, one per file:
//
//   - leaf.go: the canonical leaf encoding of one event, which carries the
//     event's ledger index, and its RFC 6962 leaf hash.
//   - store.go: the small storage interface (*sqlite.DB implements it).
//   - ledger.go, append.go, integrate.go: Ledger records events
//     (group-committed, fail-closed) and keeps the tree and checkpoints
//     current.
//   - checkpoint.go, key.go, sink.go: checkpoint notes, signing keys,
//     external sinks.
//   - proof.go: inclusion and consistency proofs from stored data.
//   - verify.go: Verify recomputes the tree from the stored events and
//     reports where, and how, history was changed.
//   - archive.go, prune.go: retention. WriteArchive exports the events past
//     the retention period to a signed file, which VerifyArchive checks
//     offline; Prune deletes them and records the tree state where the
//     remaining ledger starts, from which Verify and proofs continue.
//
// Hashing and proofs come from github.com/transparency-dev/merkle; this
// package adds storage, signing and the diagnosis of tampering. See
// docs/decisions/0005-audit-ledger.md for the formats and what Verify
// detects.
package ledger
