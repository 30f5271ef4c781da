package api

import (
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/store"
)

// patientOf returns the patient whose record v is, for its audit event:
// a Patient's own id, else the first patient of the resource's Patient
// compartment (the one whose data key seals it), else "". It shares the
// call's parse of v with the access decision (patientsOf).
func (c *call) patientOf(v store.Version) string {
	if ps := c.patientsOf(v); len(ps) > 0 {
		return ps[0]
	}
	return ""
}

// patientOfResource is patientOf for a parsed resource.
func patientOfResource(r *fhir.Resource) string {
	if ids := r.PatientIDs(); len(ids) > 0 {
		return ids[0]
	}
	return ""
}
