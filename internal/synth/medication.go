package synth

import "time"

// medRequest is one prescription.
type medRequest struct {
	id        uuid
	med       *medication
	enc       int // encounter index, or -1
	reason    int // index of the condition treated, or -1
	authored  time.Time
	active    bool
	requester string
}

func (r *record) genMedications() {
	n := r.g.opts.MedicationRequests
	if n == 0 {
		return
	}
	rg := newRNG(r.seed, streamMedications)
	r.meds = make([]medRequest, n)
	for k := range r.meds {
		m := medRequest{id: newUUID(r.seed, tMedicationRequest, k), enc: -1, reason: -1}
		chronic := false
		if len(r.conds) > 0 {
			// Treat the conditions in turn, prescribing at (or, for a
			// repeat, after) the visit where each was recorded.
			ci := k % len(r.conds)
			c := &r.conds[ci]
			if c.kind.meds != nil {
				m.med, m.reason, chronic = &c.kind.meds[rg.intn(len(c.kind.meds))], ci, c.kind.chronic
			}
			if c.enc >= 0 {
				m.enc = c.enc
				if k >= len(r.conds) {
					m.enc += rg.intn(len(r.encs) - c.enc)
				}
			}
		}
		if m.med == nil {
			m.med = &symptomatic[rg.intn(len(symptomatic))]
		}
		if m.enc < 0 && len(r.encs) > 0 {
			m.enc = rg.intn(len(r.encs))
		}
		if m.enc >= 0 {
			e := &r.encs[m.enc]
			m.authored = e.end.Add(-time.Duration(rg.intn(10)) * time.Minute)
			m.requester = e.clinician
		} else {
			m.authored = r.moment(&rg)
			m.requester = clinician(&rg)
		}
		// Long-term drugs stay active unless stopped; the rest end
		// within a month of being ordered.
		if chronic && !m.med.asNeeded {
			m.active = rg.chance(85)
		} else {
			m.active = r.g.asOf.Sub(m.authored) < 30*day
		}
		r.meds[k] = m
	}
}

func (r *record) appendMedicationRequest(dst []byte, k int, st style) []byte {
	m := &r.meds[k]
	dst = appendHead(dst, "MedicationRequest", m.id, st)
	if m.active {
		dst = append(dst, `,"status":"active"`...)
	} else {
		dst = append(dst, `,"status":"completed"`...)
	}
	dst = append(dst, `,"intent":"order","medicationCodeableConcept":`...)
	dst = appendConcept(dst, sysRxNorm, m.med.code, m.med.display, true)
	dst = r.appendSubject(dst, st)
	dst = r.appendEncounterRef(dst, m.enc, st)
	dst = append(dst, `,"authoredOn":`...)
	dst = appendQDateTime(dst, m.authored, r.pat.city.tz)
	dst = append(dst, `,"requester":`...)
	dst = appendDisplayRef(dst, m.requester)
	if m.reason >= 0 {
		dst = append(dst, `,"reasonReference":[`...)
		dst = appendRef(dst, "Condition", r.conds[m.reason].id, st)
		dst = append(dst, ']')
	}
	dst = append(dst, `,"dosageInstruction":[{"sequence":1,"text":`...)
	dst = appendString(dst, m.med.dosage)
	if m.med.asNeeded {
		dst = append(dst, `,"asNeededBoolean":true}]}`...)
	} else {
		dst = append(dst, `,"asNeededBoolean":false}]}`...)
	}
	return dst
}
