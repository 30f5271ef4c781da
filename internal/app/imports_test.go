package app

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/wardhealth/ward/"

// allowed lists, per package, the ward packages it may import. Every
// package must be listed, so a new one gets its rule when it is added.
// Dependencies point one way: api → access, store, audit, auth, fhir;
// store → crypto; nothing imports api, app or cli but their callers.
var allowed = map[string][]string{
	"cmd/ward": {"internal/cli"},
	"internal/cli": {"internal/app", "internal/audit", "internal/audit/auditfhir", "internal/audit/ledger", "internal/audit/report", "internal/auth", "internal/config", "internal/identity", "internal/crypto/kms/localkms", "internal/synth", "internal/tlsconf", "internal/bench/load",
		// ward bench search drives the store and the search engine directly.
		"internal/crypto/keyring", "internal/fhir", "internal/fhir/search", "internal/index", "internal/store"},
	"internal/app":                           {"*"},
	"internal/api":                           {"internal/access", "internal/breakglass", "internal/esign", "internal/audit", "internal/audit/alert", "internal/audit/auditfhir", "internal/auth", "internal/auth/mfa", "internal/auth/password", "internal/identity", "internal/fhir", "internal/fhir/search", "internal/index", "internal/store"},
	"internal/index":                         {"internal/crypto/keyring", "internal/fhir", "internal/fhir/search", "internal/store"},
	"internal/index/indextest":               {"internal/index", "internal/fhir", "internal/fhir/search", "internal/store", "internal/crypto/keyring", "internal/crypto/kms/localkms"},
	"internal/api/apitest":                   {"internal/app", "internal/audit", "internal/audit/ledger", "internal/config", "internal/tlsconf"},
	"internal/access":                        {},
	"internal/audit":                         {},
	"internal/audit/auditfhir":               {"internal/audit"},
	"internal/audit/alert":                   {"internal/audit"},
	"internal/notify":                        {},
	"internal/notify/smtptest":               {},
	"internal/breakglass":                    {"internal/fhir"},
	"internal/auth/mfa":                      {},
	"internal/auth/password":                 {},
	"internal/auth/passkey":                  {},
	"internal/esign":                         {},
	"internal/auth/sso":                      {},
	"internal/identity":                      {"internal/auth/password", "internal/auth/mfa", "internal/auth/passkey", "internal/fhir"},
	"internal/audit/ledger":                  {"internal/audit", "internal/audit/journal"},
	"internal/audit/journal":                 {},
	"internal/audit/report":                  {"internal/audit"},
	"internal/auth":                          {},
	"internal/config":                        {},
	"internal/tlsconf":                       {},
	"internal/synth":                         {},
	"internal/bench/load":                    {"internal/synth"},
	"internal/fhir":                          {},
	"internal/fhir/internal/gen":             {},
	"internal/fhir/search":                   {"internal/fhir", "internal/fhir/search/internal/fhirpath"},
	"internal/fhir/search/internal/fhirpath": {"internal/fhir"},
	"internal/fhir/search/internal/gen":      {"internal/fhir", "internal/fhir/search/internal/fhirpath"},
	"internal/store":                         {"internal/crypto/keyring"},
	"internal/store/sqlite":                  {"internal/store", "internal/crypto/keyring", "internal/auth", "internal/audit/alert", "internal/identity", "internal/breakglass"},
	"internal/store/storetest":               {"internal/store", "internal/crypto/keyring", "internal/auth"},
	"internal/crypto/keyring":                {"internal/crypto/kms"},
	"internal/crypto/kms":                    {},
	"internal/crypto/kms/kmstest":            {"internal/crypto/kms"},
	"internal/crypto/kms/localkms":           {"internal/crypto/kms"},
}

// pure packages make decisions or parse data; they must do no I/O.
var pure = []string{"internal/access", "internal/esign", "internal/audit/auditfhir", "internal/audit/report", "internal/fhir", "internal/fhir/search", "internal/fhir/search/internal/fhirpath", "internal/synth"}

var ioPackages = []string{"os", "net", "net/http", "database/sql", "io/fs", "os/exec", "syscall", "log", "log/slog"}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		rel := strings.TrimPrefix(pkg, mod)
		rule, ok := allowed[rel]
		if !ok {
			t.Errorf("%s has no import rule: add it to allowed in imports_test.go", rel)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if inList(pure, rel) && inList(ioPackages, imp) {
				t.Errorf("%s must do no I/O but imports %s", rel, imp)
			}
			dep, ours := strings.CutPrefix(imp, mod)
			if !ours || strings.HasPrefix(dep, rel+"/") || inList(rule, "*") {
				continue
			}
			if !inList(rule, dep) {
				t.Errorf("%s may not import %s", rel, dep)
			}
		}
	}
}

func inList(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
