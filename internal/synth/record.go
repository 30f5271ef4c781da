package synth

import "time"

const day = 24 * time.Hour

// record is everything generated for one patient, before it is written.
type record struct {
	g     *Generator
	seed  uint64 // the patient's seed: every draw and id derives from it
	pat   patient
	encs  []encounter
	conds []condition
	obs   []observation
	meds  []medRequest
	notes []note
	flags int // union of the conditions' flags
}

// record generates patient i. Sections run in dependency order; each
// draws from its own stream.
func (g *Generator) record(i int) *record {
	r := &record{g: g, seed: mix64(g.seed + uint64(i)*golden)}
	r.genPatient(i)
	r.genEncounters()
	r.genConditions()
	r.genObservations()
	r.genMedications()
	r.genNotes()
	return r
}

// count is the number of resources of type t.
func (r *record) count(t int) int {
	switch t {
	case tPatient:
		return 1
	case tEncounter:
		return len(r.encs)
	case tCondition:
		return len(r.conds)
	case tObservation:
		return len(r.obs)
	case tMedicationRequest:
		return len(r.meds)
	case tDocumentReference:
		return len(r.notes)
	}
	return 0
}

// total is the number of resources.
func (r *record) total() int {
	n := 0
	for t := range nTypes {
		n += r.count(t)
	}
	return n
}

// id is the id of the k-th resource of type t.
func (r *record) id(t, k int) uuid {
	switch t {
	case tEncounter:
		return r.encs[k].id
	case tCondition:
		return r.conds[k].id
	case tObservation:
		return r.obs[k].id
	case tMedicationRequest:
		return r.meds[k].id
	case tDocumentReference:
		return r.notes[k].id
	}
	return r.pat.id
}

// appendResource appends the k-th resource of type t.
func (r *record) appendResource(dst []byte, t, k int, st style) []byte {
	switch t {
	case tEncounter:
		return r.appendEncounter(dst, k, st)
	case tCondition:
		return r.appendCondition(dst, k, st)
	case tObservation:
		return r.appendObservation(dst, k, st)
	case tMedicationRequest:
		return r.appendMedicationRequest(dst, k, st)
	case tDocumentReference:
		return r.appendDocumentReference(dst, k, st)
	}
	return r.appendPatient(dst, st)
}

// appendSubject appends `,"subject":{reference to the patient}`.
func (r *record) appendSubject(dst []byte, st style) []byte {
	dst = append(dst, `,"subject":`...)
	return appendRef(dst, "Patient", r.pat.id, st)
}

// appendEncounterRef appends `,"encounter":{…}` when e is an encounter.
func (r *record) appendEncounterRef(dst []byte, e int, st style) []byte {
	if e < 0 {
		return dst
	}
	dst = append(dst, `,"encounter":`...)
	return appendRef(dst, "Encounter", r.encs[e].id, st)
}

// window is the span encounters fall in: the ten years before AsOf
// (ending a week before it, so stays end by AsOf), but not before birth.
func (r *record) window() (lo, hi time.Time) {
	asOf := r.g.asOf
	lo = asOf.AddDate(-10, 0, 0)
	if b := r.pat.birth.Add(day); b.After(lo) {
		lo = b
	}
	hi = asOf.Add(-8 * day)
	if lo.After(hi) {
		lo = hi
	}
	return lo, hi
}

// moment draws a time in the window, for records that have no
// encounter to belong to (Options.Encounters is 0).
func (r *record) moment(rg *rng) time.Time {
	lo, hi := r.window()
	days := int(hi.Sub(lo) / day)
	return lo.Add(time.Duration(rg.intn(days+1))*day + time.Duration(8*60+rg.intn(10*60))*time.Minute)
}

// visit picks an encounter (or -1 when there are none) and a time
// during it.
func (r *record) visit(rg *rng) (int, time.Time) {
	if len(r.encs) == 0 {
		return -1, r.moment(rg)
	}
	e := rg.intn(len(r.encs))
	return e, r.encs[e].during(rg)
}

// ageAt is the age in whole years on date t of someone born on birth.
func ageAt(birth, t time.Time) int {
	return monthsAt(birth, t) / 12
}

// monthsAt is the age in whole months on date t.
func monthsAt(birth, t time.Time) int {
	by, bm, bd := birth.Date()
	ty, tm, td := t.Date()
	m := (ty-by)*12 + int(tm) - int(bm)
	if td < bd {
		m--
	}
	return max(m, 0)
}

// dateOf is the calendar date of t (midnight).
func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
