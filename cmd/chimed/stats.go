package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newStatsCmd(a *app) *cobra.Command {
	opts := pipeline.StatsDefaults
	var force bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "describe the workspace in reports/stats.html (charts), stats.md and stats.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.exec(cmd, force, pipeline.Stats(opts))
		},
	}
	cmd.Flags().Int64Var(&opts.WordCap, "word-cap", opts.WordCap, "rows per stage segmented with jieba in full before sampling")
	cmd.Flags().Int64Var(&opts.WordStride, "word-stride", opts.WordStride, "past the cap, segment 1 row in this many (chosen by id hash)")
	cmd.Flags().BoolVar(&opts.NoWords, "no-words", false, "skip jieba word counts")
	forceFlag(cmd, &force)
	return cmd
}
