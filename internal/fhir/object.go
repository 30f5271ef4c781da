package fhir

// Schema-driven parsing of resources and objects.

// jsonKindName names a JSON kind for diagnostics.
func jsonKindName(k kind) string {
	switch k {
	case kString:
		return "a JSON string"
	case kNumber:
		return "a JSON number"
	case kBool:
		return "a JSON boolean"
	case kArray:
		return "a JSON array"
	case kNull:
		return "null"
	}
	return "a JSON object"
}

// kindAt returns the JSON kind of the value starting at p.pos.
func (p *parser) kindAt() kind {
	switch c := p.peek(); {
	case c == '{':
		return kObject
	case c == '[':
		return kArray
	case c == '"':
		return kString
	case c == 't' || c == 'f':
		return kBool
	case c == 'n':
		return kNull
	}
	return kNumber
}

// wrongKind reports a value of the wrong JSON kind and skips it.
// A value that is not JSON at all is reported as a syntax error only.
func (p *parser) wrongKind(want kind, t typeID) {
	got := p.kindAt()
	p.skip()
	if p.stop {
		return
	}
	if got == kNull {
		p.issue(codeStructure, "null is not allowed here")
	} else {
		p.issue(codeStructure, "expected "+jsonKindName(want)+" ("+types[t].name+"), found "+jsonKindName(got))
	}
}

// Results of probeType.
const (
	rtFound     = iota
	rtMissing   // no resourceType key
	rtNotString // resourceType is not a JSON string
	rtBroken    // the object is not valid JSON: the real parse reports why
)

// probeType finds the resourceType of the object at p.pos without
// consuming it or reporting anything: a syntax error it meets is found
// again, and reported, by the real parse.
func (p *parser) probeType() (string, int) {
	pos, depth, nIssues, stop := p.pos, p.depth, len(p.issues), p.stop
	defer func() { p.pos, p.depth, p.issues, p.stop = pos, depth, p.issues[:nIssues], stop }()
	p.pos++
	p.depth++
	p.skipWS()
	if p.peek() == '}' {
		return "", rtMissing
	}
	for !p.stop {
		k, ok := p.key()
		if !ok {
			return "", rtBroken
		}
		if k == "resourceType" {
			if p.peek() != '"' {
				return "", rtNotString
			}
			s, escaped, ok := p.str()
			if !ok {
				return "", rtBroken
			}
			if escaped {
				s = unescape(s)
			}
			return s, rtFound
		}
		p.skip()
		more, ok := p.next('}')
		if !ok || !more {
			break
		}
	}
	if p.stop {
		return "", rtBroken
	}
	return "", rtMissing
}

// resource parses the object at p.pos as a resource of the type its
// resourceType names. contained is set for DomainResource.contained.
func (p *parser) resource(contained bool) node {
	name, status := p.probeType()
	t := resourceTypeID(name)
	switch {
	case status == rtBroken:
		// skip reports the syntax error
	case status == rtMissing:
		p.issue(codeRequired, "missing resourceType")
	case status == rtNotString:
		p.issue(codeStructure, "resourceType must be a JSON string")
	case t == 0:
		p.issue(codeInvalid, "unknown resourceType")
	}
	if t == 0 {
		p.skip()
		return node{}
	}
	if len(p.path) == 0 {
		p.path = append(p.path, seg{types[t].name, -1})
	}
	return p.object(t, contained)
}

// object parses the object at p.pos as a value of type t (a complex
// type, backbone element or resource).
func (p *parser) object(t typeID, contained bool) node {
	n := node{kind: kObject, typ: t}
	if !p.enter() {
		return n
	}
	p.pos++
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		p.depth--
		p.issue(codeStructure, "empty object")
		return n
	}
	td := &types[t]
	isResource := td.kind == kindResource
	start := len(p.stack)
	var seen, seenExt [seenWords]uint64
	var choices uint64
	rtAt := -1     // stack position of resourceType
	pairs := false // primitive arrays with nulls, or `_x` members: check pairing
	for {
		key, ok := p.key()
		if !ok {
			return n
		}
		name, ext := key, false
		if len(key) > 1 && key[0] == '_' {
			name, ext = key[1:], true
		}
		i := -1
		if isResource && key == "resourceType" {
			if rtAt >= 0 {
				p.issueAt(codeStructure, "duplicate key", "resourceType")
				p.skip()
			} else if p.peek() != '"' {
				p.skip() // not reached: probeType saw a string
			} else if s, escaped, ok := p.str(); ok {
				if escaped {
					s = unescape(s)
				}
				rtAt = len(p.stack)
				p.stack = append(p.stack, member{name: key, node: node{kind: kString, str: s}})
			}
			goto next
		}
		i = td.lookup(name)
		if i < 0 || ext && (types[td.elems[i].typ].kind != kindPrimitive || td.elems[i].flags&fAttr != 0) {
			if d, ok := displayName(key); ok {
				p.issueAt(codeStructure, "unknown element", d)
			} else {
				p.issue(codeStructure, "unknown element (name not shown)")
			}
			p.skip()
			goto next
		}
		{
			el := &td.elems[i]
			w, bit := i>>6, uint64(1)<<(i&63)
			if ext && seenExt[w]&bit != 0 || !ext && seen[w]&bit != 0 {
				p.issueAt(codeStructure, "duplicate key", key)
				p.skip()
				goto next
			}
			if el.choice != 0 {
				cb := uint64(1) << el.choice
				if choices&cb != 0 && (seen[w]|seenExt[w])&bit == 0 {
					p.issueAt(codeStructure, "more than one value for choice element "+choiceName(td, el.choice)+"[x]", name)
				}
				choices |= cb
			}
			if ext {
				seenExt[w] |= bit
			} else {
				seen[w] |= bit
			}
			p.push(name)
			var v node
			switch {
			case ext:
				v = p.primitiveExt(el)
				pairs = true
			case el.typ == tResource && isResource && name == "contained":
				if contained {
					p.issue(codeInvariant, "dom-2: a contained resource cannot contain resources")
					p.skip()
				} else {
					v = p.elemValue(el, true)
				}
			default:
				v = p.elemValue(el, false)
				if v.flags&nHasNull != 0 {
					pairs = true
				}
			}
			p.pop()
			if p.stop {
				return n
			}
			p.stack = append(p.stack, member{name: key, node: v})
		}
	next:
		if p.stop {
			return n
		}
		more, ok := p.next('}')
		if !ok {
			return n
		}
		if !more {
			break
		}
	}
	p.depth--
	ms := p.stack[start:]
	if rtAt > start {
		// resourceType goes first.
		rt := ms[rtAt-start]
		copy(ms[1:rtAt-start+1], ms[:rtAt-start])
		ms[0] = rt
	}
	// Required elements and choices.
	for _, r := range td.required {
		if (seen[r>>6]|seenExt[r>>6])&(1<<(r&63)) == 0 {
			p.issueAt(codeRequired, "missing required element", td.elems[r].name)
		}
	}
	for g, c := range td.choices {
		if c[0] == '!' && choices&(1<<(g+1)) == 0 {
			p.issueAt(codeRequired, "missing required element", c[1:]+"[x]")
		}
	}
	if pairs {
		p.checkPairs(ms)
	}
	switch {
	case isResource || t == tElement:
	case t == tExtension:
		// ext-1: extension.exists() != value.exists()
		hasValue := choices&(1<<extValueChoice) != 0
		hasExt := false
		for i := range ms {
			if ms[i].name == "extension" {
				hasExt = true
			}
		}
		if hasValue == hasExt {
			p.issue(codeInvariant, "ext-1: an extension must have either extensions or a value, not both")
		}
	case len(ms) == 1 && ms[0].name == "id":
		p.issue(codeInvariant, "ele-1: an element must have a value or children besides id")
	}
	n.kids = p.alloc(ms)
	p.stack = p.stack[:start]
	return n
}

func choiceName(td *typeDef, g uint8) string {
	c := td.choices[g-1]
	if c[0] == '!' {
		return c[1:]
	}
	return c
}

// alloc copies the members onto the arena and returns them as a slice
// whose capacity ends at its length, so appends never clobber neighbours.
func (p *parser) alloc(ms []member) []member {
	n := len(ms)
	if n == 0 {
		return nil
	}
	if cap(p.arena)-len(p.arena) < n {
		p.arena = make([]member, 0, max(n, p.chunk))
	}
	l := len(p.arena)
	p.arena = p.arena[:l+n]
	s := p.arena[l : l+n : l+n]
	copy(s, ms)
	return s
}
