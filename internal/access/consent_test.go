package access

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// consentExamples is the official R4 examples, in shared/ beside the repository.
const consentExamples = "../../../shared/data/fhir-r4-examples"

// Fragments of Consent JSON for the tables below.
const (
	cPRCP    = `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PRCP"}]}`
	cAUT     = `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"AUT"}]}`
	cPSY     = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}`
	cOPTIN   = `,"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}`
	cOPTOUT  = `,"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}`
	cPrivacy = `"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]}`
)

func cActor(ref string) string {
	return `{"role":` + cPRCP + `,"reference":{"reference":"` + ref + `"}}`
}

func cClass(typ string) string {
	return `{"system":"http://hl7.org/fhir/resource-types","code":"` + typ + `"}`
}

func cAction(code string) string {
	return `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentaction","code":"` + code + `"}]}`
}

func cData(meaning, ref string) string {
	return `{"meaning":"` + meaning + `","reference":{"reference":"` + ref + `"}}`
}

// consentDoc is an active privacy Consent with the given id and extra
// members (each starting with a comma).
func consentDoc(id, extra string) string {
	return `{"resourceType":"Consent","id":"` + id + `","status":"active",` + cPrivacy +
		`,"category":[{"text":"privacy"}],"patient":{"reference":"Patient/p1"}` + extra + `}`
}

func consentProv(id, prov string) string { return consentDoc(id, `,"provision":`+prov) }

func mustConsents(t testing.TB, docs ...string) []Consent {
	t.Helper()
	cs := make([]Consent, len(docs))
	for i, d := range docs {
		c, err := ParseConsent([]byte(d))
		if err != nil {
			t.Fatalf("ParseConsent(%s): %v", d, err)
		}
		cs[i] = c
	}
	return cs
}

var consentNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// creq is practitioner actor's "access" to ref (Type/id) with labels, now.
func creq(actor, ref string, labels ...string) ConsentRequest {
	typ, _, _ := strings.Cut(ref, "/")
	return ConsentRequest{Actors: []string{actor}, Action: "access", ResourceType: typ, ResourceRef: ref, Labels: labels, Time: consentNow}
}

func (r ConsentRequest) at(t time.Time) ConsentRequest      { r.Time = t; return r }
func (r ConsentRequest) doing(a string) ConsentRequest      { r.Action = a; return r }
func (r ConsentRequest) as(actors ...string) ConsentRequest { r.Actors = actors; return r }

func TestEvaluateConsents(t *testing.T) {
	denyAll := func(id string) string { return consentProv(id, `{"type":"deny"}`) }
	permitAll := consentProv("permit-all", `{"type":"permit"}`)
	denyP1 := consentProv("deny-p1", `{"type":"deny","actor":[`+cActor("Practitioner/1")+`]}`)
	denyButP1 := consentProv("deny-but-p1", `{"type":"deny","provision":[{"type":"permit","actor":[`+cActor("Practitioner/1")+`]}]}`)
	permitButPSY := consentProv("permit-but", `{"type":"permit","provision":[`+
		`{"type":"deny","securityLabel":[`+cPSY+`]},{"type":"deny","class":[`+cClass("DocumentReference")+`]}]}`)
	in2024 := consentProv("deny-2024", `{"type":"deny","period":{"start":"2024-01-01","end":"2024-12-31"},`+
		`"provision":[{"type":"permit","period":{"start":"2024-03-01T00:00:00Z","end":"2024-03-31T23:59:59Z"}}]}`)
	inactive := strings.Replace(denyAll("inactive"), `"status":"active"`, `"status":"inactive"`, 1)
	draft := strings.Replace(denyAll("draft"), `"status":"active"`, `"status":"draft"`, 1)
	research := strings.Replace(denyAll("research"), `patient-privacy`, `research`, 1)
	nested := consentProv("nested", `{"type":"deny","provision":[{"type":"permit","actor":[`+cActor("Practitioner/1")+`],`+
		`"provision":[{"type":"deny","securityLabel":[`+cPSY+`],`+
		`"provision":[{"type":"permit","data":[`+cData("instance", "Observation/9")+`]}]}]}]}`)
	byURL := consentProv("by-url", `{"type":"deny","actor":[`+cActor("https://ward.example/fhir/Practitioner/1")+`]}`)
	notObs9 := consentProv("not-obs9", `{"type":"permit","provision":[{"type":"deny","data":[`+cData("instance", "Observation/9")+`]}]}`)
	noFamily := consentProv("no-family", `{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"FAMMEMB"}]}}]}`)
	etreatOnly := consentProv("etreat-only", `{"type":"deny","provision":[{"type":"permit","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"ETREAT"}]}]}`)
	noMarketing := consentProv("no-marketing", `{"type":"permit","provision":[{"type":"deny","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HMARKT"}]}]}`)
	notByAuthor := consentProv("not-by-author", `{"type":"permit","provision":[{"type":"deny","actor":[{"role":`+cAUT+`,"reference":{"reference":"Practitioner/7"}}]}]}`)
	cdaOnly := consentProv("cda-only", `{"type":"permit","class":[{"system":"urn:ietf:bcp:13","code":"application/hl7-cda+xml"}]}`)
	uncertainRoot := consentProv("uncertain-root", `{"type":"deny","purpose":[{"code":"HRESCH"}],"provision":[{"type":"permit","actor":[`+cActor("Practitioner/1")+`]}]}`)
	optinRoot := consentDoc("optin", cOPTIN+`,"provision":{"actor":[`+cActor("Practitioner/1")+`]}`)
	optoutRoot := consentDoc("optout", cOPTOUT+`,"provision":{"actor":[`+cActor("Practitioner/1")+`]}`)
	noBase := consentDoc("no-base", `,"provision":{"actor":[`+cActor("Practitioner/1")+`]}`)
	optoutOnly := consentDoc("optout-only", cOPTOUT)
	bare := consentDoc("bare", "")
	untypedNested := consentProv("untyped", `{"type":"permit","provision":[{"actor":[`+cActor("Practitioner/1")+`]}]}`)
	siblings := consentProv("siblings", `{"type":"deny","provision":[{"type":"permit","actor":[`+cActor("Practitioner/1")+`]},{"type":"deny","class":[`+cClass("Observation")+`]}]}`)
	uptoN := consentProv("upto-n", `{"type":"deny","provision":[{"type":"permit","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}]}`)
	noCorrect := consentProv("no-correct", `{"type":"deny","action":[`+cAction("correct")+`]}`)

	p1 := func(ref string, labels ...string) ConsentRequest { return creq("Practitioner/1", ref, labels...) }
	p2 := func(ref string, labels ...string) ConsentRequest { return creq("Practitioner/2", ref, labels...) }
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		name   string
		docs   []string
		req    ConsentRequest
		effect string
		id     string
		reason []string
	}{
		// Base deny with a permit exception for one practitioner.
		{"deny base: excepted practitioner permitted", []string{denyButP1}, p1("Observation/1"), "permit", "deny-but-p1", []string{"consent deny-but-p1: permit by provision.provision[0] on actor"}},
		{"deny base: other practitioner denied", []string{denyButP1}, p2("Observation/1"), "deny", "deny-but-p1", []string{"deny by provision"}},
		// Base permit with deny exceptions for a label and for a resource type.
		{"permit base: unlabelled permitted", []string{permitButPSY}, p2("Observation/1"), "permit", "permit-but", []string{"permit by provision"}},
		{"permit base: other label permitted", []string{permitButPSY}, p2("Observation/1", "HIV"), "permit", "permit-but", nil},
		{"permit base: PSY denied", []string{permitButPSY}, p2("Observation/1", "HIV", "PSY"), "deny", "permit-but", []string{"deny by provision.provision[0] on securityLabel"}},
		{"permit base: PSY given as system|code denied", []string{permitButPSY}, p2("Observation/1", "http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY"), "deny", "permit-but", nil},
		{"permit base: DocumentReference denied", []string{permitButPSY}, p2("DocumentReference/4"), "deny", "permit-but", []string{"deny by provision.provision[1] on class"}},
		// Periods: the root's bounds the Consent, a nested one its exception.
		{"before the period: ignored", []string{in2024}, p2("Observation/1").at(day("2023-12-31T23:59:59Z")), "", "", []string{"no applicable consent (1 given: 0 not active patient-privacy, 1 not applicable)"}},
		{"within the period: denied", []string{in2024}, p2("Observation/1"), "deny", "deny-2024", []string{"deny by provision on period"}},
		{"end date includes its whole day", []string{in2024}, p2("Observation/1").at(day("2024-12-31T23:30:00Z")), "deny", "deny-2024", nil},
		{"after the period: ignored", []string{in2024}, p2("Observation/1").at(day("2025-01-01T00:00:00Z")), "", "", nil},
		{"nested period: excepted", []string{in2024}, p2("Observation/1").at(day("2024-03-15T00:00:00Z")), "permit", "deny-2024", []string{"permit by provision.provision[0] on period"}},
		{"nested period end second included", []string{in2024}, p2("Observation/1").at(day("2024-03-31T23:59:59.5Z")), "permit", "deny-2024", nil},
		{"nested period over", []string{in2024}, p2("Observation/1").at(day("2024-04-01T00:00:00Z")), "deny", "deny-2024", nil},
		// Only active privacy Consents count.
		{"inactive, draft and research ignored", []string{inactive, draft, research}, p2("Observation/1"), "", "", []string{"(3 given: 3 not active patient-privacy, 0 not applicable)"}},
		{"inactive deny does not hide a permit", []string{inactive, permitAll}, p2("Observation/1"), "permit", "permit-all", nil},
		{"no consents", nil, p2("Observation/1"), "", "", []string{"no applicable consent (0 given"}},
		// Across Consents deny wins, and the deciding one is named.
		{"two consents: deny wins", []string{permitAll, denyP1}, p1("Observation/1"), "deny", "deny-p1", []string{"consent deny-p1: deny by provision on actor"}},
		{"two consents: deny wins in either order", []string{denyP1, permitAll}, p1("Observation/1"), "deny", "deny-p1", nil},
		{"two consents: permit where none denies", []string{denyP1, permitAll}, p2("Observation/1"), "permit", "permit-all", nil},
		{"two denies: the first is named", []string{denyAll("d1"), denyAll("d2")}, p2("Observation/1"), "deny", "d1", nil},
		// Three levels of exceptions under the root: the deepest match decides.
		{"nested: root", []string{nested}, p2("Observation/1"), "deny", "nested", []string{"deny by provision"}},
		{"nested: level 1", []string{nested}, p1("Observation/1"), "permit", "nested", []string{"permit by provision.provision[0] on actor"}},
		{"nested: level 2", []string{nested}, p1("Observation/1", "PSY"), "deny", "nested", []string{"deny by provision.provision[0].provision[0] on securityLabel"}},
		{"nested: level 3", []string{nested}, p1("Observation/9", "PSY"), "permit", "nested", []string{"permit by provision.provision[0].provision[0].provision[0] on data"}},
		{"nested: level 3 needs level 1", []string{nested}, p2("Observation/9", "PSY"), "deny", "nested", []string{"deny by provision"}},
		// Actors compare on their trailing Type/id.
		{"actor by full URL", []string{byURL}, p1("Observation/1"), "deny", "by-url", []string{"on actor"}},
		{"requester by versioned URL", []string{byURL}, p1("Observation/1").as("https://other.example/r4/Practitioner/1/_history/3"), "deny", "by-url", nil},
		{"id prefix is not a match", []string{byURL}, p1("Observation/1").as("Practitioner/10"), "", "", nil},
		{"type is part of the match", []string{byURL}, p1("Observation/1").as("Organization/1"), "", "", nil},
		{"role-only actor matches a role", []string{noFamily}, p2("Observation/1").as("RelatedPerson/2", "role:http://terminology.hl7.org/CodeSystem/v3-RoleCode|FAMMEMB"), "deny", "no-family", []string{"on actor"}},
		{"role-only actor, other role", []string{noFamily}, p2("Observation/1").as("Practitioner/2", "role:http://terminology.hl7.org/CodeSystem/v3-RoleCode|PROV"), "", "", nil},
		// Data instance.
		{"data instance denied", []string{notObs9}, p2("Observation/9"), "deny", "not-obs9", []string{"deny by provision.provision[0] on data"}},
		{"data instance by URL", []string{notObs9}, p2("https://ward.example/fhir/Observation/9"), "deny", "not-obs9", nil},
		{"other instance permitted", []string{notObs9}, p2("Observation/90"), "permit", "not-obs9", nil},
		{"type-level check resolves data to deny", []string{notObs9}, ConsentRequest{Actors: []string{"Practitioner/2"}, Action: "access", ResourceType: "Observation", Time: consentNow}, "deny", "not-obs9", []string{"not evaluated, resolved restrictively: data"}},
		// Criteria a request cannot answer are resolved restrictively.
		{"purpose permit not assumed", []string{etreatOnly}, p2("Observation/1"), "deny", "etreat-only", []string{"deny by provision"}},
		{"purpose deny assumed", []string{noMarketing}, p2("Observation/1"), "deny", "no-marketing", []string{"deny by provision.provision[0]", "resolved restrictively: purpose"}},
		{"author actor deny assumed", []string{notByAuthor}, p2("Observation/1"), "deny", "not-by-author", []string{"resolved restrictively: actor.role"}},
		{"other class system: permit not assumed", []string{cdaOnly}, p2("DocumentReference/1"), "", "", nil},
		{"uncertain deny root: exception may not apply", []string{uncertainRoot}, p1("Observation/1"), "", "", nil},
		{"uncertain deny root: others denied", []string{uncertainRoot}, p2("Observation/1"), "deny", "uncertain-root", []string{"resolved restrictively: purpose"}},
		// A provision without a type is an exception to what encloses it.
		{"untyped root under OPTIN denies", []string{optinRoot}, p1("Observation/1"), "deny", "optin", []string{"deny by provision (exception to policyRule OPTIN) on actor"}},
		{"untyped root under OPTIN: others untouched", []string{optinRoot}, p2("Observation/1"), "", "", nil},
		{"untyped root under OPTOUT permits", []string{optoutRoot}, p1("Observation/1"), "permit", "optout", []string{"exception to policyRule OPTOUT"}},
		{"untyped root without base rule denies", []string{noBase}, p1("Observation/1"), "deny", "no-base", []string{"no type and no OPTIN or OPTOUT policyRule"}},
		{"OPTOUT without provision denies all", []string{optoutOnly}, p2("Observation/1"), "deny", "optout-only", []string{"deny by policyRule OPTOUT (no provision)"}},
		{"no rule at all says nothing", []string{bare}, p2("Observation/1"), "", "", nil},
		{"untyped nested is the opposite", []string{untypedNested}, p1("Observation/1"), "deny", "untyped", []string{"deny by provision.provision[0] (opposite of enclosing provision)"}},
		// Matching siblings: deny wins.
		{"siblings: deny wins", []string{siblings}, p1("Observation/1"), "deny", "siblings", []string{"provision.provision[1] on class"}},
		{"siblings: one matches", []string{siblings}, p1("Condition/1"), "permit", "siblings", []string{"provision.provision[0] on actor"}},
		// Confidentiality is a high-water mark.
		{"label N covers L", []string{uptoN}, p2("Observation/1", "L"), "permit", "upto-n", nil},
		{"label N covers N", []string{uptoN}, p2("Observation/1", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N"), "permit", "upto-n", nil},
		{"label N does not cover R", []string{uptoN}, p2("Observation/1", "R"), "deny", "upto-n", nil},
		{"label N does not cover unlabelled", []string{uptoN}, p2("Observation/1"), "deny", "upto-n", nil},
		// Actions.
		{"other action not matched", []string{noCorrect}, p2("Observation/1"), "", "", nil},
		{"action matched", []string{noCorrect}, p2("Observation/1").doing("correct"), "deny", "no-correct", []string{"on action"}},
		// Requests the API must never make are denied.
		{"no time", []string{permitAll}, p2("Observation/1").at(time.Time{}), "deny", "", []string{"consent check refused: no request time"}},
		{"unknown action", []string{permitAll}, p2("Observation/1").doing("read"), "deny", "", []string{"not a consentaction code"}},
		{"no type", nil, ConsentRequest{Action: "access", Time: consentNow}, "deny", "", []string{"no resource type"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := EvaluateConsents(mustConsents(t, c.docs...), c.req)
			if d.Effect != c.effect || d.ConsentID != c.id {
				t.Fatalf("got %q by %q (%s), want %q by %q", d.Effect, d.ConsentID, d.Reason, c.effect, c.id)
			}
			for _, r := range c.reason {
				if !strings.Contains(d.Reason, r) {
					t.Errorf("reason %q lacks %q", d.Reason, r)
				}
			}
			if d.Reason == "" || strings.ContainsAny(d.Reason, "/\n") {
				t.Errorf("reason %q is empty or names a resource", d.Reason)
			}
		})
	}
}

// TestEvaluateConsentsChanges shows that nothing is remembered between
// calls: a Consent withdrawn between two requests no longer applies.
func TestEvaluateConsentsChanges(t *testing.T) {
	cs := mustConsents(t, consentProv("c", `{"type":"deny"}`))
	if d := EvaluateConsents(cs, creq("Practitioner/1", "Observation/1")); d.Effect != ConsentDeny {
		t.Fatalf("active: %+v", d)
	}
	cs[0].Active = false
	if d := EvaluateConsents(cs, creq("Practitioner/1", "Observation/1")); d.Effect != "" {
		t.Fatalf("withdrawn: %+v", d)
	}
}

func TestParseConsent(t *testing.T) {
	doc := `{"resourceType":"Consent","id":"c-1","status":"active",` + cPrivacy + `,
		"patient":{"reference":"https://ward.example/fhir/Patient/p1"},"dateTime":"2024-05-06T07:08:09+02:00",` + cOPTOUT[1:] + `,
		"provision":{"period":{"start":"2024","end":"2024-06"},"actor":[` + cActor("Practitioner/1") + `],
		"action":[` + cAction("access") + `,{"coding":[{"system":"http://example.org/acts","code":"print"}]}],
		"class":[` + cClass("Observation") + `,{"system":"http://hl7.org/fhir/StructureDefinition","code":"bp"}],
		"securityLabel":[` + cPSY + `],"purpose":[{"code":"TREAT"}],"dataPeriod":{"start":"2020"},
		"data":[` + cData("related", "Task/t1/_history/2") + `],
		"provision":[{"type":"deny","actor":[{"role":` + cAUT + `,"reference":{"reference":"Organization/o1"}}],"code":[{"text":"x"}]}]},
		"sourceAttachment":{"data":"AAAA"},"text":{"div":"<div>ignored</div>"}}`
	got, err := ParseConsent([]byte("\xef\xbb\xbf" + doc))
	if err != nil {
		t.Fatal(err)
	}
	prcp := "http://terminology.hl7.org/CodeSystem/v3-ParticipationType|PRCP"
	want := Consent{
		ID: "c-1", Patient: "Patient/p1", Active: true, Scope: "patient-privacy", PolicyRule: "OPTOUT",
		DateTime: time.Date(2024, 5, 6, 5, 8, 9, 0, time.UTC),
		Provision: &Provision{
			Period:         ConsentPeriod{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)},
			Actors:         []ConsentActor{{Reference: "Practitioner/1", Role: prcp}},
			Actions:        []string{"access"},
			Classes:        []string{"Observation"},
			SecurityLabels: []string{"PSY"},
			Data:           []ConsentData{{Meaning: "related", Reference: "Task/t1"}},
			Unevaluated:    []string{"action", "class", "purpose", "dataPeriod"},
			Provisions: []Provision{{
				Type:        "deny",
				Actors:      []ConsentActor{{Reference: "Organization/o1", Role: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType|AUT"}},
				Unevaluated: []string{"code"},
			}},
		},
	}
	if !got.DateTime.Equal(want.DateTime) {
		t.Errorf("dateTime %v, want %v", got.DateTime, want.DateTime)
	}
	got.DateTime = want.DateTime
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got.Provision, want.Provision)
	}
	if !got.Provision.Provisions[0].Actors[0].SourceRole() || got.Provision.Actors[0].SourceRole() {
		t.Error("SourceRole: AUT is a source role, PRCP is not")
	}
}

func TestParseConsentErrors(t *testing.T) {
	nest := func(levels int) string {
		return consentProv("deep", strings.Repeat(`{"type":"deny","provision":[`, levels-1)+`{"type":"deny"}`+strings.Repeat(`]}`, levels-1))
	}
	siblings := func(n int) string {
		return consentProv("wide", `{"type":"deny","provision":[`+strings.Repeat(`{"type":"permit"},`, n-1)+`{"type":"permit"}]}`)
	}
	wide3 := consentProv("many", `{"type":"deny","provision":[`+strings.Repeat(`{"type":"permit","provision":[{"type":"deny"},{"type":"deny"},{"type":"deny"}]},`, 255)+`{"type":"permit"}]}`)
	if _, err := ParseConsent([]byte(nest(16))); err != nil {
		t.Fatalf("16 levels: %v", err)
	}
	if _, err := ParseConsent([]byte(siblings(256))); err != nil {
		t.Fatalf("256 siblings: %v", err)
	}
	for _, c := range []struct {
		name, doc, want string
	}{
		{"not JSON", `{"resourceType":"Consent",`, "malformed JSON at byte"},
		{"trailing garbage", consentDoc("x", "") + "PHIMARKER", "malformed JSON"},
		{"array", `[]`, "resource: unexpected JSON array"},
		{"not a Consent", `{"resourceType":"Patient","id":"PHIMARKER"}`, "resourceType is not Consent"},
		{"status a number", `{"resourceType":"Consent","status":5}`, "status: unexpected JSON number"},
		{"huge number", `{"resourceType":"Consent","status":1e99999}`, "status: unexpected JSON number"},
		{"bad id", consentDoc("PHI MARKER", ""), "id is not a FHIR id"},
		{"long id", consentDoc(strings.Repeat("a", 65), ""), "id is not a FHIR id"},
		{"bad dateTime", consentDoc("x", `,"dateTime":"PHIMARKER"`), "dateTime: not a FHIR date"},
		{"impossible date", consentDoc("x", `,"dateTime":"2024-02-30"`), "dateTime: not a FHIR date"},
		{"time without zone", consentDoc("x", `,"dateTime":"2024-02-03T10:00:00"`), "dateTime: not a FHIR date"},
		{"provision an array", consentDoc("x", `,"provision":[]`), "provision: unexpected JSON array"},
		{"actor an object", consentProv("x", `{"actor":{"reference":{"reference":"Practitioner/1"}}}`), "provision.actor: unexpected JSON object"},
		{"type unknown", consentProv("x", `{"type":"PHIMARKER"}`), "provision.type is not permit or deny"},
		{"type a bool", consentProv("x", `{"type":true}`), "provision.type: unexpected JSON bool"},
		{"nested type unknown", consentProv("x", `{"provision":[{},{"type":"allow"}]}`), "provision.provision[1].type is not permit or deny"},
		{"bad period", consentProv("x", `{"period":{"start":"PHIMARKER"}}`), "provision.period: start: not a FHIR date"},
		{"period backwards", consentProv("x", `{"period":{"start":"2024-02-01","end":"2024-01-01"}}`), "end before start"},
		{"null nested provision", consentProv("x", `{"provision":[null]}`), "provision.provision[0] is null"},
		{"empty actor", consentProv("x", `{"actor":[{}]}`), "provision.actor[0]: no reference or role"},
		{"label without code", consentProv("x", `{"securityLabel":[{"system":"PHIMARKER"}]}`), "securityLabel[0]: no code"},
		{"class without code", consentProv("x", `{"class":[{}]}`), "class[0]: no code"},
		{"data meaning unknown", consentProv("x", `{"data":[`+cData("PHIMARKER", "Observation/1")+`]}`), "data[0]: meaning is not"},
		{"data without reference", consentProv("x", `{"data":[{"meaning":"instance"}]}`), "data[0]: no reference"},
		{"17 levels", nest(17), "nested deeper than 16 levels"},
		{"JSON nested 20000 deep", consentDoc("x", `,"provision":`+strings.Repeat(`{"provision":[`, 20000)+strings.Repeat(`]}`, 20000)), "malformed JSON"},
		{"257 siblings", siblings(257), "more than 256 entries"},
		{"over 1000 provisions", wide3, "more than 1000 provisions"},
		{"too large", consentDoc("x", `,"text":{"div":"`+strings.Repeat("a", consentMaxBytes)+`"}`), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConsent([]byte(c.doc))
			if !errors.Is(err, ErrInvalidConsent) {
				t.Fatalf("err %v, want ErrInvalidConsent", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %q lacks %q", err, c.want)
			}
			if strings.Contains(err.Error(), "PHIMARKER") || strings.Contains(err.Error(), "PHI MARKER") {
				t.Errorf("err %q echoes the input", err)
			}
		})
	}
}

// TestConsentExamples parses every official R4 Consent example and checks
// decisions against what their narratives say.
func TestConsentExamples(t *testing.T) {
	if _, err := os.Stat(consentExamples); err != nil {
		t.Skipf("test data absent: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(consentExamples, "Consent-*.json"))
	if len(files) != 12 {
		t.Fatalf("%d Consent examples, want 12", len(files))
	}
	byID := map[string]Consent{}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseConsent(body)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if !c.Active || c.Scope != ScopePatientPrivacy || c.Provision == nil || c.DateTime.IsZero() || !strings.HasPrefix(c.Patient, "Patient/") {
			t.Errorf("%s: %+v", filepath.Base(f), c)
		}
		byID[c.ID] = c
	}
	them := byID["consent-example-notThem"]
	if them.Patient != "Patient/f001" || them.PolicyRule != "OPTIN" || !them.DateTime.Equal(time.Date(2015, 11, 18, 0, 0, 0, 0, time.UTC)) ||
		!reflect.DeepEqual(them.Provision.Actors, []ConsentActor{{Reference: "Practitioner/f204", Role: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType|PRCP"}}) ||
		!reflect.DeepEqual(them.Provision.Actions, []string{"access", "correct"}) {
		t.Errorf("notThem parsed as %+v / %+v", them, them.Provision)
	}

	smartT := time.Date(2016, 6, 23, 7, 10, 0, 0, time.UTC) // 17:10 at +10:00, within the 30 minutes
	for _, c := range []struct {
		name, id string
		req      ConsentRequest
		effect   string
		reason   []string
	}{
		// "she does not want her ex-spouse [Practitioner/f204] to have any access"
		{"notThem: the ex-spouse is denied", "consent-example-notThem", creq("Practitioner/f204", "Observation/o1"), "deny", []string{"exception to policyRule OPTIN", "on actor, action"}},
		{"notThem: nor may he correct", "consent-example-notThem", creq("Practitioner/f204", "Observation/o1").doing("correct"), "deny", nil},
		{"notThem: other staff unaffected", "consent-example-notThem", creq("Practitioner/f001", "Observation/o1"), "", nil},
		// "withdraw/withhold consent to disclose ... to Good Health Clinic [Organization/f001]"
		{"notOrg: the clinic is denied", "consent-example-notOrg", creq("Organization/f001", "Condition/c1"), "deny", []string{"deny by provision on actor, action"}},
		{"notOrg: others unaffected", "consent-example-notOrg", creq("Organization/f002", "Condition/c1"), "", nil},
		// "withhold consent to disclose the order [Task/example3] and all results"
		{"notThis: the order is denied", "consent-example-notThis", creq("Practitioner/f001", "Task/example3"), "deny", []string{"on data"}},
		{"notThis: related results may be denied", "consent-example-notThis", creq("Practitioner/f001", "Observation/o1"), "deny", []string{"resolved restrictively: data"}},
		// "PHI collected at Good Health [custodian Organization/f001] restricted from disclosure to every provider"
		{"notAuthor: every provider is denied", "consent-example-notAuthor", creq("Practitioner/f001", "Observation/o1"), "deny", []string{"resolved restrictively: actor.role"}},
		// The SMART app may read MedicationRequests for 30 minutes, nothing else.
		{"smartonfhir: medication requests permitted", "consent-example-smartonfhir", creq("RelatedPerson/peter", "MedicationRequest/m1").at(smartT), "permit", []string{"permit by provision.provision[0] on action, class"}},
		{"smartonfhir: other types denied", "consent-example-smartonfhir", creq("RelatedPerson/peter", "Observation/o1").at(smartT), "deny", []string{"deny by provision (exception to policyRule OPTIN) on period"}},
		{"smartonfhir: over after 30 minutes", "consent-example-smartonfhir", creq("RelatedPerson/peter", "MedicationRequest/m1").at(smartT.Add(31 * time.Minute)), "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cons, ok := byID[c.id]
			if !ok {
				t.Fatalf("no example %s", c.id)
			}
			d := EvaluateConsents([]Consent{cons}, c.req)
			if d.Effect != c.effect {
				t.Fatalf("got %q (%s), want %q", d.Effect, d.Reason, c.effect)
			}
			for _, r := range c.reason {
				if !strings.Contains(d.Reason, r) {
					t.Errorf("reason %q lacks %q", d.Reason, r)
				}
			}
		})
	}
}

// FuzzParseConsent checks that hostile Consents neither panic the parser
// nor the evaluation, and that a decision is always well formed.
func FuzzParseConsent(f *testing.F) {
	f.Add([]byte(consentProv("a", `{"type":"deny","provision":[{"type":"permit","actor":[`+cActor("Practitioner/1")+`]}]}`)))
	f.Add([]byte(consentDoc("b", cOPTIN+`,"provision":{"data":[`+cData("related", "Task/1")+`],"purpose":[{}],"provision":[{"securityLabel":[{"code":"N"}]}]}`)))
	f.Add([]byte(consentProv("c", `{"period":{"start":"2024-01-01T00:00:00.123+14:00","end":"2025"},"provision":[null]}`)))
	if files, _ := filepath.Glob(filepath.Join(consentExamples, "Consent-*.json")); len(files) > 0 {
		for _, file := range files[:3] {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseConsent(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidConsent) {
				t.Fatalf("error %v does not wrap ErrInvalidConsent", err)
			}
			return
		}
		c.Active, c.Scope = true, ScopePatientPrivacy
		for _, r := range []ConsentRequest{creq("Practitioner/1", "Observation/1", "N"), creq("role:x|y", "Task/1").doing("correct")} {
			d := EvaluateConsents([]Consent{c}, r)
			if d.Effect != "" && d.Effect != ConsentPermit && d.Effect != ConsentDeny || d.Reason == "" {
				t.Fatalf("decision %+v", d)
			}
		}
	})
}
