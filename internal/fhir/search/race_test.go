//go:build race

package search

// raceEnabled reports whether the race detector is on. The oracle tests
// then check a sample of the data: gofhir/fhirpath under -race takes
// minutes over all of it.
const raceEnabled = true
