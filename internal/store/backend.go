package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend and the Store return, wrapped with context.
var (
	// ErrNotFound means no resource (or version) exists under that id.
	ErrNotFound = errors.New("not found")
	// ErrGone means the current version of the resource is a deletion.
	ErrGone = errors.New("resource deleted")
	// ErrVersionConflict means an If-Match precondition did not hold.
	ErrVersionConflict = errors.New("version conflict")
	// ErrExists means a create named an id that is already taken.
	ErrExists = errors.New("resource already exists")
	// ErrNoTenant means a call was made without a valid tenant.
	ErrNoTenant = errors.New("no tenant")
	// ErrIntegrity means a stored record failed authentication on decryption:
	// it was altered, or moved onto another row.
	ErrIntegrity = errors.New("record failed integrity check")
	// ErrBusy means the backend could not take the write right now
	// (queue full or shutting down); callers may retry.
	ErrBusy = errors.New("store busy")
	// ErrInvalid means a type or id is not well formed (FHIR id syntax);
	// the Store rejects it before any I/O.
	ErrInvalid = errors.New("invalid type or id")
)

// MaxHistoryCount is the largest page Store.History returns.
const MaxHistoryCount = 1000

// Row is one resource version as a backend holds it: metadata in the clear,
// the resource JSON sealed by the keyring. Backends never see plaintext.
type Row struct {
	Type        string
	ID          string
	Version     int64
	LastUpdated time.Time // UTC, millisecond precision
	Deleted     bool
	KeyID       string // id of the data key that sealed Body; "" for deletions
	Body        []byte // sealed resource JSON; nil for deletions
	// Tokens are the version's blind-index tokens (Insert only); they
	// replace the previous version's. Ignored for deletions, which leave
	// none. History rows have none: history is not searchable.
	Tokens []Token
}

// HistoryQuery selects versions for _history. Type "" means the whole
// tenant (system history); ID "" means the whole type.
type HistoryQuery struct {
	Type  string
	ID    string
	Since time.Time // zero = no lower bound (exclusive of nothing: LastUpdated >= Since)
	// Before is an opaque position from a previous page; zero value starts at
	// the newest version. Pages run newest first.
	Before Cursor
	// Count is the maximum number of rows returned. Backends treat
	// Count <= 0 or Count > MaxHistoryCount+1 as MaxHistoryCount+1: one row
	// more than a full page, so a caller can learn whether another follows.
	Count int
}

// Cursor is a position in history order (newest first): LastUpdated, then
// a backend-assigned sequence number that breaks ties. Rows strictly after
// the position (older) follow it. The zero Cursor is the start.
type Cursor struct {
	LastUpdated time.Time
	Seq         int64
}

// IsZero reports whether c is the start position.
func (c Cursor) IsZero() bool { return c.Seq == 0 && c.LastUpdated.IsZero() }

// HistoryRow is a Row with its position, so callers can page.
type HistoryRow struct {
	Row
	Seq int64
}

// Backend is the driver interface a database implements (SQLite embedded,
// PostgreSQL for scale). Every backend must pass storetest.Run.
// All methods are tenant-scoped; an empty tenant yields ErrNoTenant.
type Backend interface {
	// Current returns the newest version of a resource, which may be a
	// deletion (Row.Deleted). ErrNotFound if the id never existed.
	Current(ctx context.Context, tenant, typ, id string) (Row, error)
	// Version returns one specific version. ErrNotFound if absent.
	Version(ctx context.Context, tenant, typ, id string, version int64) (Row, error)
	// History returns versions newest first (LastUpdated, then Seq,
	// descending), at most q.Count (see HistoryQuery.Count).
	History(ctx context.Context, tenant string, q HistoryQuery) ([]HistoryRow, error)
	// Search returns current, non-deleted rows selected by q (see
	// IndexQuery), at most q.Limit.
	Search(ctx context.Context, tenant string, q IndexQuery) ([]IndexRow, error)
	// Count is the number of rows Search would return without a limit,
	// ignoring q.After.
	Count(ctx context.Context, tenant string, q IndexQuery) (int64, error)
	// Write runs fn inside a write transaction and returns once fn's
	// writes are durable, or fn's error (nothing of fn's is then kept).
	// Backends may group concurrent callers into one commit (group
	// commit); each fn is isolated (a savepoint), so one caller's failure
	// never undoes another's writes. fn must do no I/O of its own and
	// must not call Write.
	Write(ctx context.Context, fn func(tx Tx) error) error
	// Close drains pending writes and closes the database. Later calls
	// return nil; Write after Close returns ErrBusy.
	Close() error
}

// Tx is the view of a write transaction given to Backend.Write callbacks.
// It is valid only until the callback returns. An empty tenant yields
// ErrNoTenant.
type Tx interface {
	// Current is Backend.Current inside the transaction.
	Current(tenant, typ, id string) (Row, error)
	// Insert appends a version; it becomes the current version. The
	// version number must be exactly one more than the current one (1 for
	// a new resource), else ErrVersionConflict.
	Insert(tenant string, row Row) error
}
