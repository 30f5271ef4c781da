package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
)

// Patients' Consents (scope patient-privacy) are enforced on people's
// access to their records: the active Consents of a patient are loaded
// once per instance and kept until a Consent of the tenant is written
// here, so a change takes effect at the next request. A Consent that
// cannot be read denies (fail closed). The patient's own access is not
// subject to their Consents; break-glass overrides a denial.

// maxConsents bounds the Consents read for one patient.
const maxConsents = 100

// consentSet is a patient's active Consents, parsed.
type consentSet struct {
	consents []access.Consent
	broken   bool // a Consent did not parse: deny
}

// consent evaluates the patients' Consents for action a on the record
// ref (Type/id; "" for content not stored yet) with security labels.
func (c *call) consent(a access.Action, typ, ref string, labels, patients []string) (access.ConsentDecision, error) {
	if self, ok := strings.CutPrefix(c.p.FHIRUser, "Patient/"); ok && slices.Contains(patients, self) {
		return access.ConsentDecision{}, nil
	}
	var cs []access.Consent
	for _, p := range patients {
		set, err := c.s.patientConsents(c.r.Context(), c.p.Tenant, p)
		if err != nil {
			return access.ConsentDecision{}, err
		}
		if set.broken {
			return access.ConsentDecision{Effect: access.ConsentDeny, Reason: "a Consent of the patient cannot be read"}, nil
		}
		cs = append(cs, set.consents...)
	}
	if len(cs) == 0 {
		return access.ConsentDecision{}, nil
	}
	action := "access"
	if a != access.Read && a != access.Search && a != access.History {
		action = "correct"
	}
	actors := []string{"role:" + roleSystem + "|" + c.p.Role}
	if c.p.FHIRUser != "" {
		actors = append(actors, c.p.FHIRUser)
	}
	return access.EvaluateConsents(cs, access.ConsentRequest{Actors: actors, Action: action, ResourceType: typ,
		ResourceRef: ref, Labels: labels, Time: c.s.d.Now()}), nil
}

// roleSystem names ward's roles in Consent actor roles.
const roleSystem = "urn:ward:role"

// patientConsents returns the active patient-privacy Consents of patient.
func (s *Server) patientConsents(ctx context.Context, tenant, patient string) (consentSet, error) {
	set, gen, ok := s.consents.get(tenant, patient)
	if ok {
		return set, nil
	}
	q, err := search.Parse("Consent", url.Values{"patient": {"Patient/" + patient}, "status": {"active"},
		"_count": {strconv.Itoa(maxConsents)}}, false)
	if err != nil {
		return consentSet{}, err
	}
	res, err := s.d.Search.Search(ctx, tenant, q, nil, index.Position{})
	if err != nil {
		return consentSet{}, err
	}
	set = consentSet{broken: res.Next != nil} // more than maxConsents: deny
	for _, m := range res.Matches {
		pc, err := access.ParseConsent(m.Body)
		if err != nil {
			set.broken = true
			continue
		}
		set.consents = append(set.consents, pc)
	}
	s.consents.put(tenant, patient, gen, set)
	return set, nil
}

// securityLabels are the meta.security codes of a resource's JSON.
func securityLabels(body []byte) []string {
	if !bytes.Contains(body, []byte(`"security"`)) {
		return nil
	}
	var r struct {
		Meta struct {
			Security []struct {
				Code string `json:"code"`
			} `json:"security"`
		} `json:"meta"`
	}
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	var out []string
	for _, l := range r.Meta.Security {
		out = append(out, l.Code)
	}
	return out
}
