// Package cli implements ward's command line: serve, init, key, client,
// version. Exit codes: 0 ok, 1 failure, 2 usage error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/wardhealth/ward/internal/app"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/tlsconf"
)

// Env is what a command may touch of its process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Signals delivers shutdown signals to serve; nil means SIGINT/SIGTERM.
	Signals func(ctx context.Context) (context.Context, context.CancelFunc)
}

// errUsage marks usage errors (exit 2); the message was already printed.
var errUsage = errors.New("usage")

// errHelp is flag.ErrHelp: help was asked for and printed (exit 0).
var errHelp = flag.ErrHelp

const usage = `ward: HIPAA-ready FHIR R4 server

Usage:
  ward serve   [--dev] [--config FILE] [--addr HOST:PORT] [--data-dir DIR]
  ward init    [--dev] [--config FILE] [--data-dir DIR]
  ward key init --out PATH
  ward client create --name NAME --role ROLE [--tenant T] [--json]
  ward client list [--tenant T] [--json]
  ward client rotate ID [--grace DURATION] [--revoke-tokens] [--json]
  ward client disable ID
  ward user create --username U --role ROLE [--tenant T] [--email E] [--name N] [--json]
  ward user list [--tenant T] [--json]
  ward user disable|enable|unlock|reset-mfa ID
  ward user sso-link|sso-unlink ID --provider TENANT/NAME [--subject SUB]
  ward audit init-key --out PATH
  ward audit verify [--checkpoints FILE] [--verifier-key FILE]
  ward audit archive --out FILE [--before TIME]
  ward audit verify-archive FILE...
  ward audit prune --archive FILE
  ward bench gen --patients N [--seed S] [--format bundle|ndjson] [--out PATH]
  ward bench search --data DIR [--patients N] [--observations N] [--reuse] [--json]
  ward bench run --scenario crud|import|search|mixed [--target URL] [--clients C] [--duration D] [--json]
  ward version

Run 'ward COMMAND --help' for a command's flags. Settings come from the
config file, then WARD_* environment variables, then flags.
`

// Run executes ward with args (without the program name) and returns the exit code.
func Run(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Signals == nil {
		env.Signals = func(ctx context.Context) (context.Context, context.CancelFunc) {
			return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		}
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], env)
	case "init":
		err = initCmd(args[1:], env)
	case "key":
		err = keyCmd(args[1:], env)
	case "client":
		err = clientCmd(args[1:], env)
	case "user":
		err = userCmd(args[1:], env)
	case "bench":
		err = benchCmd(args[1:], env)
	case "audit":
		err = auditCmd(args[1:], env)
	case "version", "--version":
		fmt.Fprintln(env.Stdout, "ward", app.Version)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
	default:
		fmt.Fprintf(env.Stderr, "ward: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(env.Stderr, "ward:", err)
		return 1
	}
}

// common are the flags shared by commands that load a Config.
type common struct {
	dev     bool
	cfgFile string
	dataDir string
	addr    string
}

func (c *common) register(fs *flag.FlagSet, withAddr bool) {
	fs.BoolVar(&c.dev, "dev", false, "development mode: self-signed certificate and local key file in the data dir")
	fs.StringVar(&c.cfgFile, "config", "", "TOML config file (default $WARD_CONFIG)")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (default $WARD_DATA_DIR or ./ward-data)")
	if withAddr {
		fs.StringVar(&c.addr, "addr", "", "listen address (default $WARD_ADDR or 127.0.0.1:8443)")
	}
}

// load builds the Config: file < env < flags.
func (c *common) load(env Env) (config.Config, error) {
	file := c.cfgFile
	if file == "" {
		file = env.Getenv("WARD_CONFIG")
	}
	cfg, err := config.Load(file, env.Getenv)
	if err != nil {
		return cfg, err
	}
	if c.dev {
		cfg.Env = config.Development
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	if c.addr != "" {
		cfg.Addr = c.addr
	}
	return cfg, nil
}

// loadData is load for a command that works on the data directory.
func (c *common) loadData(env Env) (config.Config, error) {
	cfg, err := c.load(env)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.FinishData()
}

func newFlags(name, synopsis string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping errors to errUsage (help → flag.ErrHelp).
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > maxArgs {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(maxArgs))
		fs.Usage()
		return errUsage
	}
	return nil
}

// parseWithID parses a command whose one argument, an id, may come
// before the flags (as synopses show it) or after them: the flag package
// stops at the first argument, so an id in front is taken off first. It
// returns "" when there is no id.
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	maxArgs := 1
	if id != "" {
		maxArgs = 0
	}
	if err := parse(fs, args, maxArgs); err != nil {
		return "", err
	}
	if id == "" {
		id = fs.Arg(0)
	}
	return id, nil
}

// flagGiven reports whether flag name was set on the command line (even
// to its default value).
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func logger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// prepared parses a serving command's flags, loads and validates the
// Config, and in development creates what the data directory lacks.
func prepared(name, synopsis string, withAddr bool, args []string, env Env) (config.Config, error) {
	var c common
	fs := newFlags(name, synopsis, env)
	c.register(fs, withAddr)
	if err := parse(fs, args, 0); err != nil {
		return config.Config{}, err
	}
	cfg, err := c.load(env)
	if err != nil {
		return cfg, err
	}
	if err := cfg.Finish(); err != nil {
		return cfg, err
	}
	if cfg.Env == config.Development {
		created, err := app.PrepareDev(cfg, time.Now())
		if err != nil {
			return cfg, err
		}
		for _, what := range created {
			fmt.Fprintln(env.Stdout, "created", what)
		}
	}
	return cfg, nil
}

// errAuditDiscarded is serve's refusal in a build that records no audit events.
var errAuditDiscarded = errors.New("this ward was built with the auditdiscard tag, for benchmarks only: it records no audit events and refuses to serve; build without -tags auditdiscard")

func serve(args []string, env Env) error {
	cfg, err := prepared("serve", "ward serve [--dev] [--config FILE] [--addr HOST:PORT] [--data-dir DIR]", true, args, env)
	if err != nil {
		return err
	}
	if app.AuditDiscarded {
		return errAuditDiscarded
	}
	log := logger(env.Stderr, cfg.LogLevel)
	ctx, stop := env.Signals(context.Background())
	defer stop()
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	if cfg.Env == config.Development {
		if err := printBootstrap(ctx, a, env); err != nil {
			a.Close()
			return err
		}
	}
	certFile := cfg.TLSCert
	if certFile == "" {
		certFile, _ = cfg.DevTLSPaths()
	}
	fp, err := tlsconf.Fingerprint(certFile)
	if err != nil {
		a.Close()
		return err
	}
	serr := a.Serve(ctx, func(addr net.Addr) {
		fmt.Fprintf(env.Stdout, "ward %s (%s) listening on https://%s/fhir/R4\n", app.Version, cfg.Env, addr)
		fmt.Fprintf(env.Stdout, "certificate SHA-256 fingerprint: %s\n", fp)
		if cfg.Env == config.Development {
			fmt.Fprintf(env.Stdout, "create a client: ward client create --data-dir %s --name demo --role service\n", cfg.DataDir)
		}
	})
	cerr := a.Close()
	if serr != nil {
		return serr
	}
	if cerr != nil {
		return cerr
	}
	log.Info("stopped cleanly")
	return nil
}

func initCmd(args []string, env Env) error {
	cfg, err := prepared("init", "ward init [--dev] [--config FILE] [--data-dir DIR]", false, args, env)
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, logger(env.Stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "data directory ready:", cfg.DataDir)
	return errors.Join(printBootstrap(ctx, a, env), a.Close())
}

func keyCmd(args []string, env Env) error {
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprint(env.Stderr, "Usage: ward key init --out PATH\n")
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return flag.ErrHelp
		}
		return errUsage
	}
	fs := newFlags("key init", "ward key init --out PATH   (creates a production key-encryption key file, mode 0600)", env)
	out := fs.String("out", "", "path of the new key file (must not exist; keep it outside the data directory)")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errUsage
	}
	if err := localkms.Create(*out, localkms.Production); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created key file %s; set WARD_KMS=local:%s\n", *out, *out)
	return nil
}

func clientCmd(args []string, env Env) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	var c common
	switch sub {
	case "create":
		fs := newFlags("client create", "ward client create --name NAME --role ROLE [--tenant T] [--json]", env)
		c.register(fs, false)
		name := fs.String("name", "", "client name (required)")
		role := fs.String("role", "", "role: "+strings.Join(auth.Roles(), ", ")+" (required)")
		tenant := fs.String("tenant", "default", "tenant the client belongs to")
		asJSON := fs.Bool("json", false, "print {\"client_id\", \"client_secret\"} as JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		if *name == "" || *role == "" {
			fmt.Fprintln(env.Stderr, "--name and --role are required")
			fs.Usage()
			return errUsage
		}
		return withAuthDB(c, env, func(ctx context.Context, as *auth.Service, record recorder) error {
			id, secret, err := as.CreateClient(ctx, *tenant, *name, *role)
			if err != nil {
				return err
			}
			if err := recordOperator(ctx, record, *tenant, "client-create", "Client", id, http.StatusCreated); err != nil {
				// Fail closed: a client nobody can account for must not work.
				return errors.Join(err, as.DisableClient(ctx, id))
			}
			if *asJSON {
				return json.NewEncoder(env.Stdout).Encode(map[string]string{"client_id": id, "client_secret": secret.Reveal()})
			}
			fmt.Fprintf(env.Stdout, "client_id:     %s\nclient_secret: %s\n(the secret is shown once; ward stores only its hash)\n", id, secret.Reveal())
			return nil
		})
	case "list":
		fs := newFlags("client list", "ward client list [--tenant T] [--json]", env)
		c.register(fs, false)
		tenant := fs.String("tenant", "default", "tenant")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parse(fs, args, 0); err != nil {
			return err
		}
		return withStore(c, env, func(ctx context.Context, st auth.Store, _ recorder) error {
			cs, err := st.Clients(ctx, *tenant)
			if err != nil {
				return err
			}
			if *asJSON {
				type row struct {
					ID       string    `json:"client_id"`
					Name     string    `json:"name"`
					Role     string    `json:"role"`
					Created  time.Time `json:"created"`
					Disabled bool      `json:"disabled"`
				}
				rows := []row{}
				for _, c := range cs {
					rows = append(rows, row{c.ID, c.Name, c.Role, c.Created, c.Disabled})
				}
				return json.NewEncoder(env.Stdout).Encode(rows)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tROLE\tCREATED\tSTATUS")
			for _, c := range cs {
				status := "active"
				if c.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Role, c.Created.Format(time.RFC3339), status)
			}
			return tw.Flush()
		})
	case "disable":
		fs := newFlags("client disable", "ward client disable ID   (revokes its tokens at once)", env)
		c.register(fs, false)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fs.Usage()
			return errUsage
		}
		return withAuthDB(c, env, func(ctx context.Context, as *auth.Service, record recorder) error {
			if err := as.DisableClient(ctx, fs.Arg(0)); err != nil {
				return err
			}
			if err := recordOperator(ctx, record, "", "client-disable", "Client", fs.Arg(0), http.StatusOK); err != nil {
				return fmt.Errorf("client disabled, but its audit event was not recorded: %w", err)
			}
			fmt.Fprintln(env.Stdout, "disabled", fs.Arg(0))
			return nil
		})
	case "rotate":
		fs := newFlags("client rotate", "ward client rotate ID [--grace DURATION] [--revoke-tokens] [--json]   (prints a new secret once)", env)
		c.register(fs, false)
		grace := fs.Duration("grace", 0, fmt.Sprintf("keep the old secret working this long (at most %gh); default: it stops at once", auth.MaxRotationGrace.Hours()))
		revoke := fs.Bool("revoke-tokens", false, "revoke the client's access tokens at once (default: they last until they expire)")
		asJSON := fs.Bool("json", false, "print {\"client_id\", \"client_secret\", \"previous_secret_expires_at\", \"tokens_revoked\"} as JSON")
		id, err := parseWithID(fs, args)
		if err != nil {
			return err
		}
		if id == "" {
			fs.Usage()
			return errUsage
		}
		return withAuthDB(c, env, func(ctx context.Context, as *auth.Service, record recorder) error {
			rot, err := as.RotateSecret(ctx, id, auth.RotateOptions{Grace: *grace, RevokeTokens: *revoke})
			if err != nil {
				return err
			}
			if err := recordOperator(ctx, record, rot.Tenant, "client-rotate", "Client", id, http.StatusOK); err != nil {
				// Fail closed, as create does: a secret nobody can account
				// for must not work. Withhold it and put the old one back.
				if rerr := as.RevertRotation(ctx, rot); rerr != nil {
					old := "no longer works"
					if !rot.PreviousUntil.IsZero() {
						old = "works only until " + rot.PreviousUntil.Format(time.RFC3339)
					}
					return fmt.Errorf("secret rotated, but its audit event was not recorded and the rotation could not be undone: "+
						"the new secret is withheld and the old one %s; once the audit ledger works, rotate again: %w", old, errors.Join(err, rerr))
				}
				kept := "the old secret still works"
				if rot.TokensRevoked {
					kept += "; the revoked tokens stay revoked"
				}
				return fmt.Errorf("secret not rotated: its audit event could not be recorded (%s): %w", kept, err)
			}
			previous := "stopped working"
			var until string
			if !rot.PreviousUntil.IsZero() {
				until = rot.PreviousUntil.Format(time.RFC3339)
				previous = "works until " + until
			}
			if *asJSON {
				return json.NewEncoder(env.Stdout).Encode(struct {
					ID            string `json:"client_id"`
					Secret        string `json:"client_secret"`
					PreviousUntil string `json:"previous_secret_expires_at,omitempty"`
					TokensRevoked bool   `json:"tokens_revoked"`
				}{id, rot.Secret.Reveal(), until, rot.TokensRevoked})
			}
			tokens := "valid until they expire"
			if rot.TokensRevoked {
				tokens = "revoked"
			}
			fmt.Fprintf(env.Stdout, "client_id:       %s\nclient_secret:   %s\nprevious secret: %s\naccess tokens:   %s\n(the secret is shown once; ward stores only its hash)\n",
				id, rot.Secret.Reveal(), previous, tokens)
			return nil
		})
	case "--help", "-h":
		fmt.Fprint(env.Stdout, "Usage: ward client create|list|rotate|disable ...\n")
		return flag.ErrHelp
	}
	fmt.Fprint(env.Stderr, "Usage: ward client create|list|rotate|disable ...\n")
	return errUsage
}

// recorder appends audit events to the data directory's ledger.
type recorder func(ctx context.Context, events []audit.Event) error

// withStore opens only the database: client management needs no keys
// and works while the server runs. record appends to its audit ledger.
func withStore(c common, env Env, fn func(ctx context.Context, st auth.Store, record recorder) error) error {
	cfg, err := c.loadData(env)
	if err != nil {
		return err
	}
	ctx := context.Background()
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	record := func(ctx context.Context, events []audit.Event) error { return app.RecordOperator(ctx, db, events) }
	return errors.Join(fn(ctx, db, record), db.Close())
}

// withAuthDB is withStore with the auth service, for client commands.
func withAuthDB(c common, env Env, fn func(ctx context.Context, as *auth.Service, record recorder) error) error {
	return withStore(c, env, func(ctx context.Context, st auth.Store, record recorder) error {
		return fn(ctx, auth.NewService(st, auth.Options{}), record)
	})
}

// recordOperator records an account command (on a Client or a User) in
// the audit ledger: the actor is the operating-system user running ward,
// the entry point "cli".
func recordOperator(ctx context.Context, record recorder, tenant, subtype, entityType, id string, outcome int) error {
	return record(ctx, []audit.Event{app.OperatorEvent(tenant, audit.ActionExecute, subtype, entityType, id, outcome)})
}
