package password

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// fastParams keeps tests quick; the bounds still apply.
var fastParams = Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}

// mustHash hashes pw with fastParams or fails the test.
func mustHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := Hash(pw, fastParams, rand.Reader)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return h
}

func TestHashVerifyDefaultParams(t *testing.T) {
	pw := rand.Text()
	h, err := Hash(pw, DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", 46*1024, 3, 2)
	if !strings.HasPrefix(h, want) {
		t.Fatalf("encoding %q does not start with %q", h, want)
	}
	ok, stored, err := Verify(pw, h)
	if err != nil || !ok {
		t.Fatalf("Verify(right password) = %v, %v", ok, err)
	}
	if stored != DefaultParams() || stored.NeedsRehash(DefaultParams()) {
		t.Fatalf("stored params %+v, want %+v without rehash", stored, DefaultParams())
	}
}

func TestVerify(t *testing.T) {
	pw := "Ｐａｓｓｗｏｒｄ１！" + rand.Text() // fullwidth: must verify as its NFKC form
	h := mustHash(t, pw)
	tests := []struct {
		name string
		pw   string
		want bool
	}{
		{"same", pw, true},
		{"NFKC equivalent", "Password1!" + pw[len("Ｐａｓｓｗｏｒｄ１！"):], true},
		{"wrong", pw + "x", false},
		{"empty", "", false},
		{"case differs", strings.ToLower(pw), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := Verify(tt.pw, h)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.want {
				t.Fatalf("Verify = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	if a, b := mustHash(t, "same"), mustHash(t, "same"); a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestHashRandomFailure(t *testing.T) {
	_, err := Hash("x", fastParams, bytes.NewReader(make([]byte, 3)))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Hash with short random = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestHashRefusesInput(t *testing.T) {
	huge := strings.Repeat("A", 10<<20)
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"10 MB", huge, ErrTooLong},
		{"MaxBytes+1", strings.Repeat("a", MaxBytes+1), ErrTooLong},
		{"expands past MaxBytes under NFKC", strings.Repeat("\ufdfa", MaxBytes/3), ErrTooLong},
		{"invalid UTF-8", "ab\xffcd", ErrInvalidUTF8},
		{"NUL", "abc\x00def", ErrControlChar},
		{"zero-width space", "pass\u200bword", ErrControlChar},
		{"bidi override", "abc\u202edef", ErrControlChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Hash(tt.pw, DefaultParams(), rand.Reader)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Hash = %v, want %v", err, tt.want)
			}
			// DefaultParams cost tens of ms; a refusal must not hash at all.
			if d := time.Since(start); d > 50*time.Millisecond {
				t.Errorf("refusal took %v", d)
			}
			ok, _, err := Verify(tt.pw, mustHash(t, "x"))
			if ok || !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, %v; want false, %v", ok, err, tt.want)
			}
		})
	}
	if _, err := Hash(strings.Repeat("a", MaxBytes), fastParams, rand.Reader); err != nil {
		t.Fatalf("Hash at MaxBytes: %v", err)
	}
}

func TestHashRefusesParams(t *testing.T) {
	bad := fastParams
	bad.MemoryKiB = MaxMemoryKiB + 1
	if _, err := Hash("x", bad, rand.Reader); !errors.Is(err, ErrParams) {
		t.Fatalf("Hash with m over bound = %v, want ErrParams", err)
	}
}

func TestParamsValidate(t *testing.T) {
	with := func(f func(*Params)) Params { p := fastParams; f(&p); return p }
	tests := []struct {
		name string
		p    Params
		ok   bool
	}{
		{"default", DefaultParams(), true},
		{"fast", fastParams, true},
		{"max memory", with(func(p *Params) { p.MemoryKiB = MaxMemoryKiB; p.Time = 8 }), true},
		{"zero time", with(func(p *Params) { p.Time = 0 }), false},
		{"time over", with(func(p *Params) { p.Time = MaxTime + 1 }), false},
		{"memory over", with(func(p *Params) { p.MemoryKiB = MaxMemoryKiB + 1 }), false},
		{"memory under 8 per lane", with(func(p *Params) { p.Threads = 4; p.MemoryKiB = 31 }), false},
		{"max memory with max time", with(func(p *Params) { p.MemoryKiB = MaxMemoryKiB; p.Time = MaxTime }), false},
		{"zero threads", with(func(p *Params) { p.Threads = 0 }), false},
		{"threads over", with(func(p *Params) { p.Threads = MaxThreads + 1 }), false},
		{"short key", with(func(p *Params) { p.KeyLen = MinKeyLen - 1 }), false},
		{"long key", with(func(p *Params) { p.KeyLen = MaxKeyLen + 1 }), false},
		{"short salt", with(func(p *Params) { p.SaltLen = MinSaltLen - 1 }), false},
		{"long salt", with(func(p *Params) { p.SaltLen = MaxSaltLen + 1 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", tt.p, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrParams) {
				t.Fatalf("error %v does not wrap ErrParams", err)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h := mustHash(t, "pw")
	ok, stored, err := Verify("pw", h)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	stronger := fastParams
	stronger.Time++
	longerKey := fastParams
	longerKey.KeyLen = 64
	tests := []struct {
		name string
		want Params
		need bool
	}{
		{"same params", fastParams, false},
		{"more passes", stronger, true},
		{"longer key", longerKey, true},
		{"default", DefaultParams(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stored.NeedsRehash(tt.want); got != tt.need {
				t.Fatalf("NeedsRehash = %v, want %v", got, tt.need)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	salt := b64.EncodeToString(bytes.Repeat([]byte{1}, 16))
	key := b64.EncodeToString(bytes.Repeat([]byte{2}, 32))
	good := "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + key
	d, err := decode(good)
	if err != nil {
		t.Fatalf("decode(good): %v", err)
	}
	want := Params{Time: 3, MemoryKiB: 65536, Threads: 2, KeyLen: 32, SaltLen: 16}
	if d.params != want || len(d.salt) != 16 || d.salt[0] != 1 || len(d.key) != 32 || d.key[0] != 2 {
		t.Fatalf("decode(good) = %+v", d)
	}
	if enc := encode(d.params, d.salt, d.key); enc != good {
		t.Fatalf("encode(decode(s)) = %q, want %q", enc, good)
	}

	bad := []struct{ name, s string }{
		{"empty", ""},
		{"bcrypt", "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", "$argon2i$v=19$m=65536,t=3,p=2$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=65536,t=3,p=2$" + salt + "$" + key},
		{"no version", "$argon2id$m=65536,t=3,p=2$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=3,m=65536,p=2$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=65536,t=3,p=2,k=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=065536,t=3,p=2$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+65536,t=3,p=2$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=65536,t=-3,p=2$" + salt + "$" + key},
		{"33-bit", "$argon2id$v=19$m=4294967296,t=3,p=2$" + salt + "$" + key},
		{"memory 1 TiB", "$argon2id$v=19$m=1073741824,t=3,p=2$" + salt + "$" + key},
		{"memory 4 GiB-1", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"time huge", "$argon2id$v=19$m=65536,t=4000000000,p=2$" + salt + "$" + key},
		{"lanes 255", "$argon2id$v=19$m=65536,t=3,p=255$" + salt + "$" + key},
		{"lanes 256", "$argon2id$v=19$m=65536,t=3,p=256$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "==$" + key},
		{"url alphabet", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + key[:len(key)-2] + "-_"},
		{"non-canonical bits", "$argon2id$v=19$m=65536,t=3,p=2$" + salt[:len(salt)-1] + "B$" + key},
		{"newline in hash", good + "\n"},
		{"CR inside salt", "$argon2id$v=19$m=65536,t=3,p=2$" + salt[:4] + "\r" + salt[4:] + "$" + key},
		{"short salt", "$argon2id$v=19$m=65536,t=3,p=2$AAAA$" + key},
		{"short key", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$AAAA"},
		{"huge key", "$argon2id$v=19$m=65536,t=3,p=2$" + salt + "$" + strings.Repeat("A", 1<<20)},
		{"trailing field", good + "$"},
		{"no leading $", good[1:]},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			if _, err := decode(tt.s); !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode = %v, want ErrMalformed", err)
			}
			ok, _, err := Verify("pw", tt.s)
			if ok || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformed", ok, err)
			}
			if strings.Contains(err.Error(), salt) || strings.Contains(err.Error(), key) {
				t.Fatalf("error echoes the encoding: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("refusal took %v", d)
			}
		})
	}
}

func TestVerifyTampered(t *testing.T) {
	h := mustHash(t, "correct")
	parts := strings.Split(h, "$")
	flip := func(s string) string { // change the first character within the alphabet
		c := byte('A')
		if s[0] == 'A' {
			c = 'B'
		}
		return string(c) + s[1:]
	}
	tests := []struct {
		name string
		enc  string
	}{
		{"salt", strings.Join(append(parts[:4:4], flip(parts[4]), parts[5]), "$")},
		{"key", strings.Join(append(parts[:5:5], flip(parts[5])), "$")},
		{"time", strings.Replace(h, "t=1,", "t=2,", 1)},
		{"memory", strings.Replace(h, "m=64,", "m=72,", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.enc == h {
				t.Fatal("tampering did not change the encoding")
			}
			ok, _, err := Verify("correct", tt.enc)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				t.Fatal("tampered hash verified")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(mustHash(f, "seed"))
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$$")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if err := d.params.Validate(); err != nil {
			t.Fatalf("decode accepted out-of-bounds params: %v", err)
		}
		if enc := encode(d.params, d.salt, d.key); enc != s {
			t.Fatalf("decode accepted a non-canonical form: %q re-encodes as %q", s, enc)
		}
	})
}
