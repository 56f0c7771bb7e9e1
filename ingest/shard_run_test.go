package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/demo"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// partRows reads every part in dir as JSON rows, by source (the part name
// less its shard and number), the parts of a source in name order: what
// clean reads, in the order it reads it.
func partRows[T any](t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := schemas.PartFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	tail := regexp.MustCompile(`(-s\d{4})?-\d{5}\.parquet$`)
	out := map[string][]string{}
	for _, f := range files {
		src := tail.ReplaceAllString(filepath.Base(f), "")
		for row, err := range schemas.ReadFile[T](f) {
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(row)
			out[src] = append(out[src], string(b))
		}
	}
	return out
}

func allRows(t *testing.T, ws workspace.Dir) map[string][]string {
	all := map[string][]string{}
	add := func(prefix string, m map[string][]string) {
		for k, v := range m {
			all[prefix+"/"+k] = v
		}
	}
	add("text", partRows[schemas.Text](t, ws.Normalized(schemas.KindText)))
	add("qa", partRows[schemas.QA](t, ws.Normalized(schemas.KindQA)))
	add("kg", partRows[schemas.Triple](t, ws.Normalized(schemas.KindKG)))
	add("dialogue", partRows[schemas.Dialogue](t, ws.Normalized(schemas.KindDialogue)))
	add("preference", partRows[schemas.PreferencePair](t, ws.Normalized(schemas.KindPreference)))
	add("exam", partRows[schemas.ExamQuestion](t, ws.Normalized(schemas.KindExam)))
	add("quarantine", partRows[schemas.QuarantineRow](t, ws.Quarantine()))
	return all
}

// TestShardsReadAsOne: the demo ingested in n shards, its JSON Lines and
// text files cut into pieces of 40 KB, gives every source's rows and quarantine rows
// in one process's order with the same ids, lines and offsets, and the
// merge gives the same reports/ingest.json, for every n.
func TestShardsReadAsOne(t *testing.T) {
	raw := t.TempDir()
	if _, err := demo.Generate(raw, demo.Options{Seed: demo.DefaultSeed}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	one := workspace.Dir(t.TempDir())
	copyDir(t, raw, string(one))
	if _, err := ingest.Run(ctx, one, cfg.Sources, ingest.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want := allRows(t, one)
	wantReport, _ := os.ReadFile(one.Report("ingest.json"))
	const split = 40_000
	for _, n := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprintf("shards=%d", n), func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			copyDir(t, raw, string(ws))
			for i := range n {
				if _, err := ingest.Run(ctx, ws, cfg.Sources, ingest.RunOptions{Shard: ingest.Shard{Index: i, Count: n}, SplitBytes: split}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ingest.Merge(ws, cfg.Sources, n, ingest.RunOptions{}); err != nil {
				t.Fatal(err)
			}
			got := allRows(t, ws)
			for src, rows := range want {
				if strings.Join(got[src], "\n") != strings.Join(rows, "\n") {
					t.Errorf("%s: %d rows, want %d, or in another order or with other fields", src, len(got[src]), len(rows))
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d sources' parts, want %d", len(got), len(want))
			}
			if b, _ := os.ReadFile(ws.Report("ingest.json")); string(b) != string(wantReport) {
				t.Errorf("reports/ingest.json differs from one process's:\n%s\nwant\n%s", b, wantReport)
			}
			if n == 7 {
				// sft-sharegpt is one 1.6 MB JSON Lines file, twice a
				// seventh of the demo, and encyclopedia one 1.7 MB text
				// file of a record per line: pieces of each went to
				// several shards.
				for _, src := range []string{"qa/sft-sharegpt", "text/encyclopedia"} {
					kind, name, _ := strings.Cut(src, "/")
					pieces, _ := filepath.Glob(filepath.Join(string(ws), "normalized", kind, name+"-s*-00000.parquet"))
					if len(pieces) < 2 {
						t.Errorf("%s's one file was read by %d shards, want it in pieces: %v", name, len(pieces), pieces)
					}
				}
			}
			// One source ingested again alone replaces its shards' parts.
			if _, err := ingest.Run(ctx, ws, cfg.Sources, ingest.RunOptions{Only: []string{"sft-sharegpt"}}); err != nil {
				t.Fatal(err)
			}
			if got := allRows(t, ws)["qa/sft-sharegpt"]; strings.Join(got, "\n") != strings.Join(want["qa/sft-sharegpt"], "\n") {
				t.Errorf("--source sft-sharegpt after %d shards: %d rows, want %d", n, len(got), len(want["qa/sft-sharegpt"]))
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}
