package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Minimum-necessary field masks (45 CFR 164.502(b), 164.514(d)): a role
// that may read a resource type can still be kept from some of its
// elements. Masks are applied to response bodies after access is decided.

// The security label a masked resource gains in meta.security, so that
// clients know data was withheld (HL7 v3 ObservationValue MASKED).
const (
	MaskedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	MaskedCode   = "MASKED"
)

const maskedCoding = `{"system":"` + MaskedSystem + `","code":"` + MaskedCode + `","display":"masked"}`

// Mask removes elements of one resource type from what a role sees.
// Remove holds element paths below the type, dotted like FHIRPath:
// "note", "component.value[x]". A path runs through arrays (it applies to
// every component), and a choice element "value[x]" removes every
// valueXxx key. Removing a primitive also removes its "_name" extension
// twin. A role should not have masks on a type it updates: an update
// built from a masked read would drop the withheld elements.
type Mask struct {
	Role   string
	Type   string
	Remove []string
}

// Masks is a compiled set of masks, by role and resource type. It is
// immutable, so one value is safe for concurrent use; the zero value
// masks nothing.
type Masks struct {
	roles map[string]*roleMasks
}

// roleMasks is one role's masks.
type roleMasks struct {
	types map[string]*maskNode
	// quoted are the masked types as JSON strings (`"Observation"`): a
	// body without any of them holds no resource a mask applies to.
	quoted [][]byte
}

// maskNode is one level of the compiled paths of a type.
type maskNode struct {
	drop    map[string]bool      // element names removed at this level
	choices []string             // choice prefixes removed at this level ("value" for value[x])
	kids    map[string]*maskNode // elements that paths continue into
}

// DefaultMasks returns the shipped masks, used when the configuration
// names none. They are deliberately few: access.Decide already keeps
// each role to the resource types its job needs, so these withhold
// clinical content from roles that may meet a clinical resource anyway
// (contained in a claim, or once a tenant admin widens a role's grants).
// Each masks only types the role cannot write, so a masked read can
// never feed a lossy update.
//
//   - billing needs what was done (codes, dates, performer), never what
//     was found: Observation values, their interpretation (High, Low,
//     Positive...) and notes, also per component; the DiagnosticReport's
//     conclusion, coded conclusion, rendered report, result references
//     and key images; a DocumentReference's document (inline data and
//     URL, and the title, which often names the finding). content and
//     content.attachment are required, so they stay, with only the
//     document's metadata (type, size, hash).
//   - lab-technician may need a Patient to match a specimen, by name,
//     birth date, gender and identifier, but not the means to reach or
//     recognise them: address, telecom, contacts and photo. Their own
//     Observations and DiagnosticReports are unmasked: they write them.
//     (R4 Patient has no note element, so there is nothing else to mask.)
//   - front-desk gets no masks. Its grants (demographics, scheduling,
//     Coverage) already exclude notes and results. Appointment reasons
//     can reveal a diagnosis, but the desk needs them to book the right
//     clinician, slot and length, and it writes Appointments: masking
//     them would drop the reason whenever it updated one.
//   - physician and nurse see everything their grants allow; auditor and
//     privacy-officer read no FHIR resources at all, only audit data
//     (Decide), so masks would change nothing; service clients are
//     systems that act for the whole tenant.
func DefaultMasks() []Mask {
	return []Mask{
		{Role: "billing", Type: "Observation", Remove: []string{
			"value[x]", "interpretation", "note", "component.value[x]", "component.interpretation"}},
		{Role: "billing", Type: "DiagnosticReport", Remove: []string{
			"conclusion", "conclusionCode", "presentedForm", "result", "media"}},
		{Role: "billing", Type: "DocumentReference", Remove: []string{
			"content.attachment.data", "content.attachment.url", "content.attachment.title"}},
		{Role: "lab-technician", Type: "Patient", Remove: []string{"address", "telecom", "contact", "photo"}},
	}
}

// NewMasks compiles ms, checking every role, type and path. Several masks
// of one role and type add up.
func NewMasks(ms []Mask) (Masks, error) {
	roles := map[string]*roleMasks{}
	for i, m := range ms {
		where := fmt.Sprintf("field mask %d (role %q, type %q)", i+1, m.Role, m.Type)
		if !validMaskRole(m.Role) {
			return Masks{}, fmt.Errorf("%s: role must be lower-case letters, digits and hyphens", where)
		}
		if !validMaskType(m.Type) {
			return Masks{}, fmt.Errorf("%s: type must be a FHIR resource type such as Observation", where)
		}
		if m.Type == "Bundle" {
			return Masks{}, fmt.Errorf("%s: a Bundle is not masked itself; its entries are masked by their own types", where)
		}
		if len(m.Remove) == 0 {
			return Masks{}, fmt.Errorf("%s: remove names no element", where)
		}
		rm := roles[m.Role]
		if rm == nil {
			rm = &roleMasks{types: map[string]*maskNode{}}
			roles[m.Role] = rm
		}
		root := rm.types[m.Type]
		if root == nil {
			root = &maskNode{}
			rm.types[m.Type] = root
			rm.quoted = append(rm.quoted, []byte(`"`+m.Type+`"`))
		}
		for _, p := range m.Remove {
			segs, err := parseMaskPath(p, m.Type)
			if err != nil {
				return Masks{}, fmt.Errorf("%s: remove %q: %w", where, p, err)
			}
			root.add(segs)
		}
	}
	return Masks{roles: roles}, nil
}

// parseMaskPath splits a path into element names, checking each.
func parseMaskPath(p, typ string) ([]string, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	segs := strings.Split(p, ".")
	if segs[0] == typ {
		return nil, fmt.Errorf("paths start below the type: write %q", p[len(typ)+1:])
	}
	for i, s := range segs {
		name, choice := maskChoice(s)
		if !validMaskElement(name) {
			return nil, fmt.Errorf("%q is not an element name (a lower-case letter, then letters and digits; a choice element ends in [x])", s)
		}
		if choice && i < len(segs)-1 {
			return nil, fmt.Errorf("the choice element %q must end the path (it removes every %sXxx)", s, name)
		}
	}
	switch segs[0] {
	case "resourceType", "id", "meta":
		return nil, fmt.Errorf("%s identifies the resource and carries its security labels; it cannot be masked", segs[0])
	case "text", "contained":
		if len(segs) > 1 {
			return nil, fmt.Errorf("%s can only be removed whole (contained resources are masked by their own types)", segs[0])
		}
	}
	return segs, nil
}

func maskChoice(s string) (string, bool) {
	if len(s) > 3 && s[len(s)-3:] == "[x]" {
		return s[:len(s)-3], true
	}
	return s, false
}

func validMaskElement(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validMaskType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func validMaskRole(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (n *maskNode) add(segs []string) {
	name, choice := maskChoice(segs[0])
	switch {
	case len(segs) > 1:
		if n.kids == nil {
			n.kids = map[string]*maskNode{}
		}
		kid := n.kids[name]
		if kid == nil {
			kid = &maskNode{}
			n.kids[name] = kid
		}
		kid.add(segs[1:])
	case choice:
		for _, c := range n.choices {
			if c == name {
				return
			}
		}
		n.choices = append(n.choices, name)
	default:
		if n.drop == nil {
			n.drop = map[string]bool{}
		}
		n.drop[name] = true
	}
}

// removes reports whether the element with JSON key k goes: a removed
// name, its "_name" twin, or a choice prefix followed by a type name
// ("valueQuantity"). Any upper-case letter after the prefix counts, so
// an unforeseen type is withheld rather than leaked.
func (n *maskNode) removes(k []byte) bool {
	if len(k) > 1 && k[0] == '_' {
		k = k[1:]
	}
	if n.drop[string(k)] {
		return true
	}
	for _, c := range n.choices {
		if len(k) > len(c) && string(k[:len(c)]) == c && k[len(c)] >= 'A' && k[len(c)] <= 'Z' {
			return true
		}
	}
	return false
}

// For reports whether role has a mask for resources of type typ; with
// typ "" whether it has any mask. It is two map lookups. Apply also masks
// contained resources and Bundle entries by their own types, so a caller
// that skips Apply must ask For(role, "").
func (m Masks) For(role, typ string) bool {
	rm := m.roles[role]
	if rm == nil {
		return false
	}
	if typ == "" {
		return true
	}
	return rm.types[typ] != nil
}

// Apply returns the resource (or Bundle) JSON body as role may see it.
// When no mask of the role applies it returns body itself: unparsed when
// the role has no masks or body names none of its masked types (bodies
// come from the store, which holds only valid resources). Otherwise it
// returns a new body without the masked elements, with the MASKED label
// added once to meta.security and the narrative (text) removed, since it
// may repeat what was withheld. Contained resources are masked by their
// own types (their container is labelled), and a Bundle's entries each as
// a resource. Member order and the formatting of untouched values are
// kept. Errors name no content.
func (m Masks) Apply(role string, body []byte) ([]byte, error) {
	rm := m.roles[role]
	if rm == nil {
		return body, nil
	}
	if !rm.mentioned(body) {
		return body, nil
	}
	if !jsonValidate(body) {
		return nil, errors.New("mask: malformed JSON")
	}
	obj := bytes.TrimSpace(body)
	if len(obj) == 0 || obj[0] != '{' {
		return nil, errors.New("mask: the body is not a JSON object")
	}
	out, _, err := rm.resource(obj, true)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return body, nil
	}
	return out, nil
}

// mentioned reports whether body may hold a resource of a masked type,
// that is, whether some masked type name appears as a JSON string. A \u
// escape could spell a type name, so it makes the answer yes.
func (rm *roleMasks) mentioned(body []byte) bool {
	for _, q := range rm.quoted {
		// Searching for `Name"` and then checking the opening quote is
		// many times faster than searching for `"Name"`: quotes are
		// everywhere in JSON, capital letters are not.
		for rest, at := body, 0; ; {
			i := bytes.Index(rest, q[1:])
			if i < 0 {
				break
			}
			if at+i > 0 && body[at+i-1] == '"' {
				return true
			}
			rest, at = rest[i+1:], at+i+1
		}
	}
	return bytes.Contains(body, []byte(`\u`))
}

// resource masks one resource object: by its type's mask, its contained
// resources by theirs and, in a Bundle, every entry's resource. It returns
// nil when nothing changed, and whether this resource withheld anything;
// top is false for a contained resource, which may not carry security
// labels (dom-5), so its container is labelled instead.
func (rm *roleMasks) resource(obj []byte, top bool) (out []byte, withheld bool, err error) {
	var buf [32]jsonMember
	ms, err := jsonMembers(obj, buf[:0])
	if err != nil {
		return nil, false, err
	}
	typ, err := maskResourceType(ms)
	if err != nil {
		return nil, false, err
	}
	n := rm.types[string(typ)]
	changed := false
	for i := range ms {
		mb := &ms[i]
		switch k := string(mb.key); {
		case k == "resourceType":
		case n != nil && n.removes(mb.key):
			mb.drop, withheld = true, true
		case k == "contained":
			v, err := jsonMapArray(mb.val, func(r []byte) ([]byte, error) {
				o, w, err := rm.resource(r, false)
				withheld = withheld || w
				return o, err
			})
			if err != nil {
				return nil, false, err
			}
			changed = mb.set(v) || changed
		case k == "entry" && string(typ) == "Bundle":
			v, err := jsonMapArray(mb.val, rm.entry)
			if err != nil {
				return nil, false, err
			}
			changed = mb.set(v) || changed
		case n != nil && n.kids[k] != nil:
			v, err := n.kids[k].apply(mb.val)
			if err != nil {
				return nil, false, err
			}
			withheld = mb.set(v) || withheld
		}
	}
	if withheld {
		for i := range ms {
			if string(ms[i].key) == "text" {
				ms[i].drop = true
			}
		}
		if top {
			if ms, err = maskLabel(ms); err != nil {
				return nil, false, err
			}
		}
	}
	if !changed && !withheld {
		return nil, false, nil
	}
	return jsonWriteObject(make([]byte, 0, len(obj)+len(maskedCoding)+32), ms), withheld, nil
}

// entry masks a Bundle entry's resource, which is labelled itself.
func (rm *roleMasks) entry(e []byte) ([]byte, error) {
	var buf [32]jsonMember
	ms, err := jsonMembers(e, buf[:0])
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if string(ms[i].key) == "resource" && jsonFirst(ms[i].val) == '{' {
			out, _, err := rm.resource(ms[i].val, true)
			if err != nil || out == nil {
				return nil, err
			}
			ms[i].val = out
			return jsonWriteObject(make([]byte, 0, len(e)+len(maskedCoding)+32), ms), nil
		}
	}
	return nil, nil
}

// maskResourceType returns the value of the one resourceType member.
func maskResourceType(ms []jsonMember) ([]byte, error) {
	var typ []byte
	for _, mb := range ms {
		if string(mb.key) != "resourceType" {
			continue
		}
		if typ != nil || mb.val[0] != '"' {
			return nil, errors.New("mask: a resource with a repeated or non-string resourceType")
		}
		typ = mb.val[1 : len(mb.val)-1]
		if bytes.IndexByte(typ, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(mb.val, &s); err != nil {
				return nil, errors.New("mask: malformed JSON")
			}
			typ = []byte(s)
		}
	}
	if typ == nil {
		return nil, errors.New("mask: a resource without resourceType")
	}
	return typ, nil
}

// apply removes n's paths from an element's value: an object, or an
// array of them. It returns nil when nothing changed.
func (n *maskNode) apply(v []byte) ([]byte, error) {
	switch jsonFirst(v) {
	case '{':
		return n.object(v)
	case '[':
		return jsonMapArray(v, n.object)
	}
	return nil, nil
}

func (n *maskNode) object(obj []byte) ([]byte, error) {
	var buf [32]jsonMember
	ms, err := jsonMembers(obj, buf[:0])
	if err != nil {
		return nil, err
	}
	changed := false
	for i := range ms {
		mb := &ms[i]
		if n.removes(mb.key) {
			mb.drop, changed = true, true
		} else if kid := n.kids[string(mb.key)]; kid != nil {
			v, err := kid.apply(mb.val)
			if err != nil {
				return nil, err
			}
			changed = mb.set(v) || changed
		}
	}
	if !changed {
		return nil, nil
	}
	return jsonWriteObject(make([]byte, 0, len(obj)), ms), nil
}

// label adds the MASKED security label to meta, once.
func maskLabel(ms []jsonMember) ([]jsonMember, error) {
	at := 0
	for i, mb := range ms {
		switch string(mb.key) {
		case "meta":
			v, err := maskLabelMeta(mb.val)
			if err != nil {
				return nil, err
			}
			ms[i].set(v)
			return ms, nil
		case "resourceType", "id":
			at = i + 1
		}
	}
	meta := jsonMember{key: []byte("meta"), raw: []byte(`"meta"`), val: []byte(`{"security":[` + maskedCoding + `]}`)}
	return slices.Insert(ms, at, meta), nil
}

// maskLabelMeta returns meta with MASKED in security, or nil when it is
// there already.
func maskLabelMeta(meta []byte) ([]byte, error) {
	if jsonFirst(meta) != '{' {
		return nil, errors.New("mask: meta is not an object")
	}
	var buf [32]jsonMember
	ms, err := jsonMembers(meta, buf[:0])
	if err != nil {
		return nil, err
	}
	for i, mb := range ms {
		if string(mb.key) != "security" {
			continue
		}
		var codings []struct{ System, Code string }
		if err := json.Unmarshal(mb.val, &codings); err != nil {
			return nil, errors.New("mask: meta.security is not a list of codings")
		}
		for _, c := range codings {
			if c.System == MaskedSystem && c.Code == MaskedCode {
				return nil, nil
			}
		}
		arr := bytes.TrimSpace(mb.val)
		arr = bytes.TrimSpace(arr[:len(arr)-1]) // without "]"
		v := append(make([]byte, 0, len(arr)+len(maskedCoding)+2), arr...)
		if len(codings) > 0 {
			v = append(v, ',')
		}
		ms[i].val = append(append(v, maskedCoding...), ']')
		return jsonWriteObject(make([]byte, 0, len(meta)+len(maskedCoding)+2), ms), nil
	}
	sec := jsonMember{key: []byte("security"), raw: []byte(`"security"`), val: []byte("[" + maskedCoding + "]")}
	return jsonWriteObject(make([]byte, 0, len(meta)+len(maskedCoding)+16), append(ms, sec)), nil
}
