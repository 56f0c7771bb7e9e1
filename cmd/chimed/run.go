package main

import (
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newRunCmd(a *app) *cobra.Command {
	var o pipeline.RunOptions
	c := &cobra.Command{
		Use:   "run",
		Short: "every step in order (ingest → clean → build-stages → stats → export → train → eval), skipping steps whose outputs are up to date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env := pipeline.Env{Workspace: a.dir(), Log: a.log, Quiet: a.quiet, Out: cmd.OutOrStdout(), Version: version, Memory: a.memory}
			return pipeline.Run(cmd.Context(), env, o)
		},
	}
	c.Flags().BoolVar(&o.Force, "force", false, "run every step even if its outputs are up to date or its inputs' records are wanting")
	c.Flags().BoolVar(&o.NoTrain, "no-train", false, "stop after the data steps (no train, no eval)")
	c.Flags().BoolVar(&o.KeepGoing, "keep-going", false, "ingest --keep-going: sources over their max_quarantine are a warning")
	return c
}
