package api

import (
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/store"
)

// patientOf returns the patient whose record v is, for its audit event:
// a Patient's own id, else the first patient of the resource's Patient
// compartment (the one whose data key seals it), else "".
func patientOf(v store.Version) string {
	if v.Type == "Patient" {
		return v.ID
	}
	if v.Body == nil {
		return ""
	}
	r, err := fhir.Parse(v.Body)
	if err != nil {
		return ""
	}
	return patientOfResource(r)
}

// patientOfResource is patientOf for a parsed resource.
func patientOfResource(r *fhir.Resource) string {
	if ids := r.PatientIDs(); len(ids) > 0 {
		return ids[0]
	}
	return ""
}
