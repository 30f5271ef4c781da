package ledger

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// Archive format, version 1: the leaves [from, to) of the ledger with
// what is needed to check them offline against the ledger's public key.
//
//	archive    = magic from to base base-note checkpoint leaf* signature
//	magic      = "ward-audit-archive v1\n"
//	from, to   = uint64, 8 bytes big-endian each
//	base       = the compact range of leaves [0, from): one 32-byte hash
//	             per set bit of from, largest subtree first
//	base-note  = uvarint length, then the signed checkpoint at from
//	             (length 0 when from is 0)
//	checkpoint = uvarint length, then the signed checkpoint at to
//	leaf       = uvarint length, then the leaf encoding; to-from of them,
//	             for indices from, from+1, ...
//	signature  = the rest of the file: a C2SP signed note, signed with the
//	             ledger's checkpoint key, whose text is
//
//	ward-audit-archive v1
//	<origin>
//	<from>
//	<to>
//	<root hash at to, base64>
//	<SHA-256 of every byte before the note, base64>
//
// Every byte is covered: the note's text by its signature, the rest by the
// hash in it, and the note must be in canonical form (one signature,
// strict base64). The leaves, starting from the base, reproduce the root
// of the checkpoint at to; the base reproduces the checkpoint at from.

const archiveMagic = "ward-audit-archive v1\n"

// archiveHeader is the first line of an archive's signed note. It differs
// from any checkpoint's (whose first line is the origin), so neither can
// pass for the other.
const archiveHeader = "ward-audit-archive v1"

// maxLeaf bounds a leaf read from an archive.
const maxLeaf = 1 << 20

// Errors.
var (
	// ErrArchive means an archive is malformed, altered, not signed by the
	// ledger's key, or does not match the ledger.
	ErrArchive = errors.New("ledger: invalid audit archive")
	// ErrNothingToArchive means no event is old enough to be archived, or
	// none before a signed checkpoint.
	ErrNothingToArchive = errors.New("ledger: nothing to archive")
)

// ArchiveOptions configures WriteArchive.
type ArchiveOptions struct {
	// Retention is how long events are kept: only events recorded more
	// than Retention before Now are archived. Required.
	Retention time.Duration
	// Before, if not zero, archives only events recorded before it.
	Before time.Time
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// ArchiveInfo describes an archive.
type ArchiveInfo struct {
	// From and To: the archive holds the leaves [From, To).
	From, To uint64
	// Base is the signed checkpoint at From (zero when From is 0), and
	// Checkpoint the one at To, whose root the leaves reproduce.
	Base, Checkpoint Checkpoint
	// Oldest and Newest are the earliest and latest event times.
	Oldest, Newest time.Time
	// Note is the archive's signed note.
	Note []byte
}

// WriteArchive writes to w an archive of the oldest leaves: those from the
// ledger's floor (0, or where the last Prune stopped) up to N, the largest
// size of a signed checkpoint such that every event below N was recorded
// before both opts.Before (if set) and Now - Retention. The leaves are
// checked as they are read (index, hash) and must reproduce the signed
// checkpoint at N. The archive is signed with s, the ledger's checkpoint
// key (v is its verifier). It returns ErrNothingToArchive when N would not
// pass the floor.
func WriteArchive(ctx context.Context, r Reader, s note.Signer, v note.Verifier, w io.Writer, opts ArchiveOptions) (ArchiveInfo, error) {
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		return ArchiveInfo{}, errors.New("ledger: verifier is not the signer's key")
	}
	cutoff, err := retentionCutoff(opts.Retention, opts.Now)
	if err != nil {
		return ArchiveInfo{}, err
	}
	if !opts.Before.IsZero() && opts.Before.Before(cutoff) {
		cutoff = opts.Before
	}
	b, err := loadBase(ctx, r, v)
	if err != nil {
		return ArchiveInfo{}, err
	}

	// The validly signed checkpoints above the floor, in size order.
	type signed struct {
		cp   Checkpoint
		note []byte
	}
	var cps []signed
	err = r.ScanCheckpoints(ctx, func(size uint64, n []byte) error {
		if size <= b.floor {
			return nil
		}
		if c, err := OpenCheckpoint(n, v); err == nil && c.Size == size {
			cps = append(cps, signed{c, bytes.Clone(n)})
		}
		return nil
	})
	if err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: archive: %w", err)
	}
	if len(cps) == 0 {
		return ArchiveInfo{}, fmt.Errorf("%w: no signed checkpoint above event %d yet", ErrNothingToArchive, b.floor)
	}

	// The first event at or after the cutoff bounds the archive.
	bound := cps[len(cps)-1].cp.Size
	err = r.ScanLeaves(ctx, b.floor, bound, func(index uint64, data, _ []byte) error {
		if _, e, err := DecodeLeaf(data); err != nil {
			return fmt.Errorf("%w: leaf %d: %v", ErrIntegrity, index, err)
		} else if e.Time.IsZero() || !e.Time.Before(cutoff) {
			bound = index
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return ArchiveInfo{}, fmt.Errorf("ledger: archive: %w", err)
	}
	var end *signed
	for i := range cps {
		if cps[i].cp.Size <= bound {
			end = &cps[i]
		}
	}
	if end == nil {
		return ArchiveInfo{}, fmt.Errorf("%w: event %d, the oldest in the ledger, was recorded after %s, or no signed checkpoint precedes it",
			ErrNothingToArchive, b.floor, cutoff.UTC().Format(timeLayout))
	}

	info := ArchiveInfo{From: b.floor, To: end.cp.Size, Checkpoint: end.cp}
	if b.floor > 0 {
		if info.Base, err = OpenCheckpoint(b.checkpoint, v); err != nil {
			return ArchiveInfo{}, err
		}
	}
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 64<<10)
	bw.WriteString(archiveMagic)
	var u [8]byte
	binary.BigEndian.PutUint64(u[:], info.From)
	bw.Write(u[:])
	binary.BigEndian.PutUint64(u[:], info.To)
	bw.Write(u[:])
	for _, h := range b.hashes {
		bw.Write(h)
	}
	writeBytes(bw, b.checkpoint)
	writeBytes(bw, end.note)

	rng, err := b.rangeFrom(&compact.RangeFactory{Hash: hashChildren})
	if err != nil {
		return ArchiveInfo{}, err
	}
	err = r.ScanLeaves(ctx, info.From, info.To, func(index uint64, data, stored []byte) error {
		if index != rng.End() {
			return fmt.Errorf("%w: leaf %d is missing", ErrIntegrity, rng.End())
		}
		claim, e, err := DecodeLeaf(data)
		if err != nil || claim != index {
			return fmt.Errorf("%w: leaf %d is malformed or does not carry its index", ErrIntegrity, index)
		}
		lh := HashLeaf(data)
		if !bytes.Equal(lh, stored) {
			return fmt.Errorf("%w: leaf %d does not match its hash", ErrIntegrity, index)
		}
		if info.Oldest.IsZero() || e.Time.Before(info.Oldest) {
			info.Oldest = e.Time
		}
		if e.Time.After(info.Newest) {
			info.Newest = e.Time
		}
		writeBytes(bw, data)
		return rng.Append(lh, nil)
	})
	if err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: archive: %w", err)
	}
	if rng.End() != info.To {
		return ArchiveInfo{}, fmt.Errorf("%w: leaf %d is missing", ErrIntegrity, rng.End())
	}
	if root, _ := rng.GetRootHash(nil); !bytes.Equal(root, info.Checkpoint.Hash) {
		return ArchiveInfo{}, fmt.Errorf("%w: the stored leaves [%d, %d) do not reproduce the checkpoint signed at %d; run 'ward audit verify'", ErrIntegrity, info.From, info.To, info.To)
	}
	if err := bw.Flush(); err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: archive: %w", err)
	}
	an := archiveNote{origin: v.Name(), from: info.From, to: info.To, root: info.Checkpoint.Hash, sum: sum.Sum(nil)}
	if info.Note, err = note.Sign(&note.Note{Text: an.text()}, s); err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: sign archive: %w", err)
	}
	if _, err := w.Write(info.Note); err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: archive: %w", err)
	}
	return info, nil
}

func writeBytes(w *bufio.Writer, b []byte) {
	var n [binary.MaxVarintLen64]byte
	w.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	w.Write(b)
}

// archiveNote is the text of an archive's signed note.
type archiveNote struct {
	origin   string
	from, to uint64
	root     []byte // root hash at to
	sum      []byte // SHA-256 of the archive before the note
}

func (a archiveNote) text() string {
	return fmt.Sprintf("%s\n%s\n%d\n%d\n%s\n%s\n", archiveHeader, a.origin, a.from, a.to,
		base64.StdEncoding.EncodeToString(a.root), base64.StdEncoding.EncodeToString(a.sum))
}

// openArchiveNote checks that signed is an archive note signed by v's key
// for the log named v.Name(), and parses it.
func openArchiveNote(signed []byte, v note.Verifier) (archiveNote, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return archiveNote{}, fmt.Errorf("%w: %w", ErrArchive, err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 7 || lines[0] != archiveHeader || lines[6] != "" {
		return archiveNote{}, fmt.Errorf("%w: not an archive note", ErrArchive)
	}
	a := archiveNote{origin: lines[1]}
	if a.origin != v.Name() {
		return archiveNote{}, fmt.Errorf("%w: origin %q, want %q", ErrArchive, a.origin, v.Name())
	}
	for i, dst := range []*uint64{&a.from, &a.to} {
		s := lines[2+i]
		if *dst, err = strconv.ParseUint(s, 10, 64); err != nil || strconv.FormatUint(*dst, 10) != s {
			return archiveNote{}, fmt.Errorf("%w: bad index %q", ErrArchive, s)
		}
	}
	for i, dst := range []*[]byte{&a.root, &a.sum} {
		if *dst, err = base64.StdEncoding.Strict().DecodeString(lines[4+i]); err != nil || len(*dst) != 32 {
			return archiveNote{}, fmt.Errorf("%w: bad hash", ErrArchive)
		}
	}
	if a.from >= a.to {
		return archiveNote{}, fmt.Errorf("%w: empty range [%d, %d)", ErrArchive, a.from, a.to)
	}
	// The canonical form: exactly the text and one signature line, in
	// strict base64, so no byte of the note can change unnoticed.
	if len(n.Sigs) != 1 || len(n.UnverifiedSigs) != 0 {
		return archiveNote{}, fmt.Errorf("%w: want exactly one signature", ErrArchive)
	}
	sig := n.Sigs[0]
	if _, err := base64.StdEncoding.Strict().DecodeString(sig.Base64); err != nil ||
		string(signed) != n.Text+"\n— "+sig.Name+" "+sig.Base64+"\n" {
		return archiveNote{}, fmt.Errorf("%w: note not in canonical form", ErrArchive)
	}
	return a, nil
}

// ArchiveReader reads an archive: OpenArchive reads its header, Next each
// leaf, and Finish checks the signature and the tree. Nothing read is
// trustworthy until Finish has returned without error.
type ArchiveReader struct {
	r        *bufio.Reader
	sum      hash.Hash // every byte read before the note
	from, to uint64
	next     uint64
	base     [][]byte
	baseNote []byte
	cpNote   []byte
	rng      *compact.Range
	untimed  int // events without a time
	oldest   time.Time
	newest   time.Time
	err      error // sticky
}

// OpenArchive reads an archive's header from r.
func OpenArchive(r io.Reader) (*ArchiveReader, error) {
	a := &ArchiveReader{r: bufio.NewReaderSize(r, 64<<10), sum: sha256.New()}
	magic, err := a.read(len(archiveMagic))
	if err != nil || string(magic) != archiveMagic {
		return nil, fmt.Errorf("%w: not a ward audit archive", ErrArchive)
	}
	head, err := a.read(16)
	if err != nil {
		return nil, err
	}
	a.from, a.to = binary.BigEndian.Uint64(head[:8]), binary.BigEndian.Uint64(head[8:])
	if a.from >= a.to {
		return nil, fmt.Errorf("%w: empty range [%d, %d)", ErrArchive, a.from, a.to)
	}
	for range compact.RangeSize(0, a.from) {
		h, err := a.read(32)
		if err != nil {
			return nil, err
		}
		a.base = append(a.base, h)
	}
	if a.baseNote, err = a.readBytes(maxNote); err != nil {
		return nil, err
	}
	if a.cpNote, err = a.readBytes(maxNote); err != nil {
		return nil, err
	}
	if a.rng, err = (&compact.RangeFactory{Hash: hashChildren}).NewRange(0, a.from, cloneHashes(a.base)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrArchive, err)
	}
	a.next = a.from
	return a, nil
}

// Range returns the indices [from, to) of the leaves the archive claims
// to hold.
func (a *ArchiveReader) Range() (from, to uint64) { return a.from, a.to }

// Next returns the next leaf, or io.EOF after the last. The data is the
// reader's own copy.
func (a *ArchiveReader) Next() (index uint64, data []byte, err error) {
	if a.err != nil {
		return 0, nil, a.err
	}
	if a.next == a.to {
		return 0, nil, io.EOF
	}
	defer func() { a.err = err }()
	if data, err = a.readBytes(maxLeaf); err != nil {
		return 0, nil, err
	}
	claim, e, err := DecodeLeaf(data)
	if err != nil || claim != a.next {
		return 0, nil, fmt.Errorf("%w: leaf %d is malformed or does not carry its index", ErrArchive, a.next)
	}
	switch {
	case e.Time.IsZero():
		a.untimed++
	case a.oldest.IsZero() || e.Time.Before(a.oldest):
		a.oldest = e.Time
	}
	if e.Time.After(a.newest) {
		a.newest = e.Time
	}
	if err := a.rng.Append(HashLeaf(data), nil); err != nil {
		return 0, nil, err
	}
	index = a.next
	a.next++
	return index, data, nil
}

// Finish reads the leaves Next has not, then the signed note, and checks
// the archive: the note is signed by v's key and covers every byte, the
// base reproduces the signed checkpoint at From, and the leaves the one at
// To.
func (a *ArchiveReader) Finish(v note.Verifier) (ArchiveInfo, error) {
	for {
		if _, _, err := a.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return ArchiveInfo{}, err
		}
	}
	sum := a.sum.Sum(nil)
	signed, err := io.ReadAll(io.LimitReader(a.r, maxNote+1))
	if err != nil {
		return ArchiveInfo{}, fmt.Errorf("ledger: read archive: %w", err)
	}
	if len(signed) > maxNote {
		return ArchiveInfo{}, fmt.Errorf("%w: trailing data", ErrArchive)
	}
	an, err := openArchiveNote(signed, v)
	if err != nil {
		return ArchiveInfo{}, err
	}
	if an.from != a.from || an.to != a.to || !bytes.Equal(an.sum, sum) {
		return ArchiveInfo{}, fmt.Errorf("%w: the contents do not match the signed note (altered)", ErrArchive)
	}
	info := ArchiveInfo{From: a.from, To: a.to, Oldest: a.oldest, Newest: a.newest, Note: signed}
	root, _ := a.rng.GetRootHash(nil)
	if info.Checkpoint, err = OpenCheckpoint(a.cpNote, v); err != nil {
		return ArchiveInfo{}, fmt.Errorf("%w: checkpoint at %d: %v", ErrArchive, a.to, err)
	}
	if info.Checkpoint.Size != a.to || !bytes.Equal(info.Checkpoint.Hash, root) || !bytes.Equal(an.root, root) {
		return ArchiveInfo{}, fmt.Errorf("%w: the leaves do not reproduce the checkpoint signed at %d", ErrArchive, a.to)
	}
	if a.from == 0 {
		if len(a.baseNote) != 0 {
			return ArchiveInfo{}, fmt.Errorf("%w: a checkpoint at size 0", ErrArchive)
		}
		return info, nil
	}
	if info.Base, err = OpenCheckpoint(a.baseNote, v); err != nil {
		return ArchiveInfo{}, fmt.Errorf("%w: checkpoint at %d: %v", ErrArchive, a.from, err)
	}
	baseRng, err := (&compact.RangeFactory{Hash: hashChildren}).NewRange(0, a.from, cloneHashes(a.base))
	if err != nil {
		return ArchiveInfo{}, err
	}
	if baseRoot, _ := baseRng.GetRootHash(nil); info.Base.Size != a.from || !bytes.Equal(info.Base.Hash, baseRoot) {
		return ArchiveInfo{}, fmt.Errorf("%w: the starting state does not reproduce the checkpoint signed at %d", ErrArchive, a.from)
	}
	return info, nil
}

// VerifyArchive reads a whole archive from r and checks it against v, the
// ledger's verifier key (see ArchiveReader.Finish).
func VerifyArchive(r io.Reader, v note.Verifier) (ArchiveInfo, error) {
	a, err := OpenArchive(r)
	if err != nil {
		return ArchiveInfo{}, err
	}
	return a.Finish(v)
}

// read reads n bytes and adds them to the hash.
func (a *ArchiveReader) read(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(a.r, b); err != nil {
		return nil, fmt.Errorf("%w: truncated", ErrArchive)
	}
	a.sum.Write(b)
	return b, nil
}

// readBytes reads a uvarint length, at most max, and that many bytes.
func (a *ArchiveReader) readBytes(max uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(hashingByteReader{a})
	if err != nil {
		return nil, fmt.Errorf("%w: truncated", ErrArchive)
	}
	if n > max {
		return nil, fmt.Errorf("%w: item of %d bytes", ErrArchive, n)
	}
	return a.read(int(n))
}

// hashingByteReader reads single bytes for binary.ReadUvarint, hashing
// them.
type hashingByteReader struct{ a *ArchiveReader }

func (h hashingByteReader) ReadByte() (byte, error) {
	c, err := h.a.r.ReadByte()
	if err == nil {
		h.a.sum.Write([]byte{c})
	}
	return c, err
}
