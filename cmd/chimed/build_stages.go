package main

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/schemas"
	"github.com/chimed/chimed/stages"
)

func newBuildStagesCmd(a *app) *cobra.Command {
	var noCheck bool
	var seed int64 = -1
	c := &cobra.Command{
		Use:   "build-stages",
		Short: "clean/ → stages/{dcpt,sft,dpo}/{train,valid,test}.parquet, stages/eval/, stages/manifest.json",
		Long: `build-stages turns clean records into the three training stages (DCPT: text and
verbalised KG; SFT: QA, KG→QA, dialogues, exam questions; DPO: preference pairs and
exam-derived pairs) split deterministically into train/valid/test by hashing each
record's near-duplicate cluster (else its canonical question or text) with the seed,
and writes the held-out eval sets from sources with role: eval. stages/manifest.json
lists every file with rows, bytes and sha256 and follows every clean record of every
source into the stages (used, or not used with a reason); stages/kg_stats.json holds
the knowledge-graph statistics; stages/lineage/ traces each row to its clean records.
An independent leakage check runs last unless --no-check.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			// clean writes clean.json last and removes it first: without it
			// clean/ is a killed run's half (parts of some sources only).
			if err := a.dir().Require("clean", "reports/clean.json"); err != nil {
				return err
			}
			s := cfg.Seed
			if seed >= 0 {
				s = uint64(seed)
			}
			kinds := map[string]schemas.Kind{}
			for _, src := range cfg.Sources {
				kinds[src.Name] = src.Kind
			}
			start := time.Now()
			m, err := stages.Build(stages.Options{
				Workspace: a.dir(), Config: cfg.Stages, KG: cfg.KG, Dialogue: cfg.Dialogue,
				Seed: s, EvalSources: cfg.EvalSources(), Sources: kinds, ConfigHash: cfg.Hash, Version: version,
				Check: !noCheck, Log: a.log, Bars: a.bars(),
			})
			if m == nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, st := range schemas.Stages {
				fmt.Fprintf(out, "%-5s", st)
				for _, split := range schemas.Splits {
					c := m.Stages[st][split]
					fmt.Fprintf(out, "  %s %7d rows %10d tokens", split, c.Rows, c.Tokens)
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
			a.log.Info("build-stages done", "seconds", fmt.Sprintf("%.1f", secs),
				"leakage_check", m.LeakageCheck, "manifest", stages.ManifestPath(a.dir()))
			if m.Totals.In != m.Totals.Used+sum(m.Totals.Unused) {
				fmt.Fprintln(os.Stderr, "warning: manifest counts do not add up")
			}
			return err // an eval set left empty: the manifest is written
		},
	}
	c.Flags().BoolVar(&noCheck, "no-check", false, "skip the independent leakage check (it re-reads every stage file)")
	c.Flags().Int64Var(&seed, "seed", -1, "override chimed.yaml's seed (the split changes, nothing else)")
	return c
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
