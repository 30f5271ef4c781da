package passkey

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	good := func() Config {
		return Config{RPID: testRPID, RPDisplayName: "ward", Origins: []string{testOrigin}}
	}
	tests := []struct {
		name   string
		change func(c *Config)
		// wantErr is a fragment of the error message; empty means success.
		wantErr string
	}{
		{"valid", func(c *Config) {}, ""},
		{"origin is the RP id itself", func(c *Config) { c.Origins = []string{"https://ward.example.org"} }, ""},
		{"origin on a subdomain", func(c *Config) { c.Origins = []string{"https://app.ward.example.org"} }, ""},
		{"several origins", func(c *Config) { c.Origins = []string{testOrigin, "https://app.ward.example.org"} }, ""},
		{"localhost over http", func(c *Config) { c.RPID = "localhost"; c.Origins = []string{"http://localhost:8080"} }, ""},
		{"longest timeout", func(c *Config) { c.Timeout = 10 * time.Minute }, ""},
		{"shortest timeout", func(c *Config) { c.Timeout = 30 * time.Second }, ""},

		{"no RP id", func(c *Config) { c.RPID = "" }, "RPID is empty"},
		{"RP id with scheme", func(c *Config) { c.RPID = "https://ward.example.org" }, "bare domain"},
		{"RP id with port", func(c *Config) { c.RPID = "ward.example.org:8443" }, "bare domain"},
		{"RP id upper case", func(c *Config) { c.RPID = "Ward.example.org" }, "lower case"},
		{"RP id an IP address", func(c *Config) { c.RPID = "192.0.2.1"; c.Origins = []string{"https://192.0.2.1"} }, "RPID"},
		{"no display name", func(c *Config) { c.RPDisplayName = " " }, "RPDisplayName"},
		{"no origins", func(c *Config) { c.Origins = nil }, "Origins is empty"},
		{"origin on another site", func(c *Config) { c.Origins = []string{"https://ward.example.com"} }, "neither RPID nor a subdomain"},
		{"origin on a look-alike", func(c *Config) { c.Origins = []string{"https://evilward.example.org"} }, "neither RPID nor a subdomain"},
		{"origin on a parent domain", func(c *Config) { c.Origins = []string{"https://example.org"} }, "neither RPID nor a subdomain"},
		{"origin over http", func(c *Config) { c.Origins = []string{"http://ward.example.org"} }, "https"},
		{"origin without scheme", func(c *Config) { c.Origins = []string{"ward.example.org"} }, "scheme"},
		{"origin with path", func(c *Config) { c.Origins = []string{testOrigin + "/login"} }, "nothing after it"},
		{"origin with trailing slash", func(c *Config) { c.Origins = []string{testOrigin + "/"} }, "nothing after it"},
		{"origin with query", func(c *Config) { c.Origins = []string{testOrigin + "?a=b"} }, "nothing after it"},
		{"origin with user", func(c *Config) { c.Origins = []string{"https://u@ward.example.org"} }, "nothing after it"},
		{"origin upper case", func(c *Config) { c.Origins = []string{"https://WARD.example.org"} }, "lower case"},
		{"second origin bad", func(c *Config) { c.Origins = []string{testOrigin, "https://x.test"} }, "Origins[1]"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "Timeout"},
		{"timeout too short", func(c *Config) { c.Timeout = time.Second }, "Timeout"},
		{"timeout too long", func(c *Config) { c.Timeout = time.Hour }, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.change(&cfg)
			p, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New = %v, %v; want success", p, err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// New keeps its own copy of Origins: changing the caller's slice later
// does not change which origins are accepted.
func TestNewCopiesOrigins(t *testing.T) {
	origins := []string{testOrigin}
	c := &clock{t: testNow}
	p, err := New(Config{RPID: testRPID, RPDisplayName: "ward", Origins: origins, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	origins[0] = "https://other.ward.example.org"
	r := &rig{p: p, clock: c}
	r.rp.ID, r.rp.Name, r.rp.Origin = testRPID, "ward", testOrigin
	r.register(t, testUser("alice"), newDevice(testUser("alice")))
}
