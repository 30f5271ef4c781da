// Package app wires ward's parts together from a Config. It holds no
// logic of its own: every part is constructed here, explicitly, and
// handed what it needs.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/wardhealth/ward/internal/api"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/auth"
	"github.com/wardhealth/ward/internal/config"
	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/crypto/kms/localkms"
	"github.com/wardhealth/ward/internal/store"
	"github.com/wardhealth/ward/internal/store/sqlite"
	"github.com/wardhealth/ward/internal/tlsconf"
)

// Version is ward's software version.
const Version = "0.1.0"

// App is a running ward's parts.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *sqlite.DB
	Store   *store.Store
	Auth    *auth.Service
	Audit   *audit.FileSink
	Handler http.Handler
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

// Open builds every part from cfg. Close releases them.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	keyFile, err := cfg.LocalKeyFile()
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
	sink, err := audit.OpenFileSink(filepath.Join(cfg.DataDir, "audit.jsonl"))
	if err != nil {
		db.Close()
		return nil, err
	}
	kr := keyring.New(kek, db, keyring.Options{})
	st := store.New(db, kr, store.Options{})
	as := auth.NewService(db, auth.Options{TokenTTL: cfg.TokenTTL.D()})
	h := api.New(api.Deps{
		Store:    st,
		Auth:     as,
		Audit:    sink,
		Log:      log,
		Ready:    db.Ping,
		BaseURL:  cfg.BaseURL,
		MaxBody:  cfg.MaxBodyBytes,
		NewID:    newID,
		Version:  Version,
		TokenIP:  auth.NewLimiter(cfg.TokenRate.PerIP, cfg.TokenRate.Burst, nil),
		TokenCli: auth.NewLimiter(cfg.TokenRate.PerClient, cfg.TokenRate.Burst, nil),
	})
	return &App{Config: cfg, Log: log, DB: db, Store: st, Auth: as, Audit: sink, Handler: h}, nil
}

// Close closes the database (draining pending writes) and the audit sink.
func (a *App) Close() error {
	return errors.Join(a.DB.Close(), a.Audit.Close())
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
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	go func() {
		defer close(sweepDone)
		a.sweepTokens(sweepCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		stopSweep()
		<-sweepDone
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining requests")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout.D())
	defer cancel()
	err = srv.Shutdown(sctx)
	stopSweep()
	<-sweepDone
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
