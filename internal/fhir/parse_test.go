package fhir

import (
	"errors"
	"strings"
	"testing"
)

// canary marks input values that must never appear in diagnostics.
const canary = "PHIcanary"

func pat(members string) string { return `{"resourceType":"Patient",` + members + `}` }

func obs(members string) string {
	return `{"resourceType":"Observation","status":"final","code":{"text":"x"},` + members + `}`
}

// nestedExtensions builds a Patient whose extensions nest n levels deep
// (each level is an array and an object: two JSON levels).
func nestedExtensions(n int) string {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient"`)
	for i := 0; i < n; i++ {
		b.WriteString(`,"extension":[{"url":"http://e"`)
	}
	b.WriteString(`,"valueString":"x"`)
	for i := 0; i < n; i++ {
		b.WriteString(`}]`)
	}
	b.WriteString(`}`)
	return b.String()
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name  string
		input string
		code  string // of the first issue
		expr  string // of the first issue; "" for none
	}{
		// JSON syntax and encoding
		{"malformed JSON", `{"resourceType":"Patient","gender":"male"`, "structure", "Patient"},
		{"truncated", `{"resourceType":"Patient","gender":"ma`, "structure", "Patient.gender"},
		{"trailing comma", pat(`"gender":"male",`), "structure", "Patient"},
		{"unquoted key", `{"resourceType":"Patient",gender:"male"}`, "structure", "Patient"},
		{"truncated before resourceType", `{"id":"a","resourceType":"Pat`, "structure", ""},
		{"broken before resourceType", `{"id":"a",,"resourceType":"Patient"}`, "structure", ""},
		{"truncated after key", `{"resourceType":"Patient","gender":`, "structure", "Patient.gender"},
		{"bad literal where string expected", pat(`"gender":nul`), "structure", "Patient.gender"},
		{"garbage where object expected", pat(`"maritalStatus":x`), "structure", "Patient.maritalStatus"},
		{"trailing data", pat(`"gender":"male"`) + `{}`, "structure", ""},
		{"not an object", `["Patient"]`, "structure", ""},
		{"empty input", ``, "structure", ""},
		{"invalid UTF-8", pat(`"gender":"` + "\xff" + canary + `"`), "structure", ""},
		{"lone surrogate escape", pat(`"name":[{"family":"\ud800` + canary + `"}]`), "structure", "Patient.name[0].family"},
		{"raw control character", pat(`"name":[{"family":"a` + "\x01" + canary + `"}]`), "structure", "Patient.name[0].family"},
		{"bad escape", pat(`"name":[{"family":"\x` + canary + `"}]`), "structure", "Patient.name[0].family"},
		{"bad number", obs(`"valueInteger":01`), "structure", "Observation"},
		{"bad literal", pat(`"active":tru`), "structure", "Patient.active"},
		{"duplicate key", pat(`"gender":"male","gender":"female"`), "structure", "Patient.gender"},
		{"duplicate nested key", pat(`"name":[{"family":"a","family":"b"}]`), "structure", "Patient.name[0].family"},
		{"duplicate resourceType", pat(`"resourceType":"Patient"`), "structure", "Patient.resourceType"},
		{"duplicate primitive extension", pat(`"_gender":{"id":"a"},"_gender":{"id":"b"},"gender":"male"`), "structure", "Patient._gender"},
		{"nesting deeper than 100", nestedExtensions(51), "too-costly", "Patient" + strings.Repeat(".extension[0]", 50)},

		// nulls, empties
		{"null value", pat(`"gender":null`), "structure", "Patient.gender"},
		{"null object", pat(`"maritalStatus":null`), "structure", "Patient.maritalStatus"},
		{"null in array of objects", pat(`"name":[null]`), "structure", "Patient.name[0]"},
		{"null in primitive array without _", pat(`"name":[{"given":["a",null]}]`), "structure", "Patient.name[0].given[1]"},
		{"null in both arrays", pat(`"name":[{"given":["a",null],"_given":[null,null]}]`), "structure", "Patient.name[0].given[1]"},
		{"null in _ array without values", pat(`"name":[{"_given":[null,{"extension":[{"url":"http://e","valueString":"x"}]}]}]`), "structure", "Patient.name[0].given[0]"},
		{"primitive arrays differ in length", pat(`"name":[{"given":["a","b"],"_given":[{"id":"x"}]}]`), "structure", "Patient.name[0].given"},
		{"empty object", pat(`"maritalStatus":{}`), "structure", "Patient.maritalStatus"},
		{"empty array", pat(`"name":[]`), "structure", "Patient.name"},
		{"empty string", pat(`"gender":""`), "value", "Patient.gender"},
		{"empty resource array item", pat(`"contained":[{}]`), "required", "Patient.contained[0]"},

		// unknown elements
		{"unknown element", pat(`"foo":"` + canary + `"`), "structure", "Patient.foo"},
		{"unknown nested element", pat(`"name":[{"family":"a","nickname":"b"}]`), "structure", "Patient.name[0].nickname"},
		{"unknown element name not shown", pat(`"` + canary + ` 123":1`), "structure", "Patient"},
		{"extension form of a complex element", pat(`"_name":[{"id":"a"}]`), "structure", "Patient._name"},
		{"extension form of an attribute", pat(`"_id":{"id":"a"}`), "structure", "Patient._id"},
		{"choice base name", obs(`"value":"` + canary + `"`), "structure", "Observation.value"},
		{"unknown choice type", obs(`"valueFoo":"` + canary + `"`), "structure", "Observation.valueFoo"},
		{"fhir_comments", pat(`"fhir_comments":["` + canary + `"]`), "structure", "Patient.fhir_comments"},

		// wrong JSON kinds and cardinality
		{"number for string", pat(`"gender":1`), "structure", "Patient.gender"},
		{"string for integer", obs(`"valueInteger":"1"`), "structure", "Observation.valueInteger"},
		{"string for decimal", obs(`"valueQuantity":{"value":"1.0"}`), "structure", "Observation.valueQuantity.value"},
		{"string for boolean", pat(`"active":"true"`), "structure", "Patient.active"},
		{"boolean for string", pat(`"gender":true`), "structure", "Patient.gender"},
		{"object for string", pat(`"gender":{"value":"male"}`), "structure", "Patient.gender"},
		{"string for object", pat(`"maritalStatus":"` + canary + `"`), "structure", "Patient.maritalStatus"},
		{"array where max is 1", pat(`"gender":["male"]`), "structure", "Patient.gender"},
		{"single where max is *", pat(`"name":{"family":"a"}`), "structure", "Patient.name"},
		{"nested array", pat(`"name":[[{"family":"a"}]]`), "structure", "Patient.name[0]"},
		{"number for resource", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":1}]}`, "structure", "Bundle.entry[0].resource"},

		// primitive values
		{"invalid date", pat(`"birthDate":"1970-13-01` + canary + `"`), "value", "Patient.birthDate"},
		{"date that does not exist", pat(`"birthDate":"2023-02-29"`), "value", "Patient.birthDate"},
		{"date with time", pat(`"birthDate":"2020-01-01T10:00:00Z"`), "value", "Patient.birthDate"},
		{"year 0000", pat(`"birthDate":"0000"`), "value", "Patient.birthDate"},
		{"dateTime without zone", pat(`"deceasedDateTime":"2020-01-01T10:00:00"`), "value", "Patient.deceasedDateTime"},
		{"dateTime hour 24", pat(`"deceasedDateTime":"2020-01-01T24:00:00Z"`), "value", "Patient.deceasedDateTime"},
		{"instant without seconds", obs(`"issued":"2020-01-01T10:00Z"`), "value", "Observation.issued"},
		{"instant date only", obs(`"issued":"2020-01-01"`), "value", "Observation.issued"},
		{"time with zone", obs(`"valueTime":"10:00:00Z"`), "value", "Observation.valueTime"},
		{"id too long", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, "value", "Patient.id"},
		{"id with slash", `{"resourceType":"Patient","id":"a/b"}`, "value", "Patient.id"},
		{"code with double space", pat(`"gender":"ma  le"`), "value", "Patient.gender"},
		{"code with leading space", pat(`"gender":" male"`), "value", "Patient.gender"},
		{"integer with fraction", obs(`"valueInteger":1.0`), "value", "Observation.valueInteger"},
		{"integer with exponent", obs(`"valueInteger":1e3`), "value", "Observation.valueInteger"},
		{"integer above 32 bits", obs(`"valueInteger":2147483648`), "value", "Observation.valueInteger"},
		{"integer below 32 bits", obs(`"valueInteger":-2147483649`), "value", "Observation.valueInteger"},
		{"positiveInt zero", pat(`"multipleBirthInteger":1,"photo":[{"size":1}],"communication":[{"language":{"text":"x"}}],"contact":[{"name":{"text":"x"}}],"link":[{"other":{"reference":"Patient/1"},"type":"seealso"}],"telecom":[{"rank":0}]`), "value", "Patient.telecom[0].rank"},
		{"unsignedInt negative", pat(`"photo":[{"size":-1}]`), "value", "Patient.photo[0].size"},
		{"uri with space", pat(`"implicitRules":"http://a b"`), "value", "Patient.implicitRules"},
		{"url with space", `{"resourceType":"Endpoint","status":"active","connectionType":{"code":"x"},"payloadType":[{"text":"x"}],"address":"http://a b"}`, "value", "Endpoint.address"},
		{"canonical with newline", `{"resourceType":"Questionnaire","status":"draft","derivedFrom":["http://a\nb"]}`, "value", "Questionnaire.derivedFrom[0]"},
		{"oid", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:3.1"}],"extension":[{"url":"http://e","valueOid":"urn:oid:1.02"}]}`, "value", "Patient.extension[0].valueOid"},
		{"uuid uppercase", pat(`"extension":[{"url":"http://e","valueUuid":"urn:uuid:A0000000-0000-0000-0000-000000000000"}]`), "value", "Patient.extension[0].valueUuid"},
		{"base64 bad character", pat(`"photo":[{"data":"ab*d"}]`), "value", "Patient.photo[0].data"},
		{"base64 bad length", pat(`"photo":[{"data":"abcde"}]`), "value", "Patient.photo[0].data"},
		{"base64 inner padding", pat(`"photo":[{"data":"ab==cdef"}]`), "value", "Patient.photo[0].data"},
		{"string with escaped control", pat(`"name":[{"family":"a\u0000b"}]`), "value", "Patient.name[0].family"},
		{"string with form feed", pat(`"name":[{"family":"a\fb"}]`), "value", "Patient.name[0].family"},
		{"string with escaped bell", pat(`"name":[{"family":"a\u0007b"}]`), "value", "Patient.name[0].family"},
		{"escaped code invalid", pat(`"gender":"m\u0020\u0020le"`), "value", "Patient.gender"},
		{"escaped xhtml invalid", pat(`"text":{"status":"generated","div":"\u003cp>x\u003c/p>"}`), "value", "Patient.text.div"},
		{"escaped unknown resourceType", `{"resourceType":"Pat\u0069ents"}`, "invalid", ""},
		{"markdown empty", `{"resourceType":"Questionnaire","status":"draft","description":""}`, "value", "Questionnaire.description"},
		{"xhtml not a div", pat(`"text":{"status":"generated","div":"<p>` + canary + `</p>"}`), "value", "Patient.text.div"},
		{"xhtml extension form", pat(`"text":{"status":"generated","div":"<div>x</div>","_div":{"id":"a"}}`), "structure", "Patient.text._div"},

		// resourceType
		{"missing resourceType", `{"gender":"male"}`, "required", ""},
		{"unknown resourceType", `{"resourceType":"` + canary + `"}`, "invalid", ""},
		{"abstract resourceType", `{"resourceType":"DomainResource"}`, "invalid", ""},
		{"resourceType not a string", `{"resourceType":1}`, "structure", ""},
		{"STU3 resourceType", `{"resourceType":"ProcessRequest"}`, "invalid", ""},

		// required elements and choices
		{"missing required element", `{"resourceType":"Observation","code":{"text":"x"}}`, "required", "Observation.status"},
		{"missing required in backbone", pat(`"link":[{"type":"seealso"}]`), "required", "Patient.link[0].other"},
		{"missing required in datatype", pat(`"extension":[{"valueString":"x"}]`), "required", "Patient.extension[0].url"},
		{"missing required choice", `{"resourceType":"MessageHeader","source":{"endpoint":"http://a"}}`, "required", "MessageHeader.event[x]"},
		{"two choice values", obs(`"valueString":"a","valueBoolean":true`), "structure", "Observation.valueBoolean"},
		{"choice value and other extension form", obs(`"valueString":"a","_valueBoolean":{"id":"x"}`), "structure", "Observation.valueBoolean"},

		// primitive extensions
		{"primitive extension not an object", pat(`"gender":"male","_gender":"` + canary + `"`), "structure", "Patient.gender"},
		{"primitive extension unknown member", pat(`"gender":"male","_gender":{"value":"x"}`), "structure", "Patient.gender.value"},
		{"primitive extension without value or extension", pat(`"_gender":{"id":"a"}`), "invariant", "Patient.gender"},
		{"primitive extension array not array", pat(`"name":[{"given":["a"],"_given":{"id":"x"}}]`), "structure", "Patient.name[0].given"},

		// extensions
		{"extension with value and extensions", pat(`"extension":[{"url":"http://e","valueString":"a","extension":[{"url":"http://f","valueString":"b"}]}]`), "invariant", "Patient.extension[0]"},
		{"extension with neither", pat(`"extension":[{"url":"http://e"}]`), "invariant", "Patient.extension[0]"},
		{"extension url extension form", pat(`"extension":[{"url":"http://e","_url":{"id":"a"},"valueString":"a"}]`), "structure", "Patient.extension[0]._url"},
		{"modifierExtension bad value", pat(`"modifierExtension":[{"url":"http://e","valueDate":"x"}]`), "value", "Patient.modifierExtension[0].valueDate"},
		{"element with only id", pat(`"maritalStatus":{"id":"a"}`), "invariant", "Patient.maritalStatus"},

		// contained and nested resources
		{"contained invalid", pat(`"contained":[{"resourceType":"Practitioner","gender":"x  y"}]`), "value", "Patient.contained[0].gender"},
		{"contained unknown type", pat(`"contained":[{"resourceType":"Foo"}]`), "invalid", "Patient.contained[0]"},
		{"nested contained", pat(`"contained":[{"resourceType":"Organization","contained":[{"resourceType":"Patient"}]}]`), "invariant", "Patient.contained[0].contained"},
		{"contained not an array", pat(`"contained":{"resourceType":"Patient"}`), "structure", "Patient.contained"},
		{"bundle entry invalid", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","birthDate":"x"}}]}`, "value", "Bundle.entry[0].resource.birthDate"},
		{"bundle entry missing resourceType", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"id":"a"}}]}`, "required", "Bundle.entry[0].resource"},
		{"bundle in bundle invalid", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":1}}]}}]}`, "structure", "Bundle.entry[0].resource.entry[0].resource.gender"},
		{"parameters resource invalid", `{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","active":1}}]}`, "structure", "Parameters.parameter[0].resource.active"},
		{"parameters part invalid", `{"resourceType":"Parameters","parameter":[{"name":"p","part":[{"valueFoo":1}]}]}`, "structure", "Parameters.parameter[0].part[0].valueFoo"},
		{"content reference", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"type":"display"}]}]}`, "required", "Questionnaire.item[0].item[0].linkId"},
		{"deep content reference", `{"resourceType":"QuestionnaireResponse","status":"completed","item":[{"linkId":"1","answer":[{"valueString":"a","item":[{"linkId":"2","answer":[{"valueDate":"x"}]}]}]}]}`, "value", "QuestionnaireResponse.item[0].answer[0].item[0].answer[0].valueDate"},
		{"wrong value in resourceType-less object", `{"resourceType":"Patient","contained":[{"gender":"male"}]}`, "required", "Patient.contained[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.input))
			if err == nil {
				b, _ := r.Marshal()
				t.Fatalf("Parse succeeded: %s", b)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T, want *Error", err)
			}
			if len(e.Issues) == 0 {
				t.Fatal("no issues")
			}
			first := e.Issues[0]
			expr := strings.Join(first.Expression, ",")
			if first.Code != tc.code || expr != tc.expr {
				t.Errorf("first issue = %s %q at %q, want %s at %q (all: %+v)", first.Code, first.Diagnostics, expr, tc.code, tc.expr, e.Issues)
			}
			for _, is := range e.Issues {
				if strings.Contains(is.Diagnostics, canary) || strings.Contains(strings.Join(is.Expression, ""), canary) {
					t.Errorf("issue echoes an input value: %+v", is)
				}
				if is.Severity != "error" && is.Severity != "fatal" {
					t.Errorf("severity %q", is.Severity)
				}
				if is.Diagnostics == "" {
					t.Errorf("issue without diagnostics: %+v", is)
				}
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("Error() echoes an input value: %s", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name, input string
		want        string // expected Marshal output; "" to skip the check
	}{
		{"minimal", `{"resourceType":"Patient"}`, `{"resourceType":"Patient"}`},
		{"whitespace and BOM", "\xEF\xBB\xBF \n{ \"resourceType\" : \"Patient\" ,\t\"active\" : true }\r\n", `{"resourceType":"Patient","active":true}`},
		{"resourceType moved first", `{"id":"a","gender":"male","resourceType":"Patient","active":false}`, `{"resourceType":"Patient","id":"a","gender":"male","active":false}`},
		{"key order kept", pat(`"gender":"male","active":true,"birthDate":"1970"`), pat(`"gender":"male","active":true,"birthDate":"1970"`)},
		{"decimal literals kept", obs(`"valueQuantity":{"value":1.0},"referenceRange":[{"low":{"value":1e3},"high":{"value":-0.00100E+10}}]`),
			obs(`"valueQuantity":{"value":1.0},"referenceRange":[{"low":{"value":1e3},"high":{"value":-0.00100E+10}}]`)},
		{"integers", obs(`"valueInteger":-2147483648`), ""},
		{"unicode kept", pat(`"name":[{"family":"Mejía 東京 😀"}]`), pat(`"name":[{"family":"Mejía 東京 😀"}]`)},
		{"escapes kept as written", pat(`"name":[{"family":"\u00e9\/\"\\\ud83d\ude00\t"}]`), pat(`"name":[{"family":"\u00e9\/\"\\\ud83d\ude00\t"}]`)},
		{"escaped key decoded", pat(`"gend\u0065r":"male"`), pat(`"gender":"male"`)},
		{"escaped resourceType", `{"resourceType":"Pat\u0069ent"}`, `{"resourceType":"Patient"}`},
		{"escaped code validated decoded", pat(`"gender":"m\u0061le"`), pat(`"gender":"m\u0061le"`)},
		{"escaped xhtml", pat(`"text":{"status":"generated","div":"\u003cdiv\u003ex\u003c/div\u003e"}`), ""},
		{"primitive extension", pat(`"birthDate":"1970","_birthDate":{"id":"b","extension":[{"url":"http://e","valueDateTime":"1970-01-01T10:00:00+01:00"}]}`), ""},
		{"primitive extension only", pat(`"_gender":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}`), ""},
		{"null placeholders", pat(`"name":[{"given":["a",null,"c"],"_given":[null,{"extension":[{"url":"http://e","valueString":"x"}]},{"id":"z"}]}]`),
			pat(`"name":[{"given":["a",null,"c"],"_given":[null,{"extension":[{"url":"http://e","valueString":"x"}]},{"id":"z"}]}]`)},
		{"choice value with extension form", obs(`"valueString":"a","_valueString":{"id":"x"}`), ""},
		{"required met by extension form", `{"resourceType":"Observation","_status":{"extension":[{"url":"http://e","valueString":"x"}]},"code":{"text":"x"}}`, ""},
		{"nested extensions", nestedExtensions(40), ""},
		{"contained", pat(`"contained":[{"resourceType":"Organization","id":"o","name":"x"}],"managingOrganization":{"reference":"#o"}`), ""},
		{"bundle of bundles", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"type":"collection","resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}}]}`,
			`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}}]}`},
		{"dates", pat(`"birthDate":"2024-02-29","deceasedDateTime":"2020-12-31T23:59:60.123-14:00"`), ""},
		{"partial dates", pat(`"birthDate":"2024-02","deceasedDateTime":"2020"`), ""},
		{"base64 with whitespace", pat(`"photo":[{"data":"YWJj ZA==\n"}]`), ""},
		{"contentReference", `{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"2","type":"display"}]}]}`, ""},
		{"all resource types minimal", `{"resourceType":"Binary","contentType":"text/plain"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.input))
			if err != nil {
				t.Fatalf("Parse: %v (%+v)", err, err.(*Error).Issues)
			}
			out, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && string(out) != tc.want {
				t.Errorf("Marshal =\n%s\nwant\n%s", out, tc.want)
			}
			if same, err := sameJSON([]byte(strings.TrimPrefix(tc.input, "\xEF\xBB\xBF")), out); err != nil || !same {
				t.Errorf("round trip differs (%v): %s", err, out)
			}
		})
	}
}

func TestResourceTypes(t *testing.T) {
	rt := ResourceTypes()
	if len(rt) != 146 {
		t.Errorf("%d resource types, want 146", len(rt))
	}
	for i := 1; i < len(rt); i++ {
		if rt[i-1] >= rt[i] {
			t.Errorf("not sorted: %s, %s", rt[i-1], rt[i])
		}
	}
	for _, name := range rt {
		if !IsResourceType(name) {
			t.Errorf("IsResourceType(%q) = false", name)
		}
		if _, err := Parse([]byte(`{"resourceType":"` + name + `"}`)); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Issues[0].Code != codeRequired {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for _, name := range []string{"", "Resource", "DomainResource", "patient", "HumanName", "Patient.contact", "string", "ProcessRequest"} {
		if IsResourceType(name) {
			t.Errorf("IsResourceType(%q) = true", name)
		}
	}
	rt[0] = "changed"
	if ResourceTypes()[0] != "Account" {
		t.Error("ResourceTypes shares its slice")
	}
}

func TestTooManyIssues(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient","name":[`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"family":1}`)
	}
	b.WriteString(`]}`)
	_, err := Parse([]byte(b.String()))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.Issues); n != maxIssues+1 || e.Issues[n-1].Code != codeTooCostly {
		t.Errorf("%d issues, last %+v", n, e.Issues[n-1])
	}
}
