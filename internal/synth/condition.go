package synth

import "time"

// condition is one diagnosis.
type condition struct {
	id       uuid
	kind     *conditionKind
	enc      int       // the encounter it was recorded at, or -1
	recorded time.Time // when it was recorded
	onset    time.Time // date
	abated   time.Time // date; zero while active
}

func (r *record) genConditions() {
	n := r.g.opts.Conditions
	if n == 0 {
		return
	}
	rg := newRNG(r.seed, streamConditions)
	r.conds = make([]condition, n)
	var used uint64 // kinds the patient already has, while there are others
	for k := range r.conds {
		e, at := r.visit(&rg)
		age := ageAt(r.pat.birth, at)
		weight := func(i int) int {
			if c := &conditionKinds[i]; age >= c.minAge && age <= c.maxAge && used&(1<<i) == 0 {
				return c.weight
			}
			return 0
		}
		ki := rg.weighted(len(conditionKinds), weight)
		if ki < 0 {
			used = 0
			ki = rg.weighted(len(conditionKinds), weight)
		}
		used |= 1 << ki
		c := condition{id: newUUID(r.seed, tCondition, k), kind: &conditionKinds[ki], enc: e, recorded: at}
		date := dateOf(at)
		if c.kind.chronic {
			c.onset = date.Add(-time.Duration(rg.intn(3*365)) * day)
		} else {
			c.onset = date.Add(-time.Duration(rg.intn(4)) * day)
			if ab := c.onset.Add(time.Duration(rg.between(7, 21)) * day); ab.Before(r.g.asOf) {
				c.abated = ab
			}
		}
		if c.onset.Before(r.pat.birth) {
			c.onset = r.pat.birth
		}
		r.conds[k] = c
		r.flags |= c.kind.flag
	}
}

func (r *record) appendCondition(dst []byte, k int, st style) []byte {
	c := &r.conds[k]
	dst = appendHead(dst, "Condition", c.id, st)
	dst = append(dst, `,"clinicalStatus":`...)
	if c.abated.IsZero() {
		dst = appendConcept(dst, sysClinical, "active", "Active", false)
	} else {
		dst = appendConcept(dst, sysClinical, "resolved", "Resolved", false)
	}
	dst = append(dst, `,"verificationStatus":`...)
	dst = appendConcept(dst, sysVerif, "confirmed", "Confirmed", false)
	dst = append(dst, `,"category":[`...)
	if c.kind.chronic {
		dst = appendConcept(dst, sysCondCat, "problem-list-item", "Problem List Item", false)
	} else {
		dst = appendConcept(dst, sysCondCat, "encounter-diagnosis", "Encounter Diagnosis", false)
	}
	dst = append(dst, `],"code":`...)
	dst = appendConcept(dst, sysSNOMED, c.kind.code, c.kind.display, true)
	dst = r.appendSubject(dst, st)
	dst = r.appendEncounterRef(dst, c.enc, st)
	dst = append(dst, `,"onsetDateTime":`...)
	dst = appendQDate(dst, c.onset)
	if !c.abated.IsZero() {
		dst = append(dst, `,"abatementDateTime":`...)
		dst = appendQDate(dst, c.abated)
	}
	dst = append(dst, `,"recordedDate":`...)
	dst = appendQDateTime(dst, c.recorded, r.pat.city.tz)
	return append(dst, '}')
}
