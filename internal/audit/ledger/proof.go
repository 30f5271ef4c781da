package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Proofs are built from stored data: leaf hashes are recomputed from the
// stored leaves, and the hashes of complete subtrees at levels 8, 16, 24,
// ... are cached in the store by the integrator. Any node is then at most
// 2^7 = 128 stored hashes away, so a proof over ten million leaves reads a
// few thousand rows. A node the cache lacks (not yet checkpointed) is
// computed from the level below.

// cacheStride is the distance between cached levels.
const cacheStride = 8

// nodeKey is the store key of the cached node at (level, index): the
// level in the top byte, so one level's nodes are contiguous in key order.
func nodeKey(level uint, index uint64) uint64 { return uint64(level)<<56 | index }

// errStop ends a scan early.
var errStop = errors.New("stop")

// nodeHashes returns the hashes of the complete subtrees at level with
// indices [begin, end), which must lie within the stored leaves.
func nodeHashes(ctx context.Context, r Reader, level uint, begin, end uint64) ([][]byte, error) {
	if begin >= end {
		return nil, nil
	}
	if level == 0 {
		out := make([][]byte, 0, end-begin)
		err := r.ScanLeaves(ctx, begin, end, func(index uint64, data, _ []byte) error {
			if want := begin + uint64(len(out)); index != want {
				return fmt.Errorf("%w: leaf %d is missing", ErrIntegrity, want)
			}
			out = append(out, HashLeaf(data))
			return nil
		})
		if err != nil {
			return nil, err
		}
		if uint64(len(out)) != end-begin {
			return nil, fmt.Errorf("ledger: leaves [%d, %d) are not all stored", begin, end)
		}
		return out, nil
	}
	if level%cacheStride == 0 {
		out := make([][]byte, 0, end-begin)
		err := r.ScanNodes(ctx, nodeKey(level, begin), nodeKey(level, end), func(key uint64, hash []byte) error {
			if key != nodeKey(level, begin+uint64(len(out))) || len(hash) != 32 {
				return errStop // a gap: compute the range instead
			}
			out = append(out, bytes.Clone(hash))
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return nil, err
		}
		if err == nil && uint64(len(out)) == end-begin {
			return out, nil
		}
	}
	below := level - 1 - (level-1)%cacheStride // the cached level under this one, or 0
	shift := level - below
	hs, err := nodeHashes(ctx, r, below, begin<<shift, end<<shift)
	if err != nil {
		return nil, err
	}
	for range shift {
		for i := range len(hs) / 2 {
			hs[i] = hashChildren(hs[2*i], hs[2*i+1])
		}
		hs = hs[:len(hs)/2]
	}
	return hs, nil
}

// hashSource finds node hashes in a ledger that may have been pruned:
// the prune record's compact range gives the nodes that cover the pruned
// leaves [0, floor) (and, combined, every node to their left), the cache
// the higher ones inside it; a node that would need a pruned leaf is
// ErrPruned. Nodes at or after the floor come from nodeHashes.
type hashSource struct {
	r     Reader
	floor uint64
	base  map[compact.NodeID][]byte
}

// newHashSource reads the prune record. Its hashes are not checked here:
// a proof is only as good as the checkpoint it is verified against.
func newHashSource(ctx context.Context, r Reader) (*hashSource, error) {
	floor, rec, err := r.PruneBase(ctx)
	if err != nil {
		return nil, err
	}
	if floor == 0 && rec == nil {
		return &hashSource{r: r}, nil
	}
	b, err := decodePruneRecord(rec)
	if err != nil {
		return nil, err
	}
	if b.floor != floor {
		return nil, fmt.Errorf("%w: the prune record stored for floor %d is for floor %d", ErrIntegrity, floor, b.floor)
	}
	return b.hashSource(r), nil
}

// hashSource returns a hashSource over r that starts from the base.
func (b base) hashSource(r Reader) *hashSource {
	src := &hashSource{r: r, floor: b.floor, base: make(map[compact.NodeID][]byte, len(b.hashes))}
	for i, id := range compact.RangeNodes(0, b.floor, nil) {
		src.base[id] = b.hashes[i]
	}
	return src
}

// node returns the hash of one node.
func (h *hashSource) node(ctx context.Context, id compact.NodeID) ([]byte, error) {
	if hash, ok := h.base[id]; ok {
		return hash, nil
	}
	if begin, _ := id.Coverage(); begin >= h.floor {
		hs, err := nodeHashes(ctx, h.r, id.Level, id.Index, id.Index+1)
		if err != nil {
			return nil, err
		}
		return hs[0], nil
	}
	if id.Level == 0 {
		return nil, fmt.Errorf("%w: leaf %d is below the prune floor %d", ErrPruned, id.Index, h.floor)
	}
	if id.Level%cacheStride == 0 {
		var cached []byte
		key := nodeKey(id.Level, id.Index)
		err := h.r.ScanNodes(ctx, key, key+1, func(k uint64, hash []byte) error {
			if k == key && len(hash) == 32 {
				cached = bytes.Clone(hash)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if cached != nil {
			return cached, nil
		}
	}
	l, err := h.node(ctx, compact.NewNodeID(id.Level-1, 2*id.Index))
	if err != nil {
		return nil, err
	}
	r, err := h.node(ctx, compact.NewNodeID(id.Level-1, 2*id.Index+1))
	if err != nil {
		return nil, err
	}
	return hashChildren(l, r), nil
}

// fetch returns the hashes of the nodes a proof needs, in order.
func fetch(ctx context.Context, r Reader, ids []compact.NodeID) ([][]byte, error) {
	src, err := newHashSource(ctx, r)
	if err != nil {
		return nil, err
	}
	return src.fetch(ctx, ids)
}

func (h *hashSource) fetch(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	hs := make([][]byte, len(ids))
	for i, id := range ids {
		var err error
		if hs[i], err = h.node(ctx, id); err != nil {
			return nil, err
		}
	}
	return hs, nil
}

// InclusionProof returns the RFC 6962 inclusion proof of the leaf at
// index in the tree of the given size, built from the stored ledger. For
// a leaf below the prune floor it returns ErrPruned.
func InclusionProof(ctx context.Context, r Reader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	if floor, _, err := r.PruneBase(ctx); err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	} else if index < floor {
		return nil, fmt.Errorf("%w: event %d is below the prune floor %d (check it in the archive that holds it)", ErrPruned, index, floor)
	}
	hs, err := fetch(ctx, r, nodes.IDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	return nodes.Rehash(hs, hashChildren)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the
// trees of size1 and size2 (size1 <= size2), built from the stored ledger.
// After a prune, it is ErrPruned when it needs hashes that went with the
// pruned leaves.
func ConsistencyProof(ctx context.Context, r Reader, size1, size2 uint64) ([][]byte, error) {
	src, err := newHashSource(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	return src.consistencyProof(ctx, size1, size2)
}

func (h *hashSource) consistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	hs, err := h.fetch(ctx, nodes.IDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	return nodes.Rehash(hs, hashChildren)
}

// RootHash returns the root hash of the tree over the first size stored
// leaves.
func RootHash(ctx context.Context, r Reader, size uint64) ([]byte, error) {
	if size == 0 {
		return rfc6962.DefaultHasher.EmptyRoot(), nil
	}
	hs, err := fetch(ctx, r, compact.RangeNodes(0, size, nil))
	if err != nil {
		return nil, fmt.Errorf("ledger: root hash: %w", err)
	}
	root := hs[len(hs)-1]
	for i := len(hs) - 2; i >= 0; i-- {
		root = hashChildren(hs[i], root)
	}
	return root, nil
}

// VerifyInclusion checks an inclusion proof of the leaf with hash
// leafHash (HashLeaf of its encoding) at index, against the root hash of
// the tree of the given size (from a verified checkpoint).
func VerifyInclusion(index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, p, root)
}

// VerifyConsistency checks a consistency proof between the trees of size1
// and size2 with the given root hashes (from verified checkpoints).
func VerifyConsistency(size1, size2 uint64, p [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, root1, root2)
}

// LeafHashAt returns the RFC 6962 hash of the stored leaf at index,
// recomputed from its data (the stored hash is not trusted).
func LeafHashAt(ctx context.Context, r Reader, index uint64) ([]byte, error) {
	var h []byte
	err := r.ScanLeaves(ctx, index, index+1, func(i uint64, data, _ []byte) error {
		if i == index {
			h = HashLeaf(data)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if h == nil {
		if floor, _, err := r.PruneBase(ctx); err == nil && index < floor {
			return nil, fmt.Errorf("%w: event %d is below the prune floor %d", ErrPruned, index, floor)
		}
		return nil, fmt.Errorf("ledger: no leaf at index %d", index)
	}
	return h, nil
}
