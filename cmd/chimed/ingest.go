package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newIngestCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ingest",
		Short: "not built yet (issue #2)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("ingest is not built yet (issue #2)")
		},
	}
}
