package password

import (
	"slices"
	"strings"
	"testing"
)

func TestPersonSources(t *testing.T) {
	who := Person{
		Username: "Dr.J_Smith42",
		Email:    "Mary-Ann.ONeil+ward@Hospital.example",
		Names:    []string{"Mary Ann", "O'Neil", "Li", "Ｍａｒｙ", "bad\xff"},
	}
	got := who.sources()
	for _, want := range []string{"dr.j_smith42", "smith42", "mary-ann.oneil+ward", "mary", "ann", "oneil", "ward", "neil", "mary ann"} {
		if !slices.Contains(got, want) {
			t.Errorf("sources lack %q: %q", want, got)
		}
	}
	for _, unwanted := range []string{"li", "dr", "hospital", "example", "bad\xff"} {
		if slices.Contains(got, unwanted) {
			t.Errorf("sources contain %q: %q", unwanted, got)
		}
	}
	if toks := personalTokens(got); !slices.Contains(toks, "smith") {
		t.Errorf("tokens lack the digit-less stem %q: %q", "smith", toks)
	}
}

func TestContainsPersonal(t *testing.T) {
	who := Person{Username: "k8walker", Email: "kate.walker@example.org", Names: []string{"Kate", "Walker", "Ng"}}
	tokens := personalTokens(who.sources())
	tests := []struct {
		pw   string
		want bool
	}{
		{"walker", true},
		{"xxwalkerxx", true},
		{"walker1990!", true},
		{"reklaw", true},        // reversed
		{"w4lk3r", true},        // leetspeak
		{"r3kl4w", true},        // reversed leetspeak
		{"k8walker", true},      // username as is
		{"kate.walker", true},   // e-mail local part
		{"etak", true},          // given name reversed
		{"kat3", true},          // given name, leetspeak
		{"ng is short", false},  // parts under 3 characters are ignored
		{"walk her dog", false}, // a near miss
		{"example.org", false},  // the domain is not personal
		{"quartz canyon", false},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			if got := containsPersonal(strings.ToLower(tt.pw), tokens); got != tt.want {
				t.Fatalf("containsPersonal = %v, want %v (tokens %q)", got, tt.want, tokens)
			}
		})
	}
	if containsPersonal("anything", personalTokens(Person{}.sources())) {
		t.Fatal("an empty person matched")
	}
}
