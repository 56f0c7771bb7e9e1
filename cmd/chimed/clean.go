package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/clean"
)

func newCleanCmd(a *app) *cobra.Command {
	var noNear bool
	var workers int
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "normalized/ → clean/: normalise, mask PII, filter, dedup, decontaminate",
		Long: `clean normalises every normalized row (HTML, invisible characters, width, NFC,
whitespace, wrappers, sign-offs), masks PII, applies the quality filters, removes
exact and near duplicates and rows that overlap the eval sets, and writes
clean/<kind>/*.parquet, removed/*.parquet (each row with its reason) and
reports/clean.json. chimed.yaml's clean: section chooses the steps.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if err := a.dir().Require("ingest", "reports/ingest.json"); err != nil {
				return err
			}
			cc := cfg.Clean
			if noNear {
				off := false
				cc.Near.Enabled = &off
			}
			if workers > 0 {
				cc.Workers = workers
			}
			var sources []clean.Source
			for _, s := range cfg.Sources {
				sources = append(sources, clean.Source{Name: s.Name, Eval: s.IsEval()})
			}
			rep, err := clean.Run(cmd.Context(), clean.Options{
				Workspace: a.dir(), Sources: sources, Config: cc, Log: a.log, Bars: a.bars(),
			})
			if rep == nil {
				return err
			}
			a.log.Info("clean done", "in", rep.Totals.In, "kept", rep.Totals.Kept, "report", a.dir().Report("clean.json"))
			if !a.quiet {
				b, _ := json.Marshal(rep.Totals)
				fmt.Fprintln(os.Stderr, string(b))
			}
			return err // an eval set left empty: the report is written
		},
	}
	cmd.Flags().BoolVar(&noNear, "no-near-dedup", false, "skip MinHash near-dedup (overrides clean.near_dedup.enabled)")
	cmd.Flags().IntVar(&workers, "workers", 0, "worker goroutines (default: clean.workers or GOMAXPROCS)")
	return cmd
}
