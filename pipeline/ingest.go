package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/chimed/chimed/ingest"
)

// IngestOptions are `chimed ingest`'s flags.
type IngestOptions struct {
	// Only ingests these sources; the others keep their outputs.
	Only []string
	// Parallel is how many sources are ingested at once (0: one per CPU).
	Parallel int
	// KeepGoing makes a source over its max_quarantine a warning.
	KeepGoing bool
	// Shard makes the step one array task of a sharded ingest
	// (IngestShard); Merge makes it the merge that ends one (IngestMerge).
	Shard ingest.Shard
	Merge bool
}

// Ingest reads chimed.yaml's raw sources into normalized/, quarantine/ and
// reports/ingest.json (ingest.Run), and prints a table per source.
func Ingest(o IngestOptions) Step {
	switch {
	case o.Shard.Sharded():
		return IngestShard(o)
	case o.Merge:
		return IngestMerge(o)
	}
	s := Step{
		Name: "ingest", Command: "ingest", Mark: "reports/ingest.json",
		Settings: []string{"version", "sources"},
		Outputs:  []string{"reports/ingest.json", "normalized", "quarantine"},
		Inputs:   rawFiles,
		Run: func(ctx context.Context, env Env) (Counts, error) {
			return runIngest(ctx, env, o)
		},
	}
	if len(o.Only) > 0 {
		s.Flags = append(s.Flags, "--source="+strings.Join(o.Only, ","))
	}
	if o.KeepGoing {
		s.Flags = append(s.Flags, "--keep-going")
	}
	return s
}

// rawFiles lists every source's files as ingest resolves them.
func rawFiles(env Env) ([]string, error) {
	cfg, err := env.Config()
	if err != nil {
		return nil, err
	}
	var raw []string
	for i := range cfg.Sources {
		files, err := ingest.SourceFiles(env.Workspace, &cfg.Sources[i])
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if rel, err := filepath.Rel(string(env.Workspace), f); err == nil {
				f = filepath.ToSlash(rel)
			}
			raw = append(raw, f)
		}
	}
	return raw, nil
}

func runIngest(ctx context.Context, env Env, o IngestOptions) (Counts, error) {
	cfg, err := env.Config()
	if err != nil {
		return nil, err
	}
	if len(o.Only) == 0 {
		// A whole ingest starts over: a sharded one before it is gone.
		if err := forgetShards(env.Workspace); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	rep, err := ingest.Run(ctx, env.Workspace, cfg.Sources, ingest.RunOptions{
		Only: o.Only, Parallel: o.Parallel, KeepGoing: o.KeepGoing, Bars: env.Bars(), Log: env.Log,
	})
	if rep == nil {
		return nil, err
	}
	return printIngest(env, o, rep, start, err)
}

// printIngest prints the table of an ingest report and returns its counts
// for the completion record.
func printIngest(env Env, o IngestOptions, rep *ingest.Report, start time.Time, err error) (Counts, error) {
	names := make([]string, 0, len(rep.Sources))
	for n := range rep.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	out := env.Out
	for _, n := range names {
		s := rep.Sources[n]
		fmt.Fprintf(out, "%-28s %-10s read %8d  written %8d  quarantined %6d  %s\n",
			n, s.Kind, s.Read, s.Written, s.Quarantined, mb(s.Bytes))
	}
	t := rep.Totals
	secs := time.Since(start).Seconds()
	ran := t.Bytes // with --source, only the bytes of the sources run now
	if len(o.Only) > 0 {
		ran = 0
		for _, n := range o.Only {
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
		env.Log.Debug("ingest done", "MB/s", fmt.Sprintf("%.1f", float64(ran)/1e6/max(secs, 1e-9)),
			"peak_rss_MiB", ru.Maxrss/1024, "seconds", fmt.Sprintf("%.1f", secs),
			"cpu_seconds", fmt.Sprintf("%.1f", cpu), "MB_per_cpu_second", fmt.Sprintf("%.1f", float64(ran)/1e6/max(cpu, 1e-9)))
	}
	rows := Counts{"read": t.Read, "written": t.Written, "quarantined": t.Quarantined}
	return rows, err // the report's problems, if any: every output is written
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
