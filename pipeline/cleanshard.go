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

	"github.com/chimed/chimed/clean"
	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/workspace"
)

// A sharded clean is four phases (clean.ShardScan and the rest): `clean
// --shard i/n` array tasks, `clean --dedup`, `clean --filter --shard i/n`
// array tasks and `clean --merge`. Each task has its own completion
// record, so a relaunch skips what finished; the merge writes clean's own
// record, so build-stages and `chimed run` take the sharded clean for an
// unsharded one.

// Record names of the sharded clean's tasks besides the scan shards'
// (ShardStep("clean", s)).
const (
	cleanDedupStep  = "clean-dedup"
	cleanFilterStep = "clean-filter"
)

var (
	cleanScanRecord   = regexp.MustCompile(`^clean-shard-(\d{4})-of-(\d{4})\.json$`)
	cleanFilterRecord = regexp.MustCompile(`^clean-filter-shard-(\d{4})-of-(\d{4})\.json$`)
)

// cleanSettings are the chimed.yaml sections every clean phase reads.
var cleanSettings = []string{"sources", "clean"}

func cleanFlags(o CleanOptions) []string {
	if o.NoNearDedup {
		return []string{"--no-near-dedup"}
	}
	return nil
}

func shuffleRel(rel ...string) string {
	return filepath.ToSlash(filepath.Join(append([]string{".chimed", "shuffle", "clean"}, rel...)...))
}

// CleanShard is one scan task of a sharded clean (`chimed clean --shard
// i/n`): its share of normalized/ through pass 1 into the shuffle folder.
// RunClean refuses it when the workspace holds clean shards of another n.
func CleanShard(o CleanOptions) Step {
	sh := o.Shard
	return Step{
		Name: ShardStep("clean", sh), Command: "clean --shard " + sh.String(), Mark: shuffleRel(fmt.Sprintf("scan-%04d", sh.Index), "scan.json"),
		Needs:    []string{"ingest"},
		Settings: cleanSettings,
		Inputs:   paths("normalized"),
		Outputs:  []string{shuffleRel(fmt.Sprintf("scan-%04d", sh.Index))},
		Flags:    append([]string{"--shard=" + sh.String()}, cleanFlags(o)...),
		Run: func(ctx context.Context, env Env) (Counts, error) {
			opts, err := cleanOptions(env, o)
			if err != nil {
				return nil, err
			}
			rep, err := clean.ShardScan(ctx, opts, sh.Index, sh.Count)
			if err != nil {
				return nil, err
			}
			return Counts{"in": sourceIn(rep)}, nil
		},
	}
}

// CleanDedup is a sharded clean's dedup task (`chimed clean --dedup`),
// once every scan task's record is "ok" and current.
func CleanDedup(o CleanOptions) Step {
	return Step{
		Name: cleanDedupStep, Command: "clean --dedup", Mark: shuffleRel("dedup", "dedup.json"),
		Needs:    []string{"ingest"},
		Settings: cleanSettings,
		Inputs:   scanOutputs,
		Outputs:  []string{shuffleRel("dedup")},
		Flags:    cleanFlags(o),
		Run: func(ctx context.Context, env Env) (Counts, error) {
			n, err := cleanPhaseDone(env.Workspace, cleanScanRecord, "clean", "clean --shard")
			if err != nil {
				return nil, err
			}
			// clean/ and removed/ are about to be written again.
			if err := removeRecord(env.Workspace, "clean"); err != nil {
				return nil, err
			}
			opts, err := cleanOptions(env, o)
			if err != nil {
				return nil, err
			}
			return Counts{"shards": int64(n)}, clean.ShardDedup(opts, n)
		},
	}
}

// scanOutputs are normalized/ and every scan task's folder: a scan that
// ran again makes the dedup task stale.
func scanOutputs(env Env) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(clean.ShuffleDir(env.Workspace), "scan-*"))
	if err != nil {
		return nil, err
	}
	in := []string{"normalized"}
	for _, d := range dirs {
		in = append(in, shuffleRel(filepath.Base(d)))
	}
	return in, nil
}

// CleanFilter is one filter task of a sharded clean (`chimed clean
// --filter --shard i/n`): the clean/ and removed/ parts of its sources.
func CleanFilter(o CleanOptions) Step {
	sh := o.Shard
	report := shuffleRel(fmt.Sprintf("filter-%04d.json", sh.Index))
	return Step{
		Name: ShardStep(cleanFilterStep, sh), Command: "clean --filter --shard " + sh.String(), Mark: report,
		Needs:    []string{"ingest"},
		Settings: cleanSettings,
		Inputs:   paths("normalized", shuffleRel("dedup")),
		Outputs:  []string{report},
		Flags:    append([]string{"--filter", "--shard=" + sh.String()}, cleanFlags(o)...),
		Run: func(ctx context.Context, env Env) (Counts, error) {
			if err := cleanDedupDone(env.Workspace, sh.Count); err != nil {
				return nil, err
			}
			opts, err := cleanOptions(env, o)
			if err != nil {
				return nil, err
			}
			rep, err := clean.ShardFilter(opts, sh.Index, sh.Count)
			if err != nil {
				return nil, err
			}
			var kept int64
			for _, c := range rep.Sources {
				kept += c.Kept
			}
			return Counts{"kept": kept}, nil
		},
	}
}

// CleanMerge ends a sharded clean (`chimed clean --merge`): once every
// filter task's record is "ok", it writes reports/clean.json from every
// task's counts (clean.ShardMerge). Its record is clean's own.
func CleanMerge(o CleanOptions) Step {
	s := Clean(CleanOptions{NoNearDedup: o.NoNearDedup})
	s.Command = "clean --merge"
	s.Run = func(ctx context.Context, env Env) (Counts, error) {
		n, err := cleanPhaseDone(env.Workspace, cleanFilterRecord, cleanFilterStep, "clean --filter --shard")
		if err != nil {
			return nil, err
		}
		opts, err := cleanOptions(env, o)
		if err != nil {
			return nil, err
		}
		rep, err := clean.ShardMerge(opts, n)
		if rep == nil {
			return nil, err
		}
		return cleanDone(env, rep, err)
	}
	return s
}

func sourceIn(rep *clean.Report) int64 {
	var in int64
	for _, c := range rep.Sources {
		in += c.In
	}
	return in
}

// stepShardCounts lists, by n, the shard indexes of the records re
// matches.
func stepShardCounts(ws workspace.Dir, re *regexp.Regexp) (map[int][]int, error) {
	ents, err := os.ReadDir(filepath.Dir(RecordPath(ws, "x")))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[int][]int{}
	for _, e := range ents {
		m := re.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		out[n] = append(out[n], i)
	}
	return out, nil
}

// sameCleanShardCount refuses a clean shard of n tasks where shards of
// another n ran: the dedup task would read both.
func sameCleanShardCount(ws workspace.Dir, n int) error {
	return sameStepShardCount(ws, cleanScanRecord, "a clean", "clean", n)
}

// cleanPhaseDone returns the n of a sharded clean phase once every one of
// its n tasks has an "ok" record made with chimed.yaml's settings as they
// are now.
func cleanPhaseDone(ws workspace.Dir, re *regexp.Regexp, step, command string) (int, error) {
	counts, err := stepShardCounts(ws, re)
	if err != nil {
		return 0, err
	}
	if len(counts) == 0 {
		return 0, fmt.Errorf("no %s task has run: run `chimed %s i/n` for every i from 0 to n-1 first", step, command)
	}
	if len(counts) > 1 {
		var ns []int
		for n := range counts {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		return 0, fmt.Errorf("this workspace holds %s tasks of %v shards at once; start over with `chimed clean`", step, ns)
	}
	var n int
	for n = range counts {
	}
	_, settings, err := configHashes(ws, cleanSettings)
	if err != nil {
		return 0, err
	}
	for i := range n {
		sh := ingest.Shard{Index: i, Count: n}
		name, cmd := ShardStep(step, sh), command+" "+sh.String()
		rec, err := ReadRecord(ws, name)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return 0, &NotReadyError{Step: name, Command: cmd, Reason: fmt.Sprintf("task %s of %s did not finish", sh, step)}
		case err != nil:
			return 0, err
		case rec.Status != StatusOK:
			return 0, &NotReadyError{Step: name, Command: cmd, Reason: fmt.Sprintf("task %s of %s failed: %s", sh, step, rec.Error)}
		case rec.SettingsSHA256 != settings:
			return 0, &NotReadyError{Step: name, Command: cmd,
				Reason: fmt.Sprintf("task %s of %s is stale: chimed.yaml's sources or clean changed after it ran", sh, step)}
		}
	}
	return n, nil
}

// cleanDedupDone checks that the dedup task finished over n scan tasks.
func cleanDedupDone(ws workspace.Dir, n int) error {
	rec, err := ReadRecord(ws, cleanDedupStep)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &NotReadyError{Step: cleanDedupStep, Command: "clean --dedup", Reason: "clean's dedup task did not finish"}
	case err != nil:
		return err
	case rec.Status != StatusOK:
		return &NotReadyError{Step: cleanDedupStep, Command: "clean --dedup", Reason: "clean's dedup task failed: " + rec.Error}
	case rec.Rows["shards"] != int64(n):
		return fmt.Errorf("clean's dedup task ran over %d shards; a filter task of %d would miss rows: run `chimed clean --filter --shard i/%d`",
			rec.Rows["shards"], n, rec.Rows["shards"])
	}
	return nil
}

// forgetCleanShards removes a sharded clean's records and shuffle folder:
// what an unsharded clean does before it rewrites every output.
func forgetCleanShards(ws workspace.Dir) error {
	if err := removeMatching(RecordPath(ws, "clean-shard-*"), RecordPath(ws, cleanFilterStep+"-shard-*"), RecordPath(ws, cleanDedupStep)); err != nil {
		return err
	}
	return os.RemoveAll(clean.ShuffleDir(ws))
}

// RunClean is `chimed clean`: the whole clean, or one phase of a sharded
// one. A scan or filter task takes its shard from o.Shard or, when unset,
// an array task's environment (ingest.ShardFromEnv); a task whose record
// is current is skipped, so relaunching an array redoes only what did not
// finish.
func RunClean(ctx context.Context, env Env, o CleanOptions, force bool) error {
	phases := 0
	for _, on := range []bool{o.Dedup, o.Filter, o.Merge} {
		if on {
			phases++
		}
	}
	if phases > 1 {
		return errors.New("--dedup, --filter and --merge are phases of their own: give one")
	}
	if !o.Shard.Sharded() && !o.Dedup && !o.Merge {
		sh, ok, err := ingest.ShardFromEnv(os.Getenv)
		if err != nil {
			return err
		}
		if ok {
			o.Shard = sh
		}
	}
	if o.Filter && !o.Shard.Sharded() {
		return errors.New("--filter needs --shard i/n (or an array task's environment)")
	}
	if o.Shard.Sharded() && (o.Dedup || o.Merge) {
		return errors.New("--shard goes with neither --dedup nor --merge")
	}
	eo := ExecOptions{Command: "clean", Force: force}
	switch {
	case o.Shard.Sharded() && !o.Filter:
		// Refused before a record is written: a failed record of the other
		// n would itself be a shard of it.
		if err := sameCleanShardCount(env.Workspace, o.Shard.Count); err != nil {
			return err
		}
		eo.SkipUpToDate = true
		eo.Shard = ShardStep("clean", o.Shard)
	case o.Shard.Sharded():
		if err := cleanDedupDone(env.Workspace, o.Shard.Count); err != nil {
			return err
		}
		eo.SkipUpToDate = true
		eo.Shard = ShardStep(cleanFilterStep, o.Shard)
	case o.Dedup || o.Merge:
		eo.SkipUpToDate = true
	}
	return Exec(ctx, env, eo, Clean(o))
}

// CleanPhases are a sharded clean's jobs in a plan: the scan as n array
// tasks, the dedup task, the filter as n array tasks, and the merge.
func CleanPhases(n int) []Phase {
	return []Phase{
		{Name: "clean", Args: []string{"clean"}, Tasks: n, Sharded: true},
		{Name: "clean-dedup", Args: []string{"clean", "--dedup"}, Tasks: 1},
		{Name: "clean-filter", Args: []string{"clean", "--filter"}, Tasks: n, Sharded: true},
		{Name: "clean-merge", Args: []string{"clean", "--merge"}, Tasks: 1},
	}
}
