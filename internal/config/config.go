// Package config holds ward's one Config struct, loaded from a TOML file,
// then WARD_* environment variables, then flags, and validated at start.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Config is every setting ward reads. Zero values are filled by Defaults.
type Config struct {
	Env         string `toml:"env"`          // development | production (default production)
	DataDir     string `toml:"data_dir"`     // WARD_DATA_DIR, default ./ward-data
	Addr        string `toml:"addr"`         // WARD_ADDR, default 127.0.0.1:8443
	DatabaseURL string `toml:"database_url"` // WARD_DATABASE_URL; "" = embedded SQLite in DataDir
	KMS         string `toml:"kms"`          // WARD_KMS, "local:PATH"; default local:<DataDir>/keys/kek in development
	TLSCert     string `toml:"tls_cert"`     // WARD_TLS_CERT, PEM file; generated in development
	TLSKey      string `toml:"tls_key"`      // WARD_TLS_KEY, PEM file; generated in development
	BaseURL     string `toml:"base_url"`     // WARD_BASE_URL, public https URL; default https://<Addr>

	// AuditKey is the Ed25519 checkpoint signing key file (WARD_AUDIT_KEY);
	// development default <DataDir>/keys/audit.key, created on first start.
	AuditKey string `toml:"audit_key"`
	// AuditCheckpoints is the append-only file outside the database that
	// receives every signed checkpoint (WARD_AUDIT_CHECKPOINTS); default
	// <DataDir>.checkpoints, beside (not inside) the data directory.
	AuditCheckpoints string `toml:"audit_checkpoints"`
	// AuditRetention is how long audit events stay in the ledger
	// (WARD_AUDIT_RETENTION), a Go duration or whole days ("2192d"). No
	// command deletes an event younger than this; older ones can be
	// archived and pruned. Default DefaultAuditRetention, at least
	// MinAuditRetention.
	AuditRetention Duration `toml:"audit_retention"`

	MaxBodyBytes    int64     `toml:"max_body_bytes"`   // WARD_MAX_BODY_BYTES, default 16 MiB
	TokenTTL        Duration  `toml:"token_ttl"`        // WARD_TOKEN_TTL, default 15m
	ShutdownTimeout Duration  `toml:"shutdown_timeout"` // WARD_SHUTDOWN_TIMEOUT, default 20s
	LogLevel        string    `toml:"log_level"`        // WARD_LOG_LEVEL: debug|info|warn|error
	TokenRate       RateLimit `toml:"token_rate"`       // token endpoint limits
	Alerts          Alerts    `toml:"audit_alerts"`     // audit alert rules and delivery
	Passwords       Passwords `toml:"passwords"`        // people's password policy and hashing
	Sessions        Sessions  `toml:"sessions"`         // people's session lengths
	SignIn          SignIn    `toml:"sign_in"`          // sign-in throttling
	Access          Access    `toml:"access"`           // access-control policy
	// IPAllowlist restricts where requests may come from, per tenant,
	// role and sensitive operation ([[ip_allowlist]] tables).
	IPAllowlist []AllowRule `toml:"ip_allowlist"`
	FieldMasks  []FieldMask `toml:"field_mask"`  // [[field_mask]] tables (masks.go); any given replace the shipped defaults entirely
	SMTP        SMTP        `toml:"smtp"`        // mail relay for PHI-free notices (smtp.go)
	BreakGlass  BreakGlass  `toml:"break_glass"` // emergency access (smtp.go)
	// SSO lists tenants' OpenID Connect identity providers for staff
	// single sign-on ([[sso]] tables; see sso.go).
	SSO []SSOProvider `toml:"sso"`
}

// Sessions sets how long people's sessions last.
type Sessions struct {
	IdleTimeout Duration `toml:"idle_timeout"` // WARD_SESSION_IDLE_TIMEOUT: 1m to 30m, default 3m
	Lifetime    Duration `toml:"lifetime"`     // WARD_SESSION_LIFETIME: absolute, default 12h
	// TenantIdleTimeouts overrides IdleTimeout per tenant (1m to 30m).
	TenantIdleTimeouts map[string]Duration `toml:"tenant_idle_timeouts"`
}

// Access sets the access-control policy.
type Access struct {
	// OrgWideRoles see every patient of their tenant (within their
	// privileges); the other people's roles need a care relationship (a
	// CareTeam, an Encounter, the general practitioner). Default:
	// lab-technician, front-desk, billing. [] grants none.
	OrgWideRoles []string `toml:"organization_wide_roles"`
	// SensitiveRoles hold the extra privilege records with a sensitive
	// security label (R, PSYTHPN, HIV, SUD, ...) need. Default:
	// physician. [] grants none (only break-glass and the patient).
	SensitiveRoles []string `toml:"sensitive_roles"`
}

// SignIn sets sign-in throttling beyond the per-account lockout.
type SignIn struct {
	// PerIPPerMinute bounds sign-in attempts from one address (an IPv6
	// /64) per minute, counted in the database so instances share it
	// (WARD_SIGN_IN_PER_IP_PER_MINUTE, default 30).
	PerIPPerMinute int `toml:"per_ip_per_minute"`
}

// AllowRule is one IP allowlist rule: requests of Tenant ("" every
// tenant), by Role ("" any), for Operation ("" every request; or sign,
// step-up, admin, audit, sign-in) must come from one of CIDRs.
type AllowRule struct {
	Tenant    string   `toml:"tenant"`
	Role      string   `toml:"role"`
	Operation string   `toml:"operation"`
	CIDRs     []string `toml:"cidrs"`
}

// Passwords sets people's password policy (internal/auth/password) and
// the argon2id cost; zero values take the defaults.
type Passwords struct {
	Policy        string `toml:"policy"`         // WARD_PASSWORD_POLICY: hipaa (default) or nist
	Argon2Time    uint32 `toml:"argon2_time"`    // WARD_ARGON2_TIME: passes, default 3
	Argon2Memory  uint32 `toml:"argon2_memory"`  // WARD_ARGON2_MEMORY: KiB per hash, default 47104 (46 MiB)
	Argon2Threads uint8  `toml:"argon2_threads"` // WARD_ARGON2_THREADS: lanes, default 2
}

// Alerts sets the audit alert rules (internal/audit/alert) and where
// alerts are sent. Zero values take the rules' defaults.
type Alerts struct {
	MaxPatients int    `toml:"max_patients"` // WARD_AUDIT_ALERT_MAX_PATIENTS: distinct patients one actor may read per hour, default 50
	Denials     int    `toml:"denials"`      // WARD_AUDIT_ALERT_DENIALS: refused requests per 10 minutes, default 5
	Hours       string `toml:"hours"`        // WARD_AUDIT_ALERT_HOURS: working hours "07:00-19:00"; "" = rule off
	TimeZone    string `toml:"time_zone"`    // WARD_AUDIT_ALERT_TIME_ZONE: IANA zone of Hours, default UTC
	// Webhook is an https URL that receives every alert as signed JSON
	// (WARD_AUDIT_ALERT_WEBHOOK); WebhookSecretFile holds the shared
	// secret, 32 bytes or more (WARD_AUDIT_ALERT_WEBHOOK_SECRET_FILE).
	Webhook           string `toml:"webhook"`
	WebhookSecretFile string `toml:"webhook_secret_file"`
}

// RateLimit is a token-bucket limit: Per requests per second with Burst.
type RateLimit struct {
	PerIP     float64 `toml:"per_ip"`     // WARD_TOKEN_RATE_PER_IP, default 5/s
	PerClient float64 `toml:"per_client"` // WARD_TOKEN_RATE_PER_CLIENT, default 2/s
	Burst     int     `toml:"burst"`      // WARD_TOKEN_RATE_BURST, default 20
}

// Audit retention bounds. HIPAA requires the documentation of security
// activity to be kept six years (45 CFR 164.316(b)(2)(i)); 2192 days
// cover any six calendar years, leap days included. A year is the floor:
// anything shorter is far more likely a unit mistake ("6h") than a
// policy, and investigations look back months.
const (
	DefaultAuditRetention = 2192 * 24 * time.Hour
	MinAuditRetention     = 365 * 24 * time.Hour
)

// Duration is a time.Duration written as "15m" in TOML, or as a whole
// number of days, "2192d".
type Duration time.Duration

// UnmarshalText parses a Go duration string or a number of days ("30d").
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil || n > uint64(math.MaxInt64/int64(24*time.Hour)) {
			return fmt.Errorf("invalid duration %q", b)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Load builds a Config from the TOML file at path (skipped when path is
// ""), then the environment (getenv, usually os.Getenv). Flags are applied
// by the caller afterwards, then Finish.
func Load(path string, getenv func(string) string) (Config, error) {
	var c Config
	if path != "" {
		md, err := toml.DecodeFile(path, &c)
		if err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return c, fmt.Errorf("config file %s: unknown setting %q", path, und[0].String())
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) applyEnv(getenv func(string) string) error {
	str := map[string]*string{
		"WARD_ENV": &c.Env, "WARD_DATA_DIR": &c.DataDir, "WARD_ADDR": &c.Addr,
		"WARD_DATABASE_URL": &c.DatabaseURL, "WARD_KMS": &c.KMS,
		"WARD_TLS_CERT": &c.TLSCert, "WARD_TLS_KEY": &c.TLSKey,
		"WARD_BASE_URL": &c.BaseURL, "WARD_LOG_LEVEL": &c.LogLevel,
		"WARD_AUDIT_KEY": &c.AuditKey, "WARD_AUDIT_CHECKPOINTS": &c.AuditCheckpoints,
		"WARD_AUDIT_ALERT_HOURS": &c.Alerts.Hours, "WARD_AUDIT_ALERT_TIME_ZONE": &c.Alerts.TimeZone,
		"WARD_AUDIT_ALERT_WEBHOOK": &c.Alerts.Webhook, "WARD_AUDIT_ALERT_WEBHOOK_SECRET_FILE": &c.Alerts.WebhookSecretFile,
		"WARD_PASSWORD_POLICY": &c.Passwords.Policy,
		"WARD_SMTP_USERNAME":   &c.SMTP.Username, "WARD_SMTP_PASSWORD_FILE": &c.SMTP.PasswordFile,
		"WARD_SMTP_HOST": &c.SMTP.Host, "WARD_SMTP_PORT": &c.SMTP.Port, "WARD_SMTP_FROM": &c.SMTP.From,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	durs := map[string]*Duration{"WARD_TOKEN_TTL": &c.TokenTTL, "WARD_SHUTDOWN_TIMEOUT": &c.ShutdownTimeout,
		"WARD_AUDIT_RETENTION":      &c.AuditRetention,
		"WARD_SESSION_IDLE_TIMEOUT": &c.Sessions.IdleTimeout, "WARD_SESSION_LIFETIME": &c.Sessions.Lifetime}
	for k, p := range durs {
		if v := getenv(k); v != "" {
			if err := p.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	if v := getenv("WARD_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("WARD_MAX_BODY_BYTES: not an integer")
		}
		c.MaxBodyBytes = n
	}
	floats := map[string]*float64{"WARD_TOKEN_RATE_PER_IP": &c.TokenRate.PerIP, "WARD_TOKEN_RATE_PER_CLIENT": &c.TokenRate.PerClient}
	for k, p := range floats {
		if v := getenv(k); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("%s: not a number", k)
			}
			*p = f
		}
	}
	uints := map[string]func(uint64){
		"WARD_ARGON2_TIME":    func(n uint64) { c.Passwords.Argon2Time = uint32(n) },
		"WARD_ARGON2_MEMORY":  func(n uint64) { c.Passwords.Argon2Memory = uint32(n) },
		"WARD_ARGON2_THREADS": func(n uint64) { c.Passwords.Argon2Threads = uint8(n) },
	}
	for k, set := range uints {
		if v := getenv(k); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || k == "WARD_ARGON2_THREADS" && n > 255 {
				return fmt.Errorf("%s: not a small positive integer", k)
			}
			set(n)
		}
	}
	ints := map[string]*int{"WARD_TOKEN_RATE_BURST": &c.TokenRate.Burst, "WARD_SIGN_IN_PER_IP_PER_MINUTE": &c.SignIn.PerIPPerMinute,
		"WARD_AUDIT_ALERT_MAX_PATIENTS": &c.Alerts.MaxPatients, "WARD_AUDIT_ALERT_DENIALS": &c.Alerts.Denials}
	for k, p := range ints {
		if v := getenv(k); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: not an integer", k)
			}
			*p = n
		}
	}
	return nil
}

// FinishData fills defaults and validates the settings that locate data
// (environment, data directory, database), for commands that only manage
// the database.
func (c *Config) FinishData() error {
	if c.Env == "" {
		c.Env = Production
	}
	if c.Env != Development && c.Env != Production {
		return fmt.Errorf("env must be %q or %q", Development, Production)
	}
	if c.DataDir == "" {
		c.DataDir = "ward-data"
	}
	if c.DatabaseURL != "" {
		return errors.New("database_url: only the embedded SQLite database is available in this version (leave it empty)")
	}
	if c.AuditCheckpoints == "" {
		c.AuditCheckpoints = filepath.Clean(c.DataDir) + ".checkpoints"
	}
	if c.AuditKey == "" && c.Env == Development {
		c.AuditKey = filepath.Join(c.DataDir, "keys", "audit.key")
	}
	if c.AuditRetention == 0 {
		c.AuditRetention = Duration(DefaultAuditRetention)
	}
	if c.AuditRetention.D() < MinAuditRetention {
		return fmt.Errorf("audit_retention must be at least %dd (one year); the default is %dd (six years)",
			MinAuditRetention/(24*time.Hour), DefaultAuditRetention/(24*time.Hour))
	}
	if c.Passwords.Policy == "" {
		c.Passwords.Policy = "hipaa"
	}
	if c.Passwords.Policy != "hipaa" && c.Passwords.Policy != "nist" {
		return fmt.Errorf("passwords.policy must be \"hipaa\" or \"nist\", not %q", c.Passwords.Policy)
	}
	if c.Access.OrgWideRoles == nil {
		c.Access.OrgWideRoles = []string{"lab-technician", "front-desk", "billing"}
	}
	if c.Access.SensitiveRoles == nil {
		c.Access.SensitiveRoles = []string{"physician"}
	}
	for _, r := range c.Access.OrgWideRoles {
		if r == "patient" || r == "personal-representative" || r == "" {
			return fmt.Errorf("access.organization_wide_roles: %q cannot see every patient", r)
		}
	}
	if c.SignIn.PerIPPerMinute == 0 {
		c.SignIn.PerIPPerMinute = 30
	}
	if c.SignIn.PerIPPerMinute < 1 || c.SignIn.PerIPPerMinute > 100000 {
		return errors.New("sign_in.per_ip_per_minute must be between 1 and 100000")
	}
	if err := c.finishNotify(); err != nil {
		return err
	}
	return c.Sessions.finish()
}

func (s *Sessions) finish() error {
	if s.IdleTimeout == 0 {
		s.IdleTimeout = Duration(3 * time.Minute)
	}
	if s.Lifetime == 0 {
		s.Lifetime = Duration(12 * time.Hour)
	}
	idle := map[string]Duration{"sessions.idle_timeout": s.IdleTimeout}
	for t, d := range s.TenantIdleTimeouts {
		idle["sessions.tenant_idle_timeouts."+t] = d
	}
	for name, d := range idle {
		if d.D() < time.Minute || d.D() > 30*time.Minute {
			return fmt.Errorf("%s must be between 1m and 30m", name)
		}
	}
	if s.Lifetime.D() < 30*time.Minute || s.Lifetime.D() > 7*24*time.Hour {
		return errors.New("sessions.lifetime must be between 30m and 168h")
	}
	return nil
}

// Finish fills defaults and validates everything serving needs. It is
// called after flags are applied.
func (c *Config) Finish() error {
	if err := c.FinishData(); err != nil {
		return err
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8443"
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: want host:port", c.Addr)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 16 << 20
	}
	if c.MaxBodyBytes < 1024 {
		return errors.New("max_body_bytes must be at least 1024")
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = Duration(15 * time.Minute)
	}
	if c.TokenTTL.D() < time.Minute || c.TokenTTL.D() > 24*time.Hour {
		return errors.New("token_ttl must be between 1m and 24h")
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = Duration(20 * time.Second)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return errors.New("log_level must be debug, info, warn or error")
	}
	if c.TokenRate.PerIP == 0 {
		c.TokenRate.PerIP = 5
	}
	if c.TokenRate.PerClient == 0 {
		c.TokenRate.PerClient = 2
	}
	if c.TokenRate.Burst == 0 {
		c.TokenRate.Burst = 20
	}
	if c.TokenRate.PerIP < 0 || c.TokenRate.PerClient < 0 || c.TokenRate.Burst < 1 {
		return errors.New("token_rate values must be positive")
	}
	if c.KMS == "" {
		if c.Env == Production {
			return errors.New("kms is required in production (e.g. WARD_KMS=local:/etc/ward/kek, created with 'ward key init')")
		}
		c.KMS = "local:" + filepath.Join(c.DataDir, "keys", "kek")
	}
	if _, err := c.LocalKeyFile(); err != nil {
		return err
	}
	if c.AuditKey == "" {
		return errors.New("production requires audit_key (WARD_AUDIT_KEY), the checkpoint signing key made by 'ward audit init-key --out PATH'")
	}
	if c.Env == Production && (c.TLSCert == "" || c.TLSKey == "") {
		return errors.New("production requires tls_cert and tls_key (WARD_TLS_CERT, WARD_TLS_KEY); use --dev for a development certificate")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key must be set together")
	}
	if c.BaseURL == "" {
		c.BaseURL = "https://" + c.Addr
	}
	if !strings.HasPrefix(c.BaseURL, "https://") {
		return errors.New("base_url must be an https:// URL")
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if err := c.FinishSSO(); err != nil {
		return err
	}
	return c.Alerts.finish()
}

func (a *Alerts) finish() error {
	if a.MaxPatients < 0 || a.Denials < 0 {
		return errors.New("audit_alerts: max_patients and denials must not be negative")
	}
	if a.TimeZone == "" {
		a.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(a.TimeZone); err != nil {
		return fmt.Errorf("audit_alerts.time_zone %q: not a known time zone", a.TimeZone)
	}
	if (a.Webhook == "") != (a.WebhookSecretFile == "") {
		return errors.New("audit_alerts: webhook and webhook_secret_file must be set together")
	}
	return nil
}

// LocalKeyFile returns the key file path of a "local:PATH" KMS setting.
func (c *Config) LocalKeyFile() (string, error) {
	path, ok := strings.CutPrefix(c.KMS, "local:")
	if !ok || path == "" {
		return "", fmt.Errorf("kms %q: only local:PATH is available in this version", c.KMS)
	}
	return path, nil
}

// DatabasePath is the embedded SQLite file.
func (c *Config) DatabasePath() string { return filepath.Join(c.DataDir, "ward.db") }

// AuditJournalDir is the audit ledger's journal directory (see
// internal/audit/journal).
func (c *Config) AuditJournalDir() string { return filepath.Join(c.DataDir, "audit-journal") }

// DevTLSPaths are where development mode keeps its generated certificate.
func (c *Config) DevTLSPaths() (cert, key string) {
	return filepath.Join(c.DataDir, "tls", "cert.pem"), filepath.Join(c.DataDir, "tls", "key.pem")
}
