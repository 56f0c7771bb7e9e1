package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
)

const twoQA = `{"instruction":"头痛怎么办？","input":"","output":"注意休息，必要时就医检查。"}
{"instruction":"发烧怎么办？","input":"","output":"多喝水，体温过高时服用退烧药。"}
`

// TestUnreadableInput: a raw file or folder ingest cannot read fails the
// run with an error naming it, instead of becoming one quarantine row (or
// nothing at all) and exit 0 with the file's records never read.
// Permission bits do not deny root, so those cases skip under root; the
// others reach the same code paths by other means (a link to nowhere, a
// FIFO, a file whose read fails with EIO).
func TestUnreadableInput(t *testing.T) {
	root := os.Geteuid() == 0
	tests := []struct {
		name     string
		paths    string // the source's paths: in chimed.yaml
		setup    func(t *testing.T, ws string)
		want     []string // in the error
		skipRoot bool
	}{
		{
			name:  "dangling folder link in a glob",
			paths: `["raw/*/*.jsonl"]`,
			setup: func(t *testing.T, ws string) {
				must(t, os.Symlink(filepath.Join(ws, "gone"), filepath.Join(ws, "raw", "b")))
			},
			want: []string{"unreadable", filepath.Join("raw", "b")},
		},
		{
			name:  "dangling file link",
			paths: `["raw/*/*.jsonl"]`,
			setup: func(t *testing.T, ws string) {
				must(t, os.Symlink(filepath.Join(ws, "gone.jsonl"), filepath.Join(ws, "raw", "a", "z.jsonl")))
			},
			want: []string{"unreadable", "z.jsonl"},
		},
		{
			name:  "a FIFO where a file is expected",
			paths: `["raw/*/*.jsonl"]`,
			setup: func(t *testing.T, ws string) {
				must(t, syscall.Mkfifo(filepath.Join(ws, "raw", "a", "pipe.jsonl"), 0o644))
			},
			want: []string{"pipe.jsonl", "not a regular file"},
		},
		{
			name:  "a folder named as a file",
			paths: `["raw/a"]`,
			want:  []string{`"raw/a" is a folder`},
		},
		{
			name:  "a read that fails",
			paths: `["raw/a/qa.jsonl", "/proc/self/mem"]`,
			setup: func(t *testing.T, ws string) {
				if _, err := os.Stat("/proc/self/mem"); err != nil {
					t.Skip("no /proc/self/mem to fail a read with")
				}
			},
			want: []string{"unreadable", "/proc/self/mem"},
		},
		{
			name:  "a file without read permission",
			paths: `["raw/*/*.jsonl"]`,
			setup: func(t *testing.T, ws string) {
				must(t, os.Chmod(filepath.Join(ws, "raw", "a", "qa.jsonl"), 0))
			},
			want:     []string{"unreadable", "qa.jsonl", "permission denied"},
			skipRoot: true,
		},
		{
			name:  "a folder without read permission",
			paths: `["raw/*/*.jsonl"]`,
			setup: func(t *testing.T, ws string) {
				must(t, os.MkdirAll(filepath.Join(ws, "raw", "c"), 0o755))
				must(t, os.Chmod(filepath.Join(ws, "raw", "c"), 0))
				t.Cleanup(func() { os.Chmod(filepath.Join(ws, "raw", "c"), 0o755) })
			},
			want:     []string{"unreadable", filepath.Join("raw", "c"), "permission denied"},
			skipRoot: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipRoot && root {
				t.Skip("permission bits do not deny root")
			}
			ws := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(ws, "raw", "a"), 0o755))
			must(t, os.WriteFile(filepath.Join(ws, "raw", "a", "qa.jsonl"), []byte(twoQA), 0o644))
			must(t, os.WriteFile(filepath.Join(ws, "chimed.yaml"), []byte("version: 1\nsources:\n"+
				"  - {name: faq, kind: qa, preset: alpaca, paths: "+tt.paths+"}\n"), 0o644))
			if tt.setup != nil {
				tt.setup(t, ws)
			}
			cfg, err := config.Load(ws)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ingest.Run(context.Background(), workspace.Dir(ws), cfg.Sources, ingest.RunOptions{KeepGoing: true})
			if err == nil {
				t.Fatal("ingest of an unreadable input succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestReadFileUnreadable: ReadFile's error for a file it cannot open is an
// *Error at the file that errors.Is ErrUnreadable, so callers can tell it
// from a broken record.
func TestReadFileUnreadable(t *testing.T) {
	for raw, err := range ingest.ReadFile(filepath.Join(t.TempDir(), "missing.jsonl"), "raw/missing.jsonl", nil, nil) {
		var e *ingest.Error
		if !errors.As(err, &e) || !errors.Is(err, ingest.ErrUnreadable) || e.File != "raw/missing.jsonl" {
			t.Errorf("ReadFile of a missing file yielded %+v, %v", raw, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
