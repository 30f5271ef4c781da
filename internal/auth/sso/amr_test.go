package sso

import "testing"

// TestMultiFactor checks the RFC 8176 amr values ward accepts as
// multi-factor authentication.
func TestMultiFactor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		amr  []string
		want bool
	}{
		{"none", nil, false},
		{"empty", []string{}, false},
		{"password only", []string{"pwd"}, false},
		{"one-time code only", []string{"otp"}, false},
		{"provider asserts mfa", []string{"mfa"}, true},
		{"provider asserts mfa with a password", []string{"pwd", "mfa"}, true},
		{"password and one-time code", []string{"pwd", "otp"}, true},
		{"pin and smart card", []string{"pin", "sc"}, true},
		{"password and hardware key", []string{"pwd", "hwk"}, true},
		{"password and software key", []string{"swk", "pwd"}, true},
		{"password and fingerprint", []string{"pwd", "fpt"}, true},
		{"password and face", []string{"pwd", "face"}, true},
		{"password and iris", []string{"pwd", "iris"}, true},
		{"password and retina", []string{"pwd", "retina"}, true},
		{"password and voice", []string{"pwd", "vbm"}, true},
		{"password and SMS", []string{"pwd", "sms"}, false},
		{"password and phone call", []string{"pwd", "tel"}, false},
		// The provider says several factors, and that the extra one was SMS.
		{"mfa by SMS", []string{"pwd", "sms", "mfa"}, false},
		{"mfa by phone call", []string{"mfa", "tel"}, false},
		{"mfa naming SMS and a one-time code", []string{"mfa", "sms", "otp"}, true},
		{"password, SMS and one-time code", []string{"pwd", "sms", "otp"}, true},
		{"two knowledge factors", []string{"pwd", "pin"}, false},
		{"two possession factors, no knowledge", []string{"hwk", "otp"}, false},
		{"knowledge-based answers are not listed", []string{"pwd", "kba"}, false},
		{"values are case-sensitive", []string{"PWD", "OTP", "MFA"}, false},
		{"repeated password", []string{"pwd", "pwd"}, false},
		{"unknown values", []string{"user", "geo", "rba", "wia"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := multiFactor(tc.amr); got != tc.want {
				t.Errorf("multiFactor(%q) = %t, want %t", tc.amr, got, tc.want)
			}
		})
	}
}
