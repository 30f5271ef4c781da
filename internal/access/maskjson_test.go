package access

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jsonCases are JSON texts on both sides of the grammar's edges.
var jsonCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`, ` { "a" : [ 1 , { } ] } `,
	`"\u00e9\n\"\\\/"`, "\"\xff\"", `{"a":1,"a":2}`,
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `{"a":1 "b":2}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`tru`, `nul`, `truex`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\tb\"", `"abc`, `[1] [2]`, `{"a":1}}`, `'a'`, `NaN`,
	strings.Repeat("[", jsonMaxDepth) + strings.Repeat("]", jsonMaxDepth),
	strings.Repeat("[", jsonMaxDepth+1) + strings.Repeat("]", jsonMaxDepth+1),
}

func TestValidJSON(t *testing.T) {
	for _, c := range jsonCases {
		if got, want := jsonValidate([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("jsonValidate(%.40q) = %v, json.Valid says %v", c, got, want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(maskExamples, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonValidate(b) {
			t.Errorf("%s: jsonValidate rejects an official example", filepath.Base(f))
		}
	}
}

// FuzzValidJSON holds jsonValidate to encoding/json's answer.
func FuzzValidJSON(f *testing.F) {
	for _, c := range jsonCases[:len(jsonCases)-2] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := jsonValidate(b), json.Valid(b); got != want {
			t.Fatalf("jsonValidate(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}
