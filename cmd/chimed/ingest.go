package main

import (
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/ingest"
)

func newIngestCmd(a *app) *cobra.Command {
	var only []string
	var parallel int
	var keepGoing bool
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
			cfg, err := a.config()
			if err != nil {
				return err
			}
			start := time.Now()
			rep, err := ingest.Run(cmd.Context(), a.dir(), cfg.Sources, ingest.RunOptions{
				Only: only, Parallel: parallel, KeepGoing: keepGoing, Bars: a.bars(), Log: a.log,
			})
			if rep == nil {
				return err
			}
			names := make([]string, 0, len(rep.Sources))
			for n := range rep.Sources {
				names = append(names, n)
			}
			sort.Strings(names)
			out := cmd.OutOrStdout()
			for _, n := range names {
				s := rep.Sources[n]
				fmt.Fprintf(out, "%-28s %-10s read %8d  written %8d  quarantined %6d  %s\n",
					n, s.Kind, s.Read, s.Written, s.Quarantined, mb(s.Bytes))
			}
			t := rep.Totals
			secs := time.Since(start).Seconds()
			ran := t.Bytes // with --source, only the bytes of the sources run now
			if len(only) > 0 {
				ran = 0
				for _, n := range only {
					ran += rep.Sources[n].Bytes
				}
			}
			fmt.Fprintf(out, "%-28s %-10s read %8d  written %8d  quarantined %6d  %s in %.1fs\n",
				"total", "", t.Read, t.Written, t.Quarantined, mb(t.Bytes), secs)
			var ru syscall.Rusage
			if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
				// Linux reports ru_maxrss in KiB. CPU seconds show the cost
				// apart from waiting for a busy machine.
				cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
				a.log.Debug("ingest done", "MB/s", fmt.Sprintf("%.1f", float64(ran)/1e6/max(secs, 1e-9)),
					"peak_rss_MiB", ru.Maxrss/1024, "seconds", fmt.Sprintf("%.1f", secs),
					"cpu_seconds", fmt.Sprintf("%.1f", cpu), "MB_per_cpu_second", fmt.Sprintf("%.1f", float64(ran)/1e6/max(cpu, 1e-9)))
			}
			return err // the report's problems, if any: every output is written
		},
	}
	c.Flags().StringSliceVar(&only, "source", nil, "ingest only these sources (repeat or comma-separate); others keep their outputs")
	c.Flags().IntVar(&parallel, "parallel", 0, "sources ingested at once (default: number of CPUs)")
	c.Flags().BoolVar(&keepGoing, "keep-going", false, "warn of sources that quarantine more than their max_quarantine, and exit 0")
	return c
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
