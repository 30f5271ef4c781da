package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/api/apitest"
)

// The search conformance suite runs against the engine and every store
// backend (internal/index/indextest); these tests cover the HTTP side:
// Bundles, paging links, POST _search, conditional writes, audit events.

func createPatient(t *testing.T, h *apitest.Harness, family, given string) string {
	t.Helper()
	body := `{"resourceType":"Patient","name":[{"family":"` + family + `","given":["` + given + `"]}],"gender":"female","identifier":[{"system":"urn:mrn","value":"MRN-` + given + `"}]}`
	resp := h.Do("POST", "/fhir/R4/Patient", strings.NewReader(body), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, resp.Body)
	}
	return resp.JSON(t)["id"].(string)
}

type searchset struct {
	Type  string `json:"type"`
	Total *int   `json:"total"`
	Link  []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string         `json:"fullUrl"`
		Resource map[string]any `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

func decodeSearchset(t *testing.T, r *apitest.Response) searchset {
	t.Helper()
	var b searchset
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("not a Bundle: %v", err)
	}
	if b.Type != "searchset" {
		t.Fatalf("Bundle.type = %q", b.Type)
	}
	return b
}

func (b searchset) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func (b searchset) ids(mode string) []string {
	var ids []string
	for _, e := range b.Entry {
		if e.Search.Mode == mode {
			ids = append(ids, e.Resource["id"].(string))
		}
	}
	return ids
}

func TestSearchPaging(t *testing.T) {
	h := apitest.New(t)
	var want []string
	for _, g := range []string{"Ann", "Bea", "Cat", "Dee", "Eve"} {
		want = append(want, createPatient(t, h, "Pagingfamily", g))
	}
	createPatient(t, h, "Other", "Zed")

	resp := h.Run(t, apitest.Scenario{
		Method: "GET", Path: "/fhir/R4/Patient?family=pagingfam&_count=2&_total=accurate", Status: 200,
		Events: []apitest.Event{
			{Action: "R", Subtype: "search-type", EntityType: "Patient", Outcome: 200},
			{Action: "R", Subtype: "search-type", EntityType: "Patient", Outcome: 200},
		},
	})
	b := decodeSearchset(t, resp)
	if b.Total == nil || *b.Total != 5 {
		t.Fatalf("total = %v, want 5", b.Total)
	}
	var got []string
	pages := 0
	for {
		pages++
		got = append(got, b.ids("match")...)
		for _, l := range b.Link {
			if strings.Contains(strings.ToLower(l.URL), "pagingfam") || strings.Contains(l.URL, "family") {
				t.Fatalf("%s link carries the search value: %s", l.Relation, l.URL)
			}
		}
		if pages > 1 && b.link("previous") == "" {
			t.Errorf("page %d has no previous link", pages)
		}
		next := b.link("next")
		if next == "" {
			break
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		b = decodeSearchset(t, h.Run(t, apitest.Scenario{Method: "GET", Path: u.RequestURI(), Status: 200, AnyEvents: true}))
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged %d pages: %v, want 3 pages: %v", pages, got, want)
	}

	// A cursor is sealed: altered, or used by another tenant, it is refused.
	first := decodeSearchset(t, h.Do("GET", "/fhir/R4/Patient?family=pagingfam&_count=2", nil, nil))
	u, _ := url.Parse(first.link("next"))
	cur := u.Query().Get("_cursor")
	flipped := cur[:len(cur)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(cur, "AA")]
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient?_cursor=" + flipped, Status: 400,
		Contains: []string{"paging link"}, AnyEvents: true})
	otherID, otherSecret := h.CreateClient("other", "service")
	h.Run(t, apitest.Scenario{Method: "GET", Path: u.RequestURI(), Token: h.IssueToken(otherID, otherSecret), Status: 400,
		Excludes: []string{"Pagingfamily"}, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation?_cursor=" + cur, Status: 400,
		Contains: []string{"another search"}, AnyEvents: true})
}

func TestSearchPostFormAndStrictness(t *testing.T) {
	h := apitest.New(t)
	id := createPatient(t, h, "Formfamily", "Ann")
	resp := h.Run(t, apitest.Scenario{
		Method: "POST", Path: "/fhir/R4/Patient/_search", Body: "family=formfam&gender=female",
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		Status: 200, Contains: []string{`"id":"` + id + `"`, `"mode":"match"`},
		Events: []apitest.Event{{Action: "R", Subtype: "search-type", EntityType: "Patient", Outcome: 200}},
	})
	if b := decodeSearchset(t, resp); strings.Contains(b.link("self"), "formfam") {
		t.Errorf("self link carries the search value: %s", b.link("self"))
	}
	h.Run(t, apitest.Scenario{
		Name: "unknown parameter", Method: "GET", Path: "/fhir/R4/Patient?shoesize=XQZ9931",
		Status: 400, Contains: []string{`"expression":["shoesize"]`}, Excludes: []string{"XQZ9931"},
		Events: []apitest.Event{{Subtype: "search-type", Outcome: 400}},
	})
	h.Run(t, apitest.Scenario{
		Name: "malformed date", Method: "GET", Path: "/fhir/R4/Patient?birthdate=1980-13-45",
		Status: 400, Contains: []string{`"expression":["birthdate"]`}, Excludes: []string{"1980-13"},
		Events: []apitest.Event{{Subtype: "search-type", Outcome: 400}},
	})
	h.Run(t, apitest.Scenario{
		Name: "unknown modifier", Method: "GET", Path: "/fhir/R4/Patient?family:fuzzy=x",
		Status: 400, Contains: []string{`family:fuzzy`},
		Events: []apitest.Event{{Subtype: "search-type", Outcome: 400}},
	})
	h.Run(t, apitest.Scenario{
		Name: "lenient", Method: "GET", Path: "/fhir/R4/Patient?shoesize=42&family=formfam",
		Header: map[string]string{"Prefer": "handling=lenient"},
		Status: 200, Contains: []string{`"id":"` + id + `"`, `"mode":"outcome"`, `shoesize`},
		Events: []apitest.Event{{Subtype: "search-type", EntityType: "Patient", Outcome: 200}},
	})
	h.Run(t, apitest.Scenario{
		Name: "summary count", Method: "GET", Path: "/fhir/R4/Patient?family=formfam&_summary=count",
		Status: 200, Contains: []string{`"total":1`}, Excludes: []string{`"entry"`},
		Events: []apitest.Event{{Subtype: "search-type", EntityType: "Patient", Outcome: 200}},
	})
	h.Run(t, apitest.Scenario{
		Name: "elements", Method: "GET", Path: "/fhir/R4/Patient?family=formfam&_elements=gender",
		Status: 200, Contains: []string{`"gender":"female"`, `"SUBSETTED"`}, Excludes: []string{`Formfamily`, `MRN-Ann`},
		Events: []apitest.Event{{Subtype: "search-type", EntityType: "Patient", Outcome: 200}},
	})
}

func TestSearchIncludeAndCompartment(t *testing.T) {
	h := apitest.New(t)
	pid := createPatient(t, h, "Incfamily", "Ann")
	obs := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/` + pid + `"},"effectiveDateTime":"2024-03-05T10:00:00Z"}`
	oid := h.Do("POST", "/fhir/R4/Observation", strings.NewReader(obs), nil).JSON(t)["id"].(string)
	resp := h.Run(t, apitest.Scenario{
		Method: "GET", Path: "/fhir/R4/Observation?code=http://loinc.org|8867-4&_include=Observation:subject", Status: 200,
		Events: []apitest.Event{
			{Subtype: "search-type", EntityType: "Observation", Outcome: 200},
			{Subtype: "search-type", EntityType: "Patient", Outcome: 200},
		},
	})
	b := decodeSearchset(t, resp)
	if m, inc := b.ids("match"), b.ids("include"); len(m) != 1 || m[0] != oid || len(inc) != 1 || inc[0] != pid {
		t.Fatalf("match %v include %v", m, inc)
	}
	b = decodeSearchset(t, h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid + "/Observation", Status: 200, AnyEvents: true}))
	if m := b.ids("match"); len(m) != 1 || m[0] != oid {
		t.Fatalf("compartment search: %v", m)
	}
	other := createPatient(t, h, "Incfamily", "Bea")
	b = decodeSearchset(t, h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + other + "/Observation", Status: 200, AnyEvents: true}))
	if len(b.Entry) != 0 {
		t.Fatalf("another patient's compartment holds %d entries", len(b.Entry))
	}
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid + "/Organization", Status: 400, AnyEvents: true})
}

func TestConditionalWrites(t *testing.T) {
	h := apitest.New(t)
	body := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"C-1"}],"name":[{"family":"Condfamily"}]}`
	hdr := map[string]string{"If-None-Exist": "identifier=urn:mrn|C-1"}
	r1 := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: body, Header: hdr, Status: 201, AnyEvents: true})
	id := r1.JSON(t)["id"].(string)
	r2 := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: body, Header: hdr, Status: 200, AnyEvents: true})
	if got := r2.JSON(t)["id"]; got != id {
		t.Fatalf("conditional create made %v, want the existing %s", got, id)
	}
	// Conditional update of the one match.
	upd := strings.Replace(body, "Condfamily", "Condfamily2", 1)
	r3 := h.Run(t, apitest.Scenario{Method: "PUT", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-1", Body: upd, Status: 200,
		WantHeader: map[string]string{"ETag": `W/"2"`}, AnyEvents: true})
	if got := r3.JSON(t)["id"]; got != id {
		t.Fatalf("conditional update wrote %v, want %s", got, id)
	}
	// A second match makes every conditional write refuse with 412.
	h.Do("POST", "/fhir/R4/Patient", strings.NewReader(body), nil)
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4/Patient", Body: body, Header: hdr, Status: 412,
		Contains: []string{"multiple-matches"}, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "PUT", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-1", Body: upd, Status: 412, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "DELETE", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-1", Status: 412, AnyEvents: true})
	// Conditional update without a match creates.
	newBody := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"C-2"}]}`
	h.Run(t, apitest.Scenario{Method: "PUT", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-2", Body: newBody, Status: 201, AnyEvents: true})
	// Conditional delete of the one match; then nothing matches.
	h.Run(t, apitest.Scenario{Method: "DELETE", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-2", Status: 204,
		WantHeader: map[string]string{"ETag": `W/"2"`},
		Events:     []apitest.Event{{Action: "D", Subtype: "delete", EntityType: "Patient", Outcome: 204}}})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-2", Status: 200,
		Excludes: []string{`"entry"`}, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "DELETE", Path: "/fhir/R4/Patient?identifier=urn:mrn|C-2", Status: 204, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "DELETE", Path: "/fhir/R4/Patient?bogus=1", Status: 400, AnyEvents: true})
}

func TestTransactionConditionalEntries(t *testing.T) {
	h := apitest.New(t)
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[
	{"fullUrl":"urn:uuid:6f9619ff-8b86-4011-b42d-00cf4fc964ff","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"TX-1"}]},
	 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|TX-1"}},
	{"resource":{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"urn:uuid:6f9619ff-8b86-4011-b42d-00cf4fc964ff"}},
	 "request":{"method":"POST","url":"Observation"}}]}`
	first := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4", Body: tx, Status: 200, Contains: []string{`"201 Created"`}, AnyEvents: true})
	second := h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4", Body: tx, Status: 200, Contains: []string{`"200 OK"`, `"201 Created"`}, AnyEvents: true})
	var b1, b2 struct {
		Entry []struct {
			FullURL string `json:"fullUrl"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(first.Body, &b1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(second.Body, &b2); err != nil {
		t.Fatal(err)
	}
	if b1.Entry[0].FullURL == "" || b1.Entry[0].FullURL != b2.Entry[0].FullURL {
		t.Fatalf("conditional create in a transaction made a second patient: %s then %s", b1.Entry[0].FullURL, b2.Entry[0].FullURL)
	}
	pid := b1.Entry[0].FullURL[strings.LastIndex(b1.Entry[0].FullURL, "/")+1:]
	b := decodeSearchset(t, h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Observation?subject=Patient/" + pid + "&_total=accurate", Status: 200, AnyEvents: true}))
	if b.Total == nil || *b.Total != 2 {
		t.Fatalf("observations of the one patient: total %v, want 2 (urn:uuid rewritten to the existing patient)", b.Total)
	}
	// Conditional PUT and DELETE entries resolve through the same search.
	tx2 := `{"resourceType":"Bundle","type":"transaction","entry":[
	{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"TX-1"}],"gender":"other"},
	 "request":{"method":"PUT","url":"Patient?identifier=urn:mrn|TX-1"}},
	{"request":{"method":"DELETE","url":"Observation?code:text=nothing-matches-this"}}]}`
	h.Run(t, apitest.Scenario{Method: "POST", Path: "/fhir/R4", Body: tx2, Status: 200, Contains: []string{`"200 OK"`, `"204 No Content"`}, AnyEvents: true})
	h.Run(t, apitest.Scenario{Method: "GET", Path: "/fhir/R4/Patient/" + pid, Status: 200, Contains: []string{`"gender":"other"`, `"versionId":"2"`}, AnyEvents: true})
}
