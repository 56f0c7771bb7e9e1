package clean_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/chimed/chimed/clean"
)

// TestShardedMatchesRun runs clean's four sharded phases on the demo for
// several n, each task as its own call, and compares every file with
// Run's: clean/, removed/ and reports/clean.json, byte for byte. A
// relaunched filter task rewrites its sources' files to the same bytes.
func TestShardedMatchesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("cleans the demo five times")
	}
	ws, _, o := ingestedDemo(t)
	ctx := context.Background()
	if _, err := clean.Run(ctx, o); err != nil {
		t.Fatal(err)
	}
	want := clean.OutputBytes(t, ws)
	var rep clean.Report
	if err := json.Unmarshal([]byte(want[ws.Report("clean.json")]), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.NearDedup == nil || rep.NearDedup.Duplicates == 0 || rep.Totals.Removed[clean.ReasonDuplicate] == 0 {
		t.Fatalf("the demo has no near or exact duplicate to shard: %+v", rep.NearDedup)
	}
	for _, n := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint("shards=", n), func(t *testing.T) {
			for i := range n {
				if _, err := clean.ShardScan(ctx, o, i, n); err != nil {
					t.Fatalf("scan %d/%d: %v", i, n, err)
				}
			}
			if err := clean.ShardDedup(o, n); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(ws.Report("clean.json")); err == nil {
				t.Error("dedup left the earlier run's reports/clean.json")
			}
			for i := range n {
				if _, err := clean.ShardFilter(o, i, n); err != nil {
					t.Fatalf("filter %d/%d: %v", i, n, err)
				}
			}
			if n > 1 { // a relaunched filter task writes the same files
				if _, err := clean.ShardFilter(o, n-1, n); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := clean.ShardMerge(o, n); err != nil {
				t.Fatal(err)
			}
			clean.CompareOutputs(t, want, clean.OutputBytes(t, ws))
			// The merge keeps the tasks' counts alone, and runs again
			// from them.
			err := filepath.WalkDir(clean.ShuffleDir(ws), func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && filepath.Ext(path) != ".json" {
					t.Errorf("the merge left %s", path)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := clean.ShardMerge(o, n); err != nil {
				t.Fatalf("merge again: %v", err)
			}
			clean.CompareOutputs(t, want, clean.OutputBytes(t, ws))
		})
	}
}
