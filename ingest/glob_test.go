package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestGlobAgreesWithFilepath: on a readable tree glob matches exactly what
// filepath.Glob does; it differs only in reporting what it cannot read.
func TestGlobAgreesWithFilepath(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/x.jsonl", "a/y.csv", "b/x.jsonl", "b/c/z.jsonl", "top.jsonl", "[x].jsonl"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, pat := range []string{"*", "*/*.jsonl", "*/*", "a/*", "?/x.jsonl", "[ab]/*.csv", "*/c/*", "top.jsonl",
		"missing/*", "missing.jsonl", "top.jsonl/*", `\[x\].jsonl`, "*/*/*"} {
		want, werr := filepath.Glob(filepath.Join(dir, pat))
		got, gerr := glob(filepath.Join(dir, pat))
		if (werr == nil) != (gerr == nil) || !slices.Equal(got, want) {
			t.Errorf("glob(%q) = %v, %v; filepath.Glob = %v, %v", pat, got, gerr, want, werr)
		}
	}
	if _, err := glob(filepath.Join(dir, "[")); err == nil {
		t.Error("a bad pattern is no error")
	}
}
