package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/runstate"
)

// step is one pipeline step as `chimed run` sees it: the subcommand that
// does it, with its flags, and the paths it reads and writes.
type step struct {
	name    string
	cmd     func() *cobra.Command
	flags   []string
	inputs  []string
	outputs []string
}

func newRunCmd(a *app) *cobra.Command {
	var force bool
	var skipTrain bool
	var keepGoing bool
	c := &cobra.Command{
		Use:   "run",
		Short: "every step in order (ingest → clean → build-stages → stats → export → train → eval), skipping steps whose outputs are up to date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			d := a.dir()
			var raw []string
			for i := range cfg.Sources {
				files, err := ingest.SourceFiles(d, &cfg.Sources[i])
				if err != nil {
					return err
				}
				raw = append(raw, files...)
			}
			conf := d.Config()
			var ingestFlags []string
			if keepGoing {
				ingestFlags = []string{"--keep-going"}
			}
			steps := []step{
				{"ingest", func() *cobra.Command { return newIngestCmd(a) }, ingestFlags,
					append([]string{conf}, raw...), []string{d.Path("normalized"), d.Quarantine(), d.Report("ingest.json")}},
				{"clean", func() *cobra.Command { return newCleanCmd(a) }, nil,
					[]string{conf, d.Path("normalized")}, []string{d.Path("clean"), d.Removed(), d.Report("clean.json")}},
				{"build-stages", func() *cobra.Command { return newBuildStagesCmd(a) }, nil,
					[]string{conf, d.Path("clean")}, []string{d.Stages()}},
				{"stats", func() *cobra.Command { return newStatsCmd(a) }, nil,
					[]string{conf, d.Report("ingest.json"), d.Report("clean.json"), d.Path("clean"), d.Removed(), d.Stages()},
					[]string{d.Report("stats.html"), d.Report("stats.md"), d.Report("stats.json")}},
			}
			for _, f := range []string{"trl", "llamafactory", "medicalgpt", "hf"} {
				steps = append(steps, step{"export-" + f, func() *cobra.Command { return newExportCmd(a) },
					[]string{"--format", f}, []string{d.Stages()}, []string{d.Export(f)}})
			}
			if !skipTrain {
				steps = append(steps,
					step{"train", func() *cobra.Command { return newTrainCmd(a) }, []string{"--stage", "all"},
						[]string{conf, d.Stages()}, []string{d.Path("runs")}},
					step{"eval", func() *cobra.Command { return newEvalCmd(a) }, nil,
						[]string{d.Path("runs"), d.Stages()}, []string{d.Report("eval.json"), d.Report("eval.md")}},
				)
			}
			store := runstate.Store{Dir: d.Path(".chimed")}
			for _, s := range steps {
				in, err := runstate.Fingerprint(string(d), s.inputs...)
				if err != nil {
					return err
				}
				// The flags are inputs too: outputs ingest made with
				// --keep-going are not up to date for a run without it.
				in += strings.Join(append([]string{""}, s.flags...), " ")
				out, err := runstate.Fingerprint(string(d), s.outputs...)
				if err != nil {
					return err
				}
				if !force && store.UpToDate(s.name, in, out) {
					a.log.Info("up to date, skipped", "step", s.name)
					continue
				}
				a.log.Info("running", "step", s.name)
				start := time.Now()
				sc := s.cmd()
				if err := sc.ParseFlags(s.flags); err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				sc.SetContext(cmd.Context())
				if err := sc.RunE(sc, nil); err != nil {
					store.Forget(s.name)
					return fmt.Errorf("%s: %w", s.name, err)
				}
				if out, err = runstate.Fingerprint(string(d), s.outputs...); err != nil {
					return err
				}
				if err := store.Record(s.name, in, out); err != nil {
					return err
				}
				a.log.Info("done", "step", s.name, "took", time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "run every step even if its outputs are up to date")
	c.Flags().BoolVar(&skipTrain, "no-train", false, "stop after the data steps (no train, no eval)")
	c.Flags().BoolVar(&keepGoing, "keep-going", false, "ingest --keep-going: sources over their max_quarantine are a warning")
	return c
}
