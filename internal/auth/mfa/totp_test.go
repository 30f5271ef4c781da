package mfa

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var libOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// codeAt computes the code for t with the library, independently of VerifyTOTP.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, libOpts)
	if err != nil {
		t.Fatalf("GenerateCodeCustom: %v", err)
	}
	return c
}

func enrol(t *testing.T, seed byte) Enrolment {
	t.Helper()
	e, err := NewTOTP("Ward Health", "u-7f3a9c", seeded(seed))
	if err != nil {
		t.Fatalf("NewTOTP: %v", err)
	}
	return e
}

func TestNewTOTP(t *testing.T) {
	e := enrol(t, 1)

	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatalf("URI does not parse: %v", err)
	}
	if !strings.HasPrefix(e.URI, "otpauth://totp/") {
		t.Errorf("URI %q is not an otpauth://totp/ URI", e.URI)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"type", key.Type(), "totp"},
		{"issuer", key.Issuer(), "Ward Health"},
		{"account", key.AccountName(), "u-7f3a9c"},
		{"secret", key.Secret(), e.Secret},
		{"period", key.Period(), uint64(30)},
		{"digits", key.Digits(), otp.DigitsSix},
		{"algorithm", key.Algorithm(), otp.AlgorithmSHA1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil {
		t.Fatalf("secret is not unpadded base32: %v", err)
	}
	if len(raw) != TOTPSecretSize {
		t.Errorf("secret is %d bytes, want %d", len(raw), TOTPSecretSize)
	}
	// The secret must be the random source's bytes, not something derived
	// from a smaller space.
	want := make([]byte, TOTPSecretSize)
	if _, err := io.ReadFull(seeded(1), want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, want) {
		t.Errorf("secret is not the %d bytes read from the random source", TOTPSecretSize)
	}
	if other := enrol(t, 2); other.Secret == e.Secret {
		t.Errorf("different random sources gave the same secret")
	}
}

func TestNewTOTPRejects(t *testing.T) {
	boom := errors.New("entropy exhausted")
	tests := []struct {
		name            string
		issuer, account string
		rand            io.Reader
		wantIs          error
	}{
		{"empty issuer", "", "u-1", seeded(1), ErrInvalidLabel},
		{"empty account", "Ward", "", seeded(1), ErrInvalidLabel},
		{"colon in issuer", "Ward:Health", "u-1", seeded(1), ErrInvalidLabel},
		{"colon in account", "Ward", "u:1", seeded(1), ErrInvalidLabel},
		{"control character", "Ward", "u-1\n", seeded(1), ErrInvalidLabel},
		{"invalid UTF-8", "Ward", "u-\xff", seeded(1), ErrInvalidLabel},
		{"too long", "Ward", strings.Repeat("u", maxLabelLen+1), seeded(1), ErrInvalidLabel},
		{"nil random source", "Ward", "u-1", nil, nil},
		{"failing random source", "Ward", "u-1", iotest.ErrReader(boom), boom},
		{"short random source", "Ward", "u-1", bytes.NewReader(make([]byte, TOTPSecretSize-1)), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewTOTP(tt.issuer, tt.account, tt.rand)
			if err == nil {
				t.Fatalf("NewTOTP succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want %v", err, tt.wantIs)
			}
			if e != (Enrolment{}) {
				t.Errorf("enrolment returned with an error")
			}
		})
	}
}

func TestNewTOTPAcceptsLongestLabel(t *testing.T) {
	account := strings.Repeat("u", maxLabelLen)
	e, err := NewTOTP("Ward Health", account, seeded(1))
	if err != nil {
		t.Fatalf("NewTOTP: %v", err)
	}
	key, err := otp.NewKeyFromURL(e.URI)
	if err != nil {
		t.Fatal(err)
	}
	if key.AccountName() != account {
		t.Errorf("account = %q, want %q", key.AccountName(), account)
	}
}

func TestVerifyTOTPWindow(t *testing.T) {
	secret := enrol(t, 3).Secret
	current := testNow.Unix() / 30
	codes := map[int64]string{}
	for d := int64(-2); d <= 2; d++ {
		codes[d] = codeAt(t, secret, testNow.Add(time.Duration(d)*30*time.Second))
	}
	// ±2 must differ from every accepted code, or their rejection proves nothing.
	for _, far := range []int64{-2, 2} {
		for d := int64(-1); d <= 1; d++ {
			if codes[far] == codes[d] {
				t.Fatalf("seed gives equal codes at steps %d and %d; choose another", far, d)
			}
		}
	}
	tests := []struct {
		name    string
		offset  int64
		wantErr error
	}{
		{"two steps behind", -2, ErrInvalidCode},
		{"one step behind", -1, nil},
		{"current step", 0, nil},
		{"one step ahead", 1, nil},
		{"two steps ahead", 2, ErrInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := VerifyTOTP(secret, codes[tt.offset], testNow, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && step != current+tt.offset {
				t.Errorf("step = %d, want %d", step, current+tt.offset)
			}
			if tt.wantErr != nil && step != 0 {
				t.Errorf("step = %d with an error, want 0", step)
			}
		})
	}
}

func TestVerifyTOTPReplay(t *testing.T) {
	secret := enrol(t, 4).Secret
	current := testNow.Unix() / 30
	now := codeAt(t, secret, testNow)
	earlier := codeAt(t, secret, testNow.Add(-30*time.Second))
	later := codeAt(t, secret, testNow.Add(30*time.Second))

	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		wantErr  error
	}{
		{"first use", now, 0, current, nil},
		{"same code again", now, current, 0, ErrReplayed},
		{"earlier code after the current one", earlier, current, 0, ErrReplayed},
		{"earlier code after a later one", earlier, current + 1, 0, ErrReplayed},
		{"current code after a later one", now, current + 1, 0, ErrReplayed},
		{"later code after the current one", later, current, current + 1, nil},
		{"earlier code after an older one", earlier, current - 2, current - 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, err := VerifyTOTP(secret, tt.code, testNow, tt.lastStep)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if step != tt.wantStep {
				t.Errorf("step = %d, want %d", step, tt.wantStep)
			}
		})
	}
}

// TestVerifyTOTPSequence follows one user's record through several logins,
// storing each returned step as the caller must.
// TestVerifyTOTPCollidingSteps uses secrets (found by search) whose codes
// repeat within the window at testNow, to pin down which step is returned.
func TestVerifyTOTPCollidingSteps(t *testing.T) {
	const (
		prevIsNext    = "O5QXEZBNORSXG5BNOYAAAAAAAAAAXWA4" // code(s-1) == code(s+1)
		prevIsCurrent = "O5QXEZBNORSXG5BNOYAAAAAAAAAAQEHV" // code(s-1) == code(s)
	)
	s := testNow.Unix() / 30
	step := func(secret string, d int) string {
		return codeAt(t, secret, testNow.Add(time.Duration(d)*30*time.Second))
	}
	if step(prevIsNext, -1) != step(prevIsNext, 1) || step(prevIsCurrent, -1) != step(prevIsCurrent, 0) {
		t.Fatal("fixture secrets no longer collide at testNow")
	}
	tests := []struct {
		name     string
		secret   string
		lastStep int64
		wantStep int64
		wantErr  error
	}{
		{"latest matching step wins", prevIsNext, 0, s + 1, nil},
		{"replayed earlier match does not hide a later one", prevIsNext, s - 1, s + 1, nil},
		{"fresh current match beside a replayed one", prevIsCurrent, s - 1, s, nil},
		{"both matches replayed", prevIsCurrent, s, 0, ErrReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyTOTP(tt.secret, step(tt.secret, -1), testNow, tt.lastStep)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.wantStep {
				t.Errorf("step = %d, want %d", got, tt.wantStep)
			}
		})
	}
}

func TestVerifyTOTPSequence(t *testing.T) {
	secret := enrol(t, 5).Secret
	var last int64
	at := testNow
	for i := range 4 {
		code := codeAt(t, secret, at)
		step, err := VerifyTOTP(secret, code, at, last)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if step <= last {
			t.Fatalf("login %d: step %d not after %d", i, step, last)
		}
		if _, err := VerifyTOTP(secret, code, at.Add(10*time.Second), step); !errors.Is(err, ErrReplayed) {
			t.Fatalf("login %d: replay 10 s later: err = %v, want ErrReplayed", i, err)
		}
		last = step
		at = at.Add(2 * time.Minute)
	}
}

func TestVerifyTOTPMalformed(t *testing.T) {
	secret := enrol(t, 6).Secret
	valid := codeAt(t, secret, testNow)
	tests := []struct {
		name string
		code string
	}{
		{"empty", ""},
		{"five digits", "12345"},
		{"seven digits", "1234567"},
		{"letter", "12a456"},
		{"fullwidth digits", "１２３４５６"},
		{"Arabic-Indic digits", "١٢٣٤٥٦"},
		{"sign", "+12345"},
		{"leading space", " " + valid},
		{"trailing space", valid + " "},
		{"trailing newline", valid + "\n"},
		{"inner space", valid[:3] + " " + valid[3:]},
		{"valid code plus digit", valid + "0"},
		{"NUL", "12345\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := VerifyTOTP(secret, tt.code, testNow, 0); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("err = %v, want ErrInvalidCode", err)
			}
			// The format check comes before anything else: even with a
			// broken secret the answer is ErrInvalidCode.
			if _, err := VerifyTOTP("not base32!", tt.code, testNow, 0); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("with a bad secret: err = %v, want ErrInvalidCode", err)
			}
		})
	}
}

func TestVerifyTOTPWrongCode(t *testing.T) {
	secret := enrol(t, 7).Secret
	window := map[string]bool{}
	for d := -1; d <= 1; d++ {
		window[codeAt(t, secret, testNow.Add(time.Duration(d)*30*time.Second))] = true
	}
	n, _ := strconv.Atoi(codeAt(t, secret, testNow))
	wrong := ""
	for i := 1; wrong == "" || window[wrong]; i++ {
		wrong = fmt.Sprintf("%06d", (n+i)%1_000_000)
	}
	if _, err := VerifyTOTP(secret, wrong, testNow, 0); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("err = %v, want ErrInvalidCode", err)
	}
	other := enrol(t, 8).Secret
	if _, err := VerifyTOTP(other, codeAt(t, secret, testNow), testNow, 0); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("another user's code: err = %v, want ErrInvalidCode", err)
	}
}

func TestVerifyTOTPSecret(t *testing.T) {
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	shortest := b32.EncodeToString(bytes.Repeat([]byte{0x5a}, minSecretSize))
	short := b32.EncodeToString(bytes.Repeat([]byte{0x5a}, minSecretSize-1))
	good := enrol(t, 9).Secret
	tests := []struct {
		name    string
		secret  string
		wantErr error
	}{
		{"enrolled", good, nil},
		{"128 bits", shortest, nil},
		{"120 bits", short, ErrInvalidSecret},
		{"empty", "", ErrInvalidSecret},
		{"not base32", "not-base32-at-all!", ErrInvalidSecret},
		{"lower case", strings.ToLower(good), ErrInvalidSecret},
		{"padded", base32.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, minSecretSize)), ErrInvalidSecret},
		{"newline", good[:16] + "\n" + good[16:], ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := "000000"
			if tt.wantErr == nil {
				code = codeAt(t, tt.secret, testNow)
			}
			_, err := VerifyTOTP(tt.secret, code, testNow, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

// TestVerifyTOTPRFC6238 checks the SHA-1 vectors of RFC 6238 Appendix B.
// The RFC lists 8-digit codes; a 6-digit code is their last six digits.
func TestVerifyTOTPRFC6238(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	tests := []struct {
		unix int64
		rfc  string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatInt(tt.unix, 10), func(t *testing.T) {
			step, err := VerifyTOTP(secret, tt.rfc[2:], time.Unix(tt.unix, 0), 0)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if want := tt.unix / 30; step != want {
				t.Errorf("step = %d, want %d", step, want)
			}
		})
	}
}

func TestErrorsDoNotLeak(t *testing.T) {
	secret := enrol(t, 10).Secret
	code := codeAt(t, secret, testNow)
	step, err := VerifyTOTP(secret, code, testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, replayed := VerifyTOTP(secret, code, testNow, step)
	_, invalid := VerifyTOTP(secret, code, testNow.Add(time.Hour), 0)
	for _, err := range []error{replayed, invalid} {
		if err == nil {
			t.Fatal("expected an error")
		}
		if msg := err.Error(); strings.Contains(msg, code) || strings.Contains(msg, secret) {
			t.Errorf("error %q contains the code or the secret", msg)
		}
	}
}

func TestEnrolmentRedacts(t *testing.T) {
	e := enrol(t, 11)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("enrolled", "enrolment", e)
	js, err := json.Marshal(struct{ E Enrolment }{e})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", e),
		"%+v":  fmt.Sprintf("%+v", e),
		"%#v":  fmt.Sprintf("%#v", e),
		"%s":   e.String(),
		"slog": logged.String(),
		"json": string(js),
	}
	for name, out := range outputs {
		if strings.Contains(out, e.Secret) || strings.Contains(out, "otpauth") {
			t.Errorf("%s leaks the enrolment: %q", name, out)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s = %q, want [redacted]", name, out)
		}
	}
}

func FuzzVerifyTOTP(f *testing.F) {
	secret, err := NewTOTP("Ward", "u-1", seeded(12))
	if err != nil {
		f.Fatal(err)
	}
	valid, err := totp.GenerateCodeCustom(secret.Secret, testNow, libOpts)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{valid, "", "12345", "1234567", "12a456", "１２３４５６", " 123456"} {
		f.Add(s, int64(0))
	}
	current := testNow.Unix() / 30
	f.Fuzz(func(t *testing.T, code string, offset int64) {
		last := current - 2 + offset%4
		step, err := VerifyTOTP(secret.Secret, code, testNow, last)
		if err != nil {
			if step != 0 {
				t.Errorf("step %d returned with error %v", step, err)
			}
			return
		}
		if !sixDigits(code) {
			t.Errorf("accepted malformed code %q", code)
		}
		if step <= last {
			t.Errorf("step %d not after lastStep %d", step, last)
		}
		if step < current-1 || step > current+1 {
			t.Errorf("step %d outside the window around %d", step, current)
		}
	})
}
