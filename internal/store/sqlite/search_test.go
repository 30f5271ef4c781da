package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/index/indextest"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// openDB opens a new database in dir, closed at the end of the test.
func openDB(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "ward.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestSearchConformance(t *testing.T) {
	indextest.Run(t, func(t *testing.T) (store.Backend, keyring.KeyStore) {
		db := openDB(t, t.TempDir())
		return db, db
	})
}

// The canary test: PHI written and searched must reach the database file,
// its WAL and shared memory only sealed (bodies) or keyed (tokens), in no
// form a search normalises it to: case-folded, accent-stripped, the
// prefixes and trigrams the index tokenises, or dates as bucket text.

// canarySecrets are distinctive PHI values the canary resources hold.
var canarySecrets = []string{
	"Qzxwcanärywort",                       // family name (accented: its normalised form differs)
	"Vbnmgivenqz",                          // given name
	"Qzxwcanaryville",                      // city
	"CNRY-QZXW-4471",                       // identifier value
	"QZXW-CODE-9931",                       // code
	"http://canary.example.org/qzxw-codes", // code system
	"Qzxwdisplay Canärytext",               // display text
	"Qzxwnote about canary",                // observation value as text
	"1911-11-17",                           // birth date
	"1911-11-17T13:14:15Z",                 // effective date time
}

// canaryTenant holds the canary resources; tenants are stored in the
// clear, so it is no canary.
const canaryTenant = "acme"

const (
	canaryPatient = `{"resourceType":"Patient","id":"pc",
	 "identifier":[{"system":"http://hospital.example.org/mrn","value":"CNRY-QZXW-4471"}],
	 "name":[{"family":"Qzxwcanärywort","given":["Vbnmgivenqz"]}],
	 "birthDate":"1911-11-17","address":[{"city":"Qzxwcanaryville"}]}`
	canaryObservation = `{"resourceType":"Observation","id":"oc","status":"final",
	 "code":{"coding":[{"system":"http://canary.example.org/qzxw-codes","code":"QZXW-CODE-9931","display":"Qzxwdisplay Canärytext"}],"text":"Qzxwdisplay Canärytext"},
	 "subject":{"reference":"Patient/pc"},"effectiveDateTime":"1911-11-17T13:14:15Z",
	 "valueString":"Qzxwnote about canary"}`
)

// canaryForms returns every form of the secrets that must not appear: as
// written, lower and upper case, normalised, the normalised prefixes and
// windows of six or more runes (what the prefix and trigram tokens are
// made of), and the year-month and compact forms of dates.
func canaryForms() map[string]bool {
	forms := make(map[string]bool)
	for _, s := range canarySecrets {
		n := search.Normalize(s)
		for _, f := range []string{s, strings.ToLower(s), strings.ToUpper(s), n} {
			forms[f] = true
		}
		r := []rune(n)
		for i := range r {
			for j := i + 6; j <= len(r) && j <= i+16; j++ {
				forms[string(r[i:j])] = true
			}
		}
		if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
			forms[s[:7]] = true
			forms[s[:4]+s[5:7]+s[8:10]] = true
		}
	}
	return forms
}

// findForms returns the forms found in b.
func findForms(b []byte, forms map[string]bool) []string {
	var found []string
	for f := range forms {
		if bytes.Contains(b, []byte(f)) {
			found = append(found, f)
		}
	}
	sort.Strings(found)
	return found
}

// scanDir fails the test for each form found in a file under dir, and
// returns the names of the files scanned.
func scanDir(t *testing.T, dir string, forms map[string]bool) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		names = append(names, d.Name())
		t.Logf("scanned %s: %d bytes", d.Name(), len(b))
		for _, f := range findForms(b, forms) {
			t.Errorf("%s holds %q in the clear", d.Name(), f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestSearchCanary(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir() // the data directory: the database and nothing else
	db := openDB(t, dir)
	kekPath := filepath.Join(t.TempDir(), "kek")
	if err := localkms.Create(kekPath, localkms.Development); err != nil {
		t.Fatal(err)
	}
	kek, err := localkms.Open(kekPath)
	if err != nil {
		t.Fatal(err)
	}
	kr := keyring.New(kek, db, keyring.Options{})
	st := store.New(db, kr, store.Options{Index: index.NewIndexer(kr)})
	eng := index.NewEngine(st, kr, nil)

	write := func(kind store.OpKind, body string) {
		t.Helper()
		r, err := fhir.Parse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write(ctx, canaryTenant, []store.Op{{Kind: kind, Doc: r}}); err != nil {
			t.Fatal(err)
		}
	}
	write(store.OpUpdate, canaryPatient)
	write(store.OpUpdate, canaryObservation)
	// A second version and a deletion: history rows, token replacement.
	write(store.OpUpdate, strings.Replace(canaryPatient, `"birthDate"`, `"gender":"female","birthDate"`, 1))
	write(store.OpUpdate, strings.Replace(canaryObservation, `"id":"oc"`, `"id":"oc2"`, 1))
	if _, err := st.Write(ctx, canaryTenant, []store.Op{{Kind: store.OpDelete, Type: "Observation", ID: "oc2"}}); err != nil {
		t.Fatal(err)
	}

	// The index holds the secrets (as tokens): searches on each find them.
	for _, s := range []struct{ typ, query, want string }{
		{"Patient", "family=QZXWCANARY", "pc"},
		{"Patient", "family:exact=Qzxwcanärywort", "pc"},
		{"Patient", "family:contains=canary", "pc"},
		{"Patient", "given=vbnm", "pc"},
		{"Patient", "address-city=qzxwcanaryv", "pc"},
		{"Patient", "identifier=http://hospital.example.org/mrn|CNRY-QZXW-4471", "pc"},
		{"Patient", "birthdate=1911-11", "pc"},
		{"Observation", "code=http://canary.example.org/qzxw-codes|QZXW-CODE-9931", "oc"},
		{"Observation", "code:text=canarytext", "oc"},
		{"Observation", "value-string=qzxwnote about", "oc"},
		{"Observation", "date=1911-11-17", "oc"},
		{"Observation", "subject:Patient.family=qzxw", "oc"},
	} {
		params, err := url.ParseQuery(s.query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := search.Parse(s.typ, params, false)
		if err != nil {
			t.Fatalf("%s?%s: %v", s.typ, s.query, err)
		}
		res, err := eng.Search(ctx, canaryTenant, q, nil, index.Position{})
		if err != nil {
			t.Fatalf("%s?%s: %v", s.typ, s.query, err)
		}
		if len(res.Matches) != 1 || res.Matches[0].ID != s.want {
			t.Errorf("%s?%s found %d matches, want %s", s.typ, s.query, len(res.Matches), s.want)
		}
	}

	forms := canaryForms()
	// The scan finds what it looks for.
	planted := []byte("....qzxwcanarywort, 1911-11....")
	if got := findForms(planted, forms); !slices.Contains(got, "qzxwcanarywort") || !slices.Contains(got, "1911-11") {
		t.Fatalf("the scan misses planted canaries: found %q", got)
	}

	checkSchema(t, filepath.Join(dir, "ward.db"), forms)

	t.Run("before checkpoint", func(t *testing.T) {
		names := scanDir(t, dir, forms)
		if !slices.Contains(names, "ward.db-wal") || !slices.Contains(names, "ward.db-shm") {
			t.Errorf("scanned %q: want the database, its WAL and shared memory", names)
		}
	})
	raw, err := sql.Open("sqlite", filepath.Join(dir, "ward.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var busy, logPages, checkpointed int
	if err := raw.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &checkpointed); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Fatal("the checkpoint did not complete")
	}
	t.Run("after checkpoint", func(t *testing.T) { scanDir(t, dir, forms) })
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("after close", func(t *testing.T) {
		if names := scanDir(t, dir, forms); !slices.Contains(names, "ward.db") {
			t.Errorf("scanned %q: the database is missing", names)
		}
	})
}

// checkSchema asserts through SQL that the index tables hold no
// plaintext: current has only clear metadata and token bytes, and the
// tokens are store.Token-sized and look random.
func checkSchema(t *testing.T, path string, forms map[string]bool) {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	columns := func(table string) []string {
		rows, err := raw.Query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	if got, want := columns("current"), []string{"rid", "tenant", "type", "id", "version", "last_updated", "deleted"}; !slices.Equal(got, want) {
		t.Errorf("current has columns %q, want %q", got, want)
	}
	if got, want := columns("search_tokens"), []string{"token", "rid"}; !slices.Equal(got, want) {
		t.Errorf("search_tokens has columns %q, want %q", got, want)
	}
	if got, want := columns("current_tokens"), []string{"rid", "tokens"}; !slices.Equal(got, want) {
		t.Errorf("current_tokens has columns %q, want %q", got, want)
	}

	rows, err := raw.Query(`SELECT token FROM search_tokens`)
	if err != nil {
		t.Fatal(err)
	}
	n, texts := 0, 0
	for rows.Next() {
		var tok []byte
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		n++
		if len(tok) != len(store.Token{}) {
			t.Errorf("a token of %d bytes", len(tok))
		}
		if printable(tok) {
			texts++
		}
		for f := range forms {
			if fb := []byte(f); bytes.Equal(tok, fb) || bytes.Equal(tok, fb[:min(len(fb), len(tok))]) {
				t.Errorf("a token is the plaintext %q", f)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("search_tokens holds %d tokens; the canary resources were not indexed", n)
	}
	// Keyed tokens look random: few are printable by chance (about 4 in
	// 10,000 of 8-byte tokens), plaintext ones all are.
	if texts > n/20 {
		t.Errorf("%d of %d tokens are printable text", texts, n)
	}

	rows, err = raw.Query(`SELECT c.type, c.id, c.deleted, coalesce(t.tokens, X'') FROM current c LEFT JOIN current_tokens t ON t.rid = c.rid ORDER BY c.rid`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var typ, id string
		var deleted bool
		var toks []byte
		if err := rows.Scan(&typ, &id, &deleted, &toks); err != nil {
			t.Fatal(err)
		}
		got = append(got, typ+"/"+id)
		switch {
		case len(toks)%len(store.Token{}) != 0:
			t.Errorf("%s/%s: %d token bytes", typ, id, len(toks))
		case deleted && len(toks) != 0:
			t.Errorf("deleted %s/%s keeps %d token bytes", typ, id, len(toks))
		case !deleted && len(toks) == 0:
			t.Errorf("%s/%s has no tokens", typ, id)
		}
		if f := findForms(toks, forms); len(f) > 0 {
			t.Errorf("%s/%s tokens hold %q", typ, id, f)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Patient/pc", "Observation/oc", "Observation/oc2"}; !slices.Equal(got, want) {
		t.Errorf("current rows %q, want %q", got, want)
	}
}

// printable reports whether b is all printable ASCII.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
