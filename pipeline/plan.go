package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/chimed/chimed/ingest"
	"github.com/chimed/chimed/internal/atomicfile"
)

// Executors are the engines `chimed plan` writes for.
var Executors = []string{"local", "slurm", "k8s"}

// PlanOptions are `chimed plan`'s flags.
type PlanOptions struct {
	// Executor is "local" (run the plan here as processes), "slurm"
	// (sbatch scripts and a submit script) or "k8s" (Job manifests).
	Executor string
	// Shards is how many array tasks run each sharded phase (ingest,
	// clean's scan and filter).
	Shards int
	// NoTrain stops after the data steps, as `chimed run --no-train`.
	NoTrain bool
	// Through, when set, is the last step planned ("build-stages").
	Through string
	// Binary is chimed as the tasks run it: a path on the cluster's nodes
	// for slurm, the container's command for k8s, this binary for local.
	Binary string
	// Workspace is the workspace as the tasks see it: the shared folder's
	// path on the nodes (slurm, local) or in the container (k8s).
	Workspace string
	// Out is the folder the scripts or manifests are written into.
	Out string

	// Partition, CPUs and Mem go into every sbatch script when set.
	Partition string
	CPUs      int
	Mem       string

	// Image, PVC and Namespace make the Kubernetes Jobs: the container
	// image holding chimed, the PersistentVolumeClaim (ReadWriteMany)
	// holding the workspace, mounted at Workspace, and the namespace.
	Image, PVC, Namespace string
	// Retries is each task's retry budget: backoffLimitPerIndex for the
	// Indexed Job, backoffLimit for the single ones (k8s only).
	Retries int
}

// Phase is one job of a plan: a chimed command run as Tasks array tasks
// that share a step (Sharded: each task is a shard), or as one task.
type Phase struct {
	// Name names the job ("ingest", "ingest-merge", "clean", "clean-dedup").
	Name string
	// Args are chimed's arguments after the global ones.
	Args []string
	// Tasks is the number of tasks: array tasks, each a shard, when
	// Sharded (one shard is an array of one), else 1.
	Tasks   int
	Sharded bool
}

// Phases lists a plan's jobs in order, each to start once the one before
// it has finished: ingest as o.Shards array tasks and its merge, clean's
// four phases (CleanPhases), then every other step of `chimed run` as one
// task (build-stages, stats, the exports, and unless NoTrain the training
// stages and eval). Sharded tasks find their shard in the array's
// environment (ingest.ShardFromEnv).
func Phases(o PlanOptions) ([]Phase, error) {
	if o.Shards < 1 || o.Shards > ingest.MaxShards {
		return nil, fmt.Errorf("--shards %d: want 1 to %d", o.Shards, ingest.MaxShards)
	}
	steps := Graph(RunOptions{NoTrain: o.NoTrain})
	if o.Through != "" {
		i := slices.IndexFunc(steps, func(s Step) bool { return s.Name == o.Through })
		if i < 0 {
			names := make([]string, len(steps))
			for j, s := range steps {
				names[j] = s.Name
			}
			return nil, fmt.Errorf("--through %s: not a step of chimed run (%s)", o.Through, strings.Join(names, ", "))
		}
		steps = steps[:i+1]
	}
	phases := []Phase{
		{Name: "ingest", Args: []string{"ingest"}, Tasks: o.Shards, Sharded: true},
		{Name: "ingest-merge", Args: []string{"ingest", "--merge"}, Tasks: 1},
	}
	for _, s := range steps[1:] {
		if s.Name == "clean" {
			phases = append(phases, CleanPhases(o.Shards)...)
			continue
		}
		phases = append(phases, Phase{Name: s.Name, Args: strings.Fields(s.Command), Tasks: 1})
	}
	return phases, nil
}

// Plan writes what o.Executor needs into o.Out and returns the files it
// wrote: for slurm an sbatch script per phase (the sharded one an
// --array=0-(n-1) job) and submit.sh, which submits them in order with
// `sbatch --parsable`, each --dependency=afterok: on the one before; for
// k8s a Job manifest per phase (the sharded one an Indexed Job) and
// submit.sh, which applies each and waits for its Complete condition (or
// stops at Failed) before the next. "local" writes nothing: RunLocal runs it.
func Plan(o PlanOptions) ([]string, error) {
	phases, err := Phases(o)
	if err != nil {
		return nil, err
	}
	if o.Out == "" {
		return nil, errors.New("plan: no folder to write into (--out)")
	}
	var files map[string]string
	var order []string
	switch o.Executor {
	case "slurm":
		files, order = slurmPlan(o, phases)
	case "k8s":
		if o.Image == "" || o.PVC == "" {
			return nil, errors.New("--executor k8s needs --image (holding chimed) and --pvc (a ReadWriteMany claim holding the workspace)")
		}
		files, order = k8sPlan(o, phases)
	case "local":
		return nil, errors.New("--executor local runs the plan (RunLocal) and writes nothing")
	default:
		return nil, fmt.Errorf("--executor %q: want one of %s", o.Executor, strings.Join(Executors, ", "))
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "logs"), 0o755); err != nil {
		return nil, err
	}
	var wrote []string
	for _, name := range order {
		p := filepath.Join(o.Out, name)
		if err := atomicfile.WriteFile(p, []byte(files[name])); err != nil {
			return nil, err
		}
		if strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, ".sbatch") {
			if err := os.Chmod(p, 0o755); err != nil {
				return nil, err
			}
		}
		wrote = append(wrote, p)
	}
	return wrote, nil
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func (o PlanOptions) command(p Phase) []string {
	return append([]string{o.Binary, "-q", "-w", o.Workspace}, p.Args...)
}

func slurmPlan(o PlanOptions, phases []Phase) (map[string]string, []string) {
	files := map[string]string{}
	var order []string
	var submit strings.Builder
	submit.WriteString("#!/bin/sh\n# Submits chimed's phases in order, each after the one before succeeded;\n" +
		"# prints the last job's id. Written by `chimed plan --executor slurm`.\nset -eu\ncd \"$(dirname \"$0\")\"\n")
	prev := ""
	for i, p := range phases {
		name := fmt.Sprintf("%02d-%s.sbatch", i, p.Name)
		var b strings.Builder
		b.WriteString("#!/bin/sh\n")
		fmt.Fprintf(&b, "#SBATCH --job-name=chimed-%s\n", p.Name)
		logs := shellQuote(filepath.Join(absOr(o.Out), "logs"))
		if p.Sharded {
			fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", p.Tasks-1)
			fmt.Fprintf(&b, "#SBATCH --output=%s/%%x-%%A_%%a.out\n", logs)
		} else {
			fmt.Fprintf(&b, "#SBATCH --output=%s/%%x-%%j.out\n", logs)
		}
		b.WriteString("#SBATCH --ntasks=1\n")
		if o.CPUs > 0 {
			fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", o.CPUs)
		}
		if o.Mem != "" {
			fmt.Fprintf(&b, "#SBATCH --mem=%s\n", o.Mem)
		}
		if o.Partition != "" {
			fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
		}
		if p.Sharded {
			b.WriteString("# Each array task finds its shard in SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT.\n")
		}
		fmt.Fprintf(&b, "exec %s\n", shellLine(o.command(p)))
		files[name] = b.String()
		order = append(order, name)
		dep := ""
		if prev != "" {
			dep = fmt.Sprintf(" --dependency=afterok:$%s --kill-on-invalid-dep=yes", prev)
		}
		v := fmt.Sprintf("j%d", i)
		fmt.Fprintf(&submit, "%s=$(sbatch --parsable%s %s)\n%s=${%s%%%%;*}\n", v, dep, name, v, v)
		prev = v
	}
	fmt.Fprintf(&submit, "echo \"$%s\"\n", prev)
	files["submit.sh"] = submit.String()
	return files, append(order, "submit.sh")
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func k8sPlan(o PlanOptions, phases []Phase) (map[string]string, []string) {
	files := map[string]string{}
	var order []string
	var submit strings.Builder
	ns := ""
	if o.Namespace != "" {
		ns = " -n " + shellQuote(o.Namespace)
	}
	submit.WriteString("#!/bin/sh\n# Starts chimed's Jobs in order, each once the one before completed;\n" +
		"# stops at a Job that failed. Written by `chimed plan --executor k8s`.\nset -eu\ncd \"$(dirname \"$0\")\"\n" +
		"wait_job() {\n" +
		"  while :; do\n" +
		"    s=$(kubectl" + ns + " get \"job/$1\" -o jsonpath='{range .status.conditions[?(@.status==\"True\")]}{.type}{\" \"}{end}')\n" +
		"    case \" $s \" in\n" +
		"      *\" Complete \"*) return 0 ;;\n" +
		"      *\" Failed \"*) echo \"job $1 failed: kubectl" + ns + " describe job/$1\" >&2; return 1 ;;\n" +
		"    esac\n" +
		"    sleep 5\n" +
		"  done\n" +
		"}\n")
	retries := max(o.Retries, 0)
	for i, p := range phases {
		job := fmt.Sprintf("chimed-%02d-%s", i, p.Name)
		name := job + ".yaml"
		var b strings.Builder
		b.WriteString("apiVersion: batch/v1\nkind: Job\nmetadata:\n")
		fmt.Fprintf(&b, "  name: %s\n", job)
		if o.Namespace != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", o.Namespace)
		}
		b.WriteString("spec:\n")
		if p.Sharded {
			fmt.Fprintf(&b, "  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n  backoffLimitPerIndex: %d\n", p.Tasks, p.Tasks, retries)
		} else {
			fmt.Fprintf(&b, "  completions: 1\n  backoffLimit: %d\n", retries)
		}
		b.WriteString("  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: chimed\n")
		fmt.Fprintf(&b, "        image: %s\n", strconv.Quote(o.Image))
		cmd := o.command(p)
		fmt.Fprintf(&b, "        command: [%s]\n", yamlList(cmd[:1]))
		fmt.Fprintf(&b, "        args: [%s]\n", yamlList(cmd[1:]))
		if p.Sharded {
			b.WriteString("        # JOB_COMPLETION_INDEX, set by the Job controller, is the shard.\n")
			fmt.Fprintf(&b, "        env:\n        - name: CHIMED_SHARDS\n          value: \"%d\"\n", p.Tasks)
		}
		fmt.Fprintf(&b, "        volumeMounts:\n        - name: workspace\n          mountPath: %s\n", strconv.Quote(o.Workspace))
		fmt.Fprintf(&b, "      volumes:\n      - name: workspace\n        persistentVolumeClaim:\n          claimName: %s\n", strconv.Quote(o.PVC))
		files[name] = b.String()
		order = append(order, name)
		fmt.Fprintf(&submit, "kubectl%s apply -f %s\n", ns, name)
		fmt.Fprintf(&submit, "wait_job %s\n", job)
	}
	files["submit.sh"] = submit.String()
	return files, append(order, "submit.sh")
}

func yamlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, ", ")
}

// RunLocal runs a plan on this machine: the sharded phase as o.Shards
// processes of o.Binary at once (each with --shard i/n), then each single
// phase in turn, stopping at the first that fails. A process's stdout goes
// to out and its stderr to errOut.
func RunLocal(ctx context.Context, o PlanOptions, out, errOut io.Writer) error {
	phases, err := Phases(o)
	if err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	if errOut == nil {
		errOut = io.Discard
	}
	var mu sync.Mutex
	run := func(args []string) error {
		var so, se bytes.Buffer
		c := exec.CommandContext(ctx, o.Binary, args...)
		c.Stdout, c.Stderr = &so, &se
		err := c.Run()
		mu.Lock()
		defer mu.Unlock()
		out.Write(so.Bytes())
		errOut.Write(se.Bytes())
		if err != nil {
			return fmt.Errorf("chimed %s: %w: %s", shellLine(args[3:]), err, strings.TrimSpace(lastLines(se.String(), 5)))
		}
		return nil
	}
	for _, p := range phases {
		if !p.Sharded {
			if err := run(o.command(p)[1:]); err != nil {
				return err
			}
			continue
		}
		errs := make([]error, p.Tasks)
		var wg sync.WaitGroup
		for i := range p.Tasks {
			wg.Go(func() {
				args := append(o.command(p)[1:], "--shard", ingest.Shard{Index: i, Count: p.Tasks}.String())
				errs[i] = run(args)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
