package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestPhases(t *testing.T) {
	ph, err := Phases(PlanOptions{Shards: 3, Through: "build-stages"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ph {
		names = append(names, p.Name+":"+strings.Join(p.Args, " "))
	}
	want := "ingest:ingest ingest-merge:ingest --merge clean:clean clean-dedup:clean --dedup clean-filter:clean --filter clean-merge:clean --merge build-stages:build-stages"
	if strings.Join(names, " ") != want {
		t.Errorf("phases %q, want %q", strings.Join(names, " "), want)
	}
	for i, sharded := range []bool{true, false, true, false, true, false, false} {
		if tasks := map[bool]int{true: 3, false: 1}[sharded]; ph[i].Sharded != sharded || ph[i].Tasks != tasks {
			t.Errorf("phase %d %+v: want sharded %v, %d tasks", i, ph[i], sharded, tasks)
		}
	}
	full, _ := Phases(PlanOptions{Shards: 1})
	if last := full[len(full)-1].Name; last != "eval" {
		t.Errorf("without --no-train the last phase is %s, want eval", last)
	}
	for _, o := range []PlanOptions{{Shards: 0}, {Shards: 10000}, {Shards: 2, Through: "nope"}} {
		if _, err := Phases(o); err == nil {
			t.Errorf("Phases(%+v) took it", o)
		}
	}
}

func TestPlanWrites(t *testing.T) {
	for _, c := range []struct {
		name string
		o    PlanOptions
		want map[string][]string // file → what it must hold
		bad  string
	}{
		{name: "slurm", o: PlanOptions{Executor: "slurm", Shards: 4, NoTrain: true, Partition: "cpu", CPUs: 2, Mem: "4G"},
			want: map[string][]string{
				"00-ingest.sbatch":       {"#SBATCH --array=0-3\n", "%x-%A_%a.out", "--partition=cpu", "--cpus-per-task=2", "--mem=4G", "exec /opt/chimed -q -w /shared/ws ingest\n"},
				"01-ingest-merge.sbatch": {"exec /opt/chimed -q -w /shared/ws ingest --merge\n"},
				"02-clean.sbatch":        {"#SBATCH --array=0-3\n", "exec /opt/chimed -q -w /shared/ws clean\n"},
				"03-clean-dedup.sbatch":  {"#SBATCH --output=", "exec /opt/chimed -q -w /shared/ws clean --dedup\n"},
				"04-clean-filter.sbatch": {"#SBATCH --array=0-3\n", "exec /opt/chimed -q -w /shared/ws clean --filter\n"},
				"05-clean-merge.sbatch":  {"exec /opt/chimed -q -w /shared/ws clean --merge\n"},
				"08-export-trl.sbatch":   {"#SBATCH --output=", "%x-%j.out", "-w /shared/ws export --format trl\n"},
				"submit.sh": {"j0=$(sbatch --parsable 00-ingest.sbatch)",
					"j1=$(sbatch --parsable --dependency=afterok:$j0 --kill-on-invalid-dep=yes 01-ingest-merge.sbatch)",
					"j4=$(sbatch --parsable --dependency=afterok:$j3 --kill-on-invalid-dep=yes 04-clean-filter.sbatch)",
					"--dependency=afterok:$j10 --kill-on-invalid-dep=yes 11-export-hf.sbatch", `echo "$j11"`},
			}},
		{name: "k8s", o: PlanOptions{Executor: "k8s", Shards: 5, Through: "clean", Image: "reg/chimed:1", PVC: "ws", Retries: 3},
			want: map[string][]string{
				"chimed-00-ingest.yaml": {"completionMode: Indexed", "completions: 5", "parallelism: 5", "backoffLimitPerIndex: 3",
					"restartPolicy: Never", "name: CHIMED_SHARDS", "claimName: \"ws\"", `args: ["-q", "-w", "/shared/ws", "ingest"]`},
				"chimed-02-clean.yaml":       {"completionMode: Indexed", "completions: 5", `args: ["-q", "-w", "/shared/ws", "clean"]`},
				"chimed-03-clean-dedup.yaml": {"completions: 1", "backoffLimit: 3", `args: ["-q", "-w", "/shared/ws", "clean", "--dedup"]`},
				"chimed-04-clean-filter.yaml": {"completionMode: Indexed", "backoffLimitPerIndex: 3", "name: CHIMED_SHARDS",
					`args: ["-q", "-w", "/shared/ws", "clean", "--filter"]`},
				"chimed-05-clean-merge.yaml": {"completions: 1", `args: ["-q", "-w", "/shared/ws", "clean", "--merge"]`},
				"submit.sh": {"kubectl apply -f chimed-00-ingest.yaml", "wait_job chimed-03-clean-dedup\n",
					"wait_job chimed-05-clean-merge\n", `*" Failed "*)`},
			}},
		{name: "k8s without a claim", o: PlanOptions{Executor: "k8s", Shards: 2, Image: "x"}, bad: "--pvc"},
		{name: "unknown executor", o: PlanOptions{Executor: "ray", Shards: 2}, bad: "want one of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.o.Out, c.o.Binary, c.o.Workspace = t.TempDir(), "/opt/chimed", "/shared/ws"
			files, err := Plan(c.o)
			if c.bad != "" {
				if err == nil || !strings.Contains(err.Error(), c.bad) {
					t.Fatalf("err %v, want one naming %s", err, c.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(files) < len(c.want) {
				t.Fatalf("wrote %v", files)
			}
			for name, subs := range c.want {
				b, err := os.ReadFile(filepath.Join(c.o.Out, name))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range subs {
					if !strings.Contains(string(b), s) {
						t.Errorf("%s lacks %q:\n%s", name, s, b)
					}
				}
			}
			for _, f := range files {
				b, _ := os.ReadFile(f)
				switch filepath.Ext(f) {
				case ".yaml":
					var job struct {
						Kind string `yaml:"kind"`
						Spec struct {
							Template struct {
								Spec struct {
									Containers []struct{ Image string } `yaml:"containers"`
								} `yaml:"spec"`
							} `yaml:"template"`
						} `yaml:"spec"`
					}
					if err := yaml.Unmarshal(b, &job); err != nil || job.Kind != "Job" || len(job.Spec.Template.Spec.Containers) != 1 {
						t.Errorf("%s: not a Job manifest (%v):\n%s", f, err, b)
					}
				case ".sh", ".sbatch":
					if out, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil {
						t.Errorf("%s: sh -n: %v %s", f, err, out)
					}
				}
			}
		})
	}
}
