package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit"
)

// Retention. Only a prefix of a Merkle log can be removed: events past the
// retention period are first written to a signed archive (WriteArchive),
// then Prune deletes them from the store and records a prune record: the
// new floor, the tree's compact range there (which is all later leaves
// need to extend the tree), the signed checkpoint at the floor and the
// archive's signed note. Verify starts from that record, so the remaining
// ledger stays verifiable, and the record cannot be moved without the
// signing key: its floor must be the end of a signed archive.

// Errors.
var (
	// ErrPruned means a leaf was archived and deleted after its retention
	// period; proofs that need it cannot be built from the store.
	ErrPruned = audit.ErrPruned
	// ErrRetention means an event is still inside the retention period and
	// must not be deleted.
	ErrRetention = errors.New("ledger: audit event inside the retention period")
)

// PruneOptions configures Prune.
type PruneOptions struct {
	// Retention is how long events are kept; events recorded less than
	// Retention before Now are never deleted. Required.
	Retention time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// retentionCutoff returns now - retention: events recorded before it are
// outside the retention period.
func retentionCutoff(retention time.Duration, now func() time.Time) (time.Time, error) {
	if retention <= 0 {
		return time.Time{}, errors.New("ledger: a retention period is required")
	}
	if now == nil {
		now = time.Now
	}
	return now().Add(-retention), nil
}

// Prune deletes from the store the leaves that the archive read from r
// holds, after checking that the archive is intact and signed by v's key
// (VerifyArchive), that it starts at the store's current floor from the
// same compact range, that its leaves are byte for byte those stored, and
// that every one of its events is outside the retention period now. The
// prune record and the deletion are one transaction. Nothing is changed
// when an error is returned; ErrRetention and ErrArchive say why a prune
// was refused.
func Prune(ctx context.Context, p Pruner, v note.Verifier, r io.Reader, opts PruneOptions) (ArchiveInfo, error) {
	cutoff, err := retentionCutoff(opts.Retention, opts.Now)
	if err != nil {
		return ArchiveInfo{}, err
	}
	cur, err := loadBase(ctx, p, v)
	if err != nil {
		return ArchiveInfo{}, err
	}
	ar, err := OpenArchive(r)
	if err != nil {
		return ArchiveInfo{}, err
	}
	from, to := ar.Range()
	switch {
	case from < cur.floor && to <= cur.floor:
		return ArchiveInfo{}, fmt.Errorf("ledger: prune: the archive holds events [%d, %d), which were already pruned (the ledger starts at %d)", from, to, cur.floor)
	case from != cur.floor:
		return ArchiveInfo{}, fmt.Errorf("ledger: prune: the archive starts at event %d, but the ledger starts at %d: archive from there first", from, cur.floor)
	case !equalHashes(ar.base, cur.hashes):
		return ArchiveInfo{}, fmt.Errorf("%w: its starting state differs from the ledger's prune record at %d", ErrArchive, from)
	}

	// Compare the archived leaves with the stored ones, a chunk at a time.
	var chunk [][]byte
	var chunkStart uint64
	for {
		index, data, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ArchiveInfo{}, err
		}
		if index >= chunkStart+uint64(len(chunk)) {
			chunkStart, chunk = index, chunk[:0]
			err := p.ScanLeaves(ctx, index, min(index+scanChunk, to), func(i uint64, d, _ []byte) error {
				if i != chunkStart+uint64(len(chunk)) {
					return fmt.Errorf("%w: leaf %d is missing from the store", ErrIntegrity, chunkStart+uint64(len(chunk)))
				}
				chunk = append(chunk, bytes.Clone(d))
				return nil
			})
			if err != nil {
				return ArchiveInfo{}, fmt.Errorf("ledger: prune: %w", err)
			}
			if len(chunk) == 0 {
				return ArchiveInfo{}, fmt.Errorf("ledger: prune: event %d is in the archive but not in the store", index)
			}
		}
		if !bytes.Equal(chunk[index-chunkStart], data) {
			return ArchiveInfo{}, fmt.Errorf("ledger: prune: event %d in the archive differs from the stored one: refusing to prune (run 'ward audit verify')", index)
		}
	}
	info, err := ar.Finish(v)
	if err != nil {
		return ArchiveInfo{}, err
	}
	if ar.untimed > 0 {
		return info, fmt.Errorf("%w: %d archived events carry no time, so their age is unknown", ErrRetention, ar.untimed)
	}
	if !info.Newest.Before(cutoff) {
		return info, fmt.Errorf("%w: the archive's newest event (%s) is less than %s old; events recorded after %s must be kept",
			ErrRetention, info.Newest.Format(timeLayout), retentionString(opts.Retention), cutoff.UTC().Format(timeLayout))
	}
	rec := encodePruneRecord(base{floor: to, hashes: ar.rng.Hashes(), checkpoint: ar.cpNote, archive: info.Note})
	if err := p.PruneLeaves(ctx, from, to, rec); err != nil {
		return info, fmt.Errorf("ledger: prune: %w", err)
	}
	return info, nil
}

// timeLayout is RFC 3339 to the millisecond, the precision of event times.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// retentionString writes a retention period in days when it is a whole
// number of them.
func retentionString(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// base is the tree at the prune floor: the compact range over the pruned
// leaves [0, floor), the signed checkpoint at floor, and the signed note
// of the archive that ends there. The zero base (floor 0) is the empty
// tree of a ledger never pruned.
type base struct {
	floor      uint64
	hashes     [][]byte // the compact range [0, floor)
	checkpoint []byte   // signed checkpoint note at floor
	archive    []byte   // signed note of the archive [.., floor)
	root       []byte   // the checkpoint's root, once checked
}

// rangeFrom returns a compact range starting at the base.
func (b base) rangeFrom(rf *compact.RangeFactory) (*compact.Range, error) {
	return rf.NewRange(0, b.floor, cloneHashes(b.hashes))
}

// Prune record, version 1:
//
//	record = 0x01 floor checkpoint archive hash*
//	floor  = uint64, 8 bytes big-endian
//	checkpoint, archive = uvarint length, then a signed note
//	hash   = 32 bytes: the compact range [0, floor), left to right
const pruneVersion = 0x01

// maxNote bounds a signed note read from a prune record or an archive.
const maxNote = 64 << 10

func encodePruneRecord(b base) []byte {
	out := make([]byte, 0, 9+2*binary.MaxVarintLen64+len(b.checkpoint)+len(b.archive)+32*len(b.hashes))
	out = append(out, pruneVersion)
	out = binary.BigEndian.AppendUint64(out, b.floor)
	out = binary.AppendUvarint(out, uint64(len(b.checkpoint)))
	out = append(out, b.checkpoint...)
	out = binary.AppendUvarint(out, uint64(len(b.archive)))
	out = append(out, b.archive...)
	for _, h := range b.hashes {
		out = append(out, h...)
	}
	return out
}

func decodePruneRecord(rec []byte) (base, error) {
	bad := fmt.Errorf("%w: malformed prune record", ErrIntegrity)
	if len(rec) < 9 || rec[0] != pruneVersion {
		return base{}, bad
	}
	b := base{floor: binary.BigEndian.Uint64(rec[1:9])}
	rest := rec[9:]
	for _, dst := range []*[]byte{&b.checkpoint, &b.archive} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > maxNote || n > uint64(len(rest)-k) {
			return base{}, bad
		}
		*dst, rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	if len(rest) != 32*compact.RangeSize(0, b.floor) {
		return base{}, bad
	}
	for len(rest) > 0 {
		b.hashes, rest = append(b.hashes, rest[:32]), rest[32:]
	}
	return b, nil
}

// loadBase returns the store's prune base, checked: the record is the one
// stored for its floor, its checkpoint is signed by v's key for the floor,
// its compact range reproduces that checkpoint's root, and a signed
// archive note ends at the floor with the same root. A failed check wraps
// ErrIntegrity.
func loadBase(ctx context.Context, r Reader, v note.Verifier) (base, error) {
	floor, rec, err := r.PruneBase(ctx)
	if err != nil {
		return base{}, fmt.Errorf("ledger: load prune record: %w", err)
	}
	if floor == 0 && rec == nil {
		return base{}, nil
	}
	return checkBase(floor, rec, v)
}

func checkBase(floor uint64, rec []byte, v note.Verifier) (base, error) {
	b, err := decodePruneRecord(rec)
	if err != nil {
		return base{}, err
	}
	if b.floor != floor {
		return base{}, fmt.Errorf("%w: the prune record stored for floor %d is for floor %d", ErrIntegrity, floor, b.floor)
	}
	cp, err := OpenCheckpoint(b.checkpoint, v)
	if err != nil {
		return base{}, fmt.Errorf("%w: the prune record's checkpoint: %v", ErrIntegrity, err)
	}
	if cp.Size != floor {
		return base{}, fmt.Errorf("%w: the prune record for floor %d holds the checkpoint of size %d", ErrIntegrity, floor, cp.Size)
	}
	rng, err := b.rangeFrom(&compact.RangeFactory{Hash: hashChildren})
	if err != nil {
		return base{}, fmt.Errorf("%w: the prune record's tree state: %v", ErrIntegrity, err)
	}
	if root, _ := rng.GetRootHash(nil); !bytes.Equal(root, cp.Hash) {
		return base{}, fmt.Errorf("%w: the prune record's tree state at %d does not reproduce the checkpoint signed for that size", ErrIntegrity, floor)
	}
	an, err := openArchiveNote(b.archive, v)
	if err != nil {
		return base{}, fmt.Errorf("%w: the prune record is not authorised by a signed archive: %v", ErrIntegrity, err)
	}
	if an.to != floor || !bytes.Equal(an.root, cp.Hash) {
		return base{}, fmt.Errorf("%w: the prune record's floor %d is not the end of its signed archive [%d, %d)", ErrIntegrity, floor, an.from, an.to)
	}
	b.root = cp.Hash
	return b, nil
}

func equalHashes(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func cloneHashes(hs [][]byte) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = bytes.Clone(h)
	}
	return out
}
