package fhir

// kind is the JSON kind of a node.
type kind uint8

const (
	kNull kind = iota
	kString
	kNumber
	kBool
	kObject
	kArray
)

// Node flags.
const (
	nHasNull uint8 = 1 << iota // an array of primitives holding a null placeholder
	nEscaped                   // a string kept as its raw JSON text, escapes and all
)

// node is one JSON value of a parsed resource. Objects keep their members
// in input order; arrays keep their items as members with empty names.
// Strings hold the decoded text, or the raw JSON text when it has escapes
// (nEscaped: decoding is deferred until the value is needed), numbers their literal text (so decimals
// keep their precision), booleans "true" or "false".
type node struct {
	kind  kind
	flags uint8
	typ   typeID // the FHIR type the value was validated against
	str   string
	kids  []member
}

// member is an object member or an array item (name "").
type member struct {
	name string
	node
}

// get returns the member named name, or nil.
func (n *node) get(name string) *node {
	for i := range n.kids {
		if n.kids[i].name == name {
			return &n.kids[i].node
		}
	}
	return nil
}

// index returns the position of the member named name, or -1.
func (n *node) index(name string) int {
	for i := range n.kids {
		if n.kids[i].name == name {
			return i
		}
	}
	return -1
}

// text returns the decoded value of a string node.
func (n *node) text() string {
	if n.flags&nEscaped != 0 {
		return unescape(n.str)
	}
	return n.str
}

// setText replaces the value of a string node.
func (n *node) setText(s string) {
	n.str = s
	n.flags &^= nEscaped
}

// getString returns the string value of member name, or "".
func (n *node) getString(name string) string {
	if m := n.get(name); m != nil && m.kind == kString {
		return m.text()
	}
	return ""
}

// insert inserts m at position i, reallocating the member slice so that
// slices shared with an arena are never overwritten.
func (n *node) insert(i int, m member) {
	kids := make([]member, 0, len(n.kids)+1)
	kids = append(kids, n.kids[:i]...)
	kids = append(kids, m)
	kids = append(kids, n.kids[i:]...)
	n.kids = kids
}

// remove deletes the member at position i without touching the old slice.
func (n *node) remove(i int) {
	kids := make([]member, 0, len(n.kids)-1)
	kids = append(kids, n.kids[:i]...)
	kids = append(kids, n.kids[i+1:]...)
	n.kids = kids
}
