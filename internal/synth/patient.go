package synth

import "time"

// patient holds the demographics of one patient.
type patient struct {
	id                        uuid
	group                     *nameGroup
	given                     []string
	family                    string
	nativeFamily, nativeGiven string // Han-script forms, or ""
	prefix                    string
	gender                    string // male | female | other | unknown
	female                    bool   // which given-name list, pronouns
	birth                     time.Time
	age                       int // whole years at AsOf
	mrn, ssn, dl              int // positions in the identifier spaces
	house                     int
	street, suffix, unit      string
	city                      *city
	zip2                      int // last two ZIP digits
	phone                     int // last two digits of 555-01NN
	email                     string
	marital                   int // index into maritalStatuses, or -1
	height                    int // adult height in mm
	bmiAdult, bmiChild        int // tenths of kg/m²
}

// Identifier spaces. Identifiers are a permutation of the patient index
// (index·multiplier + seed offset, modulo the space; each multiplier is
// coprime to its space and near 0.618 of it, so neighbours land far
// apart), so they never repeat below the space size: MRNs for 10^8
// patients, SSNs and licences for about 10^6.
const (
	mrnSpace = 100_000_000 // 8 digits
	mrnMul   = 61_803_399
	ssnSpace = 99 * 9999 // 999-01-0001 … 999-99-9999
	ssnMul   = 611_777
	dlSpace  = 1_000_000 // S99 + 6 digits
	dlMul    = 618_033
)

func permute(i, space, mul, off int) int {
	return int((uint64(i)%uint64(space)*uint64(mul) + uint64(off)) % uint64(space))
}

// ageBands is the age distribution at AsOf. Over-89s are 3%, about four
// times their US share, so that the Safe Harbor age rule is exercised
// in every sample of a few hundred patients.
var ageBands = [...]struct{ weight, lo, hi int }{
	{6, 0, 4}, {15, 5, 17}, {16, 18, 29}, {20, 30, 44}, {25, 45, 64}, {12, 65, 79}, {3, 80, 89}, {3, 90, 106},
}

func (r *record) genPatient(i int) {
	g := r.g
	rg := newRNG(r.seed, streamDemographics)
	p := &r.pat
	p.id = newUUID(r.seed, tPatient, 0)

	gi := rg.weighted(len(nameGroups), func(i int) int { return nameGroups[i].weight })
	p.group = &nameGroups[gi]
	switch x := rg.intn(100); {
	case x < 49:
		p.gender = "male"
	case x < 98:
		p.gender, p.female = "female", true
	case x < 99:
		p.gender, p.female = "other", rg.chance(50)
	default:
		p.gender, p.female = "unknown", rg.chance(50)
	}

	band := &ageBands[rg.weighted(len(ageBands), func(i int) int { return ageBands[i].weight })]
	p.age = rg.between(band.lo, band.hi)
	// Born between 14 and 364 days before a birthday that makes them
	// p.age at AsOf; the 14 leaves newborns time for a first visit.
	p.birth = g.asOf.AddDate(-p.age, 0, -rg.between(14, 364))
	p.age = ageAt(p.birth, g.asOf)

	names := p.group.male
	native := p.group.maleNative
	if p.female {
		names, native = p.group.female, p.group.femaleNative
	}
	fi := rg.intn(len(p.group.family))
	p.family = p.group.family[fi]
	first := rg.intn(len(names))
	p.given = []string{names[first]}
	if rg.chance(40) && len(names) > 1 {
		p.given = append(p.given, names[(first+1+rg.intn(len(names)-1))%len(names)])
	}
	if native != nil && rg.chance(60) {
		p.nativeFamily, p.nativeGiven = p.group.familyNative[fi], native[first]
	}

	p.marital = -1
	if p.age >= 18 {
		p.marital = rg.intn(len(maritalStatuses))
		switch {
		case p.gender == "male":
			p.prefix = "Mr."
		case p.gender != "female":
			p.prefix = "Mx."
		case maritalStatuses[p.marital][0] == "M":
			p.prefix = "Mrs."
		default:
			p.prefix = "Ms."
		}
	}

	p.mrn = permute(i, mrnSpace, mrnMul, g.mrnOff)
	p.ssn = permute(i, ssnSpace, ssnMul, g.ssnOff)
	p.dl = permute(i, dlSpace, dlMul, g.dlOff)

	p.city = &cities[rg.weighted(len(cities), func(i int) int { return cities[i].weight })]
	p.zip2 = rg.intn(100)
	p.house = 1 + rg.intn(99)
	if rg.chance(70) {
		p.house = 100 + rg.intn(9900)
	}
	p.street = pick(&rg, streetNames)
	p.suffix = pick(&rg, streetSuffixes)
	if rg.chance(20) {
		p.unit = string(appendUint([]byte("Apt "), 1+rg.intn(30), 1)) + string(rune('A'+rg.intn(4)))
	}
	p.phone = rg.intn(100)
	if p.age >= 13 {
		b := appendEmailPart(make([]byte, 0, 48), p.given[0])
		b = append(b, '.')
		b = appendEmailPart(b, p.family)
		b = appendUint(b, rg.intn(100), 2)
		b = append(b, '@')
		b = append(b, pick(&rg, []string{"example.com", "example.org", "example.net"})...)
		p.email = string(b)
	}

	if p.female {
		p.height = rg.normal(1630, 40)
	} else {
		p.height = rg.normal(1760, 40)
	}
	p.bmiAdult = min(max(rg.normal(272, 30), 170), 450)
	p.bmiChild = rg.normal(165, 8)
}

// heightAt is the height in mm at an age in months: about 50 cm at
// birth, 75 cm at one year, then linear to the adult height at 17.
func (p *patient) heightAt(months int) int {
	switch {
	case months < 12:
		return 500 + months*21
	case months < 17*12:
		return 750 + (months-12)*(p.height-750)/(16*12)
	}
	return p.height
}

// bmiAt is the body-mass index in tenths at an age in months; flags
// may raise it (obesity).
func (p *patient) bmiAt(months, flags int) int {
	if months < 18*12 {
		return p.bmiChild
	}
	if flags&flagObesity != 0 {
		return max(p.bmiAdult, 310+p.bmiAdult%60)
	}
	return p.bmiAdult
}

// name is the given names and family name as people write them.
func (p *patient) name() string {
	b := make([]byte, 0, 40)
	for _, g := range p.given {
		b = append(b, g...)
		b = append(b, ' ')
	}
	return string(append(b, p.family...))
}

// appendPhone appends the number, in the fictional 555-01xx range.
func (p *patient) appendPhone(dst []byte) []byte {
	dst = append(dst, '(')
	dst = append(dst, p.city.area...)
	dst = append(dst, ") 555-01"...)
	return appendUint(dst, p.phone, 2)
}

func (p *patient) appendMRN(dst []byte) []byte { return appendUint(dst, p.mrn, 8) }

// appendSSN appends an SSN-shaped number with area 999, which the
// Social Security Administration never issues.
func (p *patient) appendSSN(dst []byte) []byte {
	dst = append(dst, "999-"...)
	dst = appendUint(dst, 1+p.ssn/9999, 2)
	dst = append(dst, '-')
	return appendUint(dst, 1+p.ssn%9999, 4)
}

func (p *patient) appendZIP(dst []byte) []byte {
	dst = append(dst, p.city.zip3...)
	return appendUint(dst, p.zip2, 2)
}

func appendIdentifier(dst []byte, use, typeCode, typeDisplay, system string, value func([]byte) []byte) []byte {
	dst = append(dst, `{"use":"`...)
	dst = append(dst, use...)
	dst = append(dst, `","type":`...)
	dst = appendConcept(dst, sysV2ID, typeCode, typeDisplay, true)
	dst = append(dst, `,"system":"`...)
	dst = append(dst, system...)
	dst = append(dst, `","value":"`...)
	dst = value(dst)
	return append(dst, `"}`...)
}

func (r *record) appendPatient(dst []byte, st style) []byte {
	p := &r.pat
	dst = appendHead(dst, "Patient", p.id, st)

	dst = append(dst, `,"identifier":[`...)
	dst = appendIdentifier(dst, "usual", "MR", "Medical record number", sysMRN, p.appendMRN)
	dst = append(dst, ',')
	dst = appendIdentifier(dst, "official", "SS", "Social Security number", sysSSN, p.appendSSN)
	if p.age >= 16 {
		dst = append(dst, ',')
		system := string(appendUint([]byte(sysDriversLicence), p.city.fips, 1))
		dst = appendIdentifier(dst, "official", "DL", "Driver's license number", system, func(b []byte) []byte {
			return appendUint(append(b, "S99"...), p.dl, 6)
		})
	}
	dst = append(dst, ']')

	dst = append(dst, `,"name":[{"use":"official","family":`...)
	dst = appendString(dst, p.family)
	dst = append(dst, `,"given":[`...)
	for k, g := range p.given {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, g)
	}
	dst = append(dst, ']')
	if p.prefix != "" {
		dst = append(dst, `,"prefix":[`...)
		dst = appendString(dst, p.prefix)
		dst = append(dst, ']')
	}
	dst = append(dst, '}')
	if p.nativeFamily != "" {
		// Family name first, as written in Han script.
		dst = append(dst, `,{"use":"usual","text":`...)
		dst = appendString(dst, p.nativeFamily+p.nativeGiven)
		dst = append(dst, `,"family":`...)
		dst = appendString(dst, p.nativeFamily)
		dst = append(dst, `,"given":[`...)
		dst = appendString(dst, p.nativeGiven)
		dst = append(dst, "]}"...)
	}
	dst = append(dst, ']')

	dst = append(dst, `,"telecom":[{"system":"phone","value":"`...)
	dst = p.appendPhone(dst)
	dst = append(dst, `","use":"home"}`...)
	if p.email != "" {
		dst = append(dst, `,{"system":"email","value":`...)
		dst = appendString(dst, p.email)
		dst = append(dst, `,"use":"home"}`...)
	}
	dst = append(dst, ']')

	dst = append(dst, `,"gender":"`...)
	dst = append(dst, p.gender...)
	dst = append(dst, `","birthDate":`...)
	dst = appendQDate(dst, p.birth)

	dst = append(dst, `,"address":[{"use":"home","type":"physical","line":["`...)
	dst = appendUint(dst, p.house, 1)
	dst = append(dst, ' ')
	dst = append(dst, p.street...)
	dst = append(dst, ' ')
	dst = append(dst, p.suffix...)
	dst = append(dst, '"')
	if p.unit != "" {
		dst = append(dst, ',')
		dst = appendString(dst, p.unit)
	}
	dst = append(dst, `],"city":`...)
	dst = appendString(dst, p.city.name)
	dst = append(dst, `,"state":"`...)
	dst = append(dst, p.city.state...)
	dst = append(dst, `","postalCode":"`...)
	dst = p.appendZIP(dst)
	dst = append(dst, `","country":"US"}]`...)

	if p.marital >= 0 {
		ms := maritalStatuses[p.marital]
		dst = append(dst, `,"maritalStatus":`...)
		dst = appendConcept(dst, sysMarital, ms[0], ms[1], true)
	}

	dst = append(dst, `,"communication":[{"language":`...)
	dst = appendConcept(dst, sysLanguage, p.group.lang, p.group.langDisplay, true)
	dst = append(dst, `,"preferred":true}]`...)
	return append(dst, '}')
}
