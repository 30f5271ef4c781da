package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/identity"
)

const userUsage = "Usage: ward user create|invite|list|disable|enable|unlock|reset-mfa|link-fhir|sso-link|sso-unlink ...\n"

// userCmd manages people's accounts as the operator (see identity.Actor):
// every change is audited with the operating-system user as the actor.
func userCmd(args []string, env Env) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	var c common
	switch sub {
	case "create":
		fs := newFlags("user create", "ward user create --username U --role ROLE [--tenant T] [--email E] [--name N] [--json]", env)
		c.register(fs, false)
		username := fs.String("username", "", "username, unique in the tenant (required)")
		role := fs.String("role", "", "role: "+strings.Join(identity.Roles(), ", ")+" (required)")
		tenant := fs.String("tenant", "default", "tenant (ignored for a super-admin, who belongs to none)")
		email := fs.String("email", "", "e-mail address")
		name := fs.String("name", "", "display name of a workforce member (never a patient's)")
		asJSON := fs.Bool("json", false, "print {\"user_id\", \"username\", \"one_time_password\"} as JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if *username == "" || *role == "" {
			fmt.Fprintln(env.Stderr, "--username and --role are required")
			fs.Usage()
			return errUsage
		}
		if *role == identity.RoleSuperAdmin {
			*tenant = ""
		}
		return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, record recorder) error {
			p, otp, err := ids.Create(ctx, identity.Actor{Operator: true},
				identity.NewPerson{Tenant: *tenant, Username: *username, Email: *email, Name: *name, Role: *role})
			if err != nil {
				return err
			}
			if err := app.RecordAccountCreated(ctx, record, ids, p); err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(env.Stdout).Encode(map[string]string{
					"user_id": p.ID, "username": p.Username, "one_time_password": otp.Reveal()})
			}
			fmt.Fprintf(env.Stdout, "user_id:           %s\nusername:          %s\none-time password: %s\n(shown once; it must be changed at first sign-in)\n",
				p.ID, p.Username, otp.Reveal())
			return nil
		})
	case "invite":
		fs := newFlags("user invite", "ward user invite --role ROLE [--tenant T] [--email E] [--name N] [--resource Patient/ID] [--ttl 72h] [--json]", env)
		c.register(fs, false)
		role := fs.String("role", "", "role of the invitee: "+strings.Join(identity.Roles()[1:], ", ")+" (required)")
		tenant := fs.String("tenant", "default", "tenant the invitee joins")
		email := fs.String("email", "", "e-mail address of the invitee")
		name := fs.String("name", "", "display name of a workforce member (never a patient's)")
		ttl := fs.Duration("ttl", identity.DefaultInvitationTTL, "how long the invitation lasts (1m to 720h)")
		ref := fs.String("resource", "", "the FHIR resource the account will stand for, e.g. a patient's Patient/ID")
		asJSON := fs.Bool("json", false, "print {\"invitation\", \"expires_at\"} as JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if *role == "" {
			fmt.Fprintln(env.Stderr, "--role is required")
			fs.Usage()
			return errUsage
		}
		return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, record recorder) error {
			inv, tok, err := ids.Invite(ctx, identity.Actor{Operator: true},
				identity.NewInvitation{Tenant: *tenant, Role: *role, Email: *email, Name: *name, FHIRUser: *ref, TTL: *ttl})
			if err != nil {
				return err
			}
			ev := app.OperatorEvent(inv.Tenant, audit.ActionCreate, "invitation", "Invitation", "", http.StatusCreated)
			if err := record(ctx, []audit.Event{ev}); err != nil {
				return fmt.Errorf("invitation not handed out: its audit event was not recorded: %w", err)
			}
			if *asJSON {
				return json.NewEncoder(env.Stdout).Encode(map[string]string{"invitation": tok.Reveal(), "expires_at": inv.Expires.Format(time.RFC3339)})
			}
			fmt.Fprintf(env.Stdout, "invitation: %s\nexpires:    %s\n(shown once; the invitee redeems it at POST /auth/invitations/accept)\n",
				tok.Reveal(), inv.Expires.Format(time.RFC3339))
			return nil
		})
	case "list":
		fs := newFlags("user list", "ward user list [--tenant T] [--json]   (--tenant \"\" lists the super-admins)", env)
		c.register(fs, false)
		tenant := fs.String("tenant", "default", "tenant")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, _ recorder) error {
			ps, err := ids.List(ctx, identity.Actor{Operator: true}, *tenant)
			if err != nil {
				return err
			}
			return printPeople(env, ps, *asJSON)
		})
	case "disable", "enable", "unlock", "reset-mfa":
		help := map[string]string{
			"disable":   "ward user disable ID   (signs nobody in; the account and its id stay)",
			"enable":    "ward user enable ID",
			"unlock":    "ward user unlock ID   (clears failed sign-ins and the lock they set)",
			"reset-mfa": "ward user reset-mfa ID   (removes the second factors and ends the sessions; the next sign-in enrols anew)",
		}[sub]
		fs := newFlags("user "+sub, help, env)
		c.register(fs, false)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return errUsage
		}
		return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, record recorder) error {
			op := identity.Actor{Operator: true}
			p, err := ids.Get(ctx, op, fs.Arg(0))
			if err != nil {
				return err
			}
			switch sub {
			case "disable", "enable":
				_, err = ids.SetDisabled(ctx, op, p.ID, sub == "disable")
			case "unlock":
				err = ids.Unlock(ctx, op, p.ID)
			default:
				err = ids.ResetMFA(ctx, op, p.ID)
			}
			if err != nil {
				return err
			}
			if err := recordOperator(ctx, record, p.Tenant, "user-"+sub, "User", p.ID, http.StatusOK); err != nil {
				return fmt.Errorf("%s done, but its audit event was not recorded: %w", sub, err)
			}
			fmt.Fprintf(env.Stdout, "%s: %s\n", sub, p.ID)
			return nil
		})
	case "link-fhir":
		fs := newFlags("user link-fhir", "ward user link-fhir ID --resource TYPE/ID   (Practitioner/… for clinical staff, Patient/… for a patient, RelatedPerson/… for a representative; --resource \"\" unlinks)", env)
		c.register(fs, false)
		ref := fs.String("resource", "", "the FHIR resource the account stands for (required; \"\" unlinks)")
		id, err := parseWithID(fs, args)
		if err != nil {
			return err
		}
		if id == "" || !flagGiven(fs, "resource") {
			fs.Usage()
			return errUsage
		}
		return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, record recorder) error {
			p, err := ids.LinkFHIR(ctx, identity.Actor{Operator: true}, id, *ref)
			if err != nil {
				return err
			}
			if err := recordOperator(ctx, record, p.Tenant, "user-link-fhir", "User", p.ID, http.StatusOK); err != nil {
				return fmt.Errorf("linked, but its audit event was not recorded: %w", err)
			}
			fmt.Fprintf(env.Stdout, "%s stands for %q\n", p.ID, p.FHIRUser)
			return nil
		})
	case "sso-link", "sso-unlink":
		return ssoLinkCmd(sub, args, env)
	case "--help", "-h":
		fmt.Fprint(env.Stdout, userUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(env.Stderr, userUsage)
	return errUsage
}

func printPeople(env Env, ps []identity.Person, asJSON bool) error {
	if asJSON {
		type row struct {
			ID       string    `json:"user_id"`
			Tenant   string    `json:"tenant"`
			Username string    `json:"username"`
			Role     string    `json:"role"`
			Created  time.Time `json:"created"`
			Disabled bool      `json:"disabled"`
		}
		rows := []row{}
		for _, p := range ps {
			rows = append(rows, row{p.ID, p.Tenant, p.Username, p.Role, p.Created, p.Disabled})
		}
		return json.NewEncoder(env.Stdout).Encode(rows)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tUSERNAME\tROLE\tCREATED\tSTATUS")
	for _, p := range ps {
		status := "active"
		if p.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Username, p.Role, p.Created.Format(time.RFC3339), status)
	}
	return tw.Flush()
}

// withIdentity opens the database and the account service; like the
// client commands it works while the server runs. record appends to the
// audit ledger.
func withIdentity(c common, env Env, fn func(ctx context.Context, ids *identity.Service, record recorder) error) error {
	cfg, err := c.loadData(env)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	ids, err := app.NewIdentity(cfg, db, nil, nil)
	if err != nil {
		return errors.Join(err, db.Close())
	}
	record := func(ctx context.Context, events []audit.Event) error { return app.RecordOperator(ctx, db, events) }
	return errors.Join(fn(ctx, ids, record), db.Close())
}

// printBootstrap creates the first super-admin if there is none and
// prints its one-time password, once.
func printBootstrap(ctx context.Context, a *app.App, env Env) error {
	p, otp, created, err := a.BootstrapAdmin(ctx)
	if err != nil || !created {
		return err
	}
	fmt.Fprintf(env.Stdout, "super-admin created: username %q, one-time password %s\n(shown once; it must be changed at first sign-in)\n",
		p.Username, otp.Reveal())
	return nil
}

// ssoLinkCmd links an account to, or unlinks it from, its person at a
// tenant's identity provider ([[sso]] in the configuration), by the
// provider's issuer and the person's subject there. The subject never
// goes to the audit trail or the output.
func ssoLinkCmd(sub string, args []string, env Env) error {
	synopsis := map[string]string{
		"sso-link":   "ward user sso-link ID --provider TENANT/NAME --subject SUB   (the person's subject (sub) at the provider)",
		"sso-unlink": "ward user sso-unlink ID --provider TENANT/NAME [--subject SUB]   (without --subject: every link of the account at that provider)",
	}[sub]
	var c common
	fs := newFlags("user "+sub, synopsis, env)
	c.register(fs, false)
	provider := fs.String("provider", "", "the identity provider, as TENANT/NAME of an [[sso]] table (required)")
	subject := fs.String("subject", "", "the person's subject (sub claim) at the provider")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	tenant, name, _ := strings.Cut(*provider, "/")
	if id == "" || tenant == "" || name == "" || sub == "sso-link" && *subject == "" {
		fmt.Fprintln(env.Stderr, "the account ID and --provider TENANT/NAME are required, and for sso-link --subject")
		fs.Usage()
		return errUsage
	}
	cfg, err := c.loadData(env)
	if err != nil {
		return err
	}
	if err := cfg.FinishSSO(); err != nil {
		return err
	}
	p, ok := cfg.FindSSO(tenant, name)
	if !ok {
		return fmt.Errorf("no identity provider %s/%s is configured ([[sso]] tables)", tenant, name)
	}
	return withIdentity(c, env, func(ctx context.Context, ids *identity.Service, record recorder) error {
		op := identity.Actor{Operator: true}
		person, err := ids.Get(ctx, op, id)
		if err != nil {
			return err
		}
		if person.Tenant != p.Tenant {
			return fmt.Errorf("account %s is not in tenant %s, whose provider %s is", person.ID, p.Tenant, p.Name)
		}
		if sub == "sso-unlink" {
			n, err := ids.UnlinkSSO(ctx, op, person.ID, p.Issuer, *subject)
			if err != nil {
				return err
			}
			if err := recordOperator(ctx, record, person.Tenant, "user-sso-unlink", "User", person.ID, http.StatusOK); err != nil {
				return fmt.Errorf("unlinked, but its audit event was not recorded: %w", err)
			}
			fmt.Fprintf(env.Stdout, "sso-unlink: %s from %s/%s (%d link(s))\n", person.ID, p.Tenant, p.Name, n)
			return nil
		}
		if err := ids.LinkSSO(ctx, op, person.ID, p.Issuer, *subject); err != nil {
			return err
		}
		if err := recordOperator(ctx, record, person.Tenant, "user-sso-link", "User", person.ID, http.StatusCreated); err != nil {
			// Fail closed: a link nobody can account for must not sign anyone in.
			_, uerr := ids.UnlinkSSO(ctx, op, person.ID, p.Issuer, *subject)
			return fmt.Errorf("not linked: its audit event could not be recorded: %w", errors.Join(err, uerr))
		}
		fmt.Fprintf(env.Stdout, "sso-link: %s to %s/%s\n", person.ID, p.Tenant, p.Name)
		return nil
	})
}
