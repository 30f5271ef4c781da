// Package app wires ward's parts together from a Config. It holds no
// logic of its own: every part is constructed here, explicitly, and
// handed what it needs.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/audit/alert"
	"github.com/wardhealth/ward/internal/audit/journal"
	"github.com/wardhealth/ward/internal/audit/ledger"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/identity"
	"github.com/wardhealth/ward/internal/index"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/sqlite"
	"github.com/wardhealth/ward/internal/tlsconf"
)

// Version is ward's software version.
const Version = "0.1.0"

// App is a running ward's parts.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       *sqlite.DB
	Store    *store.Store
	Auth     *auth.Service
	Identity *identity.Service
	Audit    *ledger.Ledger
	Alerts   *alert.Watcher
	Handler  http.Handler

	checkpoints *ledger.FileSink // closed after the ledger
}

// PrepareDev creates what development mode needs and does not find in
// the data directory: the directory itself, the local key file and a
// self-signed certificate. It reports what it created.
func PrepareDev(cfg config.Config, now time.Time) (created []string, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	keyFile, err := cfg.LocalKeyFile()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
		if err := localkms.Create(keyFile, localkms.Development); err != nil {
			return nil, fmt.Errorf("create development key file: %w", err)
		}
		created = append(created, "key file "+keyFile)
	}
	if _, err := os.Stat(cfg.AuditKey); errors.Is(err, os.ErrNotExist) {
		if err := CreateAuditKey(cfg.AuditKey, cfg.BaseURL); err != nil {
			return nil, err
		}
		created = append(created, "audit signing key "+cfg.AuditKey)
	}
	if cfg.TLSCert == "" {
		certFile, keyPEM := cfg.DevTLSPaths()
		host, _, _ := net.SplitHostPort(cfg.Addr)
		made, err := tlsconf.EnsureDevCert(certFile, keyPEM, []string{host}, now)
		if err != nil {
			return nil, err
		}
		if made {
			created = append(created, "certificate "+certFile)
		}
	}
	return created, nil
}

// OpenDB opens the database alone (for CLI commands that manage clients).
func OpenDB(ctx context.Context, cfg config.Config) (*sqlite.DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{})
}

// Options adjust how Open builds the parts.
type Options struct {
	// Now is the clock of sessions, sign-in steps, signatures and audit
	// event times; default time.Now. Tests inject one.
	Now func() time.Time
}

// Open builds every part from cfg. Close releases them.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	return OpenWith(ctx, cfg, log, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*App, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	keyFile, err := cfg.LocalKeyFile()
	if err != nil {
		return nil, err
	}
	allow, err := Allowlist(cfg)
	if err != nil {
		return nil, err
	}
	masks, err := Masks(cfg)
	if err != nil {
		return nil, fmt.Errorf("field_mask: %w", err)
	}
	ssoProviders, err := NewSSO(cfg, nil)
	if err != nil {
		return nil, err
	}
	kek, err := localkms.Open(keyFile)
	if err != nil {
		return nil, err
	}
	if cfg.Env == config.Production && kek.Mode() != localkms.Production {
		return nil, errors.New("production refuses a development key file; create one with 'ward key init --out PATH'")
	}
	db, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	led, sink, err := OpenLedger(ctx, cfg, db, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	alerts, err := NewAlerts(cfg, ledger.Trail{R: db, L: led}, db, led, log)
	if err != nil {
		led.Close()
		sink.Close()
		db.Close()
		return nil, err
	}
	kr := keyring.New(kek, db, keyring.Options{})
	ids, err := NewIdentity(cfg, db, KeyringSealer{kr}, o.Now)
	if err != nil {
		led.Close()
		sink.Close()
		db.Close()
		return nil, err
	}
	bg, err := NewBreakGlass(cfg, db, ids, KeyringSealer{kr}, o.Now, log)
	if err != nil {
		led.Close()
		sink.Close()
		db.Close()
		return nil, err
	}
	st := store.New(db, kr, store.Options{Index: index.NewIndexer(kr)})
	rec, txRec := auditRecorders(led)
	as := auth.NewService(db, auth.Options{TokenTTL: cfg.TokenTTL.D()})
	h := api.New(api.Deps{
		Store:           st,
		Search:          index.NewEngine(st, kr, nil),
		Cursors:         index.NewCursors(kr),
		Auth:            as,
		People:          ids,
		SSO:             ssoProviders,
		Allowlist:       allow,
		OrgWideRoles:    cfg.Access.OrgWideRoles,
		SensitiveRoles:  cfg.Access.SensitiveRoles,
		Masks:           masks,
		BreakGlass:      bg,
		Roles:           db,
		Attempts:        db,
		SignInPerMinute: cfg.SignIn.PerIPPerMinute,
		Signatures:      &Signatures{DB: db, Sealer: KeyringSealer{kr}, Issuer: cfg.BaseURL, Now: o.Now},
		Now:             o.Now,
		Audit:           rec,
		TxAudit:         txRec,
		Proofs:          led,
		Trail:           ledger.Trail{R: db, L: led},
		Alerts:          db,
		Log:             log,
		Ready:           db.Ping,
		BaseURL:         cfg.BaseURL,
		MaxBody:         cfg.MaxBodyBytes,
		NewID:           newID,
		Version:         Version,
		TokenIP:         auth.NewLimiter(cfg.TokenRate.PerIP, cfg.TokenRate.Burst, nil),
		TokenCli:        auth.NewLimiter(cfg.TokenRate.PerClient, cfg.TokenRate.Burst, nil),
	})
	return &App{Config: cfg, Log: log, DB: db, Store: st, Auth: as, Identity: ids, Audit: led, Alerts: alerts, Handler: h, checkpoints: sink}, nil
}

// ledgerTx records a write's audit events in the write's own transaction
// (api.TxRecorder): the SQLite store's transactions carry ledger leaves.
type ledgerTx struct{ l *ledger.Ledger }

func (t ledgerTx) RecordTx(tx store.Tx, events []audit.Event) error {
	if len(events) == 0 {
		return nil
	}
	a, ok := tx.(ledger.TxAppender)
	if !ok {
		return errors.New("app: the store's transactions cannot carry audit events")
	}
	_, err := ledger.AppendTx(a, events)
	return err
}

func (t ledgerTx) Committed() { t.l.Notify() }

// CreateAuditKey makes a checkpoint signing key file (0600) for the log
// named after the base URL's host, and its verifier key beside it
// (<path>.pub) for auditors.
func CreateAuditKey(path, baseURL string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	vkey, err := ledger.CreateKeyFile(path, logName(baseURL), rand.Reader)
	if err != nil {
		return fmt.Errorf("create audit key: %w", err)
	}
	return os.WriteFile(path+".pub", []byte(vkey+"\n"), 0o644)
}

// logName is the checkpoint origin: the deployment's host, then /audit.
func logName(baseURL string) string {
	host := strings.TrimPrefix(baseURL, "https://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	return host + "/audit"
}

// OpenLedger opens the audit ledger in db, signing checkpoints with the
// configured key and publishing them to the checkpoint file, which the
// caller closes after the ledger.
func OpenLedger(ctx context.Context, cfg config.Config, db *sqlite.DB, log *slog.Logger) (*ledger.Ledger, *ledger.FileSink, error) {
	signer, verifier, err := ledger.LoadKeyFile(cfg.AuditKey)
	if err != nil {
		return nil, nil, err
	}
	sink, err := ledger.OpenFileSink(cfg.AuditCheckpoints)
	if err != nil {
		return nil, nil, err
	}
	led, err := ledger.New(ctx, db, signer, verifier, ledger.Options{Sinks: []ledger.Sink{sink}, Logger: log, Journal: cfg.AuditJournalDir()})
	if errors.Is(err, journal.ErrBusy) {
		err = fmt.Errorf("data directory %s is in use by another ward process", cfg.DataDir)
	}
	if err != nil {
		sink.Close()
		return nil, nil, err
	}
	return led, sink, nil
}

// Close stops the ledger (signing a last checkpoint), then closes the
// database, draining pending writes.
func (a *App) Close() error {
	return errors.Join(a.Audit.Close(), a.checkpoints.Close(), a.DB.Close())
}

// lifecycleEvent records a start or stop of ward with a digest of its
// configuration (which holds paths and limits, no secrets), so the trail
// shows every configuration change: the digest differs from the last
// start's. The actor is the operating-system user running ward.
func lifecycleEvent(cfg config.Config, subtype string) audit.Event {
	b, _ := json.Marshal(cfg)
	sum := sha256.Sum256(b)
	return OperatorEvent("", audit.ActionExecute, subtype, "Config", hex.EncodeToString(sum[:8]), 200)
}

// OperatorEvent is the audit event of an action of the operating-system
// user running ward (see OperatorID), through the CLI, now.
func OperatorEvent(tenant, action, subtype, entityType, entityID string, outcome int) audit.Event {
	return audit.Event{
		Time: time.Now().UTC(), Tenant: tenant, ActorID: OperatorID(), ActorKind: "operator",
		Action: action, Subtype: subtype, EntityType: entityType, EntityID: entityID,
		Outcome: outcome, EntryPoint: "cli",
	}
}

// OperatorID names the operating-system user running ward, as the actor
// of operator events: "os:<user>".
func OperatorID() string {
	if u, err := user.Current(); err == nil {
		return "os:" + u.Username
	}
	return "os:unknown"
}

// Serve listens with TLS on cfg.Addr until ctx is done, then stops taking
// connections and drains in-flight requests. listening is called once the
// socket is bound, with its address.
func (a *App) Serve(ctx context.Context, listening func(addr net.Addr)) error {
	certFile, keyFile := a.Config.TLSCert, a.Config.TLSKey
	if certFile == "" {
		certFile, keyFile = a.Config.DevTLSPaths()
	}
	tc, err := tlsconf.Server(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	if err := a.Audit.Record(ctx, []audit.Event{lifecycleEvent(a.Config, "server-start")}); err != nil {
		ln.Close()
		return fmt.Errorf("record the start in the audit trail: %w", err)
	}
	defer func() {
		if err := a.Audit.Record(context.WithoutCancel(ctx), []audit.Event{lifecycleEvent(a.Config, "server-stop")}); err != nil {
			a.Log.Error("could not record the stop in the audit trail", "err", err.Error())
		}
	}()
	srv := &http.Server{
		Handler:           a.Handler,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if listening != nil {
		listening(ln.Addr())
	}
	// Background work: the token sweep and the audit alert watcher.
	var bg sync.WaitGroup
	sweepCtx, stopSweep := context.WithCancel(ctx)
	bg.Go(func() { a.sweepTokens(sweepCtx) })
	bg.Go(func() { a.Alerts.Run(sweepCtx, time.Second) })
	stopBackground := func() { stopSweep(); bg.Wait() }
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		stopBackground()
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout.D())
	defer cancel()
	err = srv.Shutdown(sctx)
	stopBackground()
	if errors.Is(<-errc, http.ErrServerClosed) && err == nil {
		return nil
	}
	return err
}

// sweepTokens deletes expired tokens every minute until ctx is done.
func (a *App) sweepTokens(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := a.DB.DeleteExpiredTokens(ctx, now); err != nil && ctx.Err() == nil {
				a.Log.Warn("token sweep failed", "err", err.Error())
			}
		}
	}
}

// newID is a random UUID v4, the id of new resources.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// RecordOperator appends audit events of an operator's command (ward
// client create, ...) to the ledger in the data directory's database, in
// one durable write. The running server's ledger takes them into its
// tree and next checkpoint like its own.
func RecordOperator(ctx context.Context, db *sqlite.DB, events []audit.Event) error {
	return db.Write(ctx, func(tx store.Tx) error {
		a, ok := tx.(ledger.TxAppender)
		if !ok {
			return errors.New("app: the store's transactions cannot carry audit events")
		}
		_, err := ledger.AppendTx(a, events)
		return err
	})
}
