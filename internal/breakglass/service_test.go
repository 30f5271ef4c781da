package breakglass_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/breakglass"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/notify"
	"github.com/wardhealth/ward/internal/notify/smtptest"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

const baseURL = "https://ward.clinic.example"

// The patient and what a clinician might write: the name must reach
// neither the e-mail nor the alert list, nor the database in clear.
const (
	patientID   = "pat-7731"
	patientName = "Thistlewood"
	reason      = "Unconscious patient Margaret Thistlewood in ED, need allergy list and current medications"
)

var ctx = context.Background()

// clock is a settable clock for the service under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// keyringSealer seals with the tenant's data key, as the app's adapter
// does.
type keyringSealer struct{ kr *keyring.Keyring }

func (s keyringSealer) Seal(ctx context.Context, tenant string, plaintext, aad []byte) ([]byte, error) {
	id, err := s.kr.DataKey(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	return s.kr.Seal(ctx, tenant, id, plaintext, aad)
}

func (s keyringSealer) Open(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error) {
	return s.kr.Open(ctx, tenant, ciphertext, aad)
}

// officers finds privacy officers among the accounts in the database,
// as the app does over identity.
type officers struct{ db *sqlite.DB }

func (o officers) PrivacyOfficers(ctx context.Context, tenant string) ([]breakglass.Recipient, error) {
	people, err := o.db.People(ctx, tenant)
	if err != nil {
		return nil, err
	}
	var out []breakglass.Recipient
	for _, p := range people {
		if p.Role == identity.RolePrivacyOfficer && !p.Disabled {
			out = append(out, breakglass.Recipient{ID: p.ID, Email: p.Email})
		}
	}
	return out, nil
}

// Actors of the tests. doc is the grantee; po1 and po2 are the clinic's
// privacy officers with e-mail, po3 one without, poOff a disabled one,
// poOther another tenant's.
var (
	doc      = breakglass.Actor{ID: "u-doc", Role: identity.RolePhysician, Tenant: "clinic", Fresh: true}
	nurse    = breakglass.Actor{ID: "u-nurse", Role: identity.RoleNurse, Tenant: "clinic", Fresh: true}
	desk     = breakglass.Actor{ID: "u-desk", Role: identity.RoleFrontDesk, Tenant: "clinic", Fresh: true}
	po1      = breakglass.Actor{ID: "u-po1", Role: identity.RolePrivacyOfficer, Tenant: "clinic"}
	po2      = breakglass.Actor{ID: "u-po2", Role: identity.RolePrivacyOfficer, Tenant: "clinic"}
	poOther  = breakglass.Actor{ID: "u-po9", Role: identity.RolePrivacyOfficer, Tenant: "other"}
	docOther = breakglass.Actor{ID: "u-doc9", Role: identity.RolePhysician, Tenant: "other", Fresh: true}
	// docSmall's tenant has a privacy officer without an e-mail address.
	docSmall = breakglass.Actor{ID: "u-doc8", Role: identity.RolePhysician, Tenant: "small", Fresh: true}
)

type env struct {
	svc  *breakglass.Service
	db   *sqlite.DB
	path string
	smtp *smtptest.Server
	clk  *clock
}

// setup returns a Service over a new SQLite database with the clinic's
// accounts, e-mailing through an in-process SMTP server (STARTTLS and
// PLAIN auth). mailPort, when not 0, replaces the server's port (a
// relay that is down).
func setup(t *testing.T, o breakglass.Options, mailPort int) env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ward.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	kekPath := filepath.Join(t.TempDir(), "kek")
	if err := localkms.Create(kekPath, localkms.Development); err != nil {
		t.Fatal(err)
	}
	kek, err := localkms.Open(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	for _, p := range []identity.Person{
		{ID: doc.ID, Tenant: "clinic", Username: "dr.house", Name: "Gregory House", Email: "house@clinic.example", Role: identity.RolePhysician},
		{ID: nurse.ID, Tenant: "clinic", Username: "nurse.jackie", Role: identity.RoleNurse},
		{ID: desk.ID, Tenant: "clinic", Username: "desk", Role: identity.RoleFrontDesk},
		{ID: po1.ID, Tenant: "clinic", Username: "po.one", Email: "po1@clinic.example", Role: identity.RolePrivacyOfficer},
		{ID: po2.ID, Tenant: "clinic", Username: "po.two", Email: "PO Two <po2@clinic.example>", Role: identity.RolePrivacyOfficer},
		{ID: "u-po3", Tenant: "clinic", Username: "po.three", Role: identity.RolePrivacyOfficer},
		{ID: "u-po4", Tenant: "clinic", Username: "po.four", Email: "po4@clinic.example", Role: identity.RolePrivacyOfficer, Disabled: true},
		{ID: poOther.ID, Tenant: "other", Username: "po.nine", Email: "po9@other.example", Role: identity.RolePrivacyOfficer},
		{ID: docOther.ID, Tenant: "other", Username: "dr.nine", Role: identity.RolePhysician},
		{ID: docSmall.ID, Tenant: "small", Username: "dr.eight", Role: identity.RolePhysician},
		{ID: "u-po8", Tenant: "small", Username: "po.eight", Role: identity.RolePrivacyOfficer},
	} {
		p.PasswordHistory, p.Created = []string{}, clk.now()
		if err := db.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	srv := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "ward", Password: "relay-secret"})
	port := srv.Port
	if mailPort != 0 {
		port = mailPort
	}
	mailer, err := notify.NewSMTP(notify.SMTPConfig{Host: srv.Host, Port: port, Username: "ward", Password: "relay-secret",
		From: "Ward <ward@clinic.example>", Timeout: 5 * time.Second, RootCAs: srv.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	if o.Roles == nil {
		o.Roles = []string{identity.RolePhysician, identity.RoleNurse}
	}
	o.BaseURL, o.Mailer, o.Officers = baseURL, mailer, officers{db}
	o.Now, o.Rand = clk.now, seeded{rand.NewChaCha8([32]byte{9})}
	svc, err := breakglass.New(db, keyringSealer{keyring.New(kek, db, keyring.Options{})}, o)
	if err != nil {
		t.Fatal(err)
	}
	return env{svc: svc, db: db, path: path, smtp: srv, clk: clk}
}

// reviewOf returns the open review of grant g.
func reviewOf(t *testing.T, e env, g breakglass.Grant) breakglass.Review {
	t.Helper()
	rs, err := e.svc.Reviews(ctx, po1, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.GrantID == g.ID {
			return r
		}
	}
	t.Fatalf("no open review of grant %s in %+v", g.ID, rs)
	return breakglass.Review{}
}

// A grant e-mails every privacy officer of the tenant who has an
// address, once, with the review link and nothing else: no patient id,
// no patient name from the reason, no reason, no user name or id. The
// in-app alert is PHI-free too, and the reason is sealed at rest.
func TestStartNotifiesWithoutPHI(t *testing.T) {
	e := setup(t, breakglass.Options{}, 0)
	g, err := e.svc.Start(ctx, doc, patientID, "  "+reason+"\n", 0)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clk.now()
	if g.Tenant != "clinic" || g.PersonID != doc.ID || g.PatientID != patientID || g.Write ||
		!g.Started.Equal(now) || !g.Ends.Equal(now.Add(30*time.Minute)) || !strings.HasPrefix(g.ID, "bg-") {
		t.Fatalf("grant %+v, want read-only for the default 30 minutes", g)
	}
	r := reviewOf(t, e, g)

	msgs := e.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d e-mails, want 1 to all privacy officers", len(msgs))
	}
	m := msgs[0]
	slices.Sort(m.To)
	if !slices.Equal(m.To, []string{"po1@clinic.example", "po2@clinic.example"}) || !m.TLS || m.Auth != "ward" {
		t.Errorf("e-mail to %v (tls %v, auth %q), want po1 and po2 only, over TLS, authenticated", m.To, m.TLS, m.Auth)
	}
	data := string(m.Data)
	link := baseURL + "/access/reviews/" + r.ID
	for _, want := range []string{"Subject: Emergency access was used; review required", link} {
		if !strings.Contains(data, want) {
			t.Errorf("e-mail lacks %q:\n%s", want, data)
		}
	}
	for _, phi := range []string{patientID, patientName, "Margaret", "allergy", "dr.house", "House", doc.ID, "house@clinic.example", g.ID} {
		if strings.Contains(strings.ToLower(data), strings.ToLower(phi)) {
			t.Errorf("e-mail holds %q:\n%s", phi, data)
		}
	}

	alerts, err := e.db.Alerts(ctx, "clinic", "break-glass", time.Time{}, time.Time{}, 0, 10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts %+v, %v; want one break-glass alert", alerts, err)
	}
	a := alerts[0]
	if a.Tenant != "clinic" || a.Actor != doc.ID || a.Severity != "high" || !strings.Contains(a.Summary, "Emergency access was used; review required") ||
		!strings.Contains(a.Summary, r.ID) || strings.Contains(a.Summary, patientID) || strings.Contains(a.Summary, patientName) {
		t.Errorf("alert %+v", a)
	}

	// At rest the reason is sealed; a privacy officer reads it in the case.
	var n int
	if err := rawCount(t, e.path, `SELECT count(*) FROM break_glass_grants WHERE instr(reason, ?) > 0 OR instr(reason, ?) > 0`, patientName, "allergy", &n); err != nil || n != 0 {
		t.Errorf("reason stored in clear (%d rows, %v)", n, err)
	}
	c, err := e.svc.Case(ctx, po2, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Reason) != reason || c.Grant.ID != g.ID || c.Review.ID != r.ID {
		t.Errorf("case %+v reason %q", c, string(c.Reason))
	}
	if s := fmt.Sprintf("%v %+v %s", c, c, c.Reason); strings.Contains(s, patientName) {
		t.Errorf("a printed case shows the reason: %s", s)
	}
	for _, by := range []breakglass.Actor{doc, poOther} {
		if _, err := e.svc.Case(ctx, by, r.ID); err == nil {
			t.Errorf("%s read the case", by.ID)
		}
	}
}

// rawCount runs a count query on the database file directly.
func rawCount(t *testing.T, path, q string, a, b string, n *int) error {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer raw.Close()
	return raw.QueryRow(q, a, b).Scan(n)
}

// Start refuses, storing and sending nothing, a role without
// break-glass, a missing step-up, a short or bad reason, a bad duration
// or patient id.
func TestStartRefuses(t *testing.T) {
	e := setup(t, breakglass.Options{MaxDuration: 2 * time.Hour}, 0)
	cases := []struct {
		name    string
		by      breakglass.Actor
		patient string
		reason  string
		d       time.Duration
		want    error
	}{
		{"reason too short", doc, patientID, "Patient unconscious", 0, breakglass.ErrInvalid}, // 19 characters
		{"reason short but padded", doc, patientID, "   Patient unconscious    ", 0, breakglass.ErrInvalid},
		{"reason too long", doc, patientID, strings.Repeat("x", breakglass.MaxReason+1), 0, breakglass.ErrInvalid},
		{"reason not UTF-8", doc, patientID, "Patient unconscious \xff\xfe in ED", 0, breakglass.ErrInvalid},
		{"reason with control characters", doc, patientID, "Patient unconscious\x00 in the ED now", 0, breakglass.ErrInvalid},
		{"role not allowed", desk, patientID, reason, 0, breakglass.ErrForbidden},
		{"privacy officer not allowed", breakglass.Actor{ID: po1.ID, Role: po1.Role, Tenant: "clinic", Fresh: true}, patientID, reason, 0, breakglass.ErrForbidden},
		{"no tenant", breakglass.Actor{ID: "u-admin", Role: identity.RolePhysician, Fresh: true}, patientID, reason, 0, breakglass.ErrForbidden},
		{"not stepped up", breakglass.Actor{ID: doc.ID, Role: doc.Role, Tenant: doc.Tenant}, patientID, reason, 0, breakglass.ErrStepUp},
		{"duration over the maximum", doc, patientID, reason, 2*time.Hour + time.Second, breakglass.ErrInvalid},
		{"duration under a minute", doc, patientID, reason, 30 * time.Second, breakglass.ErrInvalid},
		{"negative duration", doc, patientID, reason, -time.Hour, breakglass.ErrInvalid},
		{"patient id with a slash", doc, "../Patient/1", reason, 0, breakglass.ErrInvalid},
		{"no patient", doc, "", reason, 0, breakglass.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := e.svc.Start(ctx, tc.by, tc.patient, tc.reason, tc.d)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Start = %+v, %v; want %v", g, err, tc.want)
			}
			if strings.Contains(err.Error(), "unconscious") || strings.Contains(err.Error(), patientName) {
				t.Errorf("error %q quotes the reason", err)
			}
		})
	}
	if rs, err := e.svc.Reviews(ctx, po1, true); err != nil || len(rs) != 0 {
		t.Errorf("refused starts opened reviews: %+v, %v", rs, err)
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("refused starts sent %d e-mails", n)
	}
	// The limits themselves are accepted: 20 characters, the maximum.
	if _, err := e.svc.Start(ctx, nurse, patientID, "Patient unconscious!", 2*time.Hour); err != nil {
		t.Errorf("20 characters and the maximum duration: %v", err)
	}
}

// A grant is active inside its window only, for its person, patient and
// tenant; it is never extended: a second Start while it runs is refused,
// and one after it ends starts a new grant with its own review.
func TestActiveWindowAndNoExtension(t *testing.T) {
	e := setup(t, breakglass.Options{AllowWrite: true}, 0)
	g, err := e.svc.Start(ctx, doc, patientID, reason, 45*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !g.Write {
		t.Error("AllowWrite set, but the grant is read-only")
	}
	start := e.clk.now()
	check := func(name, tenant, person, patient string, at time.Time, want bool) {
		t.Helper()
		got, ok, err := e.svc.Active(ctx, tenant, person, patient, at)
		if err != nil || ok != want || ok && got.ID != g.ID {
			t.Errorf("%s: Active = %+v, %v, %v; want %v", name, got, ok, err, want)
		}
	}
	check("at the start", "clinic", doc.ID, patientID, start, true)
	check("a second before the end", "clinic", doc.ID, patientID, start.Add(45*time.Minute-time.Second), true)
	check("at the end", "clinic", doc.ID, patientID, start.Add(45*time.Minute), false)
	check("before the start", "clinic", doc.ID, patientID, start.Add(-time.Second), false)
	check("another patient", "clinic", doc.ID, "pat-1", start, false)
	check("another person", "clinic", nurse.ID, patientID, start, false)
	check("another tenant", "other", doc.ID, patientID, start, false)

	e.clk.add(40 * time.Minute)
	if _, err := e.svc.Start(ctx, doc, patientID, reason, 4*time.Hour); !errors.Is(err, breakglass.ErrActive) {
		t.Fatalf("second Start while active = %v, want ErrActive", err)
	}
	if _, err := e.svc.Start(ctx, doc, "pat-2", reason, 0); err != nil {
		t.Fatalf("a grant for another patient: %v", err)
	}
	if _, err := e.svc.Start(ctx, docOther, patientID, reason, 0); err != nil {
		t.Fatalf("another tenant's physician, same patient id: %v", err)
	}
	e.clk.add(5 * time.Minute)
	if _, ok, _ := e.svc.Active(ctx, "clinic", doc.ID, patientID, e.clk.now()); ok {
		t.Fatal("active after its window: it was extended")
	}
	g2, err := e.svc.Start(ctx, doc, patientID, reason, 0)
	if err != nil || g2.ID == g.ID {
		t.Fatalf("Start after the window = %+v, %v; want a new grant", g2, err)
	}
	if rs, _ := e.svc.Reviews(ctx, po1, true); len(rs) != 3 {
		t.Errorf("%d open reviews in the clinic, want 3 (one per grant)", len(rs))
	}
}

// The grantee or a privacy officer ends a grant early; nobody else, and
// not twice.
func TestEndEarly(t *testing.T) {
	e := setup(t, breakglass.Options{}, 0)
	g, err := e.svc.Start(ctx, doc, patientID, reason, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.add(10 * time.Minute)
	if _, err := e.svc.End(ctx, nurse, g.ID); !errors.Is(err, breakglass.ErrForbidden) {
		t.Errorf("End by a colleague = %v, want ErrForbidden", err)
	}
	if _, err := e.svc.End(ctx, poOther, g.ID); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("End by another tenant's privacy officer = %v, want ErrNotFound", err)
	}
	if _, err := e.svc.End(ctx, doc, "bg-none"); !errors.Is(err, breakglass.ErrNotFound) {
		t.Errorf("End of no grant = %v, want ErrNotFound", err)
	}
	ended, err := e.svc.End(ctx, doc, g.ID)
	if err != nil || !ended.Ended.Equal(e.clk.now()) || ended.EndedBy != doc.ID || !ended.Until().Equal(e.clk.now()) {
		t.Fatalf("End = %+v, %v", ended, err)
	}
	if _, ok, _ := e.svc.Active(ctx, "clinic", doc.ID, patientID, e.clk.now()); ok {
		t.Error("active after End")
	}
	if _, err := e.svc.End(ctx, doc, g.ID); !errors.Is(err, breakglass.ErrEnded) {
		t.Errorf("second End = %v, want ErrEnded", err)
	}

	// A privacy officer ends someone else's grant.
	g2, err := e.svc.Start(ctx, nurse, patientID, reason, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ended, err := e.svc.End(ctx, po1, g2.ID); err != nil || ended.EndedBy != po1.ID {
		t.Fatalf("End by a privacy officer = %+v, %v", ended, err)
	}
	// An expired grant cannot be ended.
	g3, err := e.svc.Start(ctx, doc, "pat-3", reason, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.add(time.Minute)
	if _, err := e.svc.End(ctx, doc, g3.ID); !errors.Is(err, breakglass.ErrEnded) {
		t.Errorf("End after expiry = %v, want ErrEnded", err)
	}
}

// Only a privacy officer of the tenant closes a review, with a valid
// disposition, once the grant is over, once; notes are sealed.
func TestCloseReview(t *testing.T) {
	e := setup(t, breakglass.Options{}, 0)
	g, err := e.svc.Start(ctx, doc, patientID, reason, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := reviewOf(t, e, g)
	const notes = "Confirmed with ED charge nurse: Thistlewood was unresponsive on arrival."

	if _, err := e.svc.Close(ctx, po1, r.ID, breakglass.Justified, notes); !errors.Is(err, breakglass.ErrActive) {
		t.Errorf("Close while the grant runs = %v, want ErrActive", err)
	}
	e.clk.add(31 * time.Minute)
	for _, tc := range []struct {
		name        string
		by          breakglass.Actor
		disposition string
		want        error
	}{
		{"by the grantee", doc, breakglass.Justified, breakglass.ErrForbidden},
		{"by a nurse", nurse, breakglass.Justified, breakglass.ErrForbidden},
		{"by another tenant's privacy officer", poOther, breakglass.Justified, breakglass.ErrNotFound},
		{"without a disposition", po1, "", breakglass.ErrInvalid},
		{"with an unknown disposition", po1, "fine", breakglass.ErrInvalid},
	} {
		if _, err := e.svc.Close(ctx, tc.by, r.ID, tc.disposition, notes); !errors.Is(err, tc.want) {
			t.Errorf("Close %s = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := e.svc.Close(ctx, po1, r.ID, breakglass.Justified, strings.Repeat("n", breakglass.MaxNotes+1)); !errors.Is(err, breakglass.ErrInvalid) {
		t.Errorf("Close with overlong notes = %v, want ErrInvalid", err)
	}
	for _, by := range []breakglass.Actor{doc, nurse} {
		if _, err := e.svc.Reviews(ctx, by, true); !errors.Is(err, breakglass.ErrForbidden) {
			t.Errorf("Reviews by %s = %v, want ErrForbidden", by.ID, err)
		}
	}

	closed, err := e.svc.Close(ctx, po1, r.ID, breakglass.NeedsFollowUp, notes)
	if err != nil || closed.Disposition != breakglass.NeedsFollowUp || closed.ClosedBy != po1.ID || closed.IsOpen() {
		t.Fatalf("Close = %+v, %v", closed, err)
	}
	if _, err := e.svc.Close(ctx, po2, r.ID, breakglass.Justified, ""); !errors.Is(err, breakglass.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if open, _ := e.svc.Reviews(ctx, po2, true); len(open) != 0 {
		t.Errorf("open reviews after Close: %+v", open)
	}
	done, err := e.svc.Reviews(ctx, po2, false)
	if err != nil || len(done) != 1 || done[0].ID != r.ID || done[0].Disposition != breakglass.NeedsFollowUp {
		t.Fatalf("closed reviews = %+v, %v", done, err)
	}
	if others, err := e.svc.Reviews(ctx, poOther, false); err != nil || len(others) != 0 {
		t.Errorf("another tenant sees %+v, %v", others, err)
	}
	var n int
	if err := rawCount(t, e.path, `SELECT count(*) FROM break_glass_reviews WHERE instr(notes, ?) > 0 OR instr(notes, ?) > 0`, patientName, "charge nurse", &n); err != nil || n != 0 {
		t.Errorf("notes stored in clear (%d rows, %v)", n, err)
	}
	c, err := e.svc.Case(ctx, po2, r.ID)
	if err != nil || string(c.Notes) != notes || c.Review.Disposition != breakglass.NeedsFollowUp {
		t.Fatalf("case %+v notes %q, %v", c, string(c.Notes), err)
	}
}

// Nobody closes the review of their own grant, even a privacy officer
// allowed to break the glass.
func TestNoSelfReview(t *testing.T) {
	e := setup(t, breakglass.Options{Roles: []string{identity.RolePrivacyOfficer}}, 0)
	self := po1
	self.Fresh = true
	g, err := e.svc.Start(ctx, self, patientID, reason, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := reviewOf(t, e, g)
	if _, err := e.svc.End(ctx, po1, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Close(ctx, po1, r.ID, breakglass.Justified, ""); !errors.Is(err, breakglass.ErrForbidden) {
		t.Errorf("self review = %v, want ErrForbidden", err)
	}
	if _, err := e.svc.Close(ctx, po2, r.ID, breakglass.Justified, ""); err != nil {
		t.Errorf("review by a colleague: %v", err)
	}
}

// When e-mail fails the grant stands, with its review and in-app alert,
// and Start reports ErrNotify with it.
func TestNotificationFailureKeepsGrant(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there: the relay is down

	e := setup(t, breakglass.Options{}, down)
	g, err := e.svc.Start(ctx, doc, patientID, reason, 0)
	if !errors.Is(err, breakglass.ErrNotify) {
		t.Fatalf("Start with the relay down = %v, want ErrNotify", err)
	}
	if strings.Contains(err.Error(), patientID) || strings.Contains(err.Error(), patientName) {
		t.Errorf("error %q holds PHI", err)
	}
	if g.ID == "" {
		t.Fatal("no grant returned with the notification error")
	}
	if got, ok, err := e.svc.Active(ctx, "clinic", doc.ID, patientID, e.clk.now()); err != nil || !ok || got.ID != g.ID {
		t.Fatalf("Active = %+v, %v, %v; want the grant in force", got, ok, err)
	}
	reviewOf(t, e, g)
	if alerts, err := e.db.Alerts(ctx, "clinic", "break-glass", time.Time{}, time.Time{}, 0, 10); err != nil || len(alerts) != 1 {
		t.Errorf("alerts %+v, %v; want the in-app alert", alerts, err)
	}
}

// A tenant whose privacy officers have no e-mail address is reported
// the same way: the grant stands, Start says nobody was e-mailed.
func TestNoOfficerToEmail(t *testing.T) {
	e := setup(t, breakglass.Options{}, 0)
	g, err := e.svc.Start(ctx, docSmall, patientID, reason, 0)
	if !errors.Is(err, breakglass.ErrNotify) || g.ID == "" {
		t.Fatalf("Start = %+v, %v; want the grant and ErrNotify", g, err)
	}
	if _, ok, _ := e.svc.Active(ctx, "small", docSmall.ID, patientID, e.clk.now()); !ok {
		t.Error("grant not in force")
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("%d e-mails sent", n)
	}
}
