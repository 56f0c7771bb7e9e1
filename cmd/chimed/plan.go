package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chimed/chimed/pipeline"
)

func newPlanCmd(a *app) *cobra.Command {
	var o pipeline.PlanOptions
	c := &cobra.Command{
		Use:   "plan",
		Short: "run or write `chimed run` as sharded array tasks: --executor local | slurm (sbatch) | k8s (Indexed Jobs)",
		Long: "plan splits `chimed run` into phases: ingest as --shards array tasks, `ingest --merge`,\n" +
			"clean as --shards scan tasks, `clean --dedup`, --shards `clean --filter` tasks and `clean --merge`,\n" +
			"then every other step as one task, each phase starting once the one before succeeded.\n" +
			"--executor local runs them here (the shards as parallel processes); slurm writes an sbatch\n" +
			"script per phase (--array for the shards) and submit.sh, which chains them with\n" +
			"--dependency=afterok; k8s writes a Job manifest per phase (an Indexed Job for the shards)\n" +
			"mounting --pvc at --workspace-path, and submit.sh, which applies them in order.\n" +
			"Relaunching skips shards that finished; another --shards on the same workspace is refused.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Workspace == "" {
				o.Workspace = string(a.dir())
				if o.Executor == "k8s" {
					o.Workspace = "/workspace"
				} else if abs, err := filepath.Abs(o.Workspace); err == nil {
					o.Workspace = abs
				}
			}
			if o.Executor == "local" {
				bin, err := os.Executable()
				if err != nil {
					return err
				}
				o.Binary = bin
				return pipeline.RunLocal(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			if o.Out == "" {
				o.Out = "chimed-plan-" + o.Executor
			}
			files, err := pipeline.Plan(o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(files, "\n"))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Executor, "executor", "local", "local | slurm | k8s")
	f.IntVar(&o.Shards, "shards", 1, "array tasks of each sharded phase (ingest, clean's scan and filter)")
	f.BoolVar(&o.NoTrain, "no-train", false, "stop after the data steps (no train, no eval)")
	f.StringVar(&o.Through, "through", "", "last step to plan (e.g. build-stages)")
	f.StringVar(&o.Out, "out", "", "folder for the scripts or manifests (default chimed-plan-<executor>)")
	f.StringVar(&o.Binary, "binary", "chimed", "chimed as the tasks run it (slurm: a path on the nodes; k8s: the container's command)")
	f.StringVar(&o.Workspace, "workspace-path", "", "the workspace as tasks see it (default: -w made absolute; k8s: /workspace, where --pvc is mounted)")
	f.StringVar(&o.Partition, "partition", "", "slurm: --partition of every job")
	f.IntVar(&o.CPUs, "cpus", 0, "slurm: --cpus-per-task of every job")
	f.StringVar(&o.Mem, "mem", "", "slurm: --mem of every job (e.g. 4G)")
	f.StringVar(&o.Image, "image", "", "k8s: container image holding chimed")
	f.StringVar(&o.PVC, "pvc", "", "k8s: PersistentVolumeClaim (ReadWriteMany) holding the workspace")
	f.StringVar(&o.Namespace, "namespace", "", "k8s: namespace of the Jobs")
	f.IntVar(&o.Retries, "retries", 2, "k8s: retries per task (backoffLimitPerIndex, backoffLimit)")
	return c
}
