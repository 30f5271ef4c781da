package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SMTP TLS modes.
const (
	SMTPStartTLS    = "starttls" // STARTTLS required (the default)
	SMTPImplicitTLS = "tls"      // TLS from the first byte (usually port 465)
	SMTPNoTLS       = "none"     // cleartext: only to a relay on a loopback address
)

// SMTP is the mail relay that e-mails PHI-free notices (e.g. to privacy
// officers after an emergency access). Host "" means no e-mail. The
// password stays in a file, never in the configuration.
type SMTP struct {
	Host string `toml:"host"` // WARD_SMTP_HOST: a host name or IP address, no port
	// Port is WARD_SMTP_PORT; default 587 (starttls), 465 (tls) or 25 (none).
	Port string `toml:"port"`
	// Username and PasswordFile authenticate to the relay, both or
	// neither (WARD_SMTP_USERNAME, WARD_SMTP_PASSWORD_FILE).
	Username     string `toml:"username"`
	PasswordFile string `toml:"password_file"`
	From         string `toml:"from"` // WARD_SMTP_FROM: the sender address, required with a host
	// TLS is starttls (default), tls, or none (a loopback host only).
	TLS string `toml:"tls"`
	// Timeout bounds one message's delivery to the relay: 1s to 2m,
	// default 10s.
	Timeout Duration `toml:"timeout"`
}

// BreakGlass sets emergency ("break-glass") access to one patient's
// records (internal/breakglass).
type BreakGlass struct {
	// DefaultDuration is the window when the request names none
	// (default 30m); MaxDuration the longest one may ask for (default
	// 4h, or DefaultDuration if longer; at most 24h). Both at least 1m.
	DefaultDuration Duration `toml:"default_duration"`
	MaxDuration     Duration `toml:"max_duration"`
	// AllowWrite lets a grant write to the compartment, not only read.
	AllowWrite bool `toml:"allow_write"`
	// Roles may use break-glass; unset means physician and nurse, an
	// empty list ("roles = []") nobody.
	Roles []string `toml:"roles"`
}

// Defaults of BreakGlass.
const (
	DefaultBreakGlassDuration = 30 * time.Minute
	DefaultBreakGlassMax      = 4 * time.Hour
)

// DefaultBreakGlassRoles may use break-glass unless Roles says otherwise.
func DefaultBreakGlassRoles() []string { return []string{"physician", "nurse"} }

// breakGlassNever are roles that may never break the glass: patients and
// their representatives are not workforce, and super-admins belong to no
// tenant.
var breakGlassNever = []string{"patient", "personal-representative", "super-admin"}

var (
	smtpHostRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	roleRe     = regexp.MustCompile(`^[a-z][a-z-]{0,31}$`)
)

// finishNotify fills the defaults of SMTP and BreakGlass and validates
// them; FinishData calls it.
func (c *Config) finishNotify() error {
	if err := c.SMTP.Finish(); err != nil {
		return err
	}
	return c.BreakGlass.Finish()
}

// Finish fills the defaults of an SMTP relay and validates it. Without a
// host every other setting must be empty, so a half-written [smtp] table
// is an error rather than silently no e-mail.
func (s *SMTP) Finish() error {
	if s.Host == "" {
		if s.Port != "" || s.Username != "" || s.PasswordFile != "" || s.From != "" || s.TLS != "" || s.Timeout != 0 {
			return errors.New("smtp: host is required when any other smtp setting is set")
		}
		return nil
	}
	if len(s.Host) > 253 || net.ParseIP(s.Host) == nil && !smtpHostRe.MatchString(s.Host) {
		return errors.New("smtp.host must be a host name or an IP address (no scheme, port or brackets)")
	}
	if s.TLS == "" {
		s.TLS = SMTPStartTLS
	}
	switch s.TLS {
	case SMTPStartTLS, SMTPImplicitTLS:
	case SMTPNoTLS:
		if !isLoopback(s.Host) {
			return errors.New("smtp.tls = \"none\" is allowed only for a relay on a loopback address (localhost, 127.0.0.1, ::1)")
		}
	default:
		return fmt.Errorf("smtp.tls must be %q, %q or %q", SMTPStartTLS, SMTPImplicitTLS, SMTPNoTLS)
	}
	if s.Port == "" {
		s.Port = map[string]string{SMTPStartTLS: "587", SMTPImplicitTLS: "465", SMTPNoTLS: "25"}[s.TLS]
	}
	if n, err := strconv.Atoi(s.Port); err != nil || n < 1 || n > 65535 {
		return errors.New("smtp.port must be a port number (1 to 65535)")
	}
	if (s.Username == "") != (s.PasswordFile == "") {
		return errors.New("smtp: username and password_file must be set together (the password itself never goes in the configuration)")
	}
	if strings.ContainsFunc(s.Username, func(r rune) bool { return r < ' ' || r == 0x7f }) || len(s.Username) > 256 {
		return errors.New("smtp.username must be printable and at most 256 bytes")
	}
	if s.From == "" {
		return errors.New("smtp.from (WARD_SMTP_FROM) is required with smtp.host: the sender address of ward's e-mail")
	}
	if a, err := mail.ParseAddress(s.From); err != nil || len(a.Address) > 254 {
		return errors.New("smtp.from must be an e-mail address, e.g. ward@clinic.example or \"Ward <ward@clinic.example>\"")
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(10 * time.Second)
	}
	if s.Timeout.D() < time.Second || s.Timeout.D() > 2*time.Minute {
		return errors.New("smtp.timeout must be between 1s and 2m")
	}
	return nil
}

// PortNumber is Port as a number, once Finish accepted it.
func (s SMTP) PortNumber() int {
	n, _ := strconv.Atoi(s.Port)
	return n
}

// Finish fills the defaults of break-glass access and validates them.
func (b *BreakGlass) Finish() error {
	if b.DefaultDuration == 0 {
		b.DefaultDuration = Duration(DefaultBreakGlassDuration)
	}
	if b.MaxDuration == 0 {
		b.MaxDuration = Duration(max(DefaultBreakGlassMax, b.DefaultDuration.D()))
	}
	if b.DefaultDuration.D() < time.Minute || b.MaxDuration.D() < time.Minute {
		return errors.New("break_glass: default_duration and max_duration must be at least 1m")
	}
	if b.MaxDuration.D() > 24*time.Hour {
		return errors.New("break_glass.max_duration must be at most 24h")
	}
	if b.DefaultDuration > b.MaxDuration {
		return errors.New("break_glass.default_duration must not be longer than max_duration")
	}
	if b.Roles == nil {
		b.Roles = DefaultBreakGlassRoles()
	}
	for i, r := range b.Roles {
		if !roleRe.MatchString(r) {
			return fmt.Errorf("break_glass.roles: %q is not a role name", r)
		}
		if slices.Contains(breakGlassNever, r) {
			return fmt.Errorf("break_glass.roles: %s may never use break-glass", r)
		}
		if slices.Contains(b.Roles[:i], r) {
			return fmt.Errorf("break_glass.roles: %s is listed twice", r)
		}
	}
	return nil
}
