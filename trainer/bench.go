package trainer

import (
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/chimed/chimed/internal/workspace"
)

// BenchResult is a timing of DCPT steps on a preset (`ref` for the
// benchmark). Wall time counts whatever else the machine is running;
// CPUSeconds does not.
type BenchResult struct {
	Preset     string
	Arch       Arch
	Batch      int
	Steps      int
	Compile    time.Duration // first step: graph build and compilation
	PerStep    time.Duration
	TokensSec  float64
	PeakRSSMiB float64
	// CPUSecondsPerStep is user+system CPU per timed step.
	CPUSecondsPerStep float64
	// PyTorchTokensSec is the same model's speed in PyTorch
	// (bench/torch_ref.py) measured on this machine in the same run, or 0
	// when there is none: then no ratio is shown, as a figure from another
	// day or another BLAS set-up says little about this one.
	PyTorchTokensSec float64
	// Losses are the training loss of every step, the untimed first one
	// included (tests compare kernels by them).
	Losses []float64
}

func (r BenchResult) String() string {
	vsTorch := "no PyTorch figure from this run, so no ratio"
	if r.PyTorchTokensSec > 0 {
		vsTorch = fmt.Sprintf("%.2f× PyTorch's %.0f tokens/s measured just before", r.TokensSec/r.PyTorchTokensSec, r.PyTorchTokensSec)
	}
	return fmt.Sprintf("%s preset (vocab %d, context %d, d %d, %d layers, %d heads, batch %d): "+
		"%d steps after a %.1fs first step, %.2fs/step, %.0f tokens/s (%s), %.2f CPU-s/step, peak RSS %.0f MiB; DotGeneral: %s",
		r.Preset, r.Arch.Vocab, r.Arch.Context, r.Arch.Dim, r.Arch.Layers, r.Arch.Heads, r.Batch,
		r.Steps, r.Compile.Seconds(), r.PerStep.Seconds(), r.TokensSec, vsTorch,
		r.CPUSecondsPerStep, r.PeakRSSMiB, DotKernel())
}

// Bench times steps DCPT training steps of the `ref` preset on random
// tokens (speed does not depend on the text), after one untimed step that
// compiles the graph. ws and cfg are unused but for the seed; nothing is
// written.
func Bench(_ workspace.Dir, cfg Config, steps int, log *slog.Logger) (*BenchResult, error) {
	return benchPreset("ref", cfg, steps, log)
}

func benchPreset(name string, cfg Config, steps int, log *slog.Logger) (*BenchResult, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := presets[name]
	a, batch := p.arch, p.stages["dcpt"].Batch
	r := rand.New(rand.NewPCG(cfg.Seed, 1))
	s := &lmObjective{arch: a}
	var seqs []sequence
	for range batch * 4 {
		ids := make([]int32, a.Context+1)
		for i := range ids {
			ids[i] = int32(charBase + r.IntN(a.Vocab-charBase))
		}
		seqs = append(seqs, newSequence(a.Context, ids, nil))
	}
	s.n = len(seqs)
	s.seqs = newExampleStream("bench", s.n, cfg.ShuffleBuffer, cfg.Seed, func(*rand.Rand) iter.Seq2[sequence, error] {
		return func(yield func(sequence, error) bool) {
			for _, q := range seqs {
				if !yield(q, nil) {
					return
				}
			}
		}
	})
	defer s.close()
	backend, err := Backend()
	if err != nil {
		return nil, err
	}
	ctx := newContext(cfg.Seed)
	tr := train.NewTrainer(backend, ctx, s.modelFn, s.lossFn, optimizers.Adam().LearningRate(1e-3).Done(), nil, nil)
	res := &BenchResult{Preset: name, Arch: a, Batch: batch, Steps: steps}
	var start time.Time
	var cpu0 float64
	for step := 0; step <= steps; step++ {
		if step == 1 {
			start, cpu0 = time.Now(), cpuSeconds()
		}
		t0 := time.Now()
		in, labels, _, err := s.nextBatch(batch)
		if err != nil {
			return nil, err
		}
		out, err := tr.TrainStep(nil, in, labels)
		if err != nil {
			return nil, fmt.Errorf("bench step %d: %w", step, err)
		}
		res.Losses = append(res.Losses, scalar(out[0]))
		if step == 0 {
			res.Compile = time.Since(t0)
		}
		log.Info("bench step", "step", step, "seconds", fmt.Sprintf("%.2f", time.Since(t0).Seconds()))
	}
	el := time.Since(start)
	res.CPUSecondsPerStep = (cpuSeconds() - cpu0) / float64(max(steps, 1))
	res.PerStep = el / time.Duration(max(steps, 1))
	res.TokensSec = float64(steps*batch*a.Context) / el.Seconds()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.PeakRSSMiB = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	return res, nil
}

// cpuSeconds is the process's user+system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
