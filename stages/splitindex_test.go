package stages

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestSplitIndex finds a key in two splits whether both sightings are in
// memory, in one spilled run and memory, or in two runs, and leaves no run
// behind.
func TestSplitIndex(t *testing.T) {
	type add struct {
		key   string
		split int8
	}
	cases := []struct {
		name  string
		limit int64 // the spill budget; the index spills past a quarter of it
		adds  []add
		want  string
	}{
		{"one split each", 1 << 20, []add{{"a", 0}, {"b", 1}, {"a", 0}, {"c", 2}}, ""},
		{"two splits in memory", 1 << 20, []add{{"a", 0}, {"b", 1}, {"a", 2}}, `group "a" is in train and test`},
		{"one split each, spilled", 0, []add{{"a", 0}, {"b", 1}, {"a", 0}, {"c", 2}, {"b", 1}}, ""},
		{"two splits across runs", 0, []add{{"a", 1}, {"b", 1}, {"c", 0}, {"a", 0}}, `is in train and valid`},
		{"two splits, a run and memory", 4 * 2 * entryBytes, []add{{"x", 0}, {"y", 0}, {"a", 2}, {"z", 1}, {"a", 1}}, `is in valid and test`},
		{"two splits in memory after a run", 4 * 2 * entryBytes, []add{{"x", 0}, {"y", 0}, {"z", 2}, {"a", 1}, {"a", 0}}, `group "a" is in train and valid`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			x := newSplitIndex("group", &spillBudget{dir: dir, limit: c.limit})
			var err error
			for _, a := range c.adds {
				if err = x.add(a.key, a.split); err != nil {
					break
				}
			}
			if err == nil {
				err = x.finish()
			}
			x.remove()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("err = %v", err)
			case c.want != "" && (err == nil || !errors.Is(err, ErrLeak) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want a leak saying %s", err, c.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				t.Errorf("%d runs left", len(ents))
			}
		})
	}
}
