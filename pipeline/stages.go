package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

// BuildStagesOptions are `chimed build-stages`' flags.
type BuildStagesOptions struct {
	// Check also re-reads every written file with stages.CheckLeakage; the
	// check folded into the build runs either way, so the outputs are the
	// same bytes with or without it.
	Check bool
	// Seed overrides chimed.yaml's seed when ≥ 0.
	Seed int64
}

// CheckByDefault is whether build-stages re-reads its files with the
// independent leakage check unless told: under CI (CI set, as .ci/run
// sets it) and in test binaries.
func CheckByDefault() bool { return os.Getenv("CI") != "" || testing.Testing() }

// BuildStages turns clean/ into the stage files, the eval sets, lineage,
// stages/kg_stats.json and, last, stages/manifest.json (stages.Build).
// When the build fails after it has removed the manifest (a failed
// leakage check among others), no stage file is left under its final
// name: without a manifest they are a failed build's.
func BuildStages(o BuildStagesOptions) Step {
	s := Step{
		Name: "build-stages", Command: "build-stages", Mark: "stages/manifest.json",
		Needs:    []string{"clean"},
		Settings: []string{"seed", "sources", "stages", "kg", "dialogue"},
		Inputs:   paths("clean"),
		Outputs:  stageOutputs(),
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runBuildStages(env, o)
		},
	}
	if o.Seed >= 0 {
		s.Flags = append(s.Flags, "--seed="+strconv.FormatInt(o.Seed, 10))
	}
	return s
}

// stageOutputs are the files build-stages writes, manifest first. They
// leave out stages/dpo/negatives.parquet, which dpo-negatives writes.
func stageOutputs() []string {
	out := []string{"stages/manifest.json", "stages/kg_stats.json", "stages/eval", "stages/lineage"}
	for _, st := range schemas.Stages {
		for _, split := range schemas.Splits {
			out = append(out, "stages/"+string(st)+"/"+split+".parquet")
		}
	}
	return out
}

func runBuildStages(env Env, o BuildStagesOptions) (Counts, error) {
	cfg, err := env.Config()
	if err != nil {
		return nil, err
	}
	s := cfg.Seed
	if o.Seed >= 0 {
		s = uint64(o.Seed)
	}
	kinds := map[string]schemas.Kind{}
	for _, src := range cfg.Sources {
		kinds[src.Name] = src.Kind
	}
	ws := env.Workspace
	start := time.Now()
	m, err := stages.Build(stages.Options{
		Workspace: ws, Config: cfg.Stages, KG: cfg.KG, Dialogue: cfg.Dialogue,
		Seed: s, EvalSources: cfg.EvalSources(), Sources: kinds, ConfigHash: cfg.Hash, Version: env.Version,
		Check: o.Check, Memory: env.MemoryBudget(), Log: env.Log, Bars: env.Bars(),
	})
	if m == nil {
		return nil, errors.Join(err, removeUnvouched(env))
	}
	out := env.Out
	rows := Counts{"eval/exam": m.Eval["exam"], "eval/qa": m.Eval["qa"]}
	for _, st := range schemas.Stages {
		fmt.Fprintf(out, "%-5s", st)
		for _, split := range schemas.Splits {
			c := m.Stages[st][split]
			fmt.Fprintf(out, "  %s %7d rows %10d tokens", split, c.Rows, c.Tokens)
			rows[string(st)+"/"+split] = c.Rows
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "eval   exam %d  qa %d\n", m.Eval["exam"], m.Eval["qa"])
	names := make([]string, 0, len(m.Sources))
	for n := range m.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src := m.Sources[n]
		fmt.Fprintf(out, "%-28s %-10s in %8d  used %8d  unused %s\n", n, src.Kind, src.In, src.Used, countsText(src.Unused))
	}
	secs := time.Since(start).Seconds()
	tp := m.Throughput
	fmt.Fprintf(out, "read %d clean rows (%.1f MB Parquet), wrote %.1f MB of stage text in %.1fs: %.1f MB/s of text\n",
		tp.CleanRows, float64(tp.CleanBytes)/1e6, float64(tp.TextBytes)/1e6, secs, float64(tp.TextBytes)/1e6/max(secs, 1e-9))
	env.Log.Info("build-stages done", "seconds", fmt.Sprintf("%.1f", secs),
		"leakage_check", m.LeakageCheck, "manifest", stages.ManifestPath(ws))
	if m.Totals.In != m.Totals.Used+sum(m.Totals.Unused) {
		fmt.Fprintln(os.Stderr, "warning: manifest counts do not add up")
	}
	return rows, err // an eval set left empty: the manifest is written
}

// removeUnvouched removes build-stages' outputs when a failed build has
// left no manifest: stages.Build commits each stage file before its
// leakage check reads them back, so a failed check would otherwise leave
// them under their final names for a trainer to find. A build that failed
// before removing an earlier manifest leaves that build's files alone.
func removeUnvouched(env Env) error {
	ws := env.Workspace
	if _, err := os.Stat(stages.ManifestPath(ws)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	for _, rel := range stageOutputs() {
		p := ws.Path(filepath.FromSlash(rel))
		if _, err := os.Stat(p); err != nil {
			continue
		}
		env.Log.Warn("build-stages failed: removing its output", "path", rel)
		errs = append(errs, os.RemoveAll(p))
	}
	return errors.Join(errs...)
}

// countsText writes reason counts as "eval_overlap=47 too_short=3", by
// reason name, or "none": what a person reads, not Go's map syntax.
func countsText(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
