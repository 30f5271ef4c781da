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

// fetch returns the hashes of the nodes a proof needs, in order.
func fetch(ctx context.Context, r Reader, ids []compact.NodeID) ([][]byte, error) {
	hs := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := nodeHashes(ctx, r, id.Level, id.Index, id.Index+1)
		if err != nil {
			return nil, err
		}
		hs[i] = h[0]
	}
	return hs, nil
}

// InclusionProof returns the RFC 6962 inclusion proof of the leaf at
// index in the tree of the given size, built from the stored ledger.
func InclusionProof(ctx context.Context, r Reader, index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	hs, err := fetch(ctx, r, nodes.IDs)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	return nodes.Rehash(hs, hashChildren)
}

// ConsistencyProof returns the RFC 6962 consistency proof between the
// trees of size1 and size2 (size1 <= size2), built from the stored ledger.
func ConsistencyProof(ctx context.Context, r Reader, size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	hs, err := fetch(ctx, r, nodes.IDs)
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
		return nil, fmt.Errorf("ledger: no leaf at index %d", index)
	}
	return h, nil
}
