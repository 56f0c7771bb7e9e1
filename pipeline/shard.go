package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
)

// ShardStep names the completion record of one array task of a sharded
// step: "ingest-shard-0002-of-0007".
func ShardStep(step string, s ingest.Shard) string { return step + "-shard-" + s.Name() }

var ingestShardRecord = regexp.MustCompile(`^ingest-shard-(\d{4})-of-(\d{4})\.json$`)

// IngestShard is one array task of a sharded ingest (`chimed ingest
// --shard i/n`): its share of the raw files (ingest.Shard) into parts of
// its own, its counts into .chimed/shards/, and its own completion record,
// so a relaunch of the whole array skips the tasks that finished. It
// refuses to start when the workspace holds shards of another n, whose
// parts would be read beside its own.
func IngestShard(o IngestOptions) Step {
	sh := o.Shard
	report := filepath.ToSlash(filepath.Join(".chimed", "shards", "ingest-"+sh.Name()+".json"))
	return Step{
		Name: ShardStep("ingest", sh), Command: "ingest --shard " + sh.String(), Mark: report,
		Settings: []string{"version", "sources"},
		Outputs:  []string{report},
		Inputs:   rawFiles,
		Flags:    []string{"--shard=" + sh.String()},
		Run: func(ctx context.Context, env Env) (Counts, error) {
			if err := sameShardCount(env.Workspace, sh.Count); err != nil {
				return nil, err
			}
			cfg, err := env.Config()
			if err != nil {
				return nil, err
			}
			split, err := splitBytes(os.Getenv)
			if err != nil {
				return nil, err
			}
			_, err = ingest.Run(ctx, env.Workspace, cfg.Sources, ingest.RunOptions{
				Parallel: o.Parallel, KeepGoing: o.KeepGoing, Shard: sh, SplitBytes: split, Bars: env.Bars(), Log: env.Log,
			})
			return nil, err
		},
	}
}

// EnvSplitBytes names the environment variable that sets the size above
// which an ingest shard reads a JSON Lines or text file in pieces
// (ingest.DefaultSplitBytes when unset; 0 or less: never). Every shard of
// an array must see the same value, which the array's environment gives.
const EnvSplitBytes = "CHIMED_SPLIT_BYTES"

// splitBytes reads EnvSplitBytes in bytes, as ingest.RunOptions.SplitBytes
// takes it.
func splitBytes(getenv func(string) string) (int64, error) {
	v := getenv(EnvSplitBytes)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a number of bytes", EnvSplitBytes, v)
	}
	if n <= 0 {
		return -1, nil
	}
	return n, nil
}

// IngestMerge ends a sharded ingest (`chimed ingest --merge`): once every
// shard's record is "ok" and current, it writes reports/ingest.json from
// their counts and runs ingest's checks (ingest.Merge). Its completion
// record is ingest's own, so clean and `chimed run` take the sharded
// ingest for an unsharded one.
func IngestMerge(o IngestOptions) Step {
	s := Ingest(IngestOptions{KeepGoing: o.KeepGoing})
	s.Command = "ingest --merge"
	s.Run = func(ctx context.Context, env Env) (Counts, error) {
		n, err := shardsDone(env.Workspace)
		if err != nil {
			return nil, err
		}
		cfg, err := env.Config()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		rep, err := ingest.Merge(env.Workspace, cfg.Sources, n, ingest.RunOptions{KeepGoing: o.KeepGoing, Log: env.Log})
		if rep == nil {
			return nil, err
		}
		return printIngest(env, o, rep, start, err)
	}
	return s
}

// shardCounts lists the n of every ingest shard record in the workspace,
// and the records by n.
func shardCounts(ws workspace.Dir) (map[int][]int, error) {
	return stepShardCounts(ws, ingestShardRecord)
}

// sameShardCount refuses an ingest shard of n tasks where shards of
// another n ran: their parts would be read beside its own.
func sameShardCount(ws workspace.Dir, n int) error {
	return sameStepShardCount(ws, ingestShardRecord, "an ingest", "ingest", n)
}

// sameStepShardCount refuses a task of an n-task array where the records
// re matches show an array of another n ran; what names the step's work
// ("a clean") and command its command.
func sameStepShardCount(ws workspace.Dir, re *regexp.Regexp, what, command string, n int) error {
	counts, err := stepShardCounts(ws, re)
	if err != nil {
		return err
	}
	for m := range counts {
		if m != n {
			return fmt.Errorf("this workspace holds %s in %d shards; %d shards would be read beside them: "+
				"run it again with --shard i/%d, or start over with `chimed %s` (unsharded, it removes the shards)", what, m, n, m, command)
		}
	}
	return nil
}

// shardsDone returns the n of the workspace's sharded ingest once every
// one of its shards has an "ok" record made with chimed.yaml's sources as
// they are now.
func shardsDone(ws workspace.Dir) (int, error) {
	counts, err := shardCounts(ws)
	if err != nil {
		return 0, err
	}
	if len(counts) == 0 {
		return 0, errors.New("no sharded ingest to merge: run `chimed ingest --shard i/n` for every i from 0 to n-1 first")
	}
	if len(counts) > 1 {
		ns := slices.Sorted(func(yield func(int) bool) {
			for n := range counts {
				if !yield(n) {
					return
				}
			}
		})
		return 0, fmt.Errorf("this workspace holds ingest shards of %v tasks at once; start over with `chimed ingest`", ns)
	}
	var n int
	for n = range counts {
	}
	_, settings, err := configHashes(ws, []string{"version", "sources"})
	if err != nil {
		return 0, err
	}
	for i := range n {
		sh := ingest.Shard{Index: i, Count: n}
		rec, err := ReadRecord(ws, ShardStep("ingest", sh))
		switch {
		case errors.Is(err, os.ErrNotExist):
			return 0, &NotReadyError{Step: ShardStep("ingest", sh), Command: "ingest --shard " + sh.String(),
				Reason: fmt.Sprintf("shard %s of ingest did not finish", sh)}
		case err != nil:
			return 0, err
		case rec.Status != StatusOK:
			return 0, &NotReadyError{Step: rec.Step, Command: "ingest --shard " + sh.String(),
				Reason: fmt.Sprintf("shard %s of ingest failed: %s", sh, rec.Error)}
		case rec.SettingsSHA256 != settings:
			return 0, &NotReadyError{Step: rec.Step, Command: "ingest --shard " + sh.String(),
				Reason: fmt.Sprintf("shard %s of ingest is stale: chimed.yaml's sources changed after it ran", sh)}
		}
	}
	return n, nil
}

// forgetShards removes a sharded ingest's records and counts: what an
// unsharded ingest does before it rewrites every part.
func forgetShards(ws workspace.Dir) error {
	return removeMatching(RecordPath(ws, "ingest-shard-*"), ws.Path(".chimed", "shards", "ingest-*.json"))
}

// removeMatching removes every file the glob patterns match.
func removeMatching(patterns ...string) error {
	for _, pat := range patterns {
		paths, err := filepath.Glob(pat)
		if err != nil {
			return err
		}
		for _, p := range paths {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// RunIngest is `chimed ingest`: the whole ingest, one shard of it (from
// o.Shard or, when unset, an array task's environment: ingest.ShardFromEnv),
// or the merge. A shard whose record is current is skipped, so relaunching
// an array redoes only the tasks that did not finish.
func RunIngest(ctx context.Context, env Env, o IngestOptions, force bool) error {
	if !o.Shard.Sharded() && !o.Merge {
		sh, ok, err := ingest.ShardFromEnv(os.Getenv)
		if err != nil {
			return err
		}
		if ok {
			o.Shard = sh
		}
	}
	eo := ExecOptions{Command: "ingest", Force: force}
	if o.Shard.Sharded() {
		if len(o.Only) > 0 || o.Merge {
			return errors.New("--shard goes with neither --source nor --merge")
		}
		eo.Shard, eo.SkipUpToDate = ShardStep("ingest", o.Shard), true
		// Refused before Exec, which would write the refused shard a
		// failed record: its n beside the array's would then make the
		// merge see two shard counts. The step checks again under the lock.
		if err := sameShardCount(env.Workspace, o.Shard.Count); err != nil {
			return err
		}
	}
	return Exec(ctx, env, eo, Ingest(o))
}
