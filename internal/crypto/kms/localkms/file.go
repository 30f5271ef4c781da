package localkms

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The key file is four lines of text:
//
//	ward-kek v1
//	mode: development|production
//	id: <32 lowercase hex digits>
//	key: <base64 of 32 bytes>
const (
	fileHeader  = "ward-kek v1"
	maxFileSize = 4096 // far above a valid file; bounds what Open reads
)

// Create writes a new key file at path holding a random 256-bit KEK.
// Parent directories are created with mode 0700 and the file with 0600.
// It refuses to replace an existing file (a lost KEK loses every record),
// and writes atomically: a temporary file is synced, then linked into place.
func Create(path string, mode Mode) error {
	if _, ok := parseMode(mode.String()); !ok {
		return fmt.Errorf("localkms: create %s: invalid mode %v", path, mode)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("localkms: create %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localkms: create %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("localkms: create %s: %w", path, err)
	}

	key := make([]byte, keyLen)
	defer clear(key)
	id := make([]byte, idLen)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("localkms: create %s: random key: %w", path, err)
	}
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("localkms: create %s: random id: %w", path, err)
	}
	content := formatFile(mode, hex.EncodeToString(id), key)
	defer clear(content)

	if err := writeNew(path, content); err != nil {
		return fmt.Errorf("localkms: create %s: %w", path, err)
	}
	return nil
}

// writeNew atomically creates path with content and mode 0600, failing
// with fs.ErrExist if path exists.
func writeNew(path string, content []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".ward-kek-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if rmErr := os.Remove(tmpName); rmErr != nil && err == nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = rmErr
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(content); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A hard link, unlike rename, never replaces an existing file, so two
	// concurrent Creates cannot overwrite each other's KEK.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		// Filesystems without hard links: rename after a last check.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return err
	}
	return d.Close()
}

// Open loads the key file at path. It refuses a file that is not a
// regular file, that its group or others may access (any of 0o077), or
// that is malformed. Errors never contain key material.
func Open(path string) (*KMS, error) {
	fail := func(format string, args ...any) (*KMS, error) {
		return nil, fmt.Errorf("localkms: open %s: "+format, append([]any{path}, args...)...)
	}
	// Stat before opening so a FIFO or device is refused without blocking.
	if fi, err := os.Stat(path); err != nil {
		return fail("%w", err)
	} else if err := checkFileInfo(fi); err != nil {
		return fail("%w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fail("%w", err)
	}
	defer f.Close()
	// Check the opened file too, in case path changed since the Stat.
	fi, err := f.Stat()
	if err != nil {
		return fail("%w", err)
	}
	if err := checkFileInfo(fi); err != nil {
		return fail("%w", err)
	}
	content, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	defer clear(content)
	if err != nil {
		return fail("%w", err)
	}
	if len(content) > maxFileSize {
		return fail("file larger than %d bytes, not a ward key file", maxFileSize)
	}
	k, err := parseFile(content)
	if err != nil {
		return fail("%w", err)
	}
	return k, nil
}

// checkFileInfo refuses anything but a regular file private to its owner.
func checkFileInfo(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (mode %v)", fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("permissions %#o allow group or other access; run chmod 600 on it", perm)
	}
	return nil
}

// formatFile renders a key file; the caller clears the result.
func formatFile(mode Mode, id string, key []byte) []byte {
	enc := base64.StdEncoding
	var b bytes.Buffer
	b.Grow(len(fileHeader) + 64 + len(id) + enc.EncodedLen(len(key)))
	b.WriteString(fileHeader + "\n")
	b.WriteString("mode: " + mode.String() + "\n")
	b.WriteString("id: " + id + "\n")
	b.WriteString("key: ")
	keyText := make([]byte, enc.EncodedLen(len(key)))
	enc.Encode(keyText, key)
	b.Write(keyText)
	clear(keyText)
	b.WriteString("\n")
	return b.Bytes()
}

// parseFile parses a key file. Its errors name the line at fault but
// never quote it, since the key line is secret. It works on bytes, not
// strings, so that every copy of the key can be cleared.
func parseFile(content []byte) (*KMS, error) {
	lines := bytes.Split(bytes.TrimSuffix(content, []byte("\n")), []byte("\n"))
	for i := range lines {
		lines[i] = bytes.TrimSuffix(lines[i], []byte("\r"))
	}
	if string(lines[0]) != fileHeader {
		return nil, fmt.Errorf("not a ward key file (first line must be %q)", fileHeader)
	}
	if len(lines) != 4 {
		return nil, fmt.Errorf("malformed key file: want 4 lines, found %d", len(lines))
	}
	field := func(n int, name string) ([]byte, error) {
		v, ok := bytes.CutPrefix(lines[n], []byte(name+": "))
		if !ok {
			return nil, fmt.Errorf("malformed key file: line %d must start with %q", n+1, name+": ")
		}
		return v, nil
	}
	modeText, err := field(1, "mode")
	if err != nil {
		return nil, err
	}
	mode, ok := parseMode(string(modeText))
	if !ok {
		return nil, errors.New(`malformed key file: mode must be "development" or "production"`)
	}
	id, err := field(2, "id")
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, fmt.Errorf("malformed key file: id must be %d lowercase hex digits", 2*idLen)
	}
	keyText, err := field(3, "key")
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding
	key := make([]byte, enc.DecodedLen(len(keyText)))
	defer clear(key)
	n, err := enc.Decode(key, keyText)
	if err != nil {
		return nil, errors.New("malformed key file: key is not valid base64")
	}
	if n != keyLen {
		return nil, fmt.Errorf("malformed key file: key must be %d bytes, found %d", keyLen, n)
	}
	return newKMS(string(id), mode, key[:n])
}

// validID reports whether id is 2*idLen lowercase hex digits.
func validID(id []byte) bool {
	if len(id) != 2*idLen {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
