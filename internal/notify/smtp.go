package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says how an SMTP connection is protected.
type TLSMode string

// TLS modes.
const (
	// StartTLS requires the server to offer STARTTLS and upgrades before
	// anything else is sent; a server without it is refused, never used
	// in cleartext.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the first byte (usually port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in cleartext; only to a relay on a loopback address.
	NoTLS TLSMode = "none"
)

// Limits of one e-mail. Notices are a line or two with a link: a body
// over MaxBodyBytes is far more likely to carry copied record text than
// to be a notice, so it is refused.
const (
	MaxBodyBytes    = 4 << 10
	MaxSubjectBytes = 200
	MaxRecipients   = 50
)

// Password is an SMTP password. String, GoString and MarshalText redact
// it, so a logged config does not leak it.
type Password string

func (Password) String() string               { return "[redacted]" }
func (Password) GoString() string             { return "[redacted]" }
func (Password) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// SMTPConfig says how to reach the mail relay.
type SMTPConfig struct {
	Host string
	Port int // 0: 587 for StartTLS, 465 for ImplicitTLS, 25 for NoTLS
	// Username and Password authenticate (PLAIN, LOGIN or SCRAM, only
	// over TLS or to a loopback relay); "" sends without authentication.
	Username string
	Password Password
	From     string  // sender address, "ward@clinic.example" or "Ward <ward@clinic.example>"
	TLS      TLSMode // "" is StartTLS
	// Timeout bounds one Send: connecting and the whole SMTP exchange;
	// default 10 seconds.
	Timeout time.Duration
	// RootCAs verify the server's certificate; nil means the system's.
	// Verification is never skipped.
	RootCAs *x509.CertPool
}

// SMTP sends e-mail through a relay. It is safe for concurrent use: each
// Send opens its own connection (notices are rare, pooling buys nothing).
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	now  func() time.Time
}

// NewSMTP checks cfg and returns a mailer; it does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || net.ParseIP(cfg.Host) == nil && strings.ContainsAny(cfg.Host, "/:[]@ \t\r\n") {
		return nil, errors.New("notify: smtp host must be a host name or IP address, without scheme or port")
	}
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	switch cfg.TLS {
	case StartTLS, ImplicitTLS:
	case NoTLS:
		if !isLoopback(cfg.Host) {
			return nil, errors.New("notify: smtp without TLS is allowed only to a loopback address")
		}
	default:
		return nil, fmt.Errorf("notify: unknown smtp TLS mode %q", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[TLSMode]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("notify: smtp port must be 1 to 65535")
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("notify: smtp username and password go together")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, errors.New("notify: smtp sender must be an e-mail address")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("notify: smtp timeout must be positive")
	}
	return &SMTP{cfg: cfg, from: from, now: time.Now}, nil
}

// Send e-mails a plain-text message to every address in to, in one
// message. The message must hold no PHI: that is the caller's contract;
// Send refuses what cannot be a short notice (a body over MaxBodyBytes,
// control characters, more than MaxRecipients recipients) before it
// connects.
func (s *SMTP) Send(ctx context.Context, to []string, subject, body string) error {
	if len(to) == 0 || len(to) > MaxRecipients {
		return fmt.Errorf("notify: smtp: 1 to %d recipients, not %d", MaxRecipients, len(to))
	}
	rcpts := make([]string, 0, len(to))
	for _, t := range to {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return errors.New("notify: smtp: a recipient is not an e-mail address")
		}
		rcpts = append(rcpts, a.Address)
	}
	if subject == "" || len(subject) > MaxSubjectBytes || !utf8.ValidString(subject) || strings.ContainsFunc(subject, isControl) {
		return fmt.Errorf("notify: smtp: the subject must be 1 to %d bytes of printable UTF-8", MaxSubjectBytes)
	}
	if len(body) > MaxBodyBytes || !utf8.ValidString(body) ||
		strings.ContainsFunc(body, func(r rune) bool { return r != '\n' && r != '\t' && isControl(r) }) {
		return fmt.Errorf("notify: smtp: the body must be at most %d bytes of UTF-8 text", MaxBodyBytes)
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// Plain ASCII goes unencoded (8bit), so the text and its links read
	// exactly as sent; anything else, or a relay without 8BITMIME, gets
	// quoted-printable.
	err := errNoUnencoded
	if isASCII(subject) && isASCII(body) {
		err = s.send(ctx, rcpts, subject, body, gomail.NoEncoding)
	}
	if errors.Is(err, errNoUnencoded) {
		err = s.send(ctx, rcpts, subject, body, gomail.EncodingQP)
	}
	if err != nil {
		return fmt.Errorf("notify: smtp %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

var errNoUnencoded = errors.New("the relay does not take 8bit text")

func (s *SMTP) send(ctx context.Context, rcpts []string, subject, body string, enc gomail.Encoding) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithEncoding(enc))
	m.FromMailAddress(s.from)
	if err := m.To(rcpts...); err != nil {
		return errors.New("a recipient is not an e-mail address")
	}
	m.Subject(subject)
	m.SetDateWithValue(s.now())
	m.SetMessageIDWithValue(messageID(s.from.Address))
	// RFC 3834: an automatic notice; auto-responders should not answer.
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, body)
	c, err := s.client()
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, m)
	if se := (*gomail.SendError)(nil); errors.As(err, &se) && se.Reason == gomail.ErrNoUnencoded {
		return errNoUnencoded
	}
	return err
}

// client builds a go-mail client for one Send: the client keeps
// per-connection state, so it is not shared.
func (s *SMTP) client() (*gomail.Client, error) {
	tc := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: s.cfg.RootCAs}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(tc),
	}
	switch s.cfg.TLS {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		// PLAIN and LOGIN refuse to send the password unencrypted except
		// to localhost; the preferred list avoids NTLM and CRAM-MD5.
		opts = append(opts, gomail.WithUsername(s.cfg.Username), gomail.WithPassword(string(s.cfg.Password)),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp: %w", err)
	}
	return c, nil
}

// isASCII reports whether s is ASCII in lines short enough to need no
// transfer encoding (RFC 5322 allows 998 characters).
func isASCII(s string) bool {
	for line := range strings.Lines(s) {
		if len(line) > 900 {
			return false
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 }

// messageID is a random Message-ID in the sender's domain (go-mail's
// default would name this machine).
func messageID(from string) string {
	b := make([]byte, 16)
	rand.Read(b)
	_, domain, _ := strings.Cut(from, "@")
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)) + "@" + domain
}
