package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newBuildStagesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "build-stages",
		Short: "not built yet (issue #4)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("build-stages is not built yet (issue #4)")
		},
	}
}
