package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDemoCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "not built yet (issue #2)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("demo is not built yet (issue #2)")
		},
	}
}
