package password

import (
	"errors"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestPreset(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		minLen  int
		minMFA  int
		compose bool
		maxAge  time.Duration
		ok      bool
	}{
		{"", HIPAA, 8, 8, true, 180 * day, true},
		{"hipaa", HIPAA, 8, 8, true, 180 * day, true},
		{"nist", NIST, 15, 8, false, 0, true},
		{"HIPAA", "", 0, 0, false, 0, false},
		{"pci", "", 0, 0, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Preset(tt.name)
			if !tt.ok {
				if !errors.Is(err, ErrPolicy) {
					t.Fatalf("Preset(%q) = %v, want ErrPolicy", tt.name, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("preset does not validate: %v", err)
			}
			if p.Preset != tt.want || p.MaxLen != MaxRunes || p.MinScore != 3 || p.History != 12 || p.MaxAge != tt.maxAge {
				t.Fatalf("Preset(%q) = %+v", tt.name, p)
			}
			if got := p.minLen(Person{}); got != tt.minLen {
				t.Errorf("minimum without MFA = %d, want %d", got, tt.minLen)
			}
			if got := p.minLen(Person{HasMFA: true}); got != tt.minMFA {
				t.Errorf("minimum with MFA = %d, want %d", got, tt.minMFA)
			}
			if p.RequireUpper != tt.compose || p.RequireDigit != tt.compose || p.RequireSpecial != tt.compose {
				t.Errorf("composition rules %v/%v/%v, want %v", p.RequireUpper, p.RequireDigit, p.RequireSpecial, tt.compose)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	with := func(f func(*Policy)) Policy { p, _ := Preset(HIPAA); f(&p); return p }
	tests := []struct {
		name string
		p    Policy
		ok   bool
	}{
		{"hipaa", with(func(*Policy) {}), true},
		{"no expiry", with(func(p *Policy) { p.MaxAge, p.WarnBefore = 0, 0 }), true},
		{"zero MinLen", with(func(p *Policy) { p.MinLen = 0 }), false},
		{"MinLen over MaxLen", with(func(p *Policy) { p.MinLen = 20; p.MaxLen = 10 }), false},
		{"MaxLen over MaxRunes", with(func(p *Policy) { p.MaxLen = MaxRunes + 1 }), false},
		{"negative MinLenMFA", with(func(p *Policy) { p.MinLenMFA = -1 }), false},
		{"score 5", with(func(p *Policy) { p.MinScore = 5 }), false},
		{"negative history", with(func(p *Policy) { p.History = -1 }), false},
		{"history 101", with(func(p *Policy) { p.History = 101 }), false},
		{"warn before equals max age", with(func(p *Policy) { p.WarnBefore = p.MaxAge }), false},
		{"negative max age", with(func(p *Policy) { p.MaxAge = -day }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrPolicy)) {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	hipaa, _ := Preset(HIPAA)
	nist, _ := Preset(NIST)
	changed := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	due := changed.Add(180 * day)
	tests := []struct {
		name    string
		p       Policy
		now     time.Time
		expired bool
		warn    bool
		at      time.Time
	}{
		{"just changed", hipaa, changed, false, false, due},
		{"a day before the warning", hipaa, due.Add(-15 * day), false, false, due},
		{"warning starts", hipaa, due.Add(-14 * day), false, true, due},
		{"last second", hipaa, due.Add(-time.Second), false, true, due},
		{"expires", hipaa, due, true, false, due},
		{"long expired", hipaa, due.Add(365 * day), true, false, due},
		{"nist never expires", nist, changed.Add(10 * 365 * day), false, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expired, warn, at := tt.p.Expiry(changed, tt.now)
			if expired != tt.expired || warn != tt.warn || !at.Equal(tt.at) {
				t.Fatalf("Expiry = %v, %v, %v; want %v, %v, %v", expired, warn, at, tt.expired, tt.warn, tt.at)
			}
		})
	}
}
