package access

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Operations an IP allowlist rule can single out; "" is every request.
const (
	OpSign   = "sign"    // electronic signatures ($sign)
	OpStepUp = "step-up" // re-authentication for sensitive operations
	OpAdmin  = "admin"   // account administration (/admin/...)
	OpAudit  = "audit"   // reading the audit trail and its alerts
	OpSignIn = "sign-in" // signing in (checked once the account is known)
	// OpBreakGlass is starting emergency access.
	OpBreakGlass = "break-glass"
)

// Operations lists the operations a rule may name.
func Operations() []string {
	return []string{OpSign, OpStepUp, OpAdmin, OpAudit, OpSignIn, OpBreakGlass}
}

// AllowRule requires requests of a tenant (or every tenant, ""), by a
// role (or any, ""), for an operation (or every request, "") to come
// from one of Prefixes.
type AllowRule struct {
	Tenant    string
	Role      string
	Operation string
	Prefixes  []netip.Prefix
}

// Allowlist is a deployment's IP allowlist rules. Every rule that applies
// to a request must admit its address; a request no rule applies to is
// admitted.
type Allowlist []AllowRule

// ParseRule builds a rule from CIDR strings ("10.0.0.0/8", or a single
// address "192.0.2.7"), checking the operation.
func ParseRule(tenant, role, operation string, cidrs []string) (AllowRule, error) {
	if operation != "" && !slices.Contains(Operations(), operation) {
		return AllowRule{}, fmt.Errorf("unknown operation %q (one of %s)", operation, strings.Join(Operations(), ", "))
	}
	if len(cidrs) == 0 {
		return AllowRule{}, fmt.Errorf("a rule needs at least one CIDR")
	}
	r := AllowRule{Tenant: tenant, Role: role, Operation: operation}
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return AllowRule{}, fmt.Errorf("%q is neither a CIDR nor an IP address", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		r.Prefixes = append(r.Prefixes, p.Masked())
	}
	return r, nil
}

// Permit decides whether a request from addr, in tenant, by role, for
// operation op ("" for an ordinary request) may proceed.
func (l Allowlist) Permit(tenant, role, op string, addr netip.Addr) Decision {
	addr = addr.Unmap()
	for _, r := range l {
		if r.Tenant != "" && r.Tenant != tenant || r.Role != "" && r.Role != role || r.Operation != "" && r.Operation != op {
			continue
		}
		if !r.admits(addr) {
			return Decision{Reason: "the IP allowlist of " + r.scope() + " does not include the request's address"}
		}
	}
	return Decision{Allow: true, Reason: "IP allowlist"}
}

func (r AllowRule) admits(addr netip.Addr) bool {
	for _, p := range r.Prefixes {
		if addr.IsValid() && p.Contains(addr) {
			return true
		}
	}
	return false
}

// scope names what the rule covers, without the addresses.
func (r AllowRule) scope() string {
	parts := []string{}
	if r.Tenant != "" {
		parts = append(parts, "tenant "+r.Tenant)
	}
	if r.Role != "" {
		parts = append(parts, "role "+r.Role)
	}
	if r.Operation != "" {
		parts = append(parts, "operation "+r.Operation)
	}
	if len(parts) == 0 {
		return "the deployment"
	}
	return strings.Join(parts, ", ")
}
