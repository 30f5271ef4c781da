package sso

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestClaimReaders checks how optional claims of varying shape are read:
// leniently, and never in a way that could grant more than was sent.
func TestClaimReaders(t *testing.T) {
	t.Parallel()
	bools := []struct {
		raw  string
		want bool
	}{
		{`true`, true}, {`"true"`, true}, {`false`, false}, {`"false"`, false},
		{`"TRUE"`, false}, {`1`, false}, {`null`, false}, {``, false},
	}
	for _, tc := range bools {
		if got := isTrue(json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("isTrue(%s) = %t, want %t", tc.raw, got, tc.want)
		}
	}

	lists := []struct {
		raw  string
		want []string
	}{
		{`["pwd","otp"]`, []string{"pwd", "otp"}},
		{`"mfa"`, nil}, {`[1,2]`, nil}, {`null`, nil}, {``, nil},
	}
	for _, tc := range lists {
		if got := stringList(json.RawMessage(tc.raw)); !slices.Equal(got, tc.want) {
			t.Errorf("stringList(%s) = %q, want %q", tc.raw, got, tc.want)
		}
	}

	times := []struct {
		raw  string
		want time.Time
	}{
		{`1795422600`, time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)},
		{`1795422600.7`, time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)},
		{`"1795422600"`, time.Time{}}, {`0`, time.Time{}}, {`-5`, time.Time{}}, {``, time.Time{}},
	}
	for _, tc := range times {
		if got := unixTime(json.RawMessage(tc.raw)); !got.Equal(tc.want) {
			t.Errorf("unixTime(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

// TestIsErrorCode checks which provider error codes may appear in an
// error message.
func TestIsErrorCode(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"invalid_grant":                  true,
		"invalid_client":                 true,
		"":                               false,
		"Invalid code: abc":              false,
		"a@b.example":                    false,
		string(make([]byte, 65)):         false,
		"temporarily_unavailable":        true,
		"unsupported_grant_type":         true,
		"invalid_grant\nuser=jane.doe":   false,
		"interaction_required.v2-beta_1": true,
	} {
		if got := isErrorCode(code); got != want {
			t.Errorf("isErrorCode(%q) = %t, want %t", code, got, want)
		}
	}
}
