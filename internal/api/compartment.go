package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/store"
)

// Records in a patient's compartment: the access decision needs to know
// which patients a record belongs to and what links the caller to them.
// The care relationships of a practitioner are found with three searches
// (CareTeam participant, Encounter participant, Patient
// general-practitioner), cached for careTTL and dropped at once when this
// instance writes one of those types in the tenant.

// careTTL bounds how stale a practitioner's set of patients may be
// (writes through another instance, or a relationship that ended).
const careTTL = 10 * time.Second

// maxCarePatients bounds the patients one practitioner's relationships
// are searched for; beyond it the set is cut (fail closed: fewer
// patients visible, never more).
const maxCarePatients = 20000

// careTypes are the resource types whose writes change relationships.
var careTypes = []string{"CareTeam", "Encounter", "Patient"}

// subject is the call's principal for the access package, with the
// tenant's privileges of its role when the tenant edited them.
func (c *call) subject() (access.Subject, error) {
	if c.sub != nil {
		return *c.sub, nil
	}
	sub := access.Subject{ID: c.p.ID, Role: c.p.Role, Tenant: c.p.Tenant, FHIRUser: c.p.FHIRUser,
		OrgWide: slices.Contains(c.s.d.OrgWideRoles, c.p.Role), Sensitive: slices.Contains(c.s.d.SensitiveRoles, c.p.Role)}
	if c.p.Kind == "user" {
		privs, err := c.s.privileges(c.r.Context(), c.p.Tenant, c.p.Role)
		if err != nil {
			return access.Subject{}, err
		}
		sub.Privileges = privs
	}
	c.sub = &sub
	return sub, nil
}

// patientsOf returns the patients whose compartment version v is in,
// parsing it once per call.
func (c *call) patientsOf(v store.Version) []string {
	key := v.Type + "/" + v.ID + "/" + strconv.FormatInt(v.VersionID, 10)
	if ps, ok := c.patients[key]; ok {
		return ps
	}
	var ps []string
	switch {
	case v.Type == "Patient":
		ps = []string{v.ID}
	case v.Body != nil:
		if r, err := fhir.Parse(v.Body); err == nil {
			ps = r.PatientIDs()
		}
	}
	if c.patients == nil {
		c.patients = map[string][]string{}
	}
	c.patients[key] = ps
	return ps
}

// decide asks the access package about action a on a record of type typ
// in the compartments of patients, finding the caller's relation to them.
func (c *call) decide(a access.Action, typ, ref string, body []byte, patients []string) (access.Decision, error) {
	c.decided = true
	sub, err := c.subject()
	if err != nil {
		return access.Decision{}, err
	}
	r := access.Resource{Tenant: c.p.Tenant, Type: typ, Patients: patients}
	if len(patients) > 0 && c.p.Kind == "user" {
		r.Labels = securityLabels(body)
		rel, err := c.relation(patients)
		if err != nil {
			return access.Decision{}, err
		}
		if rel.Consent, err = c.consent(a, typ, ref, r.Labels, patients); err != nil {
			return access.Decision{}, err
		}
		// An emergency grant matters only where something else denies.
		restricted := !sub.Sensitive && access.Sensitive(r.Labels)
		if !rel.Care && !sub.OrgWide || rel.Consent.Effect == access.ConsentDeny || restricted {
			if err := c.breakGlassFor(patients, &rel); err != nil {
				return access.Decision{}, err
			}
		}
		r.Relation = rel
	}
	d := access.Decide(sub, a, r)
	if d.Allow && d.BreakGlass {
		c.breakGlass = true
	}
	return d, nil
}

// authorizeRecord is authorize for a stored version: a denial because of
// the compartment hides the record (404), any other is 403.
func (c *call) authorizeRecord(a access.Action, v store.Version) error {
	d, err := c.decide(a, v.Type, v.Type+"/"+v.ID, v.Body, c.patientsOf(v))
	switch {
	case err != nil:
		return err
	case d.Allow:
		return nil
	case d.Hide:
		return &hiddenError{reason: d.Reason}
	}
	return &forbiddenError{reason: d.Reason}
}

// authorizeNew is authorize for content about to be written (a create,
// or the new content of an update): its patients come from the resource
// itself, and a denial is 403, since the caller sent the content.
func (c *call) authorizeNew(a access.Action, typ string, patients []string) error {
	d, err := c.decide(a, typ, "", nil, patients)
	if err != nil {
		return err
	}
	if !d.Allow {
		return &forbiddenError{reason: d.Reason}
	}
	return nil
}

// hiddenError is a denial answered as if the record did not exist.
type hiddenError struct{ reason string }

func (e *hiddenError) Error() string        { return "not found: " + e.reason }
func (e *hiddenError) Is(target error) bool { return target == store.ErrNotFound }

// visible reports whether the caller may read version v (for filtering
// search matches and history entries); errors are the relation lookup's.
func (c *call) visible(v store.Version) (bool, error) {
	d, err := c.decide(access.Read, v.Type, v.Type+"/"+v.ID, v.Body, c.patientsOf(v))
	return d.Allow, err
}

// relation finds what links the calling person to any of patients.
func (c *call) relation(patients []string) (access.Relation, error) {
	var rel access.Relation
	typ, id, _ := strings.Cut(c.p.FHIRUser, "/")
	if typ == "RelatedPerson" {
		p, verified, err := c.represented(id)
		if err != nil {
			return rel, err
		}
		related := p != "" && slices.Contains(patients, p)
		rel.Represents, rel.Family = related && verified, related && !verified
	}
	if typ == "Practitioner" {
		set, err := c.s.carePatients(c.r.Context(), c.p.Tenant, c.p.FHIRUser)
		if err != nil {
			return rel, err
		}
		for _, p := range patients {
			rel.Care = rel.Care || set[p]
		}
	}
	return rel, nil
}

// breakGlassFor notes in rel an active emergency grant of the caller for
// any of patients.
func (c *call) breakGlassFor(patients []string, rel *access.Relation) error {
	if c.s.d.BreakGlass == nil || c.p.Role == "patient" {
		return nil
	}
	for _, p := range patients {
		g, ok, err := c.s.d.BreakGlass.Active(c.r.Context(), c.p.Tenant, c.p.ID, p, c.s.d.Now())
		if err != nil {
			return err
		}
		if ok {
			rel.BreakGlass, rel.BreakGlassWrite = true, rel.BreakGlassWrite || g.Write
		}
	}
	return nil
}

// represented returns the patient of the caller's RelatedPerson id when
// it is active ("" otherwise), and whether staff marked it a verified
// personal representative (meta.tag VerifiedRepresentative); once per
// call.
func (c *call) represented(id string) (string, bool, error) {
	if c.representedOK {
		return c.representedPatient, c.representedVerified, nil
	}
	v, err := c.s.d.Store.Read(c.r.Context(), c.p.Tenant, "RelatedPerson", id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", false, err
	}
	var rp struct {
		Meta struct {
			Tag []struct {
				System string `json:"system"`
				Code   string `json:"code"`
			} `json:"tag"`
		} `json:"meta"`
		Active  *bool `json:"active"`
		Patient struct {
			Reference string `json:"reference"`
		} `json:"patient"`
	}
	if err == nil && json.Unmarshal(v.Body, &rp) == nil && (rp.Active == nil || *rp.Active) {
		if pid, ok := strings.CutPrefix(rp.Patient.Reference, "Patient/"); ok {
			c.representedPatient = pid
		}
		for _, tag := range rp.Meta.Tag {
			c.representedVerified = c.representedVerified || tag.System == AccessTagSystem && tag.Code == VerifiedRepresentative
		}
	}
	c.representedOK = true
	return c.representedPatient, c.representedVerified, nil
}

// AccessTagSystem and VerifiedRepresentative are the meta.tag with which
// staff mark a RelatedPerson as the patient's verified personal
// representative: an account linked to it reads the patient's record.
// Without it (family, friends) only the patient's Consent can permit.
const (
	AccessTagSystem        = "urn:ward:access"
	VerifiedRepresentative = "verified-representative"
)

// carePatients returns the patients a practitioner is related to in the
// tenant, from the cache when fresh.
func (s *Server) carePatients(ctx context.Context, tenant, practitioner string) (map[string]bool, error) {
	set, gen, ok := s.care.get(tenant, practitioner)
	if ok {
		return set, nil
	}
	set = map[string]bool{}
	for _, q := range []struct{ typ, param string }{{"CareTeam", "participant"}, {"Encounter", "participant"}, {"Patient", "general-practitioner"}} {
		if err := s.searchPatients(ctx, tenant, q.typ, url.Values{q.param: {practitioner}}, set); err != nil {
			return nil, err
		}
	}
	s.care.put(tenant, practitioner, gen, set)
	return set, nil
}

// searchPatients adds to set the patients of every match of a search.
func (s *Server) searchPatients(ctx context.Context, tenant, typ string, params url.Values, set map[string]bool) error {
	params.Set("_count", "1000")
	q, err := search.Parse(typ, params, false)
	if err != nil {
		return err
	}
	pos := index.Position{}
	for len(set) < maxCarePatients {
		res, err := s.d.Search.Search(ctx, tenant, q, nil, pos)
		if err != nil {
			return err
		}
		for _, m := range res.Matches {
			for _, p := range m.Resource.PatientIDs() {
				set[p] = true
			}
		}
		if res.Next == nil {
			return nil
		}
		pos = *res.Next
	}
	return nil
}

// restricted reports whether the caller's access depends on the patient:
// people (whose compartment, Consent and label rules apply record by
// record), not service clients.
func (c *call) restricted() bool { return c.p.Kind == "user" }
