package synth

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type patientJSON struct {
	ID         string `json:"id"`
	Gender     string `json:"gender"`
	BirthDate  string `json:"birthDate"`
	Identifier []struct {
		System, Value string
	} `json:"identifier"`
	Name []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	Address []struct {
		PostalCode string `json:"postalCode"`
	} `json:"address"`
}

func parsePatient(t *testing.T, rec *Record) patientJSON {
	t.Helper()
	var p patientJSON
	if err := json.Unmarshal(rec.Resources()[0].JSON, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDemographics checks the spread of ages (over 89 included), the
// presence of non-ASCII names and the shape of identifiers.
func TestDemographics(t *testing.T) {
	g := newGen(t, 3, DefaultOptions())
	asOf := g.Options().AsOf
	const n = 200
	var over89, infants, nonASCII, female int
	oldest := 0
	for i := range n {
		p := parsePatient(t, g.Patient(i))
		birth, err := time.Parse(time.DateOnly, p.BirthDate)
		if err != nil {
			t.Fatal(err)
		}
		age := ageAt(birth, asOf)
		oldest = max(oldest, age)
		if age > 89 {
			over89++
		}
		if age < 1 {
			infants++
		}
		if p.Gender == "female" {
			female++
		}
		full := p.Name[0].Family + strings.Join(p.Name[0].Given, "")
		if !isASCII(full) {
			nonASCII++
		}
		if len(p.Address[0].PostalCode) != 5 {
			t.Errorf("ZIP %q", p.Address[0].PostalCode)
		}
		for _, id := range p.Identifier {
			if id.System == sysSSN && (len(id.Value) != 11 || !strings.HasPrefix(id.Value, "999-")) {
				t.Errorf("SSN %q outside the 999 area", id.Value)
			}
		}
	}
	t.Logf("%d patients: %d over 89 (oldest %d), %d under 1, %d female, %d with non-ASCII names", n, over89, oldest, infants, female, nonASCII)
	if over89 == 0 {
		t.Error("no patient over 89")
	}
	if infants == 0 {
		t.Error("no patient under 1")
	}
	if nonASCII < n/20 {
		t.Errorf("only %d non-ASCII names", nonASCII)
	}
	if female < n/3 || female > 2*n/3 {
		t.Errorf("%d of %d female", female, n)
	}
	for _, name := range []string{"José", "Zoë", "Nguyễn", "Łukasz", "王"} {
		if !inTables(name) {
			t.Errorf("%s missing from the name tables", name)
		}
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func inTables(name string) bool {
	for _, g := range nameGroups {
		for _, l := range [][]string{g.male, g.female, g.family, g.familyNative} {
			for _, s := range l {
				if s == name {
					return true
				}
			}
		}
	}
	return false
}

// TestIdentifiersUnique checks that ids and identifiers do not repeat.
func TestIdentifiersUnique(t *testing.T) {
	g := newGen(t, 11, Options{})
	seen := map[string]int{}
	for i := range 20_000 {
		rec := g.record(i)
		for _, key := range []string{
			"id " + rec.pat.id.String(),
			"mrn " + strconv.Itoa(rec.pat.mrn),
			"ssn " + strconv.Itoa(rec.pat.ssn),
			"dl " + strconv.Itoa(rec.pat.dl),
		} {
			if j, ok := seen[key]; ok {
				t.Fatalf("patients %d and %d share %s", j, i, key)
			}
			seen[key] = i
		}
	}
}

// TestNotes checks that a note repeats the patient's name, age and
// birth date, as real notes do.
func TestNotes(t *testing.T) {
	g := newGen(t, 13, DefaultOptions())
	for i := range 50 {
		rec := g.Patient(i)
		p := parsePatient(t, rec)
		rs := rec.Resources()
		var doc struct {
			Content []struct {
				Attachment struct {
					Data []byte
					Size int
				}
			}
		}
		if err := json.Unmarshal(rs[len(rs)-1].JSON, &doc); err != nil {
			t.Fatal(err)
		}
		a := doc.Content[0].Attachment
		text := string(a.Data)
		if len(a.Data) != a.Size || !utf8.ValidString(text) {
			t.Fatalf("patient %d: size %d of %d bytes", i, a.Size, len(a.Data))
		}
		name := strings.Join(p.Name[0].Given, " ") + " " + p.Name[0].Family
		age := "(age " + strconv.Itoa(ageAt(rec.r.pat.birth, rec.r.notes[0].start)) + ")"
		for _, want := range []string{name, age, "DOB: " + p.BirthDate} {
			if !strings.Contains(text, want) {
				t.Fatalf("patient %d: note lacks %q:\n%s", i, want, text)
			}
		}
		if i == 0 {
			t.Logf("note of patient 0 (%d bytes, %d base64):\n%s", len(text), base64.StdEncoding.EncodedLen(len(text)), text)
		}
	}
}

// TestTableStrings checks that the tables hold no character that JSON
// would need escaped, since some are appended without escaping, and no
// empty strings.
func TestTableStrings(t *testing.T) {
	var all []string
	all = append(all, streetNames...)
	all = append(all, streetSuffixes...)
	for _, c := range cities {
		all = append(all, c.name, c.state, c.zip3, c.area)
		if len(c.zip3) != 3 || len(c.area) != 3 {
			t.Errorf("%s: ZIP prefix %q, area code %q", c.name, c.zip3, c.area)
		}
	}
	for _, g := range nameGroups {
		all = append(all, g.lang, g.langDisplay)
		all = append(all, g.male...)
		all = append(all, g.female...)
		all = append(all, g.family...)
		if g.familyNative != nil && (len(g.familyNative) != len(g.family) || len(g.maleNative) != len(g.male) || len(g.femaleNative) != len(g.female)) {
			t.Errorf("%s: native-script lists do not match", g.lang)
		}
	}
	for _, k := range encounterKinds {
		all = append(all, k.class, k.classDisplay, k.code, k.display, k.note, k.noteDisplay, k.place)
	}
	for _, c := range conditionKinds {
		all = append(all, c.code, c.display)
		for _, m := range c.meds {
			all = append(all, m.code, m.display, m.dosage)
		}
	}
	for _, k := range obsKinds {
		all = append(all, k.code, k.display, k.short, k.unit, k.ucum, k.category)
	}
	for _, s := range all {
		if s == "" || strings.ContainsAny(s, "\"\\") || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 }) >= 0 || !utf8.ValidString(s) {
			t.Errorf("table string %q", s)
		}
	}
	if len(conditionKinds) > 64 || len(obsKinds) > 32 {
		t.Error("condition or observation kinds exceed their bit sets")
	}
}
