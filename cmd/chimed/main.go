// Command chimed turns a raw Chinese medical corpus into DCPT, SFT and DPO
// training data and trains a small model on it. Each subcommand parses its
// flags and calls one package; no pipeline logic lives here.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
)

// version is stamped into manifests; set with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// app holds the global flags every subcommand shares.
type app struct {
	workspace string
	quiet     bool
	verbose   bool
	cpuprof   string
	log       *slog.Logger
}

func (a *app) dir() workspace.Dir { return workspace.Dir(a.workspace) }

func (a *app) bars() *progress.Bars { return progress.New(a.quiet) }

func (a *app) config() (*config.Config, error) { return config.Load(a.workspace) }

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "chimed",
		Short:         "Chinese medical corpus → DCPT/SFT/DPO training data → a trained model",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelInfo
			if a.verbose {
				level = slog.LevelDebug
			}
			if a.quiet {
				level = slog.LevelWarn
			}
			a.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			if a.cpuprof != "" {
				f, err := os.Create(a.cpuprof)
				if err != nil {
					return err
				}
				return pprof.StartCPUProfile(f)
			}
			return nil
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			if a.cpuprof != "" {
				pprof.StopCPUProfile()
			}
		},
	}
	root.PersistentFlags().StringVarP(&a.workspace, "workspace", "w", ".", "workspace folder holding chimed.yaml and all outputs")
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "no progress bars, warnings only")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "debug logging")
	root.PersistentFlags().StringVar(&a.cpuprof, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	root.AddCommand(
		newDemoCmd(a),
		newIngestCmd(a),
		newCleanCmd(a),
		newBuildStagesCmd(a),
		newStatsCmd(a),
		newExportCmd(a),
		newTrainCmd(a),
		newDPONegativesCmd(a),
		newEvalCmd(a),
		newRunCmd(a),
		&cobra.Command{
			Use:   "version",
			Short: "print the version",
			Run:   func(cmd *cobra.Command, args []string) { fmt.Println(version) },
		},
	)
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chimed:", err)
		os.Exit(1)
	}
}
