package identity

import (
	"context"
	"fmt"

	"github.com/wardhealth/ward/internal/auth/password"
)

// PIN lengths: at least 6 digits (the seed requirement), at most 12.
const (
	minPIN = 6
	maxPIN = 12
)

// checkPIN enforces the PIN rules: 6 to 12 ASCII digits, not one digit
// repeated and not a run such as 123456 or 987654.
func checkPIN(pin string) error {
	if len(pin) < minPIN || len(pin) > maxPIN {
		return fmt.Errorf("%w: a PIN has %d to %d digits", ErrInvalid, minPIN, maxPIN)
	}
	same, up, down := true, true, true
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return fmt.Errorf("%w: a PIN has only the digits 0-9", ErrInvalid)
		}
		if i > 0 {
			d := int(pin[i]) - int(pin[i-1])
			same, up, down = same && d == 0, up && (d == 1 || d == -9), down && (d == -1 || d == 9)
		}
	}
	if same || up || down {
		return fmt.Errorf("%w: a PIN must not repeat one digit or count up or down", ErrInvalid)
	}
	return nil
}

// SetPIN sets the PIN with which person id resumes an idle-locked
// session, after checking their password (a wrong one counts towards
// the lockout, as at sign-in).
func (s *Service) SetPIN(ctx context.Context, id, pw, pin string) error {
	if err := checkPIN(pin); err != nil {
		return err
	}
	p, err := s.st.Person(ctx, id)
	if err != nil {
		return err
	}
	if p.Disabled {
		return ErrBadPassword
	}
	if err := s.prove(ctx, p, Proof{Password: pw}); err != nil {
		return err
	}
	hash, err := password.Hash(pin, s.params, s.rand)
	if err != nil {
		return err
	}
	return s.st.SetPIN(ctx, id, hash)
}
