package sso

// factor is the kind of proof an authentication method reference
// (RFC 8176) stands for, as far as ward's MFA rule cares.
type factor int

const (
	other      factor = iota
	multi             // "mfa": the provider asserts several factors
	knowledge         // something the person knows
	possession        // something the person has or is
	weak              // SMS or telephone: never a factor for ward
)

// factorOf classifies one amr value. Values are compared exactly, as
// RFC 8176 asks.
func factorOf(m string) factor {
	switch m {
	case "mfa":
		return multi
	case "pwd", "pin":
		return knowledge
	case "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm":
		return possession
	case "sms", "tel":
		return weak
	}
	return other
}

// multiFactor reports whether an amr claim shows multi-factor
// authentication ward accepts: a knowledge factor (pwd, pin) with a
// possession or inherence factor (otp, hwk, swk, sc, fpt, face, iris,
// retina, vbm), or "mfa". SMS and telephone never count, so "mfa" is not
// enough when the claim also names sms or tel and no accepted possession
// or inherence factor: the provider is then telling us the extra factor
// was a text message or a phone call.
func multiFactor(amr []string) bool {
	var mfa, know, have, sms bool
	for _, m := range amr {
		switch factorOf(m) {
		case multi:
			mfa = true
		case knowledge:
			know = true
		case possession:
			have = true
		case weak:
			sms = true
		}
	}
	return (know && have) || (mfa && (have || !sms))
}
