package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
)

// Proofs gives the audit ledger's signed checkpoints and RFC 6962
// proofs; *ledger.Ledger.
type Proofs interface {
	Latest() []byte     // the latest signed checkpoint note, nil before the first
	LatestSize() uint64 // its tree size, 0 before the first
	Size() uint64       // leaves integrated into the tree
	LeafHash(ctx context.Context, index uint64) ([]byte, error)
	InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error)
	ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error)
}

// auditCheckpoint is GET /audit/checkpoint: the latest signed checkpoint
// (C2SP signed note), against which proofs are checked.
func (s *Server) auditCheckpoint(c *call) (*reply, error) {
	if err := c.authorize(access.VerifyAudit, ""); err != nil {
		return nil, err
	}
	c.event(audit.ActionRead, c.subtype, "", "", 0)
	note := s.d.Proofs.Latest()
	if note == nil {
		return nil, &badRequest{status: http.StatusNotFound, code: "not-found", msg: "the audit ledger has no checkpoint yet"}
	}
	return jsonReply(map[string]any{"checkpoint": string(note)})
}

// auditInclusion is GET /audit/proof/inclusion?index=N[&size=M]: the
// proof that event N is in the tree of size M (default: the latest
// checkpoint's size).
func (s *Server) auditInclusion(c *call) (*reply, error) {
	if err := c.params("index", "size"); err != nil {
		return nil, err
	}
	if err := c.authorize(access.VerifyAudit, ""); err != nil {
		return nil, err
	}
	c.event(audit.ActionRead, c.subtype, "", "", 0)
	index, err := uintParam(c, "index")
	if err != nil {
		return nil, err
	}
	size, err := s.proofSize(c, "size")
	if err != nil {
		return nil, err
	}
	if index >= size {
		return nil, bad("index must be below the tree size", "index")
	}
	ctx := c.r.Context()
	leaf, err := s.d.Proofs.LeafHash(ctx, index)
	if err != nil {
		return nil, err
	}
	p, err := s.d.Proofs.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, err
	}
	return jsonReply(map[string]any{"index": index, "tree_size": size, "leaf_hash": leaf, "proof": p})
}

// auditConsistency is GET /audit/proof/consistency?from=A[&to=B]: the
// proof that the tree of size B extends the tree of size A.
func (s *Server) auditConsistency(c *call) (*reply, error) {
	if err := c.params("from", "to"); err != nil {
		return nil, err
	}
	if err := c.authorize(access.VerifyAudit, ""); err != nil {
		return nil, err
	}
	c.event(audit.ActionRead, c.subtype, "", "", 0)
	from, err := uintParam(c, "from")
	if err != nil {
		return nil, err
	}
	to, err := s.proofSize(c, "to")
	if err != nil {
		return nil, err
	}
	if from == 0 || from > to {
		return nil, bad("from must be between 1 and to", "from")
	}
	p, err := s.d.Proofs.ConsistencyProof(c.r.Context(), from, to)
	if err != nil {
		return nil, err
	}
	return jsonReply(map[string]any{"from": from, "to": to, "proof": p})
}

// proofSize reads a tree size parameter: at most the integrated size;
// absent, the size of the latest checkpoint.
func (s *Server) proofSize(c *call, name string) (uint64, error) {
	if c.r.URL.Query().Get(name) == "" {
		size := s.d.Proofs.LatestSize()
		if size == 0 {
			return 0, &badRequest{status: http.StatusNotFound, code: "not-found", msg: "the audit ledger has no checkpoint yet"}
		}
		return size, nil
	}
	size, err := uintParam(c, name)
	if err != nil {
		return 0, err
	}
	if size == 0 || size > s.d.Proofs.Size() {
		return 0, bad(name+" must be a tree size between 1 and "+strconv.FormatUint(s.d.Proofs.Size(), 10), name)
	}
	return size, nil
}

func uintParam(c *call, name string) (uint64, error) {
	n, err := strconv.ParseUint(c.r.URL.Query().Get(name), 10, 64)
	if err != nil {
		return 0, bad(name+" must be a non-negative integer", name)
	}
	return n, nil
}

// jsonReply is a plain JSON answer (not a FHIR resource), 200 OK.
func jsonReply(v any) (*reply, error) { return statusJSON(http.StatusOK, v), nil }

// statusJSON is a plain JSON answer with status; a nil v has no body.
func statusJSON(status int, v any) *reply {
	rep := &reply{status: status, header: http.Header{}}
	if v != nil {
		rep.body, _ = json.Marshal(v)
		rep.header.Set("Content-Type", "application/json")
	}
	return rep
}
