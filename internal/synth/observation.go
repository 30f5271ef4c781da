package synth

import "time"

// observation is one vital sign or laboratory result.
type observation struct {
	id     uuid
	kind   int // index into obsKinds
	enc    int // encounter index, or -1
	at     time.Time
	issued time.Time // laboratory results only
	v, v2  int       // value in units of 10^-scale; v2 the diastolic pressure
}

func (r *record) genObservations() {
	n := r.g.opts.Observations
	if n == 0 {
		return
	}
	rg := newRNG(r.seed, streamObservations)
	r.obs = make([]observation, n)
	var used uint32 // kinds measured at the current encounter
	for k := range r.obs {
		o := observation{id: newUUID(r.seed, tObservation, k), enc: -1}
		if len(r.encs) > 0 {
			// Spread in order over the encounters, so each visit has a
			// handful of measurements.
			o.enc = k * len(r.encs) / n
			o.at = r.encs[o.enc].during(&rg)
			if k > 0 && r.obs[k-1].enc != o.enc {
				used = 0
			}
		} else {
			o.at = r.moment(&rg)
		}
		// Each kind once per visit until all have been measured.
		weight := func(i int) int {
			if used&(1<<i) != 0 {
				return 0
			}
			return obsKinds[i].weight
		}
		o.kind = rg.weighted(len(obsKinds), weight)
		if o.kind < 0 {
			used = 0
			o.kind = rg.weighted(len(obsKinds), weight)
		}
		used |= 1 << o.kind
		if obsKinds[o.kind].category == "laboratory" {
			o.issued = o.at.Add(time.Duration(rg.between(60, 24*60)) * time.Minute)
		}
		o.v, o.v2 = r.measure(&rg, o.kind, monthsAt(r.pat.birth, o.at))
		r.obs[k] = o
	}
}

// measure draws a plausible value for the patient at an age in months,
// shifted by their conditions (hypertension raises blood pressure,
// diabetes glucose and HbA1c, and so on).
func (r *record) measure(rg *rng, kind, months int) (v, v2 int) {
	p, f := &r.pat, r.flags
	years := months / 12
	child := years < 18
	switch kind {
	case obsWeight:
		h := p.heightAt(months)
		w := p.bmiAt(months, f) * h * h / 1_000_000 // tenths of kg
		return max(w+rg.normal(0, w/100), 20), 0
	case obsHeight:
		return max(p.heightAt(months)+rg.normal(0, 3), 450), 0 // mm are tenths of cm
	case obsBMI:
		return p.bmiAt(months, f) + rg.normal(0, 3), 0
	case obsBP:
		sys, dia := 112+years/4, 72+years/10
		if child {
			sys, dia = 95+years, 58+years
		}
		if f&flagHypertension != 0 {
			sys, dia = sys+22, dia+12
		}
		return rg.normal(sys, 7), rg.normal(dia, 5)
	case obsHeartRate:
		switch {
		case months < 12:
			return rg.normal(130, 8), 0
		case child:
			return rg.normal(95-years*2, 6), 0
		}
		return rg.normal(72, 6), 0
	case obsRespRate:
		switch {
		case months < 12:
			return rg.normal(34, 3), 0
		case child:
			return rg.normal(22-years/3, 2), 0
		}
		return rg.normal(16, 1), 0
	case obsTemp:
		if rg.chance(8) {
			return rg.normal(385, 3), 0 // fever
		}
		return rg.normal(368, 2), 0
	case obsSpO2:
		if f&flagCOPD != 0 {
			return min(rg.normal(92, 1), 100), 0
		}
		return min(rg.normal(97, 1), 100), 0
	case obsGlucose:
		if f&flagDiabetes != 0 {
			return rg.normal(165, 20), 0
		}
		return rg.normal(90, 6), 0
	case obsHbA1c:
		if f&flagDiabetes != 0 {
			return rg.normal(78, 6), 0
		}
		return rg.normal(53, 2), 0
	case obsCholesterol:
		if f&flagHyperlipidemia != 0 {
			return rg.normal(245, 15), 0
		}
		return rg.normal(180, 15), 0
	case obsHDL:
		if p.female {
			return rg.normal(60, 6), 0
		}
		return rg.normal(50, 6), 0
	case obsLDL:
		if f&flagHyperlipidemia != 0 {
			return rg.normal(165, 12), 0
		}
		return rg.normal(105, 12), 0
	case obsTriglycerides:
		if f&flagHyperlipidemia != 0 {
			return rg.normal(210, 25), 0
		}
		return rg.normal(125, 20), 0
	case obsCreatinine:
		if child {
			return rg.normal(50, 6), 0
		}
		if p.female {
			return rg.normal(80, 8), 0
		}
		return rg.normal(100, 9), 0
	case obsHemoglobin:
		switch {
		case f&flagAnemia != 0:
			return rg.normal(100, 6), 0
		case p.female || child:
			return rg.normal(135, 6), 0
		}
		return rg.normal(152, 6), 0
	case obsLeukocytes:
		return rg.normal(72, 9), 0
	case obsSodium:
		return rg.normal(140, 1), 0
	case obsPotassium:
		return rg.normal(42, 2), 0
	}
	return 0, 0
}

// interpretation compares a value with the reference range and returns
// the v3-ObservationInterpretation code and display, or "" when the kind
// has no range.
func interpretation(k *obsKind, v int) (code, display string) {
	switch {
	case k.low < 0 && k.high < 0:
		return "", ""
	case k.low >= 0 && v < k.low:
		return "L", "Low"
	case k.high >= 0 && v > k.high:
		return "H", "High"
	}
	return "N", "Normal"
}

func (r *record) appendObservation(dst []byte, k int, st style) []byte {
	o := &r.obs[k]
	kind := &obsKinds[o.kind]
	tz := r.pat.city.tz
	dst = appendHead(dst, "Observation", o.id, st)
	dst = append(dst, `,"status":"final","category":[`...)
	if kind.category == "laboratory" {
		dst = appendConcept(dst, sysObsCat, "laboratory", "Laboratory", false)
	} else {
		dst = appendConcept(dst, sysObsCat, "vital-signs", "Vital Signs", false)
	}
	dst = append(dst, `],"code":`...)
	dst = appendConcept(dst, sysLOINC, kind.code, kind.display, true)
	dst = r.appendSubject(dst, st)
	dst = r.appendEncounterRef(dst, o.enc, st)
	dst = append(dst, `,"effectiveDateTime":`...)
	dst = appendQDateTime(dst, o.at, tz)
	if !o.issued.IsZero() {
		dst = append(dst, `,"issued":`...)
		dst = appendQDateTime(dst, o.issued, tz)
	}
	if o.kind == obsBP {
		dst = append(dst, `,"component":[{"code":`...)
		dst = appendConcept(dst, sysLOINC, loincSystolic, loincSystolicDisplay, true)
		dst = append(dst, `,"valueQuantity":`...)
		dst = appendQuantity(dst, o.v, 0, kind.unit, kind.ucum)
		dst = append(dst, `},{"code":`...)
		dst = appendConcept(dst, sysLOINC, loincDiastolic, loincDiastolicDisplay, true)
		dst = append(dst, `,"valueQuantity":`...)
		dst = appendQuantity(dst, o.v2, 0, kind.unit, kind.ucum)
		return append(dst, "}]}"...)
	}
	dst = append(dst, `,"valueQuantity":`...)
	dst = appendQuantity(dst, o.v, kind.scale, kind.unit, kind.ucum)
	if code, display := interpretation(kind, o.v); code != "" {
		dst = append(dst, `,"interpretation":[`...)
		dst = appendConcept(dst, sysInterp, code, display, false)
		dst = append(dst, `],"referenceRange":[{`...)
		if kind.low >= 0 {
			dst = append(dst, `"low":`...)
			dst = appendQuantity(dst, kind.low, kind.scale, kind.unit, kind.ucum)
			if kind.high >= 0 {
				dst = append(dst, ',')
			}
		}
		if kind.high >= 0 {
			dst = append(dst, `"high":`...)
			dst = appendQuantity(dst, kind.high, kind.scale, kind.unit, kind.ucum)
		}
		dst = append(dst, "}]"...)
	}
	return append(dst, '}')
}
