package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/export"
	"github.com/chimed/chimed/pipeline"
)

func newExportCmd(a *app) *cobra.Command {
	var format, trlDPO string
	var force bool
	cmd := &cobra.Command{
		Use:   "export --format " + strings.Join(export.Names(), "|"),
		Short: "write the stage files in HF TRL, LLaMA-Factory, MedicalGPT or Hugging Face datasets layout under export/<format>/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(export.Names(), format) {
				return fmt.Errorf("unknown export format %q (want one of %s)", format, strings.Join(export.Names(), ", "))
			}
			return a.exec(cmd, force, pipeline.Export(pipeline.ExportOptions{Format: format, TRLDPO: export.TRLDPOForm(trlDPO)}))
		},
	}
	cmd.Flags().StringVar(&format, "format", "", fmt.Sprintf("target trainer's layout: %s", strings.Join(export.Names(), ", ")))
	cmd.Flags().StringVar(&trlDPO, "trl-dpo", string(export.TRLConversational),
		fmt.Sprintf("TRL DPO rows: %s (prompt, chosen and rejected as message lists, chat-templated like SFT) or %s (plain strings)",
			export.TRLConversational, export.TRLStandard))
	_ = cmd.MarkFlagRequired("format")
	forceFlag(cmd, &force)
	return cmd
}
