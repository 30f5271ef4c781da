// Package store keeps FHIR resource versions, sealed by a keyring, in a
// Backend. The Store type is what the rest of ward uses; backends
// (sqlite, later postgres) implement the small Backend driver interface
// and pass the shared conformance suite in storetest.
package store

import (
	"context"
	"strconv"
	"time"
)

// Store reads and writes FHIR resource versions for every tenant. Bodies
// are sealed by the Keyring before they reach the Backend and opened after
// they leave it, bound to tenant, type, id and version (see AAD). A Store is
// safe for concurrent use.
type Store struct {
	b     Backend
	kr    Keyring
	now   func() time.Time
	newID func() string
	index Indexer
}

// Options tunes a Store. The zero value is the production setting.
type Options struct {
	// Now is the clock for meta.lastUpdated; default time.Now. The Store
	// truncates its readings to milliseconds, UTC.
	Now func() time.Time
	// NewID makes the id of a created resource; default a random UUID v4.
	NewID func() string
	// Index computes the search tokens of each version written; nil
	// writes none (a store nobody searches).
	Index Indexer
}

// New returns a Store over b that seals bodies with kr. The Store does not
// own b: closing b is the caller's job.
func New(b Backend, kr Keyring, opts Options) *Store {
	s := &Store{b: b, kr: kr, now: opts.Now, newID: opts.NewID, index: opts.Index}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = NewUUID
	}
	return s
}

// clock reads the clock at the precision stored and returned everywhere.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Keyring seals and opens resource bodies. It is satisfied by
// *keyring.Keyring; the store never sees key material.
type Keyring interface {
	// DataKey returns the id of the data key for the tenant's patient
	// (patient "" means the tenant's shared data key), creating and
	// persisting the key on first use. Called before a write transaction.
	DataKey(ctx context.Context, tenant, patient string) (keyID string, err error)
	// Seal encrypts plaintext under the key with that id, binding aad.
	// It performs no writes, so it is safe inside a write transaction.
	Seal(ctx context.Context, tenant, keyID string, plaintext, aad []byte) ([]byte, error)
	// Open decrypts a ciphertext made by Seal; the key id is in its header.
	// A ciphertext that fails authentication yields an error wrapping
	// keyring.ErrIntegrity (the store maps it to ErrIntegrity).
	Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// Document is a parsed resource the store can stamp and serialise;
// *fhir.Resource implements it.
type Document interface {
	Type() string
	ID() string
	SetID(id string)
	// SetMeta sets meta.versionId and meta.lastUpdated, keeping other meta.
	SetMeta(versionID string, lastUpdated time.Time)
	// Marshal returns the resource as compact JSON.
	Marshal() ([]byte, error)
	// PatientIDs lists the patients whose compartment holds the resource,
	// most specific first; for a Patient, its own id.
	PatientIDs() []string
}

// Version is one decrypted resource version.
type Version struct {
	Type        string
	ID          string
	VersionID   int64
	LastUpdated time.Time
	Deleted     bool
	Body        []byte // resource JSON with id and meta stamped; nil when Deleted
}

// OpKind says what an Op does.
type OpKind int

// The kinds of write.
const (
	OpCreate OpKind = iota + 1 // new resource; id assigned unless Doc.ID() is set (then it must be free)
	OpUpdate                   // new version of Doc.ID(); creates the resource if absent
	OpDelete                   // logical delete of Type/ID
)

// Op is one write in an atomic Store.Write.
type Op struct {
	Kind    OpKind
	Doc     Document // OpCreate, OpUpdate
	Type    string   // OpDelete
	ID      string   // OpDelete
	IfMatch int64    // >0: the current version must be this one, else ErrVersionConflict
}

// Result is what one Op did.
type Result struct {
	Version Version // the version written (for a delete: the deletion marker, Body nil)
	Created bool    // the op created the resource (create, or update-as-create)
	// NoChange is set when a delete found the resource absent or already
	// deleted: nothing was written.
	NoChange bool
}

// OpError wraps the error of the op at Index in a Write.
type OpError struct {
	Index int
	Err   error
}

func (e *OpError) Error() string { return "op " + strconv.Itoa(e.Index) + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }
