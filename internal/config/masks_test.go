package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFieldMasks(t *testing.T) {
	for _, c := range []struct {
		name, toml string
		want       []FieldMask
		err        string
	}{
		{name: "none given keeps the defaults (nil)", toml: "env = \"development\"\n"},
		{name: "tables in order", toml: `
[[field_mask]]
role = "billing"
type = "Observation"
remove = ["value[x]", "component.value[x]"]

[[field_mask]]
role = "front-desk"
type = "Appointment"
remove = ["comment"]
`, want: []FieldMask{
			{Role: "billing", Type: "Observation", Remove: []string{"value[x]", "component.value[x]"}},
			{Role: "front-desk", Type: "Appointment", Remove: []string{"comment"}},
		}},
		{name: "a misspelt key is refused", toml: "[[field_mask]]\nrole = \"billing\"\ntype = \"Observation\"\nremoves = [\"note\"]\n", err: "removes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ward.toml")
			if err := os.WriteFile(file, []byte(c.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(file, env(nil))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.FieldMasks, c.want) {
				t.Fatalf("got %+v, want %+v", cfg.FieldMasks, c.want)
			}
		})
	}
}
