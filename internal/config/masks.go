package config

// FieldMask withholds elements of one FHIR resource type from one role's
// responses, for the HIPAA minimum-necessary standard (a [[field_mask]]
// table). Remove lists element paths below the type, dotted: "note",
// "component.value[x]" (every valueXxx of every component). Their syntax
// is checked when ward starts (access.NewMasks), not the type's schema:
// a misspelt element name masks nothing.
//
// When any [[field_mask]] table is given, the tables replace the shipped
// defaults (access.DefaultMasks) entirely, so copy the defaults you mean
// to keep:
//
//	[[field_mask]]
//	role = "billing"
//	type = "Observation"
//	remove = ["value[x]", "interpretation", "note", "component.value[x]", "component.interpretation"]
//
// A masked response loses those elements and its narrative (text), and
// gains the security label MASKED (v3-ObservationValue) in meta.security.
type FieldMask struct {
	Role   string   `toml:"role"`   // a people's or client role, e.g. "billing"
	Type   string   `toml:"type"`   // a resource type, e.g. "Observation"; not Bundle
	Remove []string `toml:"remove"` // element paths below Type
}
