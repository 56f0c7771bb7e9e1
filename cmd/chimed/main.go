// Command chimed turns a raw Chinese medical corpus into DCPT, SFT and DPO
// training data and trains a small model on it. Each subcommand maps its
// flags to the options of a pipeline step and runs it with pipeline.Exec;
// the steps, their order and their checks live in package pipeline.
package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/chimed/chimed/internal/escape"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/pipeline"
)

// version is stamped into manifests; set with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// app holds the global flags every subcommand shares.
type app struct {
	workspace string
	quiet     bool
	verbose   bool
	cpuprof   string
	memprof   string
	memoryArg string
	// memory is --memory in bytes (0: the default budget).
	memory int64
	// stopMemprof ends the --memprofile watcher.
	stopMemprof func()
	log         *slog.Logger
}

func (a *app) dir() workspace.Dir { return workspace.Dir(a.workspace) }

// exec runs steps as command cmd: under the workspace lock, each after
// the completion records of its inputs are checked (unless force).
func (a *app) exec(cmd *cobra.Command, force bool, steps ...pipeline.Step) error {
	env := pipeline.Env{Workspace: a.dir(), Log: a.log, Quiet: a.quiet, Out: cmd.OutOrStdout(), Version: version, Memory: a.memory}
	return pipeline.Exec(cmd.Context(), env, pipeline.ExecOptions{Command: cmd.Name(), Force: force}, steps...)
}

// forceFlag adds --force to a step command.
func forceFlag(c *cobra.Command, force *bool) {
	c.Flags().BoolVar(force, "force", false, "start even if the steps this one reads from did not finish, failed or are stale")
}

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
			if err := a.setMemory(); err != nil {
				return err
			}
			if a.cpuprof != "" {
				f, err := os.Create(a.cpuprof)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			if a.memprof != "" {
				a.stopMemprof = watchHeapPeak(a.log, a.memprof)
			}
			return nil
		},
		PersistentPostRun: func(cmd *cobra.Command, args []string) {
			if a.cpuprof != "" {
				pprof.StopCPUProfile()
			}
			if a.stopMemprof != nil {
				a.stopMemprof()
			}
		},
	}
	root.PersistentFlags().StringVarP(&a.workspace, "workspace", "w", ".", "workspace folder holding chimed.yaml and all outputs")
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "no progress bars, warnings only")
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "debug logging")
	root.PersistentFlags().StringVar(&a.cpuprof, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof)")
	root.PersistentFlags().StringVar(&a.memoryArg, "memory", "", "memory budget every step sizes its buffers and spills by, e.g. 2GiB (default 1GiB); also the Go runtime's soft limit")
	root.PersistentFlags().StringVar(&a.memprof, "memprofile", "", "write a heap profile taken when live heap was at its peak to this file (go tool pprof; -sample_index=inuse_space)")
	for _, c := range []*cobra.Command{
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
		newPlanCmd(a),
	} {
		root.AddCommand(c)
	}
	root.AddCommand(
		&cobra.Command{
			Use:   "version",
			Short: "print the version",
			Args:  cobra.NoArgs,
			Run:   func(cmd *cobra.Command, args []string) { fmt.Println(version) },
		},
	)
	return root
}

// setMemory parses --memory and makes it the runtime's soft memory limit,
// so the garbage collector works harder before the process passes it.
func (a *app) setMemory() error {
	if a.memoryArg == "" {
		return nil
	}
	n, err := humanize.ParseBytes(a.memoryArg)
	if err != nil || n < 64<<20 || n > math.MaxInt64 {
		return fmt.Errorf("--memory %q: want a size of at least 64MiB, like 512MiB or 4GiB", a.memoryArg)
	}
	a.memory = int64(n)
	debug.SetMemoryLimit(a.memory)
	return nil
}

// watchHeapPeak samples the live heap four times a second and rewrites
// path with a heap profile whenever it grows 5% past the largest seen, so
// the profile's inuse view shows what held memory at the peak (a profile
// taken at exit would show only what is left). The returned func stops it.
func watchHeapPeak(log *slog.Logger, path string) func() {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	write := func() {
		f, err := os.Create(path)
		if err != nil {
			log.Error("memprofile", "err", err)
			return
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			log.Error("memprofile", "file", path, "err", err)
		}
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				if peak == 0 {
					runtime.GC()
					write()
				}
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak+peak/20 {
				peak = v
				write()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		log.Debug("memprofile", "file", path, "peak_heap_bytes", peak)
	}
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		// Errors quote raw data (a file name, a decoder's view of a
		// byte): control characters are printed escaped.
		fmt.Fprintln(os.Stderr, "chimed:", escape.ControlsKeepLines(err.Error()))
		os.Exit(1)
	}
}
