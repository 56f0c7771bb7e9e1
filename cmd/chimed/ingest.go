package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/pipeline"
)

func newIngestCmd(a *app) *cobra.Command {
	var o pipeline.IngestOptions
	var force bool
	c := &cobra.Command{
		Use:   "ingest",
		Short: "raw sources of chimed.yaml → normalized/<kind>/, quarantine/, reports/ingest.json",
		Long: "ingest reads every source named in chimed.yaml (or only those given with --source),\n" +
			"maps each raw record to its canonical kind and writes normalized/<kind>/<source>-NNNNN.parquet;\n" +
			"records it cannot read or map go to quarantine/<source>-NNNNN.parquet with the file, place and\n" +
			"error. reports/ingest.json counts read, written, quarantined and bytes per source.\n" +
			"A source that quarantines more than its max_quarantine (default 5%) fails ingest, naming\n" +
			"its first errors, once every output is written; --keep-going makes that a warning.\n" +
			"Presets: " + fmt.Sprint(ingest.PresetNames()),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.exec(cmd, force, pipeline.Ingest(o))
		},
	}
	c.Flags().StringSliceVar(&o.Only, "source", nil, "ingest only these sources (repeat or comma-separate); others keep their outputs")
	c.Flags().IntVar(&o.Parallel, "parallel", 0, "sources ingested at once (default: number of CPUs)")
	c.Flags().BoolVar(&o.KeepGoing, "keep-going", false, "warn of sources that quarantine more than their max_quarantine, and exit 0")
	forceFlag(c, &force)
	return c
}
