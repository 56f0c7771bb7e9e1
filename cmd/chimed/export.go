package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/export"
)

func newExportCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export --format " + strings.Join(export.Names(), "|"),
		Short: "write the stage files in HF TRL, LLaMA-Factory or MedicalGPT layout under export/<format>/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := export.Run(a.dir(), format)
			if err != nil {
				return err
			}
			var rows, skipped int64
			for _, f := range rep.Files {
				rows += f.Rows
				for _, n := range f.Skipped {
					skipped += n
				}
			}
			for _, n := range rep.Notes {
				a.log.Warn("export", "note", n)
			}
			a.log.Info("export done", "format", format, "dir", a.dir().Export(format),
				"files", len(rep.Files), "rows", rows, "skipped", skipped,
				"report", a.dir().Report("export-"+format+".json"))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", fmt.Sprintf("target trainer's layout: %s", strings.Join(export.Names(), ", ")))
	_ = cmd.MarkFlagRequired("format")
	return cmd
}
