package access

import (
	"fmt"
	"slices"
	"strings"
)

// Privileges as data: a tenant administrator may replace the built-in
// privileges of the workforce roles whose access is about FHIR data
// (EditableRoles). A privilege names resource groups or types and
// actions; the patient compartment, Consent, labels and break-glass
// rules apply on top, whatever the privileges say.

// EditableRoles are the roles whose privileges a tenant may replace.
// Patients, representatives, administrators, auditors and privacy
// officers keep fixed privileges: theirs follow from what they are.
func EditableRoles() []string {
	return []string{"physician", "nurse", "lab-technician", "front-desk", "billing"}
}

// Groups name sets of resource types privileges may use.
var Groups = map[string][]string{
	"clinical": clinical, "demographics": demographics, "scheduling": scheduling, "financial": financial,
}

// grantableActions are the actions a privilege may name.
var grantableActions = []Action{Read, Search, History, Create, Update, Delete, Sign}

// Privilege is a Grant as written by an administrator: group or type
// names and action names.
type Privilege struct {
	Resources []string `json:"resources"` // "clinical", "demographics", "scheduling", "financial" or a resource type
	Actions   []string `json:"actions"`   // read, search, history, create, update, delete, sign
}

// BuiltinPrivileges returns the shipped privileges of role, as data.
func BuiltinPrivileges(role string) []Privilege {
	var out []Privilege
	for _, g := range staff[role] {
		p := Privilege{Resources: groupNames(g.Types)}
		for _, a := range g.Actions {
			p.Actions = append(p.Actions, string(a))
		}
		out = append(out, p)
	}
	return out
}

// groupNames names types by their group when they are exactly one.
func groupNames(types []string) []string {
	for name, g := range Groups {
		if slices.Equal(g, types) {
			return []string{name}
		}
	}
	return slices.Clone(types)
}

// CompilePrivileges checks privileges for role and turns them into
// grants. isType reports whether a name is a FHIR resource type.
func CompilePrivileges(role string, ps []Privilege, isType func(string) bool) ([]Grant, error) {
	if !slices.Contains(EditableRoles(), role) {
		return nil, fmt.Errorf("the %s role's privileges are fixed (editable: %s)", role, strings.Join(EditableRoles(), ", "))
	}
	if len(ps) > 64 {
		return nil, fmt.Errorf("at most 64 privileges")
	}
	grants := []Grant{}
	for i, p := range ps {
		var g Grant
		if len(p.Resources) == 0 || len(p.Actions) == 0 {
			return nil, fmt.Errorf("privilege %d: name resources and actions", i+1)
		}
		for _, r := range p.Resources {
			switch types, ok := Groups[r]; {
			case ok:
				g.Types = append(g.Types, types...)
			case isType(r):
				g.Types = append(g.Types, r)
			default:
				return nil, fmt.Errorf("privilege %d: %q is neither a group (clinical, demographics, scheduling, financial) nor a resource type", i+1, r)
			}
		}
		for _, a := range p.Actions {
			if !slices.Contains(grantableActions, Action(a)) {
				return nil, fmt.Errorf("privilege %d: unknown action %q (read, search, history, create, update, delete, sign)", i+1, a)
			}
			g.Actions = append(g.Actions, Action(a))
		}
		grants = append(grants, g)
	}
	return grants, nil
}
