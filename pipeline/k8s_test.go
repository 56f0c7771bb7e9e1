package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

// TestK8sPlanDecodes decodes every manifest `plan --executor k8s` writes
// strictly (an unknown or misspelt field is an error) into Kubernetes'
// own batch/v1 Job type, and checks what each phase needs: an Indexed Job
// of n completions with a retry budget per index for a sharded phase, a
// single completion otherwise, the claim mounted where -w points.
func TestK8sPlanDecodes(t *testing.T) {
	o := PlanOptions{Executor: "k8s", Shards: 3, NoTrain: true, Image: "reg/chimed:1", PVC: "ws", Namespace: "med",
		Retries: 2, Binary: "chimed", Workspace: "/workspace", Out: t.TempDir()}
	files, err := Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	phases, _ := Phases(o)
	var jobs []string
	for _, f := range files {
		if filepath.Ext(f) == ".yaml" {
			jobs = append(jobs, f)
		}
	}
	if len(jobs) != len(phases) {
		t.Fatalf("%d manifests for %d phases", len(jobs), len(phases))
	}
	for i, f := range jobs {
		p := phases[i]
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var job batchv1.Job
		if err := yaml.UnmarshalStrict(b, &job); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
		spec := job.Spec
		if job.APIVersion != "batch/v1" || job.Kind != "Job" || job.Namespace != "med" || !strings.HasSuffix(job.Name, p.Name) {
			t.Errorf("%s: %s %s %s/%s", f, job.APIVersion, job.Kind, job.Namespace, job.Name)
		}
		if spec.Completions == nil || int(*spec.Completions) != p.Tasks {
			t.Errorf("%s: completions %v, want %d", f, spec.Completions, p.Tasks)
		}
		if p.Sharded {
			if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion ||
				spec.Parallelism == nil || int(*spec.Parallelism) != p.Tasks ||
				spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex != 2 {
				t.Errorf("%s: a sharded phase wants an Indexed Job of %d, parallel, 2 retries per index: %+v", f, p.Tasks, spec)
			}
		} else if spec.CompletionMode != nil || spec.BackoffLimit == nil || *spec.BackoffLimit != 2 {
			t.Errorf("%s: a single task wants a NonIndexed Job with backoffLimit 2: %+v", f, spec)
		}
		pod := spec.Template.Spec
		if pod.RestartPolicy != "Never" || len(pod.Containers) != 1 || len(pod.Volumes) != 1 ||
			pod.Volumes[0].PersistentVolumeClaim == nil || pod.Volumes[0].PersistentVolumeClaim.ClaimName != "ws" {
			t.Fatalf("%s: pod %+v", f, pod)
		}
		c := pod.Containers[0]
		if c.Image != "reg/chimed:1" || len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/workspace" ||
			c.VolumeMounts[0].Name != pod.Volumes[0].Name {
			t.Errorf("%s: container %+v", f, c)
		}
		if got := strings.Join(append(c.Command, c.Args...), " "); got != strings.Join(o.command(p), " ") {
			t.Errorf("%s: runs %q, want %q", f, got, strings.Join(o.command(p), " "))
		}
		shards := ""
		for _, e := range c.Env {
			if e.Name == "CHIMED_SHARDS" {
				shards = e.Value
			}
		}
		if p.Sharded != (shards == "3") {
			t.Errorf("%s: CHIMED_SHARDS %q on a phase of %d tasks (sharded %v)", f, shards, p.Tasks, p.Sharded)
		}
	}
}
