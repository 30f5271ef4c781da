package synth

import (
	"slices"
	"time"
)

// encounter is one visit.
type encounter struct {
	id         uuid
	kind       *encounterKind
	start, end time.Time
	clinician  string
}

// during draws a time within the encounter: in its first hour for a
// clinic visit, anywhere in it for a longer stay.
func (e *encounter) during(rg *rng) time.Time {
	minutes := int(e.end.Sub(e.start) / time.Minute)
	return e.start.Add(time.Duration(rg.intn(min(minutes, 60)+1)) * time.Minute)
}

func (r *record) genEncounters() {
	n := r.g.opts.Encounters
	if n == 0 {
		return
	}
	rg := newRNG(r.seed, streamEncounters)
	lo, hi := r.window()
	days := int(hi.Sub(lo) / day)
	r.encs = make([]encounter, n)
	for k := range r.encs {
		date := lo.Add(time.Duration(rg.intn(days+1)) * day)
		age := ageAt(r.pat.birth, date)
		kind := &encounterKinds[rg.weighted(len(encounterKinds), func(i int) int {
			if ek := &encounterKinds[i]; age >= ek.minAge && age <= ek.maxAge {
				return ek.weight
			}
			return 0
		})]
		var minute int
		if kind.class == "AMB" {
			minute = 8*60 + 5*rg.intn(106) // clinic hours, 08:00 to 16:45
		} else {
			minute = 5 * rg.intn(24*12)
		}
		start := date.Add(time.Duration(minute) * time.Minute)
		r.encs[k] = encounter{
			kind:      kind,
			start:     start,
			end:       start.Add(time.Duration(rg.between(kind.minMinutes, kind.maxMinutes)) * time.Minute),
			clinician: clinician(&rg),
		}
	}
	slices.SortStableFunc(r.encs, func(a, b encounter) int { return a.start.Compare(b.start) })
	for k := range r.encs {
		r.encs[k].id = newUUID(r.seed, tEncounter, k)
	}
}

// clinician draws a physician's name from the same name lists.
func clinician(rg *rng) string {
	g := &nameGroups[rg.weighted(len(nameGroups), func(i int) int { return nameGroups[i].weight })]
	given := g.male
	if rg.chance(50) {
		given = g.female
	}
	return "Dr. " + pick(rg, given) + " " + pick(rg, g.family)
}

func (r *record) appendEncounter(dst []byte, k int, st style) []byte {
	e := &r.encs[k]
	tz := r.pat.city.tz
	dst = appendHead(dst, "Encounter", e.id, st)
	dst = append(dst, `,"status":"finished","class":`...)
	dst = appendCoding(dst, sysActCode, e.kind.class, e.kind.classDisplay)
	dst = append(dst, `,"type":[`...)
	dst = appendConcept(dst, sysSNOMED, e.kind.code, e.kind.display, true)
	dst = append(dst, ']')
	dst = r.appendSubject(dst, st)
	dst = append(dst, `,"participant":[{"individual":`...)
	dst = appendDisplayRef(dst, e.clinician)
	dst = append(dst, `}],"period":{"start":`...)
	dst = appendQDateTime(dst, e.start, tz)
	dst = append(dst, `,"end":`...)
	dst = appendQDateTime(dst, e.end, tz)
	dst = append(dst, `},"serviceProvider":{"display":`...)
	dst = appendString(dst, r.pat.city.name+" "+e.kind.place)
	return append(dst, "}}"...)
}
