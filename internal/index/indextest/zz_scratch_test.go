package indextest

import (
	"fmt"
	"testing"

	"github.com/wardhealth/ward/internal/fhir/search"
)

func TestScratch(t *testing.T) {
	for _, typ := range []string{"Patient", "Observation", "Encounter", "Condition", "Practitioner", "Organization", "MedicationRequest", "RiskAssessment"} {
		for _, p := range search.Params(typ) {
			fmt.Printf("%s %s %s %v %q\n", typ, p.Code, p.Type, p.Targets, p.Expression)
		}
	}
	fmt.Println(search.CompartmentParams("Patient", "Observation"), search.CompartmentParams("Patient", "Encounter"))
}
