package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// Kind is how stored history differs from what was recorded.
type Kind int

// The kinds of change Verify reports.
const (
	// Modified: a leaf's content differs from what was recorded (edited,
	// or replaced by another leaf's copy), or, when Divergence.Exact is
	// false, some leaves in a range were rewritten with their hashes
	// recomputed.
	Modified Kind = iota + 1
	// Deleted: leaves are missing from the middle of the ledger.
	Deleted
	// Inserted: a leaf that was never recorded has been added.
	Inserted
	// Reordered: a recorded leaf sits at another position.
	Reordered
	// Truncated: the ledger was cut back to an earlier state; leaves that
	// a signed checkpoint covers are gone from the end.
	Truncated
	// BaseAltered: the prune record the ledger starts from (see Prune) was
	// changed, forged or moved: it does not hold the signed state at its
	// floor, or no signed archive ends there.
	BaseAltered
)

// String returns the kind's name as the CLI prints it.
func (k Kind) String() string {
	switch k {
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	case Inserted:
		return "inserted"
	case Reordered:
		return "reordered"
	case Truncated:
		return "truncated"
	case BaseAltered:
		return "prune record altered"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Divergence is the first place where stored history differs from the
// recorded one.
type Divergence struct {
	Kind Kind
	// Index is the first ledger index at which history differs: leaves
	// before it are as recorded.
	Index uint64
	// Exact says the change is at Index itself. When false, the change is
	// somewhere in [Index, End): the leaves were rewritten consistently
	// (hashes recomputed), and only the signed checkpoints at Index (which
	// matched) and End (which did not) bound it.
	Exact bool
	// End is one past the last index known to be affected.
	End uint64
	// Count is how many leaves were deleted, inserted or cut off, when known.
	Count uint64
	// Detail explains the finding in one sentence, without event contents.
	Detail string
}

// String describes the divergence on one line.
func (d Divergence) String() string {
	if d.Exact {
		return fmt.Sprintf("%s at index %d: %s", d.Kind, d.Index, d.Detail)
	}
	return fmt.Sprintf("%s within indices [%d, %d): %s", d.Kind, d.Index, d.End, d.Detail)
}

// Report is the outcome of Verify.
type Report struct {
	// Leaves is the tree size: one past the last stored leaf, counting the
	// Floor leaves pruned before it.
	Leaves uint64
	// Floor is where the stored ledger starts: the leaves below it were
	// archived and pruned, and verification starts from the signed tree
	// state the prune recorded there. 0 if the ledger was never pruned.
	Floor uint64
	// Older counts the signed checkpoints below Floor. Each is checked for
	// consistency with the prune record by an RFC 6962 consistency proof
	// from the hashes that remain; OlderUnchecked of them could not be,
	// because the hashes that would prove it went with the pruned leaves.
	Older, OlderUnchecked int
	// Root is the root hash over the stored leaves, when they are intact.
	Root []byte
	// Checkpoints is the number of distinct validly signed checkpoints
	// checked; External of them were given by the caller (and may also be
	// in the database).
	Checkpoints, External int
	// Verified is the largest checkpoint size whose root the stored leaves
	// reproduce. Leaves at or after it are covered by no signed checkpoint:
	// an attacker who controls the database could have changed them
	// undetectably (normally only the last few seconds of events).
	Verified uint64
	// Skipped counts external notes for other logs, which are ignored.
	Skipped int
	// Divergence is the first change to history, or nil.
	Divergence *Divergence
	// Problems lists other evidence of tampering: checkpoints that are
	// forged or corrupted, two signed checkpoints of one size with
	// different roots (a fork), a checkpoint stored under the wrong size.
	Problems []string
}

// OK reports whether the ledger verified intact.
func (r *Report) OK() bool { return r.Divergence == nil && len(r.Problems) == 0 }

// Verify recomputes the Merkle tree from the stored leaves and checks it
// against every stored checkpoint and every checkpoint in external (what
// the sinks kept; see SplitNotes), each of which must be signed by v's
// key, and checks every leaf's hash and index. It needs nothing but the
// stored data and the public key. The error is for failures to read;
// tampering is reported in the Report. docs/decisions/0005-audit-ledger.md
// lists what is detected and how.
//
// After a prune, it starts from the prune record: the record must hold the
// signed checkpoint at its floor, a compact range that reproduces it, and
// the note of a signed archive ending there (otherwise: BaseAltered), and
// the leaves from the floor on extend that range. Checkpoints below the
// floor are checked by consistency proofs where the remaining hashes allow.
func Verify(ctx context.Context, r Reader, v note.Verifier, external []byte) (Report, error) {
	var rep Report
	cps, err := collectCheckpoints(ctx, r, v, external, &rep)
	if err != nil {
		return rep, err
	}
	floor, rec, err := r.PruneBase(ctx)
	if err != nil {
		return rep, fmt.Errorf("ledger: verify: %w", err)
	}
	rep.Floor = floor
	var b base
	if floor > 0 || rec != nil {
		if b, err = checkBase(floor, rec, v); err != nil {
			rep.Divergence = &Divergence{Kind: BaseAltered, Index: floor, Exact: true, End: floor,
				Detail: strings.TrimPrefix(err.Error(), ErrIntegrity.Error()+": ")}
			err = r.ScanLeaves(ctx, floor, math.MaxUint64, func(index uint64, _, _ []byte) error {
				rep.Leaves = index + 1
				return nil
			})
			return rep, err
		}
	}
	// Checkpoints below the floor can only be checked by proofs; the one
	// at the floor must be the prune record's.
	src := b.hashSource(r)
	above := cps[:0:0]
	for _, c := range cps {
		switch {
		case c.Size > floor:
			above = append(above, c)
		case c.Size == floor:
			if !bytes.Equal(c.Hash, b.root) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("two validly signed checkpoints at size %d, the prune floor, with different roots (a fork: the signing key signed two histories)", floor))
			}
		default:
			if err := checkOlder(ctx, src, c, b, &rep); err != nil {
				return rep, err
			}
		}
	}
	s := &scanner{rf: &compact.RangeFactory{Hash: hashChildren}, cps: above, floor: floor, pos: floor}
	if s.rng, err = b.rangeFrom(s.rf); err != nil {
		return rep, err
	}
	s.goodSize, s.goodHashes = floor, cloneHashes(b.hashes)
	s.reached(floor)
	stray := 0
	if err := r.ScanLeaves(ctx, 0, floor, func(uint64, []byte, []byte) error { stray++; return nil }); err != nil {
		return rep, fmt.Errorf("ledger: verify: %w", err)
	}
	if stray > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d rows below the prune floor %d, where every leaf was pruned: inserted after the prune", stray, floor))
	}
	if err := r.ScanLeaves(ctx, floor, math.MaxUint64, s.row); err != nil {
		return rep, fmt.Errorf("ledger: verify: %w", err)
	}
	rep.Leaves = s.pos
	rep.Verified = s.goodSize
	if !s.anomaly {
		if rep.Root, err = s.rng.GetRootHash(nil); err != nil {
			return rep, err
		}
		if rep.Root == nil {
			rep.Root = rfc6962.DefaultHasher.EmptyRoot()
		}
	}
	rep.Divergence, err = s.diagnose(ctx, r)
	return rep, err
}

// checkOlder checks a signed checkpoint below the prune floor against the
// prune record with a consistency proof from the remaining hashes.
func checkOlder(ctx context.Context, src *hashSource, c Checkpoint, b base, rep *Report) error {
	rep.Older++
	p, err := src.consistencyProof(ctx, c.Size, b.floor)
	if errors.Is(err, ErrPruned) {
		rep.OlderUnchecked++
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: verify: %w", err)
	}
	if VerifyConsistency(c.Size, b.floor, p, c.Hash, b.root) != nil {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the signed checkpoint at size %d is not consistent with the prune record at %d: the cached hashes (audit_nodes) were altered, or the signing key signed two histories", c.Size, b.floor))
	}
	return nil
}

// collectCheckpoints opens every stored and external checkpoint and
// returns the valid ones, one per size, in size order.
func collectCheckpoints(ctx context.Context, r Reader, v note.Verifier, external []byte, rep *Report) ([]Checkpoint, error) {
	bySize := make(map[uint64]Checkpoint)
	add := func(c Checkpoint, where string) {
		if prev, ok := bySize[c.Size]; ok {
			if !bytes.Equal(prev.Hash, c.Hash) {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: two validly signed checkpoints at size %d with different roots (a fork: the signing key signed two histories)", where, c.Size))
			}
			return
		}
		bySize[c.Size] = c
	}
	err := r.ScanCheckpoints(ctx, func(size uint64, signed []byte) error {
		c, err := OpenCheckpoint(signed, v)
		switch {
		case err != nil:
			rep.Problems = append(rep.Problems, fmt.Sprintf("database checkpoint at size %d is not validly signed (forged or corrupted): %v", size, err))
		case c.Size != size:
			rep.Problems = append(rep.Problems, fmt.Sprintf("database checkpoint stored as size %d signs size %d", size, c.Size))
		default:
			add(c, "database checkpoint")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: verify: %w", err)
	}
	for i, signed := range SplitNotes(external) {
		c, err := OpenCheckpoint(signed, v)
		if err != nil {
			origin, _, _ := bytes.Cut(signed, []byte("\n"))
			if string(origin) != v.Name() {
				rep.Skipped++ // another log's checkpoint
				continue
			}
			rep.Problems = append(rep.Problems, fmt.Sprintf("external checkpoint #%d is not validly signed: %v", i+1, err))
			continue
		}
		rep.External++
		add(c, fmt.Sprintf("external checkpoint #%d", i+1))
	}
	cps := make([]Checkpoint, 0, len(bySize))
	for _, c := range bySize {
		if c.Size == 0 {
			if !bytes.Equal(c.Hash, rfc6962.DefaultHasher.EmptyRoot()) {
				rep.Problems = append(rep.Problems, "a checkpoint of size 0 has a root other than the empty tree's")
			}
			continue
		}
		cps = append(cps, c)
	}
	slices.SortFunc(cps, func(a, b Checkpoint) int {
		switch {
		case a.Size < b.Size:
			return -1
		case a.Size > b.Size:
			return 1
		}
		return 0
	})
	rep.Checkpoints = len(cps)
	return cps, nil
}

// scanner walks the stored leaves in index order. While every leaf is in
// place (position, stored key and encoded index agree and the stored hash
// matches) it extends the tree and checks each checkpoint as the tree
// reaches its size. At the first leaf out of place it stops building the
// tree and only gathers what classify needs.
type scanner struct {
	rf    *compact.RangeFactory
	rng   *compact.Range
	cps   []Checkpoint
	next  int    // cps[next] is the first checkpoint not yet reached
	floor uint64 // the prune floor, where the scan starts
	pos   uint64 // the position of the next row: floor + rows read

	goodSize   uint64      // largest checkpoint size whose root matched
	goodHashes [][]byte    // the compact range at goodSize
	bad        *Checkpoint // first checkpoint whose root did not match

	anomaly bool
	a       leafState // the first leaf out of place
	// After the anomaly: the next leaf's index claim (-1 if not a valid
	// leaf), and whether a later leaf claims an index in [a.pos, a.claim).
	haveNext   bool
	nextClaim  int64
	laterInGap bool
}

// leafState describes one stored row.
type leafState struct {
	pos, key uint64
	claim    int64 // the index the encoding carries; -1 if malformed
	hashOK   bool  // the stored hash is the leaf hash of the stored data
}

func (s *scanner) row(key uint64, data, hash []byte) error {
	pos := s.pos
	s.pos++
	claim := int64(-1)
	if c, err := LeafIndex(data); err == nil && c <= math.MaxInt64 {
		claim = int64(c)
	}
	lh := HashLeaf(data)
	hashOK := bytes.Equal(lh, hash)
	if s.anomaly {
		valid := int64(-1)
		if hashOK {
			valid = claim
		}
		if !s.haveNext {
			s.haveNext, s.nextClaim = true, valid
		}
		if valid >= int64(s.a.pos) && valid < s.a.claim {
			s.laterInGap = true
		}
		return nil
	}
	if key == pos && claim == int64(pos) && hashOK {
		if err := s.rng.Append(lh, nil); err != nil {
			return err
		}
		s.reached(pos + 1)
		return nil
	}
	s.anomaly = true
	s.a = leafState{pos: pos, key: key, claim: claim, hashOK: hashOK}
	return nil
}

// reached checks the checkpoints of the size the tree has just reached.
func (s *scanner) reached(size uint64) {
	for s.next < len(s.cps) && s.cps[s.next].Size <= size {
		c := s.cps[s.next]
		s.next++
		if s.bad != nil {
			continue
		}
		root, _ := s.rng.GetRootHash(nil)
		if bytes.Equal(root, c.Hash) {
			s.goodSize, s.goodHashes = size, slices.Clone(s.rng.Hashes())
		} else {
			s.bad = &c
		}
	}
}

// diagnose turns what the scan saw into the first divergence, or nil.
func (s *scanner) diagnose(ctx context.Context, r Reader) (*Divergence, error) {
	if b := s.bad; b != nil {
		// Every leaf up to here looked right, yet the tree disagrees with
		// a signed checkpoint: the leaves were rewritten with recomputed
		// hashes and re-encoded indices, which only checkpoints reveal.
		return &Divergence{Kind: Modified, Index: s.goodSize, End: b.Size,
			Detail: fmt.Sprintf("the stored leaves are self-consistent, but the tree of size %d does not match the checkpoint signed for that size, while the one of size %d does: leaves in between were changed, inserted, deleted or reordered and their hashes recomputed", b.Size, s.goodSize)}, nil
	}
	if s.anomaly {
		return s.classify(ctx, r)
	}
	if n := len(s.cps); n > 0 && s.cps[n-1].Size > s.pos {
		last := s.cps[n-1].Size
		return &Divergence{Kind: Truncated, Index: s.pos, Exact: true, End: last, Count: last - s.pos,
			Detail: fmt.Sprintf("a checkpoint is signed for %d leaves but only %d are stored: the ledger was cut back to an earlier state", last, s.pos)}, nil
	}
	return nil, nil
}

// classify names the first leaf out of place. It compares the index each
// row's encoding carries with the row's position: every leaf commits to
// its own index, so a deletion, insertion or move shows as a jump in the
// claimed indices even when every leaf hash is intact.
func (s *scanner) classify(ctx context.Context, r Reader) (*Divergence, error) {
	a := s.a
	k := a.pos
	d := &Divergence{Index: k, Exact: true, End: k + 1}
	switch {
	case !a.hashOK || a.claim < 0:
		if s.haveNext && s.nextClaim == int64(k) {
			d.Kind, d.Count = Inserted, 1
			d.Detail = "an extra row that is not a valid leaf; the leaves after it are shifted by one"
		} else {
			d.Kind = Modified
			d.Detail = "the stored event does not match its leaf hash"
			if a.claim < 0 {
				d.Detail = "the stored bytes are not a valid leaf"
			}
		}
	case a.claim > int64(k):
		c := uint64(a.claim)
		if s.laterInGap {
			d.Kind = Reordered
			d.Detail = fmt.Sprintf("position %d holds leaf %d, and a leaf from [%d, %d) appears later", k, c, k, c)
		} else {
			d.Kind, d.Count, d.End = Deleted, c-k, c
			d.Detail = fmt.Sprintf("leaves [%d, %d) are missing", k, c)
			switch {
			case k == s.floor && k == 0:
				d.Detail += ", and no prune record covers them (the ledger was never pruned, or its prune record was deleted)"
			case k == s.floor:
				d.Detail += fmt.Sprintf(", and no prune record covers them (the last prune record ends at %d)", k)
			}
		}
	case a.claim < int64(k):
		c := uint64(a.claim)
		switch {
		case s.haveNext && s.nextClaim == int64(k):
			d.Kind, d.Count = Inserted, 1
			d.Detail = fmt.Sprintf("an extra row claiming index %d; the leaves after it are shifted by one", c)
			if c == k-1 {
				// Two adjacent rows claim k-1: one of them is the extra.
				return s.resolveDuplicate(ctx, r, d)
			}
		case !s.haveNext && !s.covered(k):
			d.Kind, d.Count = Inserted, 1
			d.Detail = fmt.Sprintf("an extra row at the end claiming index %d", c)
		default:
			d.Kind = Modified
			d.Detail = fmt.Sprintf("the leaf was replaced by a copy of leaf %d", c)
		}
	default: // the leaf is intact but stored under another key
		d.Kind = Reordered
		d.Detail = fmt.Sprintf("the leaf is stored under key %d", a.key)
	}
	return d, nil
}

// covered reports whether a valid checkpoint covers index i.
func (s *scanner) covered(i uint64) bool {
	return len(s.cps) > 0 && s.cps[len(s.cps)-1].Size > i
}

// resolveDuplicate decides which of two adjacent rows claiming index k-1
// (positions k-1 and k) is the inserted one, by testing which removal
// reproduces the first signed checkpoint covering both. Without such a
// checkpoint it reports the earlier position, inexactly.
func (s *scanner) resolveDuplicate(ctx context.Context, r Reader, d *Divergence) (*Divergence, error) {
	k := d.Index
	if s.goodSize >= k { // a checkpoint vouches for the row at k-1
		return d, nil
	}
	i, _ := slices.BinarySearchFunc(s.cps, k, func(c Checkpoint, size uint64) int {
		switch {
		case c.Size < size:
			return -1
		case c.Size > size:
			return 1
		}
		return 0
	})
	if i == len(s.cps) {
		d.Index, d.End, d.Exact = k-1, k+1, false
		d.Detail += "; no signed checkpoint tells which of the two rows claiming it is genuine"
		return d, nil
	}
	target := s.cps[i]
	ranges := [2]*compact.Range{} // [0]: without position k-1; [1]: without position k
	for j := range ranges {
		var err error
		if ranges[j], err = s.rf.NewRange(0, s.goodSize, slices.Clone(s.goodHashes)); err != nil {
			return nil, err
		}
	}
	pos := s.goodSize
	err := r.ScanLeaves(ctx, s.goodSize, math.MaxUint64, func(_ uint64, data, _ []byte) error {
		lh := HashLeaf(data)
		for j, skip := range [2]uint64{k - 1, k} {
			if pos != skip && ranges[j].End() < target.Size {
				if err := ranges[j].Append(lh, nil); err != nil {
					return err
				}
			}
		}
		pos++
		if ranges[0].End() >= target.Size && ranges[1].End() >= target.Size {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("ledger: verify: %w", err)
	}
	// Try removing the later row first: if both removals work, the rows
	// are identical, and history first differs at the later one.
	for _, j := range []int{1, 0} {
		extra := k - 1 + uint64(j)
		if ranges[j].End() != target.Size {
			continue
		}
		if root, _ := ranges[j].GetRootHash(nil); bytes.Equal(root, target.Hash) {
			d.Index, d.End = extra, extra+1
			return d, nil
		}
	}
	d.Index, d.End, d.Exact = k-1, k+1, false
	d.Detail += "; neither row's removal reproduces the signed checkpoint"
	return d, nil
}
