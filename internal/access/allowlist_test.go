package access

import (
	"net/netip"
	"testing"
)

func TestAllowlist(t *testing.T) {
	rule := func(tenant, role, op string, cidrs ...string) AllowRule {
		r, err := ParseRule(tenant, role, op, cidrs)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	l := Allowlist{
		rule("clinic", "", "", "10.0.0.0/8", "2001:db8::/32"),
		rule("clinic", "tenant-admin", "", "10.1.0.0/16"),
		rule("", "", OpSign, "10.1.2.0/24", "192.0.2.7"),
	}
	for _, c := range []struct {
		name             string
		tenant, role, op string
		addr             string
		allow            bool
	}{
		{"clinic staff inside", "clinic", "nurse", "", "10.9.9.9", true},
		{"clinic staff outside", "clinic", "nurse", "", "203.0.113.5", false},
		{"clinic staff over IPv6", "clinic", "nurse", "", "2001:db8::1", true},
		{"IPv4-mapped IPv6", "clinic", "nurse", "", "::ffff:10.2.3.4", true},
		{"other tenant unrestricted", "other", "nurse", "", "203.0.113.5", true},
		{"admin inside the tenant but not the admin range", "clinic", "tenant-admin", "", "10.9.9.9", false},
		{"admin in the admin range", "clinic", "tenant-admin", "", "10.1.5.5", true},
		{"signing from the signing range", "clinic", "physician", OpSign, "10.1.2.3", true},
		{"signing from elsewhere in the tenant", "clinic", "physician", OpSign, "10.9.9.9", false},
		{"signing in another tenant from a listed address", "other", "physician", OpSign, "192.0.2.7", true},
		{"signing in another tenant from elsewhere", "other", "physician", OpSign, "198.51.100.1", false},
		{"no address", "clinic", "nurse", "", "", false},
	} {
		addr, _ := netip.ParseAddr(c.addr)
		d := l.Permit(c.tenant, c.role, c.op, addr)
		if d.Allow != c.allow || d.Reason == "" {
			t.Errorf("%s: %+v, want allow=%v", c.name, d, c.allow)
		}
	}
	for _, bad := range [][]string{{"nonsense"}, {"10.0.0.0/33"}, {}} {
		if _, err := ParseRule("", "", "", bad); err == nil {
			t.Errorf("cidrs %q accepted", bad)
		}
	}
	if _, err := ParseRule("", "", "teleport", []string{"10.0.0.0/8"}); err == nil {
		t.Error("unknown operation accepted")
	}
}
