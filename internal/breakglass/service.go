package breakglass

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wardhealth/ward/internal/fhir"
)

// Options configure a Service; zero values take defaults where stated.
type Options struct {
	// DefaultDuration is a grant's window when Start is given none
	// (default 30 minutes); MaxDuration the longest allowed (default 4
	// hours). Both at least a minute.
	DefaultDuration, MaxDuration time.Duration
	// AllowWrite lets grants write to the compartment, not only read.
	AllowWrite bool
	// Roles may start grants (config break_glass.roles); none: nobody.
	Roles []string
	// BaseURL is ward's public URL; review links in e-mail point below
	// it (BaseURL/access/reviews/<review id>). Required.
	BaseURL string
	// Mailer e-mails the privacy officers found by Officers; nil means
	// no e-mail (the in-app alert remains). With a Mailer, Officers is
	// required.
	Mailer   Mailer
	Officers Officers
	// Now is the clock (default time.Now); Rand the randomness of ids
	// (default crypto/rand); Log receives notification failures,
	// without PHI (default: discarded).
	Now  func() time.Time
	Rand io.Reader
	Log  *slog.Logger
}

// Service starts, ends and reviews emergency access grants.
type Service struct {
	st       Store
	sealer   Sealer
	mailer   Mailer
	officers Officers
	def, max time.Duration
	write    bool
	roles    []string
	baseURL  string
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
}

// notifyTimeout bounds e-mailing the privacy officers after a grant.
const notifyTimeout = 30 * time.Second

// reviewsLimit caps one listing of reviews.
const reviewsLimit = 500

// New returns a Service over st, sealing free text with sealer.
func New(st Store, sealer Sealer, o Options) (*Service, error) {
	if st == nil || sealer == nil {
		return nil, errors.New("breakglass: a store and a sealer are required")
	}
	if o.DefaultDuration == 0 {
		o.DefaultDuration = 30 * time.Minute
	}
	if o.MaxDuration == 0 {
		o.MaxDuration = max(4*time.Hour, o.DefaultDuration)
	}
	if o.DefaultDuration < time.Minute || o.MaxDuration < o.DefaultDuration {
		return nil, errors.New("breakglass: durations must be at least a minute, the default no longer than the maximum")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("breakglass: the base URL must be an absolute http(s) URL")
	}
	if o.Mailer != nil && o.Officers == nil {
		return nil, errors.New("breakglass: e-mail needs a way to find the privacy officers")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, sealer: sealer, mailer: o.Mailer, officers: o.Officers, def: o.DefaultDuration, max: o.MaxDuration,
		write: o.AllowWrite, roles: slices.Clone(o.Roles), baseURL: strings.TrimRight(o.BaseURL, "/"),
		now: o.Now, rand: o.Rand, log: o.Log}, nil
}

// Start grants by emergency access to patientID's compartment for d (0:
// the default duration) because of reason, opens the review case and
// adds the in-app alert in one transaction, then e-mails the tenant's
// privacy officers.
//
// by's role must allow break-glass (ErrForbidden) and by must have
// stepped up (ErrStepUp). reason must have MinReason to MaxReason
// characters of text, d at most the maximum and patientID be a FHIR id
// (ErrInvalid). A grant is never extended: while by has one active for
// the patient, Start refuses with ErrActive rather than return or
// lengthen it, so every window has its own reason, review and notice.
//
// If e-mailing fails, Start returns the grant with an error wrapping
// ErrNotify, and logs it: the grant stands. It is for a patient in an
// emergency, so a mail relay being down must not block care; and it is
// not hidden: the review case and the in-app alert were committed with
// it, and the failure is returned for the API to report and logged for
// operators.
func (s *Service) Start(ctx context.Context, by Actor, patientID, reason string, d time.Duration) (Grant, error) {
	if by.Tenant == "" || by.ID == "" || !slices.Contains(s.roles, by.Role) {
		return Grant{}, fmt.Errorf("%w: emergency access is not available to this role", ErrForbidden)
	}
	if !fhir.ValidID(patientID) {
		return Grant{}, fmt.Errorf("%w: patient must be a Patient id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')", ErrInvalid)
	}
	reason, err := checkText("reason", reason, MinReason, MaxReason)
	if err != nil {
		return Grant{}, err
	}
	if d == 0 {
		d = s.def
	}
	if d < time.Minute || d > s.max {
		return Grant{}, fmt.Errorf("%w: duration must be between 1m and %s", ErrInvalid, s.max)
	}
	if !by.Fresh {
		return Grant{}, ErrStepUp
	}
	now := s.now().UTC()
	switch _, err := s.st.ActiveBreakGlass(ctx, by.Tenant, by.ID, patientID, now); {
	case err == nil:
		return Grant{}, ErrActive
	case !errors.Is(err, ErrNotFound):
		return Grant{}, err
	}
	gid, err := s.newID("bg-")
	if err != nil {
		return Grant{}, err
	}
	rid, err := s.newID("rv-")
	if err != nil {
		return Grant{}, err
	}
	sealed, err := s.sealer.Seal(ctx, by.Tenant, []byte(reason), ReasonAAD(gid))
	if err != nil {
		return Grant{}, fmt.Errorf("breakglass: seal reason: %w", err)
	}
	g := Grant{ID: gid, Tenant: by.Tenant, PersonID: by.ID, PatientID: patientID, Write: s.write,
		Started: now, Ends: now.Add(d), SealedReason: sealed}
	r := Review{ID: rid, GrantID: gid, Tenant: by.Tenant, Opened: now}
	a := Alert{Key: "break-glass|" + by.Tenant + "|grant|" + gid, Tenant: by.Tenant, Time: now, Actor: by.ID,
		Summary: fmt.Sprintf("%s (review %s)", noticeText, rid)}
	if err := s.st.CreateBreakGlass(ctx, g, r, a); err != nil {
		return Grant{}, err
	}
	if err := s.notify(ctx, g, r); err != nil {
		s.log.Warn("break-glass: privacy officers not e-mailed", "grant", g.ID, "review", r.ID, "tenant", g.Tenant, "err", err)
		return g, err
	}
	return g, nil
}

// Active returns personID's grant to patientID in tenant that is active
// at now, if any. The access decision asks it on every request.
func (s *Service) Active(ctx context.Context, tenant, personID, patientID string, now time.Time) (Grant, bool, error) {
	if tenant == "" || personID == "" || patientID == "" {
		return Grant{}, false, nil
	}
	g, err := s.st.ActiveBreakGlass(ctx, tenant, personID, patientID, now)
	if errors.Is(err, ErrNotFound) {
		return Grant{}, false, nil
	}
	if err != nil {
		return Grant{}, false, err
	}
	if !g.ActiveAt(now) || g.Tenant != tenant {
		return Grant{}, false, nil
	}
	return g, true, nil
}

// End ends a grant before its time. The grantee or a privacy officer of
// its tenant may end it (ErrForbidden otherwise); a grant of another
// tenant is ErrNotFound; one already over is ErrEnded. Ending needs no
// step-up: it only takes access away.
func (s *Service) End(ctx context.Context, by Actor, grantID string) (Grant, error) {
	g, err := s.st.BreakGlassGrant(ctx, grantID)
	if err != nil {
		return Grant{}, err
	}
	if by.Tenant == "" || g.Tenant != by.Tenant {
		return Grant{}, ErrNotFound
	}
	if by.ID != g.PersonID && by.Role != RolePrivacyOfficer {
		return Grant{}, fmt.Errorf("%w: only the grantee or a privacy officer ends a grant", ErrForbidden)
	}
	now := s.now().UTC()
	if !g.ActiveAt(now) {
		return Grant{}, ErrEnded
	}
	if err := s.st.EndBreakGlass(ctx, g.ID, by.ID, now); err != nil {
		return Grant{}, err
	}
	g.Ended, g.EndedBy = now, by.ID
	return g, nil
}

func (s *Service) newID(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("breakglass: random: %w", err)
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// checkText returns s without leading and trailing space if it is valid
// UTF-8 text of min to max characters (no control characters but line
// breaks and tabs); otherwise ErrInvalid, without quoting it.
func checkText(what, s string, min, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < min || n > max {
		return "", fmt.Errorf("%w: %s must have %d to %d characters", ErrInvalid, what, min, max)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) {
		return "", fmt.Errorf("%w: %s holds control characters", ErrInvalid, what)
	}
	return s, nil
}
