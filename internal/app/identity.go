package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth/password"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/store/sqlite"
)

// NewIdentity builds the account service over db with the password policy
// and argon2id cost of cfg.Passwords.
func NewIdentity(cfg config.Config, db *sqlite.DB) (*identity.Service, error) {
	pol, err := password.Preset(cfg.Passwords.Policy)
	if err != nil {
		return nil, fmt.Errorf("passwords.policy: %w", err)
	}
	list, err := password.LoadBlocklist()
	if err != nil {
		return nil, err
	}
	chk, err := password.NewChecker(pol, list)
	if err != nil {
		return nil, err
	}
	params := password.DefaultParams()
	if v := cfg.Passwords.Argon2Time; v != 0 {
		params.Time = v
	}
	if v := cfg.Passwords.Argon2Memory; v != 0 {
		params.MemoryKiB = v
	}
	if v := cfg.Passwords.Argon2Threads; v != 0 {
		params.Threads = v
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("passwords: %w", err)
	}
	return identity.NewService(db, chk, identity.Options{Params: params})
}

// BootstrapAdmin creates the deployment's first super-admin, "admin", if
// it has none (at ward init and the first development start), and
// records it in the audit ledger as an operator action. It returns the
// account and its one-time password, which the caller shows once.
func (a *App) BootstrapAdmin(ctx context.Context) (identity.Person, identity.OneTimePassword, bool, error) {
	p, otp, created, err := a.Identity.Bootstrap(ctx)
	if err != nil || !created {
		return identity.Person{}, "", false, err
	}
	ev := audit.Event{
		Time: time.Now().UTC(), ActorID: OperatorID(), ActorKind: "operator",
		Action: audit.ActionExecute, Subtype: "user-create", EntityType: "User", EntityID: p.ID,
		Outcome: http.StatusCreated, EntryPoint: "cli",
	}
	if err := RecordOperator(ctx, a.DB, []audit.Event{ev}); err != nil {
		// Fail closed: an account nobody can account for must not work.
		_, derr := a.Identity.SetDisabled(ctx, identity.Actor{Operator: true}, p.ID, true)
		return identity.Person{}, "", false, errors.Join(err, derr)
	}
	return p, otp, true, nil
}
