package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newTrainCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "train",
		Short: "not built yet (issue #5)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("train is not built yet (issue #5)")
		},
	}
}
