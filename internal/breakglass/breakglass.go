// Package breakglass runs emergency ("break-glass") access: a person
// whose role allows it, freshly re-authenticated, states a reason and
// gets a time-boxed grant to one patient's compartment (read, and write
// if configured) that overrides relationship and Consent denials but
// never tenant boundaries. Each grant opens a review case that a privacy
// officer closes with a disposition, and at once notifies the tenant's
// privacy officers in the in-app alert list and by e-mail, with no PHI.
//
// The package decides and records; it does no HTTP and makes no access
// decisions. The API calls Start, End, Reviews, Case and Close; the
// access decision asks Active on every request and audits what a grant
// allowed with purpose of use PurposeOfUse. All I/O goes through the
// small interfaces in store.go, which the app wires.
package breakglass

import (
	"errors"
	"log/slog"
	"time"
)

// PurposeOfUse is the HL7 v3 PurposeOfUse code ("break the glass") that
// every access allowed by a grant is audited with.
const PurposeOfUse = "BTG"

// RolePrivacyOfficer is the role (internal/identity) that is notified of
// grants, may end anyone's grant of its tenant, and reviews them.
const RolePrivacyOfficer = "privacy-officer"

// Dispositions a privacy officer closes a review with.
const (
	Justified     = "justified"
	NotJustified  = "not-justified"
	NeedsFollowUp = "needs-follow-up"
)

// Dispositions lists the valid dispositions.
func Dispositions() []string { return []string{Justified, NotJustified, NeedsFollowUp} }

// Limits of the free text.
const (
	MinReason = 20   // characters, not counting leading and trailing space
	MaxReason = 2000 // characters
	MaxNotes  = 4000 // characters of a review's closing notes
)

// Errors. The API maps them to statuses; none of their messages holds
// PHI.
var (
	// ErrInvalid wraps every bad-input error (reason, duration, patient
	// id, disposition).
	ErrInvalid = errors.New("breakglass: invalid")
	// ErrForbidden means the actor may not do this: a role without
	// break-glass, no tenant, or not a privacy officer.
	ErrForbidden = errors.New("breakglass: not allowed")
	// ErrStepUp means the actor must re-authenticate (step up) first.
	ErrStepUp = errors.New("breakglass: re-authentication (step-up) required")
	// ErrActive means the person already has an active grant to the
	// patient: grants are never extended or stacked; end it and start
	// another (with its own reason and review). Close returns it for a
	// review whose grant is still running.
	ErrActive = errors.New("breakglass: an emergency access grant is already active")
	// ErrNotFound means no such grant or review in the actor's tenant.
	ErrNotFound = errors.New("breakglass: not found")
	// ErrEnded means the grant is over already (ended or expired).
	ErrEnded = errors.New("breakglass: the grant is over")
	// ErrClosed means the review was closed already.
	ErrClosed = errors.New("breakglass: the review is closed")
	// ErrNotify wraps a failure to e-mail the privacy officers. Start
	// returns it together with a valid grant: the grant, its review and
	// its in-app alert stand (see Start).
	ErrNotify = errors.New("breakglass: privacy officers could not all be e-mailed")
)

// Actor is who acts: a person of a tenant with a role. Fresh reports a
// step-up (re-authentication) within the last few minutes, as the
// session says.
type Actor struct {
	ID     string
	Role   string
	Tenant string
	Fresh  bool
}

// Grant is one emergency access: PersonID may access PatientID's
// compartment in Tenant from Started until Ends, or until Ended if it was
// ended early.
type Grant struct {
	ID        string // "bg-" and 26 base32 characters
	Tenant    string
	PersonID  string
	PatientID string
	Write     bool // writes allowed too (config break_glass.allow_write at the start)
	Started   time.Time
	Ends      time.Time
	Ended     time.Time // zero unless ended early
	EndedBy   string    // who ended it early
	// SealedReason is the reason, sealed by the Sealer under the tenant
	// with ReasonAAD(ID); Case opens it for a privacy officer.
	SealedReason []byte
}

// ActiveAt reports whether the grant allows access at t.
func (g Grant) ActiveAt(t time.Time) bool {
	return !t.Before(g.Started) && t.Before(g.Until())
}

// Until is when the grant stops: Ends, or Ended if earlier.
func (g Grant) Until() time.Time {
	if !g.Ended.IsZero() && g.Ended.Before(g.Ends) {
		return g.Ended
	}
	return g.Ends
}

// LogValue names the grant by ids and times only; the patient id and the
// reason stay out of logs.
func (g Grant) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", g.ID), slog.String("tenant", g.Tenant), slog.String("person", g.PersonID),
		slog.Time("started", g.Started), slog.Time("until", g.Until()))
}

// Review is the case a grant opens; a privacy officer of the tenant
// closes it with a disposition.
type Review struct {
	ID          string // "rv-" and 26 base32 characters
	GrantID     string
	Tenant      string
	Opened      time.Time
	Closed      time.Time // zero while open
	ClosedBy    string
	Disposition string // "" while open
	// SealedNotes are the closing notes, sealed under the tenant with
	// NotesAAD(ID); nil if none.
	SealedNotes []byte
}

// IsOpen reports whether the review awaits a disposition.
func (r Review) IsOpen() bool { return r.Closed.IsZero() }

// Case is a review with its grant and the opened free text, for a
// privacy officer.
type Case struct {
	Review Review
	Grant  Grant
	Reason Text
	Notes  Text
}

// Alert is the entry a grant adds to the tenant's in-app alert list. It
// holds ids only: Actor is the grantee's id, Summary names the review.
type Alert struct {
	Key     string // unique per grant: storing it twice keeps one
	Tenant  string
	Time    time.Time
	Actor   string
	Summary string
}

// Text is free text that may hold PHI (a reason, review notes). String,
// GoString, MarshalText and LogValue redact it, so a stray %v, JSON
// encoding or slog call cannot leak it; convert with string(t) where it
// is meant to be shown.
type Text string

func (Text) String() string               { return "[redacted]" }
func (Text) GoString() string             { return "[redacted]" }
func (Text) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
func (Text) LogValue() slog.Value         { return slog.StringValue("[redacted]") }

// ReasonAAD binds a sealed reason to its grant, so it cannot be moved to
// another row.
func ReasonAAD(grantID string) []byte { return []byte("break-glass reason:" + grantID) }

// NotesAAD binds sealed review notes to their review.
func NotesAAD(reviewID string) []byte { return []byte("break-glass notes:" + reviewID) }
