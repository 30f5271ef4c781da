// Package auditfhir turns audit events into FHIR R4 AuditEvent resources
// for export (`ward audit export --fhir`). It is pure: events in, JSON out.
package auditfhir

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/wardhealth/ward/internal/audit"
)

// Code systems used in the export.
const (
	eventTypeSystem   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	dicomSystem       = "http://dicom.nema.org/resources/ontology/DCM"
	restSystem        = "http://hl7.org/fhir/restful-interaction"
	sourceTypeSystem  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	participationType = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	// WardSubtypeSystem names ward's own subtypes (authenticate,
	// client-create, audit-proof, ...), which have no standard code.
	WardSubtypeSystem = "https://wardhealth.org/fhir/CodeSystem/audit-subtype"
	// ActorSystem names ward's actor ids (client ids, user ids, os:<user>).
	ActorSystem = "https://wardhealth.org/fhir/NamingSystem/actor"
	// ObjectSystem names ward objects that are not FHIR resources (clients).
	ObjectSystem = "https://wardhealth.org/fhir/NamingSystem/object"
	// SessionExtension carries the actor's session (or token) id.
	SessionExtension = "https://wardhealth.org/fhir/StructureDefinition/audit-session"
	entityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	objectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role"
)

// restful lists the subtypes that are FHIR RESTful interactions.
var restful = map[string]bool{
	"read": true, "vread": true, "update": true, "patch": true, "delete": true,
	"history-instance": true, "history-type": true, "history-system": true,
	"create": true, "search-type": true, "search-system": true, "capabilities": true,
	"transaction": true, "batch": true,
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type network struct {
	Address string `json:"address"`
	Type    string `json:"type"`
}

type extension struct {
	URL         string `json:"url"`
	ValueString string `json:"valueString"`
}

type agent struct {
	Extension []extension `json:"extension,omitempty"`
	Type      *concept    `json:"type,omitempty"`
	Role      []concept   `json:"role,omitempty"`
	Who       *reference  `json:"who,omitempty"`
	Requestor bool        `json:"requestor"`
	Network   *network    `json:"network,omitempty"`
	Purpose   []concept   `json:"purposeOfUse,omitempty"`
}

type source struct {
	Site     string    `json:"site,omitempty"`
	Observer reference `json:"observer"`
	Type     []coding  `json:"type,omitempty"`
}

type entity struct {
	What  *reference `json:"what,omitempty"`
	Type  *coding    `json:"type,omitempty"`
	Role  *coding    `json:"role,omitempty"`
	Query string     `json:"query,omitempty"`
}

type auditEvent struct {
	ResourceType string    `json:"resourceType"`
	ID           string    `json:"id"`
	Type         coding    `json:"type"`
	Subtype      []coding  `json:"subtype,omitempty"`
	Action       string    `json:"action,omitempty"`
	Recorded     string    `json:"recorded"`
	Outcome      string    `json:"outcome,omitempty"`
	OutcomeDesc  string    `json:"outcomeDesc,omitempty"`
	Agent        []agent   `json:"agent"`
	Purpose      []concept `json:"purposeOfEvent,omitempty"`
	Source       source    `json:"source"`
	Entity       []entity  `json:"entity,omitempty"`
}

// IsResourceType reports whether a name is a FHIR resource type; the
// caller passes fhir.IsResourceType (this package stays free of it).
type IsResourceType func(string) bool

// AuditEvent returns the R4 AuditEvent of the event at ledger index.
// Entities that are FHIR resources become references (Type/id); others
// (clients) identifiers. No PHI is added: events carry ids only.
func AuditEvent(index uint64, e audit.Event, isResource IsResourceType) ([]byte, error) {
	ae := auditEvent{
		ResourceType: "AuditEvent",
		ID:           "ward-" + strconv.FormatUint(index, 10),
		Recorded:     e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
		Action:       e.Action,
		Source: source{
			Site:     "ward",
			Observer: reference{Display: "ward (" + entryPoint(e) + ")"},
			Type:     []coding{{System: sourceTypeSystem, Code: "4", Display: "Application Server"}},
		},
	}
	if restful[e.Subtype] && e.EntryPoint != "cli" {
		ae.Type = coding{System: eventTypeSystem, Code: "rest", Display: "RESTful Operation"}
		ae.Subtype = []coding{{System: restSystem, Code: e.Subtype}}
	} else {
		ae.Type = coding{System: dicomSystem, Code: "110100", Display: "Application Activity"}
		if e.Subtype != "" {
			ae.Subtype = []coding{{System: WardSubtypeSystem, Code: e.Subtype}}
		}
	}
	switch {
	case e.Outcome == 0:
	case e.Outcome < 400:
		ae.Outcome = "0"
	case e.Outcome < 500:
		ae.Outcome = "4"
	default:
		ae.Outcome = "8"
	}
	if e.Outcome != 0 {
		ae.OutcomeDesc = "HTTP " + strconv.Itoa(e.Outcome)
	}
	a := agent{Requestor: true, Type: &concept{Coding: []coding{{System: participationType, Code: "IRCP", Display: "information recipient"}}}}
	if e.ActorID != "" {
		a.Who = &reference{Identifier: &identifier{System: ActorSystem, Value: e.ActorID}}
	}
	if e.Role != "" {
		a.Role = []concept{{Text: e.Role}}
	}
	if e.SourceIP != "" {
		a.Network = &network{Address: e.SourceIP, Type: "2"} // 2 = IP address
	}
	if e.SessionID != "" {
		a.Extension = []extension{{URL: SessionExtension, ValueString: e.SessionID}}
	}
	if e.Purpose != "" {
		p := []concept{{Coding: []coding{{System: audit.PurposeSystem, Code: e.Purpose}}}}
		a.Purpose, ae.Purpose = p, p
	}
	ae.Agent = []agent{a}
	var ent entity
	switch {
	case e.EntityType != "" && e.EntityID != "" && isResource(e.EntityType):
		ref := e.EntityType + "/" + e.EntityID
		if e.Version > 0 {
			ref += "/_history/" + strconv.FormatInt(e.Version, 10)
		}
		ent.What = &reference{Reference: ref}
	case e.EntityID != "":
		ent.What = &reference{Identifier: &identifier{System: ObjectSystem, Value: e.EntityType + "/" + e.EntityID}}
	}
	if e.Query != "" {
		// Parameter names only, never values: as recorded.
		ent.Query = base64.StdEncoding.EncodeToString([]byte(e.Query))
	}
	if ent.What != nil || ent.Query != "" {
		ae.Entity = []entity{ent}
	}
	// The patient whose record it is, unless the entity is that Patient.
	if e.PatientID != "" && !(e.EntityType == "Patient" && e.EntityID == e.PatientID) {
		ae.Entity = append(ae.Entity, entity{
			What: &reference{Reference: "Patient/" + e.PatientID},
			Type: &coding{System: entityTypeSystem, Code: "1", Display: "Person"},
			Role: &coding{System: objectRoleSystem, Code: "1", Display: "Patient"},
		})
	}
	return json.Marshal(ae)
}

func entryPoint(e audit.Event) string {
	if e.EntryPoint == "" {
		return "api"
	}
	return e.EntryPoint
}
