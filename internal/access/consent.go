package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Consent evaluation (issue 6, item 3): a patient's active FHIR R4 privacy
// Consents are checked on every read and search. The API loads them and
// calls EvaluateConsents per decision; nothing here is cached, so a changed
// Consent takes effect on the next request.

// Consent effects, as in ConsentDecision.Effect and Provision.Type.
const (
	ConsentPermit = "permit"
	ConsentDeny   = "deny"
)

// ScopePatientPrivacy is the consentscope code of the Consents that are
// enforced; Consents with another scope are ignored.
const ScopePatientPrivacy = "patient-privacy"

// ErrInvalidConsent is wrapped by every ParseConsent error. Messages name
// elements and byte offsets, never values, so they carry no PHI.
var ErrInvalidConsent = errors.New("invalid Consent")

// Bounds on hostile input. Real Consents are far below them; a stored
// Consent that exceeds them fails to parse, and the caller must then deny.
const (
	consentMaxBytes      = 8 << 20 // sourceAttachment may carry a scanned form
	consentMaxDepth      = 16      // levels of provisions, the root included
	consentMaxProvisions = 1000
	consentMaxList       = 256 // entries in one element list (actor, class, ...)
)

const (
	consentScopeSystem  = "http://terminology.hl7.org/CodeSystem/consentscope"
	consentActionSystem = "http://terminology.hl7.org/CodeSystem/consentaction"
	resourceTypeSystem  = "http://hl7.org/fhir/resource-types"
	actCodeSystem       = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	participationSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
)

// Consent is the part of a FHIR R4 Consent that decisions use.
type Consent struct {
	ID      string
	Patient string // "Patient/123"
	Active  bool   // status is active
	// Scope is the consentscope code ("patient-privacy", "treatment", ...),
	// or "" when scope has no coding in that system.
	Scope string
	// PolicyRule is the v3-ActCode code (OPTIN, OPTOUT, ...), "system|code"
	// for another system, or "" when absent. It gives the base rule that a
	// root provision without a type is an exception to.
	PolicyRule string
	DateTime   time.Time
	Provision  *Provision // nil when the Consent has none
}

// Provision is a Consent rule. Every criterion that is given must match a
// request for the provision to apply; a criterion not given places no
// constraint. Entries within one criterion are alternatives.
type Provision struct {
	// Type is permit or deny. "" means the opposite of the enclosing rule:
	// R4 forbids a type on the root provision (it is an exception to the
	// policyRule) and requires one on nested provisions (exceptions to
	// their parent).
	Type   string
	Period ConsentPeriod
	// Actors are who the rule is about. An actor whose role is a recipient
	// (PRCP, IRCP, ... or any role not listed for SourceRole) matches the
	// requester; one whose role says where the data came from (author,
	// custodian, ...) cannot be checked against a request (see Unevaluated).
	Actors         []ConsentActor
	Actions        []string // consentaction codes: access, collect, use, disclose, correct
	Classes        []string // resource types
	SecurityLabels []string // label codes, e.g. PSY, HIV, R
	Data           []ConsentData
	// Unevaluated names the criteria present that a request cannot answer
	// ("purpose", "code", "dataPeriod", and "action" or "class" coded in
	// other systems). EvaluateConsents resolves them restrictively.
	Unevaluated []string
	Provisions  []Provision // nested exceptions
}

// ConsentPeriod is a time range: Start inclusive, End exclusive, a zero
// bound is open. ParseConsent turns a FHIR end such as 2016-01-01 into the
// next day's start, because a FHIR period includes the whole end day.
type ConsentPeriod struct{ Start, End time.Time }

// Contains reports whether t is within p.
func (p ConsentPeriod) Contains(t time.Time) bool {
	return (p.Start.IsZero() || !t.Before(p.Start)) && (p.End.IsZero() || t.Before(p.End))
}

// ConsentActor is a provision actor.
type ConsentActor struct {
	// Reference is "Type/id" (full URLs and _history are cut to that), or
	// "" for an actor given only by role.
	Reference string
	Role      string // "system|code", or "code" when the coding has no system
}

// SourceRole reports whether the actor's role describes where the data
// came from (v3-ParticipationType author, custodian, data enterer,
// informant, authenticators, performer, transcriber, verifier) rather than
// who receives it.
func (a ConsentActor) SourceRole() bool {
	code, ok := strings.CutPrefix(a.Role, participationSystem+"|")
	if !ok && !strings.Contains(a.Role, "|") {
		code = a.Role
	}
	switch code {
	case "AUT", "AUTHEN", "CST", "ENT", "INF", "LA", "PRF", "TRANS", "VRF":
		return true
	}
	return false
}

// ConsentData is a provision data element: a resource, and how the rule
// reaches from it (instance, related, dependents or authoredby).
type ConsentData struct {
	Meaning   string
	Reference string // "Type/id"
}

// ConsentRequest is one access to decide.
type ConsentRequest struct {
	// Actors are who asks: every reference the requester acts as (their
	// Practitioner, PractitionerRole, RelatedPerson, Organization, and the
	// Groups and CareTeams they belong to) and role codes as
	// "role:<system>|<code>". A patient's own access never reaches Consent.
	Actors []string
	// Action is a consentaction code: "access" for read and search,
	// "correct" for updates.
	Action string
	// ResourceType and ResourceRef ("Observation", "Observation/9") name
	// the resource. ResourceRef may be empty for a type-level check; data
	// criteria are then unknown and resolved restrictively.
	ResourceType, ResourceRef string
	Labels                    []string // the resource's meta.security codes
	Time                      time.Time
}

// ConsentDecision is the result of EvaluateConsents.
type ConsentDecision struct {
	Effect    string // ConsentPermit, ConsentDeny, or "" when no Consent applies
	ConsentID string // the Consent that decided
	Reason    string // safe to log: ids, element names and codes, no PHI
}

// EvaluateConsents decides req against a patient's Consents.
//
// Only Consents that are active with scope patient-privacy count. Each
// speaks only about the requests its root provision matches (a root
// outside its period ignores the request); a Consent without a provision
// applies its policyRule (OPTIN permits, OPTOUT denies) to every request.
// Within a matching provision its type holds unless a nested provision
// also matches, recursively, so the deepest match decides; when sibling
// provisions both match, deny wins. A provision without a type has the
// opposite effect of its parent, or for the root of the policyRule; with
// neither, the effect is unknown and taken as deny.
//
// Actors match by reference, compared on their trailing Type/id, or for a
// role-only actor by "role:<system>|<code>"; classes match the resource
// type; labels match any label on the resource, and a v3-Confidentiality
// label (U L M N R V) also matches lower ones, as R4 specifies; data match
// the resource reference.
//
// A criterion that a request cannot answer (purpose, code, dataPeriod, a
// source-role actor, data other than instance) is resolved restrictively:
// taken to match where that denies and not to match where that permits.
//
// Across Consents any deny wins; otherwise any permit; else Effect is "".
// The first deciding Consent in cs is reported. A request without a time,
// resource type or known action is denied.
func EvaluateConsents(cs []Consent, req ConsentRequest) ConsentDecision {
	if why := req.invalid(); why != "" {
		return ConsentDecision{Effect: ConsentDeny, Reason: "consent check refused: " + why}
	}
	q := req
	q.Actors = make([]string, len(req.Actors))
	for i, a := range req.Actors {
		if !strings.HasPrefix(a, "role:") {
			a = consentRef(a)
		}
		q.Actors[i] = a
	}
	q.ResourceRef = consentRef(req.ResourceRef)
	q.Labels = make([]string, len(req.Labels))
	for i, l := range req.Labels {
		q.Labels[i] = l[strings.LastIndexByte(l, '|')+1:]
	}
	var permit ConsentDecision
	other, silent := 0, 0
	for i := range cs {
		c := &cs[i]
		if !c.Active || c.Scope != ScopePatientPrivacy {
			other++
			continue
		}
		o := c.decide(&q)
		switch o.effect {
		case effDeny, effUnknown:
			return ConsentDecision{Effect: ConsentDeny, ConsentID: c.ID, Reason: o.reason(c.ID)}
		case effPermit:
			if permit.Effect == "" {
				permit = ConsentDecision{Effect: ConsentPermit, ConsentID: c.ID, Reason: o.reason(c.ID)}
			}
		default:
			silent++
		}
	}
	if permit.Effect != "" {
		return permit
	}
	return ConsentDecision{Reason: fmt.Sprintf("no applicable consent (%d given: %d not active patient-privacy, %d not applicable)", len(cs), other, silent)}
}

func (r *ConsentRequest) invalid() string {
	switch {
	case r.Time.IsZero():
		return "no request time"
	case r.ResourceType == "":
		return "no resource type"
	case !consentAction(r.Action):
		return "action is not a consentaction code"
	}
	return ""
}

func consentAction(code string) bool {
	switch code {
	case "access", "collect", "use", "disclose", "correct":
		return true
	}
	return false
}

// consentEffect orders effects from least to most restrictive.
type consentEffect int8

const (
	effPermit consentEffect = iota
	effNone                 // the Consent says nothing about the request
	effDeny
	effUnknown // no type and no base rule: treated as deny
)

func (e consentEffect) rank() int8 { return min(int8(e), int8(effDeny)) }

func (e consentEffect) opposite() consentEffect {
	switch e {
	case effPermit:
		return effDeny
	case effDeny:
		return effPermit
	}
	return e
}

func consentTypeEffect(typ string, untyped consentEffect) consentEffect {
	switch typ {
	case "":
		return untyped
	case ConsentPermit:
		return effPermit
	case ConsentDeny:
		return effDeny
	}
	return effUnknown
}

// consentOutcome is one possible result, with what produced it.
type consentOutcome struct {
	effect  consentEffect
	path    string   // the deciding provision, e.g. "provision.provision[1]"
	note    string   // where an untyped provision's effect came from
	basis   []string // the criteria that matched there
	assumed []string // criteria on the path resolved restrictively
}

func (o consentOutcome) reason(id string) string {
	var b strings.Builder
	eff := ConsentPermit
	if o.effect != effPermit {
		eff = ConsentDeny
	}
	fmt.Fprintf(&b, "consent %s: %s by %s", consentSafeID(id), eff, o.path)
	if o.note != "" {
		fmt.Fprintf(&b, " (%s)", o.note)
	}
	if len(o.basis) > 0 {
		fmt.Fprintf(&b, " on %s", strings.Join(o.basis, ", "))
	}
	if len(o.assumed) > 0 {
		fmt.Fprintf(&b, "; not evaluated, resolved restrictively: %s", strings.Join(o.assumed, ", "))
	}
	return b.String()
}

func (c *Consent) decide(q *ConsentRequest) consentOutcome {
	base, rule := effUnknown, ""
	switch c.PolicyRule {
	case "OPTIN", "OPTINR":
		base, rule = effPermit, c.PolicyRule
	case "OPTOUT", "OPTOUTE":
		base, rule = effDeny, c.PolicyRule
	}
	root := c.Provision
	if root == nil {
		if base == effUnknown {
			return consentOutcome{effect: effNone}
		}
		return consentOutcome{effect: base, path: "policyRule " + rule + " (no provision)"}
	}
	m, basis, assumed := root.match(q)
	if m == matchNo {
		return consentOutcome{effect: effNone}
	}
	own := consentTypeEffect(root.Type, base.opposite())
	note := ""
	switch {
	case root.Type == "" && base == effUnknown:
		note = "no type and no OPTIN or OPTOUT policyRule"
	case root.Type == "":
		note = "exception to policyRule " + rule
	case own == effUnknown:
		note = "unknown type"
	}
	r := root.outcome(q, own, "provision", note, basis, assumed, 1)
	if m == matchMaybe {
		r = consentWorst([]consentOutcome{{effect: effNone}, r})
	}
	return r
}

// outcome is the most restrictive result over every way the unevaluated
// criteria below p could turn out, given that p applies with effect own.
func (p *Provision) outcome(q *ConsentRequest, own consentEffect, path, note string, basis, assumed []string, depth int) consentOutcome {
	self := consentOutcome{effect: own, path: path, note: note, basis: basis, assumed: assumed}
	if depth >= consentMaxDepth && len(p.Provisions) > 0 {
		return consentOutcome{effect: effUnknown, path: path, note: "provisions nested too deep"}
	}
	cands := []consentOutcome{self}
	certain := false
	for i := range p.Provisions {
		c := &p.Provisions[i]
		m, cb, ca := c.match(q)
		if m == matchNo {
			continue
		}
		certain = certain || m == matchYes
		ceff := consentTypeEffect(c.Type, own.opposite())
		cnote := ""
		switch {
		case c.Type == "":
			cnote = "opposite of enclosing provision"
		case ceff == effUnknown:
			cnote = "unknown type"
		}
		cpath := path + ".provision[" + strconv.Itoa(i) + "]"
		all := append(append([]string(nil), assumed...), ca...)
		cands = append(cands, c.outcome(q, ceff, cpath, cnote, cb, all, depth+1))
	}
	if certain {
		cands = cands[1:] // a nested provision surely applies, so p's own type does not
	}
	return consentWorst(cands)
}

// consentWorst returns the most restrictive outcome, the first on ties.
func consentWorst(os []consentOutcome) consentOutcome {
	w := os[0]
	for _, o := range os[1:] {
		if o.effect.rank() > w.effect.rank() {
			w = o
		}
	}
	return w
}

type consentMatch int8

const (
	matchNo consentMatch = iota
	matchMaybe
	matchYes
)

// match reports whether p's criteria match q, which matched, and which
// could not be evaluated.
func (p *Provision) match(q *ConsentRequest) (m consentMatch, basis, assumed []string) {
	if !p.Period.Contains(q.Time) {
		return matchNo, nil, nil
	}
	if p.Period != (ConsentPeriod{}) {
		basis = append(basis, "period")
	}
	m = matchYes
	crit := func(name string, cm consentMatch) bool {
		switch cm {
		case matchNo:
			return false
		case matchMaybe:
			m = matchMaybe
			assumed = append(assumed, name)
		default:
			basis = append(basis, name)
		}
		return true
	}
	var recipients, sources bool
	var recipientMatch bool
	for _, a := range p.Actors {
		if a.SourceRole() {
			sources = true
			continue
		}
		recipients = true
		want := a.Reference
		if want == "" {
			want = "role:" + a.Role
		}
		for _, have := range q.Actors {
			recipientMatch = recipientMatch || have == want
		}
	}
	if recipients && !crit("actor", consentYesNo(recipientMatch)) {
		return matchNo, nil, nil
	}
	if sources {
		crit("actor.role", matchMaybe)
	}
	if (len(p.Actions) > 0 || p.unevaluated("action")) && !crit("action", consentAny(p.Actions, q.Action, p.unevaluated("action"))) {
		return matchNo, nil, nil
	}
	if (len(p.Classes) > 0 || p.unevaluated("class")) && !crit("class", consentAny(p.Classes, q.ResourceType, p.unevaluated("class"))) {
		return matchNo, nil, nil
	}
	if len(p.SecurityLabels) > 0 && !crit("securityLabel", consentYesNo(consentLabels(p.SecurityLabels, q.Labels))) {
		return matchNo, nil, nil
	}
	if len(p.Data) > 0 {
		dm := matchNo
		for _, d := range p.Data {
			// Every meaning but authoredby covers the instance itself;
			// what else it covers needs other resources to tell.
			switch {
			case d.Meaning != "authoredby" && q.ResourceRef != "" && d.Reference == q.ResourceRef:
				dm = matchYes
			case q.ResourceRef == "" || d.Meaning != "instance":
				dm = max(dm, matchMaybe)
			}
		}
		if !crit("data", dm) {
			return matchNo, nil, nil
		}
	}
	for _, u := range p.Unevaluated {
		if u != "action" && u != "class" {
			crit(u, matchMaybe)
		}
	}
	return m, basis, assumed
}

func (p *Provision) unevaluated(name string) bool {
	for _, u := range p.Unevaluated {
		if u == name {
			return true
		}
	}
	return false
}

func consentYesNo(b bool) consentMatch {
	if b {
		return matchYes
	}
	return matchNo
}

// consentAny matches one criterion: yes if want lists have, maybe if the
// criterion also has entries that cannot be evaluated, no otherwise.
func consentAny(want []string, have string, opaque bool) consentMatch {
	for _, w := range want {
		if w == have {
			return matchYes
		}
	}
	if opaque {
		return matchMaybe
	}
	return matchNo
}

// consentLabels reports whether any provision label covers a resource
// label. Confidentiality is a high-water mark (R4 Consent.provision.
// securityLabel): a provision label R covers resources labelled R or lower.
func consentLabels(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
			if rh, rw := consentConfidentiality(h), consentConfidentiality(w); rh >= 0 && rw >= 0 && rh <= rw {
				return true
			}
		}
	}
	return false
}

// consentConfidentiality ranks v3-Confidentiality codes, or returns -1.
func consentConfidentiality(code string) int {
	switch code {
	case "U":
		return 0
	case "L":
		return 1
	case "M":
		return 2
	case "N":
		return 3
	case "R":
		return 4
	case "V":
		return 5
	}
	return -1
}

// ParseConsent reads the parts of a stored FHIR R4 Consent (JSON) that
// decisions use and ignores the rest. It fails, wrapping ErrInvalidConsent,
// on malformed JSON or a wrong JSON type, a resource that is not a Consent,
// an invalid id or date, a provision type other than permit or deny, an
// actor with neither reference nor role, data without a reference or with an
// unknown meaning, a null nested provision, and input beyond the bounds
// (8 MiB, 16 levels of provisions, 1000 provisions, 256 entries in a list).
// The caller must treat a patient's Consent that fails to parse as a deny.
func ParseConsent(body []byte) (Consent, error) {
	if len(body) > consentMaxBytes {
		return Consent{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidConsent, consentMaxBytes)
	}
	var raw struct {
		ResourceType string           `json:"resourceType"`
		ID           string           `json:"id"`
		Status       string           `json:"status"`
		Scope        consentConcept   `json:"scope"`
		Patient      consentRefJSON   `json:"patient"`
		DateTime     string           `json:"dateTime"`
		PolicyRule   consentConcept   `json:"policyRule"`
		Provision    *consentProvJSON `json:"provision"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), &raw); err != nil {
		return Consent{}, consentJSONError(err)
	}
	if raw.ResourceType != "Consent" {
		return Consent{}, fmt.Errorf("%w: resourceType is not Consent", ErrInvalidConsent)
	}
	if raw.ID != "" && !consentValidID(raw.ID) {
		return Consent{}, fmt.Errorf("%w: id is not a FHIR id", ErrInvalidConsent)
	}
	c := Consent{ID: raw.ID, Patient: consentRef(raw.Patient.Reference), Active: raw.Status == "active"}
	for _, cd := range raw.Scope.Coding {
		if cd.System == consentScopeSystem || cd.System == "" {
			c.Scope = cd.Code
			break
		}
	}
	for _, cd := range raw.PolicyRule.Coding {
		if cd.System == actCodeSystem {
			c.PolicyRule = cd.Code
			break
		}
		if c.PolicyRule == "" {
			c.PolicyRule = consentCode(cd)
		}
	}
	if raw.DateTime != "" {
		t, _, err := consentTime(raw.DateTime)
		if err != nil {
			return Consent{}, fmt.Errorf("%w: dateTime: %v", ErrInvalidConsent, err)
		}
		c.DateTime = t
	}
	if raw.Provision != nil {
		n := 0
		p, err := raw.Provision.provision("provision", 1, &n)
		if err != nil {
			return Consent{}, err
		}
		c.Provision = &p
	}
	return c, nil
}

type consentCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type consentConcept struct {
	Coding []consentCoding `json:"coding"`
}

type consentRefJSON struct {
	Reference string `json:"reference"`
}

type consentPeriodJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// consentProvJSON is decoded in one pass (encoding/json bounds the nesting
// at 10000); depth and sizes are checked while converting.
type consentProvJSON struct {
	Type   string             `json:"type"`
	Period *consentPeriodJSON `json:"period"`
	Actor  []struct {
		Role      consentConcept `json:"role"`
		Reference consentRefJSON `json:"reference"`
	} `json:"actor"`
	Action        []consentConcept  `json:"action"`
	SecurityLabel []consentCoding   `json:"securityLabel"`
	Purpose       []json.RawMessage `json:"purpose"`
	Class         []consentCoding   `json:"class"`
	Code          []json.RawMessage `json:"code"`
	DataPeriod    json.RawMessage   `json:"dataPeriod"`
	Data          []struct {
		Meaning   string         `json:"meaning"`
		Reference consentRefJSON `json:"reference"`
	} `json:"data"`
	Provision []*consentProvJSON `json:"provision"`
}

func (pj *consentProvJSON) provision(path string, depth int, n *int) (Provision, error) {
	fail := func(format string, a ...any) (Provision, error) {
		return Provision{}, fmt.Errorf("%w: %s"+format, append([]any{ErrInvalidConsent, path}, a...)...)
	}
	if depth > consentMaxDepth {
		return fail(": provisions nested deeper than %d levels", consentMaxDepth)
	}
	if *n++; *n > consentMaxProvisions {
		return fail(": more than %d provisions", consentMaxProvisions)
	}
	if max(len(pj.Actor), len(pj.Action), len(pj.SecurityLabel), len(pj.Purpose), len(pj.Class), len(pj.Code), len(pj.Data), len(pj.Provision)) > consentMaxList {
		return fail(": a list has more than %d entries", consentMaxList)
	}
	p := Provision{Type: pj.Type}
	if p.Type != "" && p.Type != ConsentPermit && p.Type != ConsentDeny {
		return fail(".type is not permit or deny")
	}
	if pj.Period != nil {
		var err error
		if p.Period, err = consentPeriod(*pj.Period); err != nil {
			return fail(".period: %v", err)
		}
	}
	for i, a := range pj.Actor {
		act := ConsentActor{Reference: consentRef(a.Reference.Reference)}
		for _, cd := range a.Role.Coding {
			if cd.Code != "" {
				act.Role = consentCode(cd)
				break
			}
		}
		if act.Reference == "" && act.Role == "" {
			return fail(".actor[%d]: no reference or role", i)
		}
		p.Actors = append(p.Actors, act)
	}
	for _, cc := range pj.Action {
		known := false
		for _, cd := range cc.Coding {
			if (cd.System == consentActionSystem || cd.System == "") && consentAction(cd.Code) {
				p.Actions = append(p.Actions, cd.Code)
				known = true
			}
		}
		if !known {
			p.addUnevaluated("action")
		}
	}
	for i, cd := range pj.SecurityLabel {
		if cd.Code == "" {
			return fail(".securityLabel[%d]: no code", i)
		}
		p.SecurityLabels = append(p.SecurityLabels, cd.Code)
	}
	for i, cd := range pj.Class {
		switch {
		case cd.Code == "":
			return fail(".class[%d]: no code", i)
		case cd.System == resourceTypeSystem || cd.System == "":
			p.Classes = append(p.Classes, cd.Code)
		default:
			p.addUnevaluated("class") // a profile, a document format, ...
		}
	}
	for i, d := range pj.Data {
		switch d.Meaning {
		case "instance", "related", "dependents", "authoredby":
		default:
			return fail(".data[%d]: meaning is not instance, related, dependents or authoredby", i)
		}
		ref := consentRef(d.Reference.Reference)
		if ref == "" {
			return fail(".data[%d]: no reference", i)
		}
		p.Data = append(p.Data, ConsentData{Meaning: d.Meaning, Reference: ref})
	}
	if len(pj.Purpose) > 0 {
		p.addUnevaluated("purpose")
	}
	if len(pj.Code) > 0 {
		p.addUnevaluated("code")
	}
	if dp := bytes.TrimSpace(pj.DataPeriod); len(dp) > 0 && !bytes.Equal(dp, []byte("null")) {
		p.addUnevaluated("dataPeriod")
	}
	for i, sub := range pj.Provision {
		sp := path + ".provision[" + strconv.Itoa(i) + "]"
		if sub == nil {
			return Provision{}, fmt.Errorf("%w: %s is null", ErrInvalidConsent, sp)
		}
		s, err := sub.provision(sp, depth+1, n)
		if err != nil {
			return Provision{}, err
		}
		p.Provisions = append(p.Provisions, s)
	}
	return p, nil
}

func (p *Provision) addUnevaluated(name string) {
	if !p.unevaluated(name) {
		p.Unevaluated = append(p.Unevaluated, name)
	}
}

// consentJSONError describes a decoding error by offset or element name,
// never by value.
func consentJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%w: malformed JSON at byte %d", ErrInvalidConsent, se.Offset)
	case errors.As(err, &te):
		kind, _, _ := strings.Cut(te.Value, " ") // "number 1e999" carries the value
		field := te.Field
		if field == "" {
			field = "resource"
		}
		return fmt.Errorf("%w: %s: unexpected JSON %s", ErrInvalidConsent, field, kind)
	}
	return fmt.Errorf("%w: malformed JSON", ErrInvalidConsent)
}

var errConsentTime = errors.New("not a FHIR date or dateTime")

// consentTime parses a FHIR date or dateTime into its first instant and
// the instant after its last: 2016 covers the whole year. Dates without a
// time are read in UTC.
func consentTime(s string) (from, next time.Time, err error) {
	var layout string
	switch len(s) {
	case 4:
		layout = "2006"
	case 7:
		layout = "2006-01"
	case 10:
		layout = "2006-01-02"
	}
	if layout != "" {
		t, err := time.Parse(layout, s)
		if err != nil {
			return time.Time{}, time.Time{}, errConsentTime
		}
		switch len(s) {
		case 4:
			return t, t.AddDate(1, 0, 0), nil
		case 7:
			return t, t.AddDate(0, 1, 0), nil
		}
		return t, t.AddDate(0, 0, 1), nil
	}
	if len(s) < 20 || len(s) > 40 || s[10] != 'T' {
		return time.Time{}, time.Time{}, errConsentTime
	}
	t, err := time.Parse(time.RFC3339, s) // FHIR requires seconds and a zone with a time
	if err != nil {
		return time.Time{}, time.Time{}, errConsentTime
	}
	step := time.Second
	if i := strings.IndexByte(s, '.'); i > 0 {
		for j := i + 1; j < len(s) && s[j] >= '0' && s[j] <= '9' && step > 1; j++ {
			step /= 10
		}
	}
	return t, t.Add(step), nil
}

func consentPeriod(pj consentPeriodJSON) (ConsentPeriod, error) {
	var p ConsentPeriod
	var err error
	if pj.Start != "" {
		if p.Start, _, err = consentTime(pj.Start); err != nil {
			return p, fmt.Errorf("start: %w", err)
		}
	}
	if pj.End != "" {
		if _, p.End, err = consentTime(pj.End); err != nil {
			return p, fmt.Errorf("end: %w", err)
		}
	}
	if !p.Start.IsZero() && !p.End.IsZero() && !p.Start.Before(p.End) {
		return p, errors.New("end before start")
	}
	return p, nil
}

func consentCode(cd consentCoding) string {
	if cd.System == "" {
		return cd.Code
	}
	return cd.System + "|" + cd.Code
}

// consentRef cuts a reference to "Type/id": a full URL or a versioned
// reference names the same resource. Anything else (a contained "#x", a
// urn:uuid, an unparseable string) is returned as given.
func consentRef(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "urn:") {
		return s
	}
	path := s
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
	n := len(parts)
	if n >= 4 && parts[n-2] == "_history" {
		n -= 2
	}
	if n >= 2 && consentTypeName(parts[n-2]) && consentValidID(parts[n-1]) {
		return parts[n-2] + "/" + parts[n-1]
	}
	return s
}

func consentTypeName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// consentValidID reports whether s is a FHIR id: [A-Za-z0-9\-\.]{1,64}.
func consentValidID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// consentSafeID is id for a log line: a valid FHIR id, or a placeholder.
func consentSafeID(id string) string {
	switch {
	case id == "":
		return "(no id)"
	case !consentValidID(id):
		return "(invalid id)"
	}
	return id
}
