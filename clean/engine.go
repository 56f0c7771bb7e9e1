package clean

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Source is what clean needs to know of one source in chimed.yaml.
type Source struct {
	Name string
	// Eval marks a held-out evaluation source (role: eval): its rows are
	// normalised and masked, deduplicated only among eval rows, never
	// removed as contaminated, and they are what training rows are checked
	// against.
	Eval bool
}

// Options are the inputs of one clean run.
type Options struct {
	Workspace workspace.Dir
	// Sources in chimed.yaml order: the order in which duplicates are kept.
	Sources []Source
	Config  Config
	Log     *slog.Logger
	Bars    *progress.Bars
	// Memory is the budget in bytes a sharded clean's read buffers are
	// sized by (0: 1 GiB).
	Memory int64
}

// memoryBudget is Options.Memory, or 1 GiB when unset.
func (r *run) memoryBudget() int64 {
	if r.opts.Memory > 0 {
		return r.opts.Memory
	}
	return 1 << 30
}

// Reasons a row is removed besides the filters' own.
const (
	ReasonDuplicate     = "duplicate"
	ReasonNearDuplicate = "near_duplicate"
	ReasonContaminated  = "contaminated"
)

// batchRows is how many rows a worker takes at a time.
const batchRows = 256

// run is the state of one clean run.
type run struct {
	opts    Options
	cfg     Config
	steps   map[schemas.Kind]*kindSteps
	order   map[string]int // source name → position in chimed.yaml
	eval    map[string]bool
	report  *Report
	removed map[string]*schemas.PartWriter[schemas.RemovedRow]
	// removedKind is the kind of each removed/ writer's last row;
	// removedMu guards both maps and the writers.
	removedKind map[string]schemas.Kind
	removedMu   sync.Mutex
	// flights are the kinds whose last pass has been handed to the
	// finisher, in order (only Run's goroutine touches the slice).
	flights []*flight
	// stageAll has pass 1 stage the survivors of every kind, near-dedup
	// or not: a sharded scan hands them all to its filter tasks.
	stageAll bool
	evalIdx  *dedup.EvalIndex
	mh       *dedup.MinHasher
	workers  int
}

// Run cleans every kind of normalized/ into clean/, writes removed rows to
// removed/ and the counts to reports/clean.json, which it also returns.
// An eval source left with no row is an error, returned with the report
// once everything is written.
// Outputs of an earlier run (complete or not) are removed first, so a re-run
// after a crash gives the same bytes.
func Run(ctx context.Context, o Options) (*Report, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	if err := r.removeStale(); err != nil {
		return nil, err
	}
	defer func() {
		for _, w := range r.removed {
			w.Abort()
		}
	}()
	inputs := map[schemas.Kind][]inputFile{}
	for _, k := range schemas.Kinds {
		if inputs[k], err = r.inputFiles(k); err != nil {
			return nil, err
		}
	}
	if err := r.indexEvalSets(inputs); err != nil {
		return nil, err
	}
	if err := r.cleanKinds(ctx, inputs); err != nil {
		return nil, err
	}
	return r.finish()
}

// newRun checks the options and builds the components and the MinHasher.
func newRun(o Options) (*run, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	cfg := o.Config.WithDefaults()
	steps, err := buildSteps(cfg.Steps)
	if err != nil {
		return nil, err
	}
	r := &run{opts: o, cfg: cfg, steps: steps, order: map[string]int{}, eval: map[string]bool{},
		report: newReport(o.Sources), removed: map[string]*schemas.PartWriter[schemas.RemovedRow]{},
		removedKind: map[string]schemas.Kind{}}
	for i, s := range o.Sources {
		if err := workspace.CheckName(s.Name); err != nil {
			return nil, fmt.Errorf("clean: source %d: %w", i, err)
		}
		r.order[s.Name] = i
		r.eval[s.Name] = s.Eval
	}
	r.workers = cfg.Workers
	if r.workers == 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if enabled(cfg.Near.Enabled) {
		if r.mh, err = dedup.NewMinHasher(cfg.Near.Shingle, cfg.Near.NGram, cfg.Near.Bands, cfg.Near.Rows); err != nil {
			return nil, err
		}
		n := cfg.Near
		r.report.NearDedup = &NearStats{Shingle: n.Shingle, NGram: n.NGram, Bands: n.Bands, Rows: n.Rows,
			Threshold: n.Threshold, ClusterThreshold: n.ClusterThreshold, IndexBytesPerRow: 8 * n.Bands}
	}
	return r, nil
}

// removeStale deletes the outputs of an earlier run.
func (r *run) removeStale() error {
	ws := r.opts.Workspace
	for _, stale := range []string{ws.Path("clean"), ws.Removed()} {
		if err := os.RemoveAll(stale); err != nil {
			return fmt.Errorf("remove stale outputs: %w", err)
		}
	}
	if err := os.Remove(ws.Report("clean.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return atomicfile.Sweep(ws.Reports())
}

// indexEvalSets builds the decontamination index from the eval sources'
// exam and QA rows, when decontamination is on.
func (r *run) indexEvalSets(inputs map[schemas.Kind][]inputFile) error {
	if !enabled(r.cfg.Decontaminate.Enabled) {
		return nil
	}
	if !slices.ContainsFunc(r.opts.Sources, func(s Source) bool { return s.Eval }) {
		r.opts.Log.Warn("clean: no source has role: eval, so nothing is held out and decontamination has nothing to check training rows against")
	}
	r.evalIdx = dedup.NewEvalIndex(r.cfg.Decontaminate.NGram, r.cfg.Decontaminate.Answers)
	if err := indexEval[schemas.ExamQuestion](r, inputs[schemas.KindExam]); err != nil {
		return err
	}
	if err := indexEval[schemas.QA](r, inputs[schemas.KindQA]); err != nil {
		return err
	}
	r.opts.Log.Info("clean: eval index", "eval_rows", r.evalIdx.Rows(), "ngrams", r.evalIdx.Windows())
	return nil
}

// finish commits removed/ and writes reports/clean.json once every kind
// is written.
func (r *run) finish() (*Report, error) {
	ws := r.opts.Workspace
	if err := os.Remove(ws.Path("clean", ".staging")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err // not empty: a kind's staging folder was left behind
	}
	for _, name := range sortedKeys(r.removed) {
		if err := r.removed[name].Close(); err != nil {
			return nil, err
		}
	}
	if err := r.report.finish(); err != nil {
		return nil, err
	}
	if err := r.report.write(ws.Report("clean.json")); err != nil {
		return nil, err
	}
	if err := r.report.checkEval(r.opts.Sources); err != nil {
		return r.report, err
	}
	return r.report, nil
}

// inputFile is one normalized part file and the source of its first row;
// with to > 0, only its rows [from, to) (a sharded scan's share).
type inputFile struct {
	path     string
	source   string
	rows     int64
	from, to int64
}

// inputFiles lists a kind's part files in the deterministic order
// duplicates are kept by: sources in chimed.yaml order (a source not in it
// sorts last, by name, and fails pass 1), then file name; rows within a file keep ingest's order
// (file, then row). Ingest writes each source to its own part files.
func (r *run) inputFiles(k schemas.Kind) ([]inputFile, error) {
	paths, err := schemas.PartFiles(r.opts.Workspace.Normalized(k))
	if err != nil {
		return nil, err
	}
	files := make([]inputFile, 0, len(paths))
	for _, p := range paths {
		f := inputFile{path: p}
		if f.rows, err = schemas.CountRows(p); err != nil {
			return nil, err
		}
		for row, err := range schemas.ReadFile[sourceOnly](p) {
			if err != nil {
				return nil, err
			}
			f.source = row.Source
			break
		}
		files = append(files, f)
	}
	rank := func(s string) int {
		if i, ok := r.order[s]; ok {
			return i
		}
		return len(r.order)
	}
	slices.SortStableFunc(files, func(a, b inputFile) int {
		if d := rank(a.source) - rank(b.source); d != 0 {
			return d
		}
		if a.source != b.source {
			return compareStrings(a.source, b.source)
		}
		return compareStrings(a.path, b.path)
	})
	return files, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sourceOnly reads just the source column of a part file.
type sourceOnly struct {
	Source string `parquet:"source"`
}

// record is the constraint every kind's row type meets through its pointer.
type record[T any] interface {
	*T
	schemas.Record
}

// indexEval adds the eval sources' rows of one kind, normalised like every
// row, to the decontamination index.
func indexEval[T any, P record[T]](r *run, files []inputFile) error {
	var buf []rune
	tally := Tally{} // eval rows are counted when cleanKind passes them
	for _, f := range files {
		if !r.eval[f.source] {
			continue
		}
		for row, err := range schemas.ReadFile[T](f.path) {
			if err != nil {
				return err
			}
			p := P(&row)
			if !r.eval[p.RecordSource()] {
				continue
			}
			ks := r.steps[p.Kind()]
			for _, fl := range p.TextFields() {
				for _, n := range ks.normalisers {
					*fl.Value = n.Normalise(fl.Name, *fl.Value, tally)
				}
			}
			buf = r.evalIdx.Add(p, buf)
		}
	}
	return nil
}

// rowResult is what a worker found out about one row.
type rowResult[T any] struct {
	row T
	// original is the row as read, as JSON, for removed/; set only when
	// pass 1 removes the row. A kept row carries instead the text fields a
	// normaliser rewrote (their TextFields positions) and their values as
	// read, so pass 3 can rebuild the original of a near duplicate without
	// marshalling every row.
	original string
	changed  []int32
	before   []string
	reason   string
	detail   string
	key      uint64
	bands    []uint32
}

// batch is a slice of rows handed to a worker; done closes when the
// results are in, and batches are consumed in the order they were read.
type batch[T any] struct {
	file  string
	first int64 // row number of rows[0] in file
	eval  bool  // the file belongs to an eval source
	rows  []T
	out   []rowResult[T]
	tally Tally
	// stage is, with near-dedup on for the kind, the rows the worker did
	// not remove, encoded in order as one staging frame (see engine_stage.go).
	stage []byte
	err   error
	done  chan struct{}
}

// worker holds one goroutine's scratch space.
type worker struct {
	fields   []string
	before   []string
	runes    []rune
	folded   []rune   // the key fields folded (foldFields)
	spans    [][2]int // each key field's runes in folded
	probe    []int    // the probe fields among the key fields
	keyBuf   []byte
	profiles []Profile
	stage    []byte // encodeStaged's scratch space
	shingle  []uint64
	sig      []uint32
}
