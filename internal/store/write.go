package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Write applies ops atomically in one Backend.Write: either every op takes
// effect or none does. The error of a failing op is an *OpError carrying
// its index and wrapping ErrVersionConflict, ErrExists, ErrInvalid, ...
//
// OpCreate assigns an id (Options.NewID) unless Doc.ID() is set, in which
// case ErrExists if that id has any version, deleted or not. OpUpdate
// writes the version after the current one, creating the resource (or
// continuing its numbering after a deletion) if it has no live version;
// Result.Created then reports it. OpDelete of an absent or already deleted
// resource writes nothing and reports Result.NoChange. Op.IfMatch > 0
// requires the current version to be exactly that (an absent resource
// never matches), else ErrVersionConflict.
//
// Write stamps each Doc with its id and meta (SetID, SetMeta) while it
// runs, even if it then fails; Result.Version.Body is the JSON stored.
func (s *Store) Write(ctx context.Context, tenant string, ops []Op) ([]Result, error) {
	return s.WriteWith(ctx, tenant, ops, nil)
}

// WriteWith is Write with a callback run inside the write transaction
// after every op has been applied, given their results: what it writes
// through tx (the audit events of the write) commits or rolls back with
// the data. Its error undoes the whole write. It must do no I/O of its
// own.
func (s *Store) WriteWith(ctx context.Context, tenant string, ops []Op, then func(tx Tx, results []Result) error) ([]Result, error) {
	if err := ValidTenant(tenant); err != nil {
		return nil, err
	}
	plans, err := s.plan(ops)
	if err != nil {
		return nil, err
	}
	if len(plans) == 0 {
		return nil, nil
	}
	// Key lookups may create and persist keys, so they happen before the
	// write transaction, once per patient.
	keys := make(map[string]string)
	for i := range plans {
		p := &plans[i]
		if p.kind == OpDelete {
			continue
		}
		id, ok := keys[p.patient]
		if !ok {
			if id, err = s.kr.DataKey(ctx, tenant, p.patient); err != nil {
				return nil, &OpError{Index: i, Err: fmt.Errorf("data key: %w", err)}
			}
			keys[p.patient] = id
		}
		p.keyID = id
		if s.index != nil {
			// Before the transaction, like keys: the indexer may load its key.
			// Tokens do not depend on the id or meta the transaction stamps.
			if p.tokens, err = s.index.Tokens(ctx, tenant, p.doc); err != nil {
				return nil, &OpError{Index: i, Err: fmt.Errorf("index: %w", err)}
			}
		}
	}

	var results []Result
	err = s.b.Write(ctx, func(tx Tx) error {
		now := s.clock()
		res := make([]Result, len(plans))
		for i := range plans {
			r, err := s.apply(ctx, tx, tenant, &plans[i], now)
			if err != nil {
				return &OpError{Index: i, Err: err}
			}
			res[i] = r
		}
		if then != nil {
			if err := then(tx, res); err != nil {
				return err
			}
		}
		results = res
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// plan is one validated Op, ready to apply.
type plan struct {
	kind    OpKind
	doc     Document
	typ, id string
	ifMatch int64
	patient string // compartment whose data key seals the body
	keyID   string
	tokens  []Token
}

// plan validates ops and assigns ids, before any I/O.
func (s *Store) plan(ops []Op) ([]plan, error) {
	plans := make([]plan, len(ops))
	for i, op := range ops {
		p := plan{kind: op.Kind, doc: op.Doc, ifMatch: op.IfMatch}
		if op.IfMatch < 0 {
			return nil, &OpError{Index: i, Err: fmt.Errorf("negative If-Match: %w", ErrInvalid)}
		}
		switch op.Kind {
		case OpCreate, OpUpdate:
			if op.Doc == nil {
				return nil, &OpError{Index: i, Err: fmt.Errorf("op without a document: %w", ErrInvalid)}
			}
			p.typ, p.id = op.Doc.Type(), op.Doc.ID()
			if op.Kind == OpCreate && p.id == "" {
				// Set now, not in the transaction: a new Patient's own id
				// picks its data key (PatientIDs).
				p.id = s.newID()
				op.Doc.SetID(p.id)
			}
			if pids := op.Doc.PatientIDs(); len(pids) > 0 {
				p.patient = pids[0]
			}
		case OpDelete:
			p.typ, p.id = op.Type, op.ID
		default:
			return nil, &OpError{Index: i, Err: fmt.Errorf("unknown op kind %d: %w", op.Kind, ErrInvalid)}
		}
		if err := ValidType(p.typ); err != nil {
			return nil, &OpError{Index: i, Err: err}
		}
		if err := ValidID(p.id); err != nil {
			return nil, &OpError{Index: i, Err: err}
		}
		plans[i] = p
	}
	return plans, nil
}

// apply performs one planned op inside the write transaction.
func (s *Store) apply(ctx context.Context, tx Tx, tenant string, p *plan, now time.Time) (Result, error) {
	cur, err := tx.Current(tenant, p.typ, p.id)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Result{}, fmt.Errorf("%s/%s: %w", p.typ, p.id, err)
	}
	if p.ifMatch > 0 && (!exists || cur.Version != p.ifMatch) {
		return Result{}, fmt.Errorf("%s/%s: If-Match %d: %w", p.typ, p.id, p.ifMatch, ErrVersionConflict)
	}
	live := exists && !cur.Deleted
	if p.kind == OpCreate && exists {
		return Result{}, fmt.Errorf("create %s/%s: %w", p.typ, p.id, ErrExists)
	}
	if p.kind == OpDelete && !live {
		v := Version{Type: p.typ, ID: p.id, Deleted: exists}
		if exists {
			v.VersionID, v.LastUpdated = cur.Version, cur.LastUpdated
		}
		return Result{Version: v, NoChange: true}, nil
	}

	version := cur.Version + 1 // cur is the zero Row when absent
	ts := now
	if exists && cur.LastUpdated.After(ts) {
		ts = cur.LastUpdated // a clock step back never makes a version older than its predecessor
	}
	row := Row{Type: p.typ, ID: p.id, Version: version, LastUpdated: ts}
	res := Result{
		Version: Version{Type: p.typ, ID: p.id, VersionID: version, LastUpdated: ts},
		Created: !live,
	}
	if p.kind == OpDelete {
		row.Deleted, res.Version.Deleted, res.Created = true, true, false
	} else {
		p.doc.SetID(p.id)
		p.doc.SetMeta(strconv.FormatInt(version, 10), ts)
		body, err := p.doc.Marshal()
		if err != nil {
			return Result{}, fmt.Errorf("marshal %s/%s: %w", p.typ, p.id, err)
		}
		sealed, err := s.kr.Seal(ctx, tenant, p.keyID, body, AAD(tenant, p.typ, p.id, version))
		if err != nil {
			return Result{}, fmt.Errorf("seal %s/%s: %w", p.typ, p.id, err)
		}
		row.KeyID, row.Body, row.Tokens = p.keyID, sealed, p.tokens
		res.Version.Body = body
	}
	if err := tx.Insert(tenant, row); err != nil {
		return Result{}, fmt.Errorf("%s/%s/_history/%d: %w", p.typ, p.id, version, err)
	}
	return res, nil
}
