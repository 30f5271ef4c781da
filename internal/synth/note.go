package synth

import (
	"encoding/base64"
	"strings"
	"time"
)

// note is a clinical note about one visit. Like a real one it repeats
// the patient's identifiers in free text (name, MRN, birth date, age,
// address, phone, dates written three ways), which is what
// de-identification has to find.
type note struct {
	id         uuid
	enc        int // encounter index, or -1
	kind       *encounterKind
	start, end time.Time
	author     string
	text       []byte
}

func (r *record) genNotes() {
	n := r.g.opts.Notes
	if n == 0 {
		return
	}
	rg := newRNG(r.seed, streamNotes)
	r.notes = make([]note, n)
	for k := range r.notes {
		nt := note{id: newUUID(r.seed, tDocumentReference, k), enc: -1}
		if len(r.encs) > 0 {
			nt.enc = len(r.encs) - 1 - k%len(r.encs) // most recent visits first
			e := &r.encs[nt.enc]
			nt.kind, nt.start, nt.end, nt.author = e.kind, e.start, e.end, e.clinician
		} else {
			nt.kind = &encounterKinds[3] // "Follow-up encounter": a visit the data set does not hold
			nt.start = r.moment(&rg)
			nt.end = nt.start.Add(time.Duration(rg.between(15, 30)) * time.Minute)
			nt.author = clinician(&rg)
		}
		nt.text = r.noteText(&rg, &nt)
		r.notes[k] = nt
	}
}

// plain drops the semantic tag of a SNOMED CT display, "(disorder)".
func plain(display string) string {
	if i := strings.LastIndex(display, " ("); i > 0 && strings.HasSuffix(display, ")") {
		return display[:i]
	}
	return display
}

// appendLowerFirst appends s with an initial ASCII letter lower-cased.
func appendLowerFirst(dst []byte, s string) []byte {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		dst = append(dst, s[0]+'a'-'A')
		s = s[1:]
	}
	return append(dst, s...)
}

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// appendLongDate appends "March 4, 2024".
func appendLongDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	dst = append(dst, monthNames[m-1]...)
	dst = append(dst, ' ')
	dst = appendUint(dst, d, 1)
	dst = append(dst, ", "...)
	return appendUint(dst, y, 4)
}

// appendUSDate appends "03/04/2024".
func appendUSDate(dst []byte, t time.Time) []byte {
	y, m, d := t.Date()
	dst = appendUint(dst, int(m), 2)
	dst = append(dst, '/')
	dst = appendUint(dst, d, 2)
	dst = append(dst, '/')
	return appendUint(dst, y, 4)
}

// appendClock appends "14:05".
func appendClock(dst []byte, t time.Time) []byte {
	h, m, _ := t.Clock()
	dst = appendUint(dst, h, 2)
	dst = append(dst, ':')
	return appendUint(dst, m, 2)
}

// appendAge appends "93-year-old" or, under two, "7-month-old".
func appendAge(dst []byte, months int) []byte {
	if months < 24 {
		dst = appendUint(dst, months, 1)
		return append(dst, "-month-old"...)
	}
	dst = appendUint(dst, months/12, 1)
	return append(dst, "-year-old"...)
}

func (r *record) noteText(rg *rng, nt *note) []byte {
	p := &r.pat
	months := monthsAt(p.birth, nt.start)
	age := months / 12
	name := p.name()
	b := make([]byte, 0, 1536)

	b = append(b, strings.ToUpper(nt.kind.noteDisplay)...)
	b = append(b, "\n\nPatient: "...)
	b = append(b, name...)
	b = append(b, "\nMRN: "...)
	b = p.appendMRN(b)
	b = append(b, "\nDOB: "...)
	b = appendDate(b, p.birth)
	b = append(b, " (age "...)
	b = appendUint(b, age, 1)
	b = append(b, ")\nSex: "...)
	b = append(b, p.gender...)
	b = append(b, "\nDate of service: "...)
	b = appendDate(b, nt.start)
	b = append(b, ' ')
	b = appendClock(b, nt.start)
	b = append(b, "\nClinician: "...)
	b = append(b, nt.author...)
	b = append(b, "\nLocation: "...)
	b = append(b, p.city.name...)
	b = append(b, ' ')
	b = append(b, nt.kind.place...)

	he, person := "They", "person"
	switch {
	case p.gender == "male":
		he, person = "He", "man"
		if age < 18 {
			person = "boy"
		}
	case p.gender == "female":
		he, person = "She", "woman"
		if age < 18 {
			person = "girl"
		}
	case age < 18:
		person = "child"
	}
	lives := " lives at "
	if he == "They" {
		lives = " live at "
	}

	b = append(b, "\n\nHISTORY\n"...)
	b = append(b, name...)
	b = append(b, " is a "...)
	b = appendAge(b, months)
	b = append(b, ' ')
	b = append(b, person...)
	b = append(b, " seen on "...)
	b = appendLongDate(b, nt.start)
	b = append(b, " for "...)
	b = appendLowerFirst(b, plain(nt.kind.display))
	b = append(b, ". "...)
	b = append(b, he...)
	b = append(b, lives...)
	b = appendUint(b, p.house, 1)
	b = append(b, ' ')
	b = append(b, p.street...)
	b = append(b, ' ')
	b = append(b, p.suffix...)
	b = append(b, ", "...)
	b = append(b, p.city.name...)
	b = append(b, ", "...)
	b = append(b, p.city.state...)
	b = append(b, ' ')
	b = p.appendZIP(b)
	b = append(b, ", and can be reached at "...)
	b = p.appendPhone(b)
	b = append(b, ".\n"...)
	if age < 18 {
		b = append(b, "Accompanied by a parent, who gives the history.\n"...)
	} else if p.group.lang != "en-US" && rg.chance(50) {
		b = append(b, "Preferred language: "...)
		b = append(b, p.group.langDisplay...)
		b = append(b, "; an interpreter was offered.\n"...)
	}

	b = append(b, "\nPROBLEMS\n"...)
	problems := 0
	for _, c := range r.conds {
		if c.recorded.After(nt.end) {
			continue // not yet diagnosed
		}
		problems++
		b = append(b, "- "...)
		b = append(b, plain(c.kind.display)...)
		b = append(b, ", since "...)
		b = appendUSDate(b, c.onset)
		if !c.abated.IsZero() && !c.abated.After(nt.start) {
			b = append(b, " (resolved "...)
			b = appendUSDate(b, c.abated)
			b = append(b, ')')
		}
		b = append(b, '\n')
	}
	if problems == 0 {
		b = append(b, "None known.\n"...)
	}

	if nt.enc >= 0 {
		header := false
		for _, o := range r.obs {
			if o.enc != nt.enc {
				continue
			}
			if !header {
				b = append(b, "\nFINDINGS\n"...)
				header = true
			}
			k := &obsKinds[o.kind]
			b = append(b, "- "...)
			b = append(b, k.short...)
			b = append(b, ": "...)
			b = appendScaled(b, o.v, k.scale)
			if o.kind == obsBP {
				b = append(b, '/')
				b = appendUint(b, o.v2, 1)
			}
			b = append(b, ' ')
			b = append(b, k.unit...)
			b = append(b, " at "...)
			b = appendClock(b, o.at)
			b = append(b, '\n')
		}
		header = false
		for _, m := range r.meds {
			if m.enc != nt.enc {
				continue
			}
			if !header {
				b = append(b, "\nMEDICATIONS ORDERED\n"...)
				header = true
			}
			b = append(b, "- "...)
			b = append(b, m.med.display...)
			b = append(b, ". "...)
			b = append(b, m.med.dosage...)
			b = append(b, '\n')
		}
	}

	b = append(b, "\nASSESSMENT AND PLAN\n"...)
	b = append(b, p.given[0]...)
	b = append(b, ' ')
	b = append(b, p.family...)
	b = append(b, ", "...)
	if months < 24 {
		b = appendUint(b, months, 1)
		b = append(b, " months"...)
	} else {
		b = appendUint(b, age, 1)
	}
	b = append(b, ", "...)
	switch nt.kind.class {
	case "EMER":
		b = append(b, "was treated in the emergency department and discharged home in stable condition. Follow up with primary care within one week, by "...)
		b = appendLongDate(b, nt.end.Add(7*day))
	case "IMP":
		b = append(b, "was admitted on "...)
		b = appendUSDate(b, nt.start)
		b = append(b, " and discharged on "...)
		b = appendUSDate(b, nt.end)
		b = append(b, " in stable condition. Follow-up visit around "...)
		b = appendLongDate(b, nt.end.AddDate(0, 0, 14))
	default:
		b = append(b, pick(rg, []string{
			"is doing well; continue the current plan",
			"is stable; results were reviewed with the family",
			"has improved since the last visit; continue the current plan",
			"was counselled on diet and exercise",
		})...)
		b = append(b, ". Return in "...)
		mo := pick(rg, []int{1, 3, 6, 12})
		b = appendUint(b, mo, 1)
		b = append(b, " month(s), around "...)
		b = appendLongDate(b, nt.start.AddDate(0, mo, 0))
	}
	b = append(b, ".\n\nElectronically signed by "...)
	b = append(b, nt.author...)
	b = append(b, " on "...)
	b = appendUSDate(b, nt.end)
	b = append(b, ' ')
	b = appendClock(b, nt.end)
	return append(b, ".\n"...)
}

func (r *record) appendDocumentReference(dst []byte, k int, st style) []byte {
	nt := &r.notes[k]
	tz := r.pat.city.tz
	dst = appendHead(dst, "DocumentReference", nt.id, st)
	dst = append(dst, `,"status":"current","docStatus":"final","type":`...)
	dst = appendConcept(dst, sysLOINC, nt.kind.note, nt.kind.noteDisplay, true)
	dst = append(dst, `,"category":[`...)
	dst = appendConcept(dst, sysDocCat, "clinical-note", "Clinical Note", false)
	dst = append(dst, ']')
	dst = r.appendSubject(dst, st)
	dst = append(dst, `,"date":`...)
	dst = appendQDateTime(dst, nt.end, tz)
	dst = append(dst, `,"author":[`...)
	dst = appendDisplayRef(dst, nt.author)
	dst = append(dst, `],"content":[{"attachment":{"contentType":"text/plain; charset=utf-8","language":"en-US","data":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, nt.text)
	dst = append(dst, `","size":`...)
	dst = appendUint(dst, len(nt.text), 1)
	dst = append(dst, `,"title":`...)
	dst = appendString(dst, nt.kind.noteDisplay)
	dst = append(dst, `,"creation":`...)
	dst = appendQDateTime(dst, nt.end, tz)
	dst = append(dst, `}}],"context":{`...)
	if nt.enc >= 0 {
		dst = append(dst, `"encounter":[`...)
		dst = appendRef(dst, "Encounter", r.encs[nt.enc].id, st)
		dst = append(dst, "],"...)
	}
	dst = append(dst, `"period":{"start":`...)
	dst = appendQDateTime(dst, nt.start, tz)
	dst = append(dst, `,"end":`...)
	dst = appendQDateTime(dst, nt.end, tz)
	return append(dst, "}}}"...)
}
