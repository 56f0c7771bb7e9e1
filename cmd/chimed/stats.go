package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newStatsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "not built yet (issue #4)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("stats is not built yet (issue #4)")
		},
	}
}
