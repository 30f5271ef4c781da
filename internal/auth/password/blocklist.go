package password

import (
	"bytes"
	"compress/gzip"
	_ "embed" // for the common-password list
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// commonGz is the gzip of the sorted, newline-terminated, lower-case list
// of common passwords described in README.md.
//
//go:embed common.txt.gz
var commonGz []byte

// minEntryRunes is the shortest entry a Blocklist holds and the shortest
// candidate it looks up: shorter stems (what remains of "ab12345!" once
// its digits are stripped) are left to the strength estimator.
const minEntryRunes = 4

// maxListBytes bounds the decompressed embedded list, guarding against a
// corrupted or replaced data file.
const maxListBytes = 64 << 20

// Blocklist is an immutable set of common passwords. It is one string of
// sorted, newline-terminated entries searched by bisection, so it costs
// its text size in memory (about 8 MB for the embedded list) and no index.
// Safe for concurrent use.
type Blocklist struct {
	data string
	n    int
}

// LoadBlocklist decompresses the embedded list of common passwords (about
// 960,000 entries; see README.md). It takes tens of milliseconds: call it
// once at start-up and share the result.
func LoadBlocklist() (*Blocklist, error) {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		return nil, fmt.Errorf("load blocklist: %w", err)
	}
	var buf strings.Builder
	buf.Grow(9 << 20)
	if _, err := io.Copy(&buf, io.LimitReader(zr, maxListBytes+1)); err != nil {
		return nil, fmt.Errorf("load blocklist: %w", err)
	}
	data := buf.String()
	if len(data) > maxListBytes || (data != "" && !strings.HasSuffix(data, "\n")) {
		return nil, fmt.Errorf("load blocklist: embedded list is corrupt")
	}
	return &Blocklist{data: data, n: strings.Count(data, "\n")}, nil
}

// NewBlocklist builds a Blocklist from entries, for site-specific words
// and tests. Entries are normalised as passwords are (NFKC, lower case);
// entries that are invalid, or shorter than 4 characters, are dropped.
func NewBlocklist(entries []string) *Blocklist {
	keep := make([]string, 0, len(entries))
	for _, e := range entries {
		n, err := normalize(e)
		if err != nil || utf8.RuneCountInString(n) < minEntryRunes {
			continue
		}
		keep = append(keep, strings.ToLower(n))
	}
	slices.Sort(keep)
	keep = slices.Compact(keep)
	var b strings.Builder
	for _, e := range keep {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return &Blocklist{data: b.String(), n: len(keep)}
}

// Len returns the number of entries.
func (b *Blocklist) Len() int { return b.n }

// Contains reports whether w, already normalised and lower-cased, is an
// entry. It bisects the byte range [lo, hi), whose ends are always line
// starts: each step compares the line around the midpoint.
func (b *Blocklist) Contains(w string) bool {
	if w == "" || strings.IndexByte(w, '\n') >= 0 {
		return false
	}
	lo, hi := 0, len(b.data)
	for lo < hi {
		mid := lo + (hi-lo)/2
		start := lo + strings.LastIndexByte(b.data[lo:mid], '\n') + 1
		end := start + strings.IndexByte(b.data[start:], '\n')
		switch line := b.data[start:end]; {
		case w == line:
			return true
		case w < line:
			hi = start
		default:
			lo = end + 1
		}
	}
	return false
}

// matchCommon reports whether the lower-cased password lower, or its stem
// (see variants), is on the list.
func (b *Blocklist) matchCommon(lower string) bool {
	for _, v := range variants(lower) {
		if utf8.RuneCountInString(v) >= minEntryRunes && b.Contains(v) {
			return true
		}
	}
	return false
}
