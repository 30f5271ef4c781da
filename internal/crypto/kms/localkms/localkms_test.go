package localkms

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wardhealth/ward/internal/crypto/kms"
	"github.com/wardhealth/ward/internal/crypto/kms/kmstest"
)

func newKeyFile(t *testing.T, mode Mode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "kek")
	if err := Create(path, mode); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return path
}

func openKeyFile(t *testing.T, path string) *KMS {
	t.Helper()
	k, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return k
}

// keyText returns the base64 key line of a key file, to check that it
// never leaks.
func keyText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "key: ")
	if !ok {
		t.Fatal("no key line")
	}
	return strings.TrimSpace(after)
}

func TestConformance(t *testing.T) {
	kmstest.Run(t, openKeyFile(t, newKeyFile(t, Development)))
}

func TestCreateFileAndDirPermissions(t *testing.T) {
	path := newKeyFile(t, Production)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode = %#o, want 0600", got)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got&0o077 != 0 {
		t.Errorf("key dir mode = %#o, want no group/other access", got)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("key dir holds %d entries, want only the key file (temp file left behind?)", len(entries))
	}
}

func TestFileFormat(t *testing.T) {
	path := newKeyFile(t, Development)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "ward-kek v1" || lines[1] != "mode: development" ||
		!strings.HasPrefix(lines[2], "id: ") || !strings.HasPrefix(lines[3], "key: ") {
		t.Fatalf("unexpected key file layout: %d lines, first %q", len(lines), lines[0])
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[3], "key: "))
	if err != nil || len(key) != 32 {
		t.Fatalf("key line: %d bytes, err %v; want 32 bytes", len(key), err)
	}
	k := openKeyFile(t, path)
	if want := "local:" + strings.TrimPrefix(lines[2], "id: "); k.KeyID() != want {
		t.Errorf("KeyID = %q, want %q", k.KeyID(), want)
	}
}

func TestModeRoundTrip(t *testing.T) {
	for _, mode := range []Mode{Development, Production} {
		t.Run(mode.String(), func(t *testing.T) {
			k := openKeyFile(t, newKeyFile(t, mode))
			if k.Mode() != mode {
				t.Fatalf("Mode = %v, want %v", k.Mode(), mode)
			}
		})
	}
}

func TestCreateRefusesInvalidMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	for _, mode := range []Mode{0, 3, -1} {
		if err := Create(path, mode); err == nil {
			t.Errorf("Create with mode %d succeeded", int(mode))
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a file was written for an invalid mode: %v", err)
	}
}

func TestCreateRefusesOverwrite(t *testing.T) {
	path := newKeyFile(t, Production)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{Production, Development} {
		if err := Create(path, mode); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("second Create: err = %v, want fs.ErrExist", err)
		}
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("existing key file was modified")
	}
}

func TestConcurrentCreateOneWinner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = Create(path, Production) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, fs.ErrExist):
			t.Errorf("Create: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent Creates succeeded, want 1", wins)
	}
	openKeyFile(t, path)
}

func TestOpenPermissions(t *testing.T) {
	for _, tc := range []struct {
		perm fs.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o644, false},
		{0o640, false},
		{0o604, false},
		{0o660, false},
		{0o610, false},
		{0o601, false},
		{0o666, false},
	} {
		t.Run(fmt.Sprintf("%#o", tc.perm), func(t *testing.T) {
			path := newKeyFile(t, Production)
			if err := os.Chmod(path, tc.perm); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if tc.ok && err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("Open accepted a group/world-accessible key file")
				}
				if !strings.Contains(err.Error(), "permissions") {
					t.Errorf("error does not say why: %v", err)
				}
			}
		})
	}
}

func TestOpenRefusesNonRegular(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Open(directory): err = %v, want not a regular file", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing): err = %v, want fs.ErrNotExist", err)
	}
}

func TestOpenFollowsSymlinkToPrivateFile(t *testing.T) {
	// Secret mounts (Kubernetes) present key files through symlinks.
	path := newKeyFile(t, Production)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(path, link); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	if got, want := openKeyFile(t, link).KeyID(), openKeyFile(t, path).KeyID(); got != want {
		t.Fatalf("KeyID via symlink = %q, want %q", got, want)
	}
}

func TestOpenMalformed(t *testing.T) {
	const (
		id  = "00112233445566778899aabbccddeeff"
		key = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy0hISE=" // 32 bytes
	)
	valid := "ward-kek v1\nmode: production\nid: " + id + "\nkey: " + key + "\n"
	short := base64.StdEncoding.EncodeToString([]byte("secret-key-material-16"))
	long := base64.StdEncoding.EncodeToString([]byte("secret-key-material-that-is-far-longer-than-32"))
	for name, content := range map[string]string{
		"empty":          "",
		"badHeader":      strings.Replace(valid, "ward-kek v1", "ward-kek v2", 1),
		"noHeader":       strings.TrimPrefix(valid, "ward-kek v1\n"),
		"badMode":        strings.Replace(valid, "production", "staging", 1),
		"missingMode":    strings.Replace(valid, "mode: production\n", "", 1),
		"shortID":        strings.Replace(valid, id, id[:30], 1),
		"upperID":        strings.Replace(valid, id, strings.ToUpper(id), 1),
		"nonHexID":       strings.Replace(valid, id, "zz"+id[2:], 1),
		"badBase64":      strings.Replace(valid, key, key[:10]+"!"+key[11:], 1),
		"shortKey":       strings.Replace(valid, key, short, 1),
		"longKey":        strings.Replace(valid, key, long, 1),
		"extraLine":      valid + "extra: x\n",
		"swappedLines":   "ward-kek v1\nid: " + id + "\nmode: production\nkey: " + key + "\n",
		"keyNoSpace":     strings.Replace(valid, "key: ", "key:", 1),
		"huge":           valid + strings.Repeat("#", maxFileSize),
		"trailingSpaces": strings.Replace(valid, key, key+" ", 1),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kek")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if err == nil {
				t.Fatal("Open accepted a malformed key file")
			}
			for _, secret := range []string{key, short, long, key[:10], "secret-key"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error contains key material: %v", err)
				}
			}
		})
	}
	t.Run("validControl", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(path, []byte(valid), 0o600); err != nil {
			t.Fatal(err)
		}
		k := openKeyFile(t, path)
		if k.KeyID() != "local:"+id || k.Mode() != Production {
			t.Fatalf("got %v", k)
		}
	})
	t.Run("crlf", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kek")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(valid, "\n", "\r\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		openKeyFile(t, path)
	})
}

func TestWrongKEKCannotUnwrap(t *testing.T) {
	a := openKeyFile(t, newKeyFile(t, Production))
	b := openKeyFile(t, newKeyFile(t, Production))
	if a.KeyID() == b.KeyID() {
		t.Fatal("two key files share an id")
	}
	w, err := a.Wrap(t.Context(), []byte("tenant master key, 32 bytes long"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Unwrap(t.Context(), w, []byte("aad")); !errors.Is(err, kms.ErrUnwrap) {
		t.Fatalf("Unwrap under another KEK: err = %v, want ErrUnwrap", err)
	}
}

func TestReopenSameKey(t *testing.T) {
	path := newKeyFile(t, Production)
	a, b := openKeyFile(t, path), openKeyFile(t, path)
	pt := []byte("tenant master key, 32 bytes long")
	w, err := a.Wrap(t.Context(), pt, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Unwrap(t.Context(), w, nil)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Unwrap after reopening: err = %v", err)
	}
}

func TestFormattingRedacts(t *testing.T) {
	path := newKeyFile(t, Production)
	secret := keyText(t, path)
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	k := openKeyFile(t, path)
	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("kek", "kms", k, "value", *k)
	log.Info("kek", slog.Any("kms", k))
	slog.New(slog.NewTextHandler(&logged, nil)).Info("kek", "kms", k)
	out := fmt.Sprintf("%v %+v %#v %s %x %X %q %v %+v %#v", k, k, k, k, k, k, k, *k, *k, *k) + logged.String()
	if !strings.Contains(out, "REDACTED") {
		t.Fatalf("formatting does not redact: %s", out)
	}
	for name, needle := range map[string]string{
		"base64":  secret,
		"hex":     fmt.Sprintf("%x", raw),
		"HEX":     fmt.Sprintf("%X", raw),
		"decimal": strings.Trim(fmt.Sprint(raw), "[]"),
		"raw":     string(raw),
	} {
		if strings.Contains(out, needle) {
			t.Fatalf("formatted KMS contains the key (%s)", name)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte("ward-kek v1\nmode: production\nid: 00112233445566778899aabbccddeeff\nkey: c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy0hISE=\n"))
	f.Add([]byte("ward-kek v1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, content []byte) {
		k, err := parseFile(bytes.Clone(content))
		if err != nil {
			// Errors must not echo the input's key line.
			if _, key, ok := bytes.Cut(content, []byte("key: ")); ok && len(bytes.TrimSpace(key)) >= 8 &&
				strings.Contains(err.Error(), string(bytes.TrimSpace(key))) {
				t.Fatalf("error echoes the key line: %v", err)
			}
			return
		}
		if k.Mode() != Development && k.Mode() != Production {
			t.Fatalf("parsed invalid mode %v", k.Mode())
		}
	})
}
