package fhir

// Schema-driven parsing of element values: arrays, primitives and the
// `_name` extension form of primitives.

// elemValue parses the value of element el: an array when its maximum
// cardinality is above one, else a single value.
func (p *parser) elemValue(el *elemDef, contained bool) node {
	if el.flags&fArray == 0 {
		if p.peek() == '[' {
			p.issue(codeStructure, "expected a single value, found a JSON array")
			p.skip()
			return node{}
		}
		return p.single(el.typ, contained)
	}
	if p.peek() != '[' {
		p.issue(codeStructure, "expected a JSON array")
		p.skip()
		return node{}
	}
	n := node{kind: kArray, typ: el.typ}
	if !p.enter() {
		return n
	}
	p.pos++
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		p.depth--
		p.issue(codeStructure, "empty array")
		return n
	}
	prim := types[el.typ].kind == kindPrimitive && el.flags&fAttr == 0
	start := len(p.stack)
	top := len(p.path) - 1
	for i := 0; ; i++ {
		p.path[top].idx = i
		var v node
		switch {
		case p.peek() == '[':
			p.issue(codeStructure, "expected a single value, found a JSON array")
			p.skip()
		case prim && p.peek() == 'n':
			if p.literal("null") {
				n.flags |= nHasNull
			}
		default:
			v = p.single(el.typ, contained)
		}
		if p.stop {
			return n
		}
		p.stack = append(p.stack, member{node: v})
		more, ok := p.next(']')
		if !ok {
			return n
		}
		if !more {
			break
		}
	}
	p.path[top].idx = -1
	p.depth--
	n.kids = p.alloc(p.stack[start:])
	p.stack = p.stack[:start]
	return n
}

// single parses one value of type t.
func (p *parser) single(t typeID, contained bool) node {
	switch types[t].kind {
	case kindPrimitive:
		return p.primitive(t)
	case kindAnyResource:
		if p.peek() != '{' {
			p.wrongKind(kObject, t)
			return node{}
		}
		return p.resource(contained)
	default:
		if p.peek() != '{' {
			p.wrongKind(kObject, t)
			return node{}
		}
		return p.object(t, false)
	}
}

// primitive parses one primitive value of type t.
func (p *parser) primitive(t typeID) node {
	want := jsonKindOf(t)
	c := p.peek()
	var s string
	escaped := false
	switch {
	case want == kString && c == '"':
		var ok bool
		if s, escaped, ok = p.str(); !ok {
			return node{}
		}
	case want == kNumber && (c == '-' || c >= '0' && c <= '9'):
		var ok bool
		if s, ok = p.number(); !ok {
			return node{}
		}
	case want == kBool && c == 't':
		if !p.literal("true") {
			return node{}
		}
		s = "true"
	case want == kBool && c == 'f':
		if !p.literal("false") {
			return node{}
		}
		s = "false"
	default:
		p.wrongKind(want, t)
		return node{}
	}
	if !p.validPrimitive(t, s, escaped) {
		if s == "" {
			p.issue(codeValue, "empty string")
		} else {
			p.issue(codeValue, "invalid "+types[t].name)
		}
	}
	n := node{kind: want, typ: t, str: s}
	if escaped {
		n.flags = nEscaped
	}
	return n
}

// validPrimitive validates a primitive; escaped strings are given raw.
func (p *parser) validPrimitive(t typeID, s string, escaped bool) bool {
	if !escaped {
		return validPrimitive(t, s, false)
	}
	switch {
	case (t == tString || t == tMarkdown) && len(s) <= maxStringChars:
		return escapedTextOK(s) // raw text is never shorter than decoded
	case t == tXhtml && validXhtml(s):
		return true // the outline checked on raw text holds for the decoded text
	}
	return validPrimitive(t, unescape(s), true)
}

// primitiveExt parses `_name`: the id and extensions of a primitive
// element, or an array of them (with nulls) for a repeating element.
func (p *parser) primitiveExt(el *elemDef) node {
	if el.flags&fArray == 0 {
		if p.peek() != '{' {
			p.wrongKind(kObject, tElement)
			return node{}
		}
		return p.object(tElement, false)
	}
	if p.peek() != '[' {
		p.issue(codeStructure, "expected a JSON array")
		p.skip()
		return node{}
	}
	n := node{kind: kArray, typ: tElement}
	if !p.enter() {
		return n
	}
	p.pos++
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		p.depth--
		p.issue(codeStructure, "empty array")
		return n
	}
	start := len(p.stack)
	top := len(p.path) - 1
	for i := 0; ; i++ {
		p.path[top].idx = i
		var v node
		switch p.peek() {
		case 'n':
			if p.literal("null") {
				n.flags |= nHasNull
			}
		case '{':
			v = p.object(tElement, false)
		default:
			p.wrongKind(kObject, tElement)
		}
		if p.stop {
			return n
		}
		p.stack = append(p.stack, member{node: v})
		more, ok := p.next(']')
		if !ok {
			return n
		}
		if !more {
			break
		}
	}
	p.path[top].idx = -1
	p.depth--
	n.kids = p.alloc(p.stack[start:])
	p.stack = p.stack[:start]
	return n
}

// checkPairs checks primitive elements against their `_name` partners:
// arrays of equal length, null placeholders only where the other array
// has a value, and ele-1 (a value or an extension) for each element.
func (p *parser) checkPairs(ms []member) {
	find := func(name string) *node {
		for i := range ms {
			if ms[i].name == name {
				return &ms[i].node
			}
		}
		return nil
	}
	for i := range ms {
		m := &ms[i]
		if len(m.name) < 2 || m.name[0] != '_' {
			continue
		}
		name := m.name[1:]
		val := find(name)
		if m.kind != kArray {
			if m.kind == kObject && (val == nil || val.kind == kNull) && m.get("extension") == nil {
				p.issueAt(codeInvariant, "ele-1: a primitive element must have a value or extensions", name)
			}
			continue
		}
		if val != nil && val.kind == kArray && len(val.kids) != len(m.kids) {
			p.issueAt(codeStructure, "arrays "+name+" and _"+name+" differ in length", name)
			continue
		}
		p.push(name)
		for j := range m.kids {
			p.path[len(p.path)-1].idx = j
			hasValue := val != nil && val.kind == kArray && val.kids[j].kind != kNull
			x := &m.kids[j].node
			switch {
			case x.kind == kNull && val == nil:
				p.issue(codeStructure, "null in _"+name+" without a matching "+name+" array")
			case x.kind == kNull && !hasValue:
				p.issue(codeStructure, "null in both "+name+" and _"+name)
			case x.kind == kObject && !hasValue && x.get("extension") == nil:
				p.issue(codeInvariant, "ele-1: a primitive element must have a value or extensions")
			}
		}
		p.pop()
	}
	for i := range ms {
		m := &ms[i]
		if m.flags&nHasNull == 0 || m.kind != kArray || len(m.name) > 0 && m.name[0] == '_' {
			continue
		}
		ext := find("_" + m.name)
		if ext != nil && ext.kind == kArray && len(ext.kids) == len(m.kids) {
			continue // checked above
		}
		p.push(m.name)
		for j := range m.kids {
			if m.kids[j].kind == kNull {
				p.path[len(p.path)-1].idx = j
				p.issue(codeStructure, "null without a matching _"+m.name+" entry")
			}
		}
		p.pop()
	}
}
