package fhir

// Read-only access to a parsed resource's tree and to the generated
// schema, for internal/fhir/search: search values are extracted at write
// time by walking the tree Parse built, which already knows the FHIR type
// of every value, instead of re-reading the JSON.

// Elem is a read-only view of one JSON value of a parsed resource: an
// object, an array or a primitive, with the FHIR type it was validated
// against. The zero Elem is absent. An Elem stays valid while its
// Resource is not modified (SetID, SetMeta, RewriteReferences).
type Elem struct{ n *node }

// Root returns the resource object; absent for a nil or empty Resource.
func (r *Resource) Root() Elem {
	if r == nil || r.n == nil {
		return Elem{}
	}
	return Elem{r.n}
}

// Exists reports whether the value is present: not the zero Elem and not
// the null placeholder of a primitive array paired with its `_name` array.
func (e Elem) Exists() bool { return e.n != nil && e.n.kind != kNull }

// IsObject reports whether the value is a JSON object (a complex type,
// backbone element or resource).
func (e Elem) IsObject() bool { return e.n != nil && e.n.kind == kObject }

// IsArray reports whether the value is a JSON array (a repeating element).
func (e Elem) IsArray() bool { return e.n != nil && e.n.kind == kArray }

// IsPrimitive reports whether the value is a JSON string, number or boolean.
func (e Elem) IsPrimitive() bool {
	return e.n != nil && (e.n.kind == kString || e.n.kind == kNumber || e.n.kind == kBool)
}

// Type is the FHIR type the value was validated against: a primitive
// ("dateTime"), a datatype ("HumanName"), a resource type ("Patient", also
// for contained and Bundle entry resources) or a backbone element
// ("Observation.component"). For an array it is the type of its items.
// "" for an absent value.
func (e Elem) Type() string {
	if e.n == nil || int(e.n.typ) >= len(types) {
		return ""
	}
	return types[e.n.typ].name
}

// Len is the number of members of an object or items of an array; 0 for
// a primitive or an absent value.
func (e Elem) Len() int {
	if e.n == nil {
		return 0
	}
	return len(e.n.kids)
}

// At returns the i-th member of an object with its JSON name (`_name`
// members included), or the i-th item of an array with name "". It
// panics if i is out of range, like a slice index.
func (e Elem) At(i int) (name string, v Elem) {
	m := &e.n.kids[i]
	return m.name, Elem{&m.node}
}

// Get returns the member of an object with the JSON name, or the zero Elem.
func (e Elem) Get(name string) Elem {
	if e.n == nil || e.n.kind != kObject {
		return Elem{}
	}
	if m := e.n.get(name); m != nil {
		return Elem{m}
	}
	return Elem{}
}

// Text is the value of a primitive: a string decoded, a number's literal
// as written ("1.50"), "true" or "false"; "" for anything else.
func (e Elem) Text() string {
	if e.n == nil {
		return ""
	}
	switch e.n.kind {
	case kString:
		return e.n.text()
	case kNumber, kBool:
		return e.n.str
	}
	return ""
}

// AppendJSON appends the value as compact JSON, as Marshal writes it.
func (e Elem) AppendJSON(b []byte) []byte {
	if e.n == nil {
		return b
	}
	return appendNode(b, e.n)
}

// SchemaElement is one JSON property of a FHIR type in the parser's
// generated schema.
type SchemaElement struct {
	Name   string // JSON name; a choice appears once per type (valueQuantity)
	Type   string // as Elem.Type; "Resource" for an element holding any resource
	Array  bool   // repeating (maximum cardinality above one)
	Choice string // for a choice element, its name without the type (value); else ""
}

// SchemaElements lists the JSON properties of the named type (a datatype,
// resource or backbone type such as "Observation.component"), sorted by
// name; nil for a primitive or an unknown name. It is meant for code
// generators and tests: it allocates and scans the type table.
func SchemaElements(typeName string) []SchemaElement {
	for i := 1; i < len(types); i++ {
		t := &types[i]
		if t.name != typeName {
			continue
		}
		out := make([]SchemaElement, 0, len(t.elems))
		for _, el := range t.elems {
			se := SchemaElement{Name: el.name, Type: types[el.typ].name, Array: el.flags&fArray != 0}
			if el.choice > 0 && int(el.choice) <= len(t.choices) {
				c := t.choices[el.choice-1]
				if len(c) > 0 && c[0] == '!' {
					c = c[1:]
				}
				se.Choice = c
			}
			out = append(out, se)
		}
		return out
	}
	return nil
}
