package password

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// embedded loads the embedded list once for all tests.
var embedded = sync.OnceValues(LoadBlocklist)

func mustList(t testing.TB) *Blocklist {
	t.Helper()
	l, err := embedded()
	if err != nil {
		t.Fatalf("LoadBlocklist: %v", err)
	}
	return l
}

func TestEmbeddedList(t *testing.T) {
	l := mustList(t)
	if l.Len() < 100_000 {
		t.Fatalf("embedded list has %d entries, want at least 100,000", l.Len())
	}
	if len(l.data) > 20<<20 {
		t.Fatalf("embedded list takes %d bytes, want under 20 MiB", len(l.data))
	}
	lines := strings.Split(strings.TrimSuffix(l.data, "\n"), "\n")
	if len(lines) != l.Len() {
		t.Fatalf("Len() = %d, but %d lines", l.Len(), len(lines))
	}
	for i, e := range lines {
		if i > 0 && lines[i-1] >= e {
			t.Fatalf("entry %d is not strictly after entry %d in byte order", i, i-1)
		}
		if utf8.RuneCountInString(e) < minEntryRunes || strings.ContainsAny(e, " \t\r") ||
			e != strings.ToLower(norm.NFKC.String(e)) {
			t.Fatalf("entry %d is not a normalised lower-case word of at least %d characters", i, minEntryRunes)
		}
	}
	for _, w := range []string{"password", "qwerty", "letmein", "iloveyou", "trustno1", "1qaz2wsx", lines[0], lines[len(lines)-1]} {
		if !l.Contains(w) {
			t.Errorf("embedded list lacks a well-known entry (%d characters)", len(w))
		}
	}
}

func TestBlocklistContains(t *testing.T) {
	l := NewBlocklist([]string{"delta", "ALPHA", "charlie", "bravo", "alpha", "ab", "Ｅｃｈｏ", "a\x00bcde", "zulu1"})
	if l.Len() != 6 {
		t.Fatalf("Len() = %d, want 6 (deduplicated, short and invalid entries dropped)", l.Len())
	}
	tests := []struct {
		w    string
		want bool
	}{
		{"alpha", true},
		{"bravo", true},
		{"charlie", true},
		{"delta", true},
		{"echo", true},
		{"zulu1", true},
		{"ALPHA", false}, // Contains takes lower-case input
		{"alph", false},
		{"alphaa", false},
		{"aaaa", false},
		{"zzzzz", false},
		{"ab", false},
		{"", false},
		{"alpha\nbravo", false},
		{"delta\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.w, func(t *testing.T) {
			if got := l.Contains(tt.w); got != tt.want {
				t.Fatalf("Contains(%q) = %v, want %v", tt.w, got, tt.want)
			}
		})
	}
	if empty := NewBlocklist(nil); empty.Contains("alpha") || empty.Len() != 0 {
		t.Fatal("empty list matched")
	}
}

func TestBlocklistEveryEntry(t *testing.T) {
	words := []string{"able", "acid", "aged", "also", "area", "army", "away", "baby", "back", "ball", "band", "bank"}
	for n := 1; n <= len(words); n++ {
		l := NewBlocklist(words[:n])
		for _, w := range words[:n] {
			if !l.Contains(w) {
				t.Fatalf("list of %d lacks %q", n, w)
			}
			if l.Contains(w+"x") || l.Contains(w[:3]+"z") {
				t.Fatalf("list of %d matched a near miss of %q", n, w)
			}
		}
	}
}

func TestVariants(t *testing.T) {
	tests := []struct {
		in   string
		want []string // each must be among the variants
	}{
		{"password1!", []string{"password1!", "password"}},
		{"qwerty123!", []string{"qwerty"}},
		{"p@ssw0rd1!", []string{"p@ssw0rd", "password"}},
		{"p@$$w0rd", []string{"password"}},
		{"!!love99", []string{"!!love", "love"}},
		{"@dmin123!", []string{"admin"}},
		{"1etmein", []string{"ietmein", "letmein"}},
		{"h3ll0", []string{"hello"}},
		{"7ru57n01", []string{"trustnol", "trustnoi"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := variants(tt.in)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Fatalf("variants(%q) = %q, lacks %q", tt.in, got, w)
				}
			}
		})
	}
}

func TestMatchCommon(t *testing.T) {
	l := mustList(t)
	tests := []struct {
		pw   string
		want bool
	}{
		{"password", true},
		{"password1!", true},
		{"p@ssw0rd1!", true},
		{"qwerty123!", true},
		{"!!!qwerty", true},
		{"dr4g0n2024", true},
		{"marigold!canyon7", false},
		{"jg5$lw8@qe", false},
		{"ab12345!", false}, // stem "ab" is too short to look up
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			if got := l.matchCommon(tt.pw); got != tt.want {
				t.Fatalf("matchCommon = %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkLoadBlocklist(b *testing.B) {
	for b.Loop() {
		if _, err := LoadBlocklist(); err != nil {
			b.Fatal(err)
		}
	}
	// Heap held by one loaded list, measured apart from the timed loop.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := LoadBlocklist()
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-heap")
	b.ReportMetric(float64(l.Len()), "entries")
	runtime.KeepAlive(l)
}

func BenchmarkContains(b *testing.B) {
	l := mustList(b)
	for b.Loop() {
		l.matchCommon("p@ssw0rd1!")
	}
}
