package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newEvalCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "eval",
		Short: "not built yet (issue #5)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("eval is not built yet (issue #5)")
		},
	}
}
