package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileSums hashes every file under the workspace-relative paths (files or
// folders), by slash path.
func fileSums(t *testing.T, ws string, paths ...string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, p := range paths {
		err := filepath.WalkDir(filepath.Join(ws, p), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(ws, path)
			h := sha256.Sum256(b)
			sums[filepath.ToSlash(rel)] = hex.EncodeToString(h[:])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return sums
}

// TestShardedPlanMatchesRun: `chimed plan --executor local` with ingest in
// n shards (real processes, side by side) gives the stage files and the
// manifest of one process, byte for byte, and the same clean output and
// reports on the way, for every n, with JSON Lines and text files read in
// pieces. A relaunched shard that finished is skipped, and a shard of
// another n is refused.
func TestShardedPlanMatchesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo's data steps five times; skipped in -short mode")
	}
	t.Setenv("CHIMED_TEST_RUN_MAIN", "1") // the plan's processes are this test binary's main
	raw := t.TempDir()
	chimed(t, "-q", "-w", raw, "demo")
	one := t.TempDir()
	copyTree(t, raw, one)
	for _, step := range []string{"ingest", "clean", "build-stages"} {
		chimed(t, "-q", "-w", one, step)
	}
	compared := []string{"stages", "clean", "removed", "reports/ingest.json", "reports/clean.json"}
	want := fileSums(t, one, compared...)
	if len(want) < 10 {
		t.Fatalf("the unsharded run wrote only %d files", len(want))
	}
	// The shards read JSON Lines and text files over 40 KB in pieces (the
	// demo's are 0.2–1.7 MB; the default is 64 MiB).
	t.Setenv("CHIMED_SPLIT_BYTES", "40000")
	for _, n := range []string{"1", "2", "3", "7"} {
		t.Run("shards="+n, func(t *testing.T) {
			ws := t.TempDir()
			copyTree(t, raw, ws)
			chimed(t, "-q", "-w", ws, "plan", "--executor", "local", "--shards", n, "--through", "build-stages")
			got := fileSums(t, ws, compared...)
			for _, p := range slices.Sorted(maps.Keys(want)) {
				if got[p] != want[p] {
					t.Errorf("%s differs from the unsharded run's (or is missing)", p)
				}
			}
			for p := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: not written by the unsharded run", p)
				}
			}
			parts, _ := filepath.Glob(filepath.Join(ws, "normalized", "*", "*-s0000-00000.parquet"))
			if len(parts) == 0 {
				t.Error("no shard part (<source>-s0000-NNNNN.parquet) in normalized/")
			}
			if n == "7" {
				// one JSON Lines file and one text file of a record per
				// line, each read in pieces
				for _, src := range []string{"qa/sft-sharegpt", "text/encyclopedia"} {
					pieces, _ := filepath.Glob(filepath.Join(ws, "normalized", src+"-s*-00000.parquet"))
					if len(pieces) < 2 {
						t.Errorf("%s's one file was read by %d shards, want it in pieces", src, len(pieces))
					}
				}
			}

			record := filepath.Join(ws, ".chimed", "steps", "ingest-shard-0000-of-000"+n+".json")
			before, err := os.Stat(record)
			if err != nil {
				t.Fatal(err)
			}
			chimed(t, "-q", "-w", ws, "ingest", "--shard", "0/"+n)
			if after, err := os.Stat(record); err != nil || !after.ModTime().Equal(before.ModTime()) {
				t.Errorf("a relaunched shard that had finished ran again (record %v, %v)", after, err)
			}
			other := "5"
			_, err = runCLI("-q", "-w", ws, "ingest", "--shard", "0/"+other)
			if err == nil || !strings.Contains(err.Error(), "holds an ingest in "+n+" shards") {
				t.Errorf("a shard of %s tasks on a %s-shard workspace: %v, want a refusal naming %s shards", other, n, err, n)
			}
			// the refused shard leaves no record, or the merge would see
			// shards of two counts
			if recs, _ := filepath.Glob(filepath.Join(ws, ".chimed", "steps", "ingest-shard-*-of-000"+other+".json")); len(recs) > 0 {
				t.Errorf("the refused shard left a completion record: %v", recs)
			}
			for _, rec := range []string{"clean-shard-0000-of-000" + n, "clean-dedup", "clean-filter-shard-0000-of-000" + n, "clean"} {
				if _, err := os.Stat(filepath.Join(ws, ".chimed", "steps", rec+".json")); err != nil {
					t.Errorf("no completion record of %s: %v", rec, err)
				}
			}
			if bins, _ := filepath.Glob(filepath.Join(ws, ".chimed", "shuffle", "clean", "scan-*", "*", "*.bin")); len(bins) > 0 {
				t.Errorf("the merge left clean's shuffle data: %v", bins)
			}
		})
	}
}

// TestCleanShardTasks runs a sharded clean's tasks by hand: a relaunched
// task that finished is skipped, a scan of another n is refused, the
// dedup waits for every scan, and an unsharded clean starts over.
func TestCleanShardTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo's clean twice")
	}
	ws := t.TempDir()
	chimed(t, "-q", "-w", ws, "demo")
	chimed(t, "-q", "-w", ws, "ingest")
	chimed(t, "-q", "-w", ws, "clean", "--shard", "0/2")
	if _, err := runCLI("-q", "-w", ws, "clean", "--dedup"); err == nil || !strings.Contains(err.Error(), "clean --shard 1/2") {
		t.Errorf("dedup with a scan missing: %v, want it to name `clean --shard 1/2`", err)
	}
	chimed(t, "-q", "-w", ws, "clean", "--shard", "1/2")
	record := filepath.Join(ws, ".chimed", "steps", "clean-shard-0000-of-0002.json")
	before, err := os.Stat(record)
	if err != nil {
		t.Fatal(err)
	}
	chimed(t, "-q", "-w", ws, "clean", "--shard", "0/2")
	if after, err := os.Stat(record); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("a relaunched scan that had finished ran again (record %v, %v)", after, err)
	}
	if _, err := runCLI("-q", "-w", ws, "clean", "--shard", "0/3"); err == nil || !strings.Contains(err.Error(), "holds a clean in 2 shards") {
		t.Errorf("a scan of 3 tasks on a 2-task clean: %v, want a refusal naming 2 shards", err)
	}
	chimed(t, "-q", "-w", ws, "clean", "--dedup")
	if _, err := runCLI("-q", "-w", ws, "clean", "--filter", "--shard", "0/3"); err == nil || !strings.Contains(err.Error(), "ran over 2 shards") {
		t.Errorf("a filter of 3 tasks after a dedup of 2: %v, want a refusal naming 2 shards", err)
	}
	if _, err := runCLI("-q", "-w", ws, "build-stages"); err == nil {
		t.Error("build-stages started on a sharded clean that did not merge")
	}
	for _, i := range []string{"0/2", "1/2"} {
		chimed(t, "-q", "-w", ws, "clean", "--filter", "--shard", i)
	}
	chimed(t, "-q", "-w", ws, "clean", "--merge")
	sharded := fileSums(t, ws, "clean", "removed", "reports/clean.json")
	chimed(t, "-q", "-w", ws, "build-stages")
	chimed(t, "-q", "-w", ws, "clean")
	if m, _ := filepath.Glob(filepath.Join(ws, ".chimed", "steps", "clean-*")); len(m) != 0 {
		t.Errorf("an unsharded clean left the sharded one's records: %v", m)
	}
	one := fileSums(t, ws, "clean", "removed", "reports/clean.json")
	if !maps.Equal(sharded, one) || len(one) < 10 {
		t.Errorf("sharded clean wrote %d files, one process %d, or they differ", len(sharded), len(one))
	}
}
