package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/export"
)

func newExportCmd(a *app) *cobra.Command {
	var format, trlDPO string
	cmd := &cobra.Command{
		Use:   "export --format " + strings.Join(export.Names(), "|"),
		Short: "write the stage files in HF TRL, LLaMA-Factory, MedicalGPT or Hugging Face datasets layout under export/<format>/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := export.Options{TRLDPO: export.TRLDPOForm(trlDPO)}
			if format == "hf" { // the dataset card names each source's licence and address
				cfg, err := a.config()
				if err != nil {
					return err
				}
				opts.Sources = cfg.Sources
			}
			rep, err := export.Run(a.dir(), format, opts)
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
	cmd.Flags().StringVar(&trlDPO, "trl-dpo", string(export.TRLConversational),
		fmt.Sprintf("TRL DPO rows: %s (prompt, chosen and rejected as message lists, chat-templated like SFT) or %s (plain strings)",
			export.TRLConversational, export.TRLStandard))
	_ = cmd.MarkFlagRequired("format")
	return cmd
}
