package store

import (
	"fmt"
	"strconv"
)

// maxNameLen bounds tenants, types and ids.
const maxNameLen = 64

// ValidTenant returns nil if t is a well-formed tenant: 1 to 64 of
// [a-z0-9-]. Otherwise it returns an error wrapping ErrNoTenant.
func ValidTenant(t string) error {
	if t == "" {
		return ErrNoTenant
	}
	if len(t) > maxNameLen {
		return fmt.Errorf("tenant longer than %d characters: %w", maxNameLen, ErrNoTenant)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("tenant has a character outside [a-z0-9-]: %w", ErrNoTenant)
		}
	}
	return nil
}

// ValidID returns nil if id is a FHIR logical id, [A-Za-z0-9\-\.]{1,64};
// otherwise an error wrapping ErrInvalid.
func ValidID(id string) error {
	if id == "" || len(id) > maxNameLen {
		return fmt.Errorf("id must have 1 to %d characters: %w", maxNameLen, ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return fmt.Errorf("id has a character outside [A-Za-z0-9-.]: %w", ErrInvalid)
		}
	}
	return nil
}

// ValidType returns nil if typ can be a FHIR resource type: 1 to 64 ASCII
// letters (every R4 type is). Otherwise an error wrapping ErrInvalid.
// Whether the type exists is the fhir package's business.
func ValidType(typ string) error {
	if typ == "" || len(typ) > maxNameLen {
		return fmt.Errorf("type must have 1 to %d characters: %w", maxNameLen, ErrInvalid)
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return fmt.Errorf("type has a character outside [A-Za-z]: %w", ErrInvalid)
		}
	}
	return nil
}

// AAD returns the additional authenticated data that binds a sealed body
// to its row: "tenant|type|id|version". The Store uses it both to seal and
// to open, so a body moved onto any other row fails to open. The encoding
// is unambiguous because no component can contain '|' (see ValidTenant,
// ValidType, ValidID).
func AAD(tenant, typ, id string, version int64) []byte {
	b := make([]byte, 0, len(tenant)+len(typ)+len(id)+24)
	b = append(b, tenant...)
	b = append(b, '|')
	b = append(b, typ...)
	b = append(b, '|')
	b = append(b, id...)
	b = append(b, '|')
	return strconv.AppendInt(b, version, 10)
}
