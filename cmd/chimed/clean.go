package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newCleanCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "clean",
		Short: "not built yet (issue #3)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("clean is not built yet (issue #3)")
		},
	}
}
