package fhir

//go:generate go run ./internal/gen -in ../../../shared/data/fhir-r4-core

// typeID indexes the generated types table. 0 is no type.
type typeID uint16

// Kinds of types.
const (
	kindPrimitive   uint8 = 1 // a primitive datatype (string, date, ...)
	kindComplex     uint8 = 2 // a complex datatype (HumanName, Reference, ...)
	kindResource    uint8 = 3 // a concrete resource type
	kindBackbone    uint8 = 4 // a nested structure of a type (Patient.contact)
	kindAnyResource uint8 = 5 // the abstract Resource: any resource, by resourceType
)

// Element flags.
const (
	fArray uint8 = 1 << iota // max cardinality > 1: a JSON array
	fAttr                    // primitive without the `_name` extension form
)

// typeDef describes one type. Generated tables only; never modified.
type typeDef struct {
	name     string
	kind     uint8
	elems    []elemDef // sorted by name
	required []uint16  // indices of required elements that are not choices
	choices  []string  // choice group names; a leading "!" marks a required group
	patient  []string  // Patient compartment reference paths (resources only)
}

// elemDef describes one JSON property of a type. Choice elements appear
// once per allowed type under their typed name (valueQuantity).
type elemDef struct {
	name   string
	typ    typeID
	flags  uint8
	choice uint8 // 1-based index into typeDef.choices; 0 for none
}

// lookup returns the index of the element with the JSON name, or -1.
func (t *typeDef) lookup(name string) int {
	lo, hi := 0, len(t.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.elems[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(t.elems) && t.elems[lo].name == name {
		return lo
	}
	return -1
}

// resourceTypeID returns the type of the named concrete resource, or 0.
func resourceTypeID(name string) typeID {
	lo, hi := int(firstResource), int(lastResource)+1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if types[m].name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo <= int(lastResource) && types[lo].name == name {
		return typeID(lo)
	}
	return 0
}

// IsResourceType reports whether name is an R4 resource type.
func IsResourceType(name string) bool { return resourceTypeID(name) != 0 }

// ResourceTypes lists every R4 resource type, sorted.
func ResourceTypes() []string {
	out := make([]string, 0, lastResource-firstResource+1)
	for t := firstResource; t <= lastResource; t++ {
		out = append(out, types[t].name)
	}
	return out
}
