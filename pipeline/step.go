package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/chimed/chimed/config"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
)

// Env is what every step runs with: the workspace and where to report.
type Env struct {
	Workspace workspace.Dir
	// Log takes progress and warnings; nil discards them.
	Log *slog.Logger
	// Quiet turns progress bars and stderr summaries off.
	Quiet bool
	// Out takes the tables a person reads (a command's stdout); nil
	// discards them.
	Out io.Writer
	// Version is stamped into manifests and completion records.
	Version string
	// Memory is the budget in bytes a step sizes its buffers, batches and
	// spill thresholds by (chimed --memory); 0 means DefaultMemory. It is
	// also the Go runtime's soft memory limit for the process.
	Memory int64
}

// DefaultMemory is the budget a step works within when --memory is not given.
const DefaultMemory int64 = 1 << 30

// MemoryBudget is e.Memory, or DefaultMemory when unset.
func (e Env) MemoryBudget() int64 {
	if e.Memory > 0 {
		return e.Memory
	}
	return DefaultMemory
}

// Bars makes the progress bars of one step.
func (e Env) Bars() *progress.Bars { return progress.New(e.Quiet) }

// Config loads and validates chimed.yaml.
func (e Env) Config() (*config.Config, error) { return config.Load(string(e.Workspace)) }

func (e Env) withDefaults() Env {
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.Out == nil {
		e.Out = io.Discard
	}
	return e
}

// Step is one unit of work on a workspace: a chimed command, or one part of
// one (an export format, a training stage). Its fields say what it reads
// and writes, so Exec can refuse to start it on unfinished inputs and
// `chimed run` can skip it when its outputs are up to date.
type Step struct {
	// Name names the step and its completion record ("export-trl").
	Name string
	// Command is how a user runs the step ("export --format trl"); error
	// messages tell them to run `chimed <Command>`.
	Command string
	// Mark is the output whose absence means the step never finished
	// (reports/clean.json, stages/manifest.json); it is named in errors.
	Mark string
	// Needs are the steps whose outputs this one reads: each must have
	// an "ok" completion record that is still current before it starts.
	Needs []string
	// Uses are steps this one reads from when their outputs exist (eval
	// reads whichever runs/<stage> there are); they are checked only then.
	Uses []string
	// Settings are the top-level chimed.yaml keys the step reads.
	Settings []string
	// Inputs lists the workspace paths the step reads besides chimed.yaml
	// (workspace-relative slash paths, or absolute for files outside it).
	Inputs func(Env) ([]string, error)
	// Outputs are the workspace-relative paths the step writes.
	Outputs []string
	// Flags are the step's options that shape its outputs, written as
	// flags: a run with other flags is not up to date.
	Flags []string
	// MakesWorkspace says the step creates the workspace folder (demo).
	MakesWorkspace bool
	// NoRecord marks a step that writes nothing (train --bench).
	NoRecord bool
	// Run does the work and returns its row counts for the record.
	Run func(ctx context.Context, env Env) (Counts, error)
}

// ExecOptions say how Exec runs its steps.
type ExecOptions struct {
	// Command names the holder in the workspace lock ("clean", "run").
	Command string
	// Force starts each step whatever the records of its inputs say, and
	// runs it even when it is up to date.
	Force bool
	// SkipUpToDate skips a step whose own record matches its inputs,
	// chimed.yaml, flags and outputs as they are now (`chimed run`).
	SkipUpToDate bool
	// NameErrors prefixes a step's error with its name.
	NameErrors bool
	// Shard runs the steps as one array task of a sharded step (its
	// name): the workspace lock is shared with the other tasks
	// (TakeShardLock).
	Shard string
}

// Exec takes the workspace lock and runs steps in order, stopping at the
// first error. Before each step it checks the completion records of the
// steps it reads from (Check) unless o.Force; the step's own record is
// removed as it starts and written when it ends, "ok" or "failed".
func Exec(ctx context.Context, env Env, o ExecOptions, steps ...Step) error {
	env = env.withDefaults()
	for _, s := range steps {
		if s.MakesWorkspace {
			if err := os.MkdirAll(string(env.Workspace), 0o755); err != nil {
				return err
			}
		}
	}
	take := TakeLock
	if o.Shard != "" {
		take = func(d workspace.Dir, command string) (*Lock, error) { return TakeShardLock(d, o.Shard, command) }
	}
	lock, err := take(env.Workspace, o.Command)
	if err != nil {
		return err
	}
	defer lock.Release()
	for _, s := range steps {
		if err := execStep(ctx, env, o, s); err != nil {
			if o.NameErrors {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
			return err
		}
	}
	return nil
}

func execStep(ctx context.Context, env Env, o ExecOptions, s Step) error {
	ws := env.Workspace
	if !o.Force {
		if err := Check(ws, s); err != nil {
			return err
		}
	}
	var inputs []string
	if s.Inputs != nil {
		var err error
		if inputs, err = s.Inputs(env); err != nil {
			return err
		}
	}
	in, err := fingerprints(ws, inputs)
	if err != nil {
		return err
	}
	whole, settings, err := configHashes(ws, s.Settings)
	if err != nil {
		return err
	}
	if o.SkipUpToDate && !o.Force && upToDate(ws, s, whole, in) {
		env.Log.Info("up to date, skipped", "step", s.Name)
		return nil
	}
	if o.SkipUpToDate {
		env.Log.Info("running", "step", s.Name)
	}
	if !s.NoRecord {
		if err := removeRecord(ws, s.Name); err != nil {
			return err
		}
	}
	start := time.Now()
	rows, runErr := s.Run(ctx, env)
	if s.NoRecord {
		return runErr
	}
	out, err := fingerprints(ws, s.Outputs)
	if err != nil {
		return errors.Join(runErr, err)
	}
	rec := &Record{Step: s.Name, Status: StatusOK, Version: env.Version, ConfigSHA256: whole, SettingsSHA256: settings,
		Flags: s.Flags, Inputs: in, Outputs: out, Rows: rows}
	if runErr != nil {
		rec.Status, rec.Error = StatusFailed, runErr.Error()
	}
	if err := writeRecord(ws, rec); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr == nil && o.SkipUpToDate {
		env.Log.Info("done", "step", s.Name, "took", time.Since(start).Round(time.Millisecond))
	}
	return runErr
}

// upToDate says whether s's record is "ok" and matches chimed.yaml, the
// step's flags, and its inputs and outputs as they are now.
func upToDate(ws workspace.Dir, s Step, config string, in map[string]string) bool {
	rec, err := ReadRecord(ws, s.Name)
	if err != nil || rec.Status != StatusOK || rec.ConfigSHA256 != config ||
		!slices.Equal(rec.Flags, s.Flags) || !maps.Equal(rec.Inputs, in) {
		return false
	}
	out, err := fingerprints(ws, s.Outputs)
	return err == nil && maps.Equal(rec.Outputs, out)
}

// NotReadyError says why a step may not start: a step it reads from did not
// finish, failed, or is stale, and the command that makes it right.
type NotReadyError struct {
	// Step is the step whose record is wanting; Command runs it.
	Step, Command string
	// Reason says what is wrong with it.
	Reason string
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("%s (run `chimed %s` first, or pass --force to go on anyway)", e.Reason, e.Command)
}

// Check returns nil when every step s reads from (its Needs, and its Uses
// whose outputs exist), and every step those read from in turn, has an
// "ok" completion record that is still current: its outputs, inputs and
// chimed.yaml settings unchanged since it ran. Otherwise it returns a
// *workspace.MissingError (the step's Mark is missing) or a
// *NotReadyError naming the first step wanting and the command to run.
func Check(ws workspace.Dir, s Step) error {
	return checkDeps(ws, s, map[string]bool{})
}

func checkDeps(ws workspace.Dir, s Step, seen map[string]bool) error {
	for _, n := range s.Needs {
		if err := verify(ws, n, true, seen); err != nil {
			return err
		}
	}
	for _, n := range s.Uses {
		if err := verify(ws, n, false, seen); err != nil {
			return err
		}
	}
	return nil
}

func verify(ws workspace.Dir, name string, required bool, seen map[string]bool) error {
	if seen[name] {
		return nil
	}
	seen[name] = true
	dep, ok := Lookup(name)
	if !ok {
		return fmt.Errorf("pipeline: no step %q", name)
	}
	present := existing(ws, dep.Outputs)
	if !required && len(present) == 0 {
		return nil
	}
	notReady := func(format string, args ...any) error {
		return &NotReadyError{Step: dep.Name, Command: dep.Command, Reason: fmt.Sprintf(format, args...)}
	}
	rec, err := ReadRecord(ws, name)
	if errors.Is(err, fs.ErrNotExist) {
		if !slices.Contains(present, dep.Mark) {
			return &workspace.MissingError{Path: dep.Mark, Step: dep.Command}
		}
		return notReady("`chimed %s` did not finish: %s has no completion record (killed, or made by an older chimed)",
			dep.Command, strings.Join(present, ", "))
	}
	if err != nil {
		return err
	}
	if rec.Status != StatusOK {
		return notReady("`chimed %s` failed: %s", dep.Command, strings.Join(strings.Fields(rec.Error), " "))
	}
	out, err := fingerprints(ws, slices.Collect(maps.Keys(rec.Outputs)))
	if err != nil {
		return err
	}
	if p := firstChanged(rec.Outputs, out); p != "" {
		return notReady("%s changed after `chimed %s` finished", p, dep.Command)
	}
	in, err := fingerprints(ws, slices.Collect(maps.Keys(rec.Inputs)))
	if err != nil {
		return err
	}
	if p := firstChanged(rec.Inputs, in); p != "" {
		return notReady("the outputs of `chimed %s` are stale: its input %s changed after it ran", dep.Command, p)
	}
	if _, settings, err := configHashes(ws, dep.Settings); err != nil {
		return err
	} else if settings != rec.SettingsSHA256 {
		return notReady("the outputs of `chimed %s` are stale: chimed.yaml's %s section changed after it ran",
			dep.Command, strings.Join(dep.Settings, " or "))
	}
	return checkDeps(ws, dep, seen)
}

// existing lists the workspace-relative paths that exist.
func existing(ws workspace.Dir, rel []string) []string {
	var out []string
	for _, r := range rel {
		if _, err := os.Stat(ws.Path(filepath.FromSlash(r))); err == nil {
			out = append(out, r)
		}
	}
	return out
}
