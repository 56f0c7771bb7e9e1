package workspace

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRequire(t *testing.T) {
	d := Dir(t.TempDir())
	if err := os.MkdirAll(d.Path("stages"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Stages(), "manifest.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel  []string
		want string // "" for no error
	}{
		{nil, ""},
		{[]string{"stages", "stages/manifest.json"}, ""},
		{[]string{"stages", "normalized", "clean"}, "normalized is missing (run `chimed ingest` first)"},
	}
	for _, tc := range tests {
		err := d.Require("ingest", tc.rel...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.rel, err)
			}
			continue
		}
		var me *MissingError
		if !errors.As(err, &me) || err.Error() != tc.want {
			t.Errorf("%v: got %v, want %q", tc.rel, err, tc.want)
		}
	}
}
