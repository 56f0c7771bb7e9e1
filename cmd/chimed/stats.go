package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/stats"
	"github.com/chimed/chimed/trainer"
)

func newStatsCmd(a *app) *cobra.Command {
	var opts stats.Options
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "describe the workspace in reports/stats.html (charts), stats.md and stats.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var train trainer.Config // chimed.yaml's train: settings, or the defaults without one
			if cfg, err := a.config(); err == nil {
				train = cfg.Train
			}
			if tok, from, err := trainer.StageTokenizer(a.dir(), train); err == nil {
				opts.Tokenizer, opts.TokenizerFrom = tok, from
			} else {
				opts.TokenizerFrom = err.Error()
			}
			rep, err := stats.Run(a.dir(), opts)
			if err != nil {
				return err
			}
			for _, n := range rep.Notes {
				a.log.Debug("stats", "note", n)
			}
			a.log.Info("stats done", "html", a.dir().Report("stats.html"), "stages", len(rep.Stages),
				"notes", len(rep.Notes), "notes_in", a.dir().Report("stats.md"))
			return nil
		},
	}
	cmd.Flags().Int64Var(&opts.WordCap, "word-cap", 20_000, "rows per stage segmented with jieba in full before sampling")
	cmd.Flags().Int64Var(&opts.WordStride, "word-stride", 16, "past the cap, segment 1 row in this many (chosen by id hash)")
	cmd.Flags().BoolVar(&opts.NoWords, "no-words", false, "skip jieba word counts")
	return cmd
}
