package clean

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

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
	evalIdx *dedup.EvalIndex
	mh      *dedup.MinHasher
	workers int
}

// Run cleans every kind of normalized/ into clean/, writes removed rows to
// removed/ and the counts to reports/clean.json, which it also returns.
// An eval source left with no row is an error, returned with the report
// once everything is written.
// Outputs of an earlier run (complete or not) are removed first, so a re-run
// after a crash gives the same bytes.
func Run(ctx context.Context, o Options) (*Report, error) {
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
	}
	ws := o.Workspace
	for _, stale := range []string{ws.Path("clean"), ws.Removed()} {
		if err := os.RemoveAll(stale); err != nil {
			return nil, fmt.Errorf("remove stale outputs: %w", err)
		}
	}
	if err := os.Remove(ws.Report("clean.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := atomicfile.Sweep(ws.Reports()); err != nil {
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
	if enabled(cfg.Decontaminate.Enabled) {
		if !slices.ContainsFunc(o.Sources, func(s Source) bool { return s.Eval }) {
			o.Log.Warn("clean: no source has role: eval, so nothing is held out and decontamination has nothing to check training rows against")
		}
		r.evalIdx = dedup.NewEvalIndex(cfg.Decontaminate.NGram, cfg.Decontaminate.Answers)
		if err := indexEval[schemas.ExamQuestion](r, inputs[schemas.KindExam]); err != nil {
			return nil, err
		}
		if err := indexEval[schemas.QA](r, inputs[schemas.KindQA]); err != nil {
			return nil, err
		}
		o.Log.Info("clean: eval index", "eval_rows", r.evalIdx.Rows(), "ngrams", r.evalIdx.Windows())
	}
	if r.mh != nil {
		n := cfg.Near
		r.report.NearDedup = &NearStats{Shingle: n.Shingle, NGram: n.NGram, Bands: n.Bands, Rows: n.Rows,
			Threshold: n.Threshold, ClusterThreshold: n.ClusterThreshold, IndexBytesPerRow: 8 * n.Bands}
	}
	// Each kind's last pass (which writes its rows) runs while the next
	// kinds' first passes read and decide: on the 1GB demo one source's
	// Parquet encoding left a core idle through most of that pass, and a
	// kind with no near-dedup (kg) passed so quickly that the kind after it
	// waited for the last pass before it. Last passes run one at a time,
	// in kind order (finisher), and a row of a source one of them writes
	// waits for it (see flight), so the files are the same bytes as when
	// kinds run one after another. A kind waiting for its last pass holds
	// its near-dedup result (nearResult: 24 bytes a row and the ids of rows
	// in pairs) and its staging file; its index is gone.
	fin := startFinisher(len(schemas.Kinds))
	defer fin.stop() // on an error below: the last pass running ends first, the waiting ones are dropped
	for _, k := range schemas.Kinds {
		var tail *kindTail
		var err error
		switch k {
		case schemas.KindText:
			tail, err = cleanKind[schemas.Text](ctx, r, k, inputs[k])
		case schemas.KindQA:
			tail, err = cleanKind[schemas.QA](ctx, r, k, inputs[k])
		case schemas.KindKG:
			tail, err = cleanKind[schemas.Triple](ctx, r, k, inputs[k])
		case schemas.KindDialogue:
			tail, err = cleanKind[schemas.Dialogue](ctx, r, k, inputs[k])
		case schemas.KindPreference:
			tail, err = cleanKind[schemas.PreferencePair](ctx, r, k, inputs[k])
		case schemas.KindExam:
			tail, err = cleanKind[schemas.ExamQuestion](ctx, r, k, inputs[k])
		}
		if err != nil {
			return nil, err
		}
		f := &flight{sources: tail.sources, done: make(chan struct{})}
		if !fin.add(tail, f) {
			tail.abort()
			return nil, fin.close()
		}
		r.flights = append(r.flights, f)
		if serialKinds {
			<-f.done
		}
	}
	if err := fin.close(); err != nil {
		return nil, err
	}
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
	if err := r.report.checkEval(o.Sources); err != nil {
		return r.report, err
	}
	return r.report, nil
}

// inputFile is one normalized part file and the source of its first row.
type inputFile struct {
	path   string
	source string
	rows   int64
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
	// not remove, encoded in order as one staging frame (see stage.go).
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

// cleanKind streams one kind through the steps and dedup. Pass 1 reads the
// normalized parts with a pool of workers (order preserved), removes what
// the filters, decontamination and exact dedup catch, and — with near-dedup
// on — writes survivors to a staging folder while the LSH index collects
// their band keys. Pass 2 reads the staged rows, shingles only the rows in
// candidate pairs and verifies each pair by exact Jaccard; pass 3 writes
// clean rows with their cluster id and the near duplicates to removed/.
func cleanKind[T any, P record[T]](ctx context.Context, r *run, k schemas.Kind, files []inputFile) (tail *kindTail, err error) {
	if len(files) == 0 {
		return &kindTail{finish: func() error { return nil }, abort: func() {}, sources: map[string]bool{}}, nil
	}
	start := time.Now()
	var total int64
	for _, f := range files {
		total += f.rows
	}
	bar := r.opts.Bars.Start("clean "+string(k), total, false)
	defer bar.Finish()
	ws := r.opts.Workspace
	cleanW := map[string]*asyncWriter[T]{}
	var staging *stageWriter
	stageDir := ws.Path("clean", ".staging", string(k))
	abort := func() {
		for _, w := range cleanW {
			w.Abort()
		}
		if staging != nil {
			staging.Abort()
		}
	}
	defer func() {
		if err != nil {
			abort()
		}
	}()
	writeClean := func(row T) error {
		p := P(&row)
		src := p.RecordSource()
		w := cleanW[src]
		if w == nil {
			if _, ok := r.order[src]; !ok { // pass 1 checked every row; a path is never built from another name
				return unknownSource(src)
			}
			w = newAsyncWriter(schemas.NewPartWriter[T](ws.Clean(k), schemas.PartOptions{Prefix: src}))
			cleanW[src] = w
		}
		r.report.source(src).Kept++
		return w.Write(row)
	}
	var lsh *dedup.LSHIndex
	if r.mh != nil && slices.Contains(r.cfg.Near.Kinds, k) {
		if staging, err = newStageWriter(stageDir); err != nil {
			return nil, err
		}
		lsh = dedup.NewLSHIndex(r.mh.Bands, total)
	}
	exact := map[uint64]uint64{}
	var ord uint32
	var dropped []int
	sources := map[string]bool{}
	lastSrc := ""

	err = pass1[T, P](ctx, r, files, func(b *batch[T]) error {
		// pos is the position in b.stage of the next row the worker staged
		// (every row it did not remove); those found here to be exact
		// duplicates are listed in the frame as dropped.
		pos, first := 0, ord
		dropped = dropped[:0]
		for i := range b.out {
			res := &b.out[i]
			inFrame := staging != nil && res.reason == ""
			if inFrame {
				pos++
			}
			p := P(&res.row)
			src := p.RecordSource()
			if _, ok := r.order[src]; !ok {
				return fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), unknownSource(src))
			}
			if src != lastSrc || len(sources) == 0 {
				r.waitFor(src)
				sources[src] = true
				lastSrc = src
			}
			if r.eval[src] && !b.eval {
				return fmt.Errorf("%s: row %d: eval source %s shares a part file with a training source; clean needs one source per file",
					b.file, b.first+int64(i), src)
			}
			counts := r.report.source(src)
			counts.In++
			if res.reason == "" && enabled(r.cfg.Exact.Enabled) {
				if kept, dup := exact[res.key]; dup {
					res.reason, res.detail = ReasonDuplicate, idText(kept)
				} else {
					exact[res.key] = idBits(p.RecordID())
				}
			}
			if res.reason != "" {
				if res.original == "" { // an exact duplicate: workers marshal only rows they remove
					var err error
					if res.original, err = originalJSON(p, res.changed, res.before); err != nil {
						return fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), err)
					}
				}
				if err := r.remove(k, p.RecordID(), src, res.reason, res.detail, res.original); err != nil {
					return err
				}
				if inFrame {
					dropped = append(dropped, pos-1)
				}
				continue
			}
			if staging == nil {
				p.SetCluster(p.RecordID())
				if err := writeClean(res.row); err != nil {
					return err
				}
				continue
			}
			if res.bands != nil {
				lsh.Add(ord, res.bands)
				r.report.NearDedup.Indexed++
			}
			if ord == ^uint32(0) {
				return fmt.Errorf("clean %s: more than 4 294 967 295 rows of one kind", k)
			}
			ord++
		}
		if staging != nil && ord > first {
			if err := staging.Write(b.stage, int(ord-first), dropped); err != nil {
				return err
			}
		}
		bar.Add(int64(len(b.out)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.opts.Log.Debug("clean: pass 1 done", "kind", k, "took", time.Since(start))
	exact = nil
	var near *nearResult
	if staging != nil {
		if err := staging.Close(); err != nil {
			return nil, err
		}
		if near, err = nearDedup[T, P](r, k, staging.path, staging.frames, ord, lsh); err != nil {
			return nil, err
		}
	}
	finish := func() error {
		if staging != nil {
			if err := writeStaged[T, P](r, k, staging.path, staging.frames, near, writeClean); err != nil {
				return err
			}
			// The .staging folder itself goes at the end of Run: the next
			// kind may be making its own folder in it now.
			if err := os.RemoveAll(stageDir); err != nil {
				return err
			}
		}
		for _, src := range sortedKeys(cleanW) {
			if err := cleanW[src].Close(); err != nil {
				return err
			}
		}
		// A source holds one kind: commit its removed rows now rather than
		// keep their last row group in memory through the other kinds. (A
		// source with rows of a later kind would start its next part file.)
		if err := r.closeRemoved(k); err != nil {
			return err
		}
		r.opts.Log.Debug("clean: kind done", "kind", k, "took", time.Since(start))
		return nil
	}
	return &kindTail{finish: finish, abort: abort, sources: sources}, nil
}

// serialKinds makes Run finish each kind before it starts the next; the
// tests compare the files of both ways (export_test.go).
var serialKinds bool

// kindTail is what is left of cleanKind once its rows are all decided:
// finish writes them (near-dedup's pass 3) and commits the kind's files;
// abort drops what is not committed, when finish is not to run or failed.
// sources are the sources of the kind's rows.
type kindTail struct {
	finish  func() error
	abort   func()
	sources map[string]bool
}

// flight is a kind's finish, handed to the finisher while later kinds run:
// done closes when it has returned or been dropped. A later kind's pass 1
// waits for it before its first row of one of sources, so no source's
// removed/ parts or counts are written by two kinds at once (in a
// chimed.yaml workspace a source holds one kind, and nothing waits).
type flight struct {
	sources map[string]bool
	done    chan struct{}
}

// waitFor waits until the finish of every earlier kind with rows of src
// has returned.
func (r *run) waitFor(src string) {
	for _, f := range r.flights {
		if f.sources[src] {
			<-f.done
		}
	}
}

// finisher runs kinds' finishes one at a time, in the order they are
// added, in a goroutine of its own. After the first error it drops (aborts)
// every finish still to run.
type finisher struct {
	queue  chan pendingFinish
	done   chan struct{} // closes when the goroutine returns
	closed sync.Once
	mu     sync.Mutex
	err    error
	halted bool // stop was called: drop what has not started
}

type pendingFinish struct {
	tail   *kindTail
	flight *flight
}

// startFinisher starts a finisher with room for n waiting kinds.
func startFinisher(n int) *finisher {
	f := &finisher{queue: make(chan pendingFinish, n), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		for p := range f.queue {
			if f.failed() {
				p.tail.abort()
			} else if err := p.tail.finish(); err != nil {
				p.tail.abort()
				f.mu.Lock()
				f.err = err // the first: every later finish is dropped
				f.mu.Unlock()
			}
			close(p.flight.done)
		}
	}()
	return f
}

// failed reports whether a finish failed or the finisher was stopped.
func (f *finisher) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err != nil || f.halted
}

// add hands a kind's finish to the finisher; false (the kind not taken)
// once a finish has failed.
func (f *finisher) add(t *kindTail, fl *flight) bool {
	if f.failed() {
		return false
	}
	f.queue <- pendingFinish{t, fl}
	return true
}

// close waits for every finish added and returns the first error.
func (f *finisher) close() error {
	f.closed.Do(func() { close(f.queue) })
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// stop, on Run's way out after an error, lets the finish running end and
// drops the ones waiting.
func (f *finisher) stop() {
	f.mu.Lock()
	f.halted = true
	f.mu.Unlock()
	f.close()
}

// staged is a row between pass 1 and pass 3 of near-dedup, with the values
// as read of the text fields normalisation rewrote, so a near duplicate is
// kept whole in removed/ (see originalJSON).
type staged[T any] struct {
	Row     T        `parquet:"row"`
	Changed []int32  `parquet:"changed"`
	Before  []string `parquet:"before"`
}

// originalJSON puts back the values as read of the text fields listed in
// changed (positions in TextFields) and marshals the row: the JSON of the
// row as read, for removed/. Normalisers rewrite only TextFields, so this is
// the row before any step touched it. It overwrites p's fields.
func originalJSON(p schemas.Record, changed []int32, before []string) (string, error) {
	if len(changed) > 0 {
		fields := p.TextFields()
		for i, j := range changed {
			if int(j) >= len(fields) {
				return "", fmt.Errorf("row %s: staged field %d of %d", p.RecordID(), j, len(fields))
			}
			*fields[j].Value = before[i]
		}
	}
	// goccy/go-json: the same bytes as encoding/json for these structs, at
	// a fraction of the cost.
	b, err := gojson.Marshal(p)
	return string(b), err
}

// removedRowsPerGroup bounds the rows a removed/ writer buffers before it
// writes a row group. Removed rows include the too_long ones, megabytes
// each; with the default 8,192-row groups the 1GB demo's whole
// encyclopedia removed/ file (3,604 rows, 320 MB compressed) sat in memory
// as one row group. Smaller groups cost a few per cent of file size.
const removedRowsPerGroup = 256

// remove writes one row to removed/<source>-NNNNN.parquet and counts it.
// One kind's pass 3 and a later kind's pass 1 both remove rows.
func (r *run) remove(k schemas.Kind, id, src, reason, detail, original string) error {
	r.removedMu.Lock()
	defer r.removedMu.Unlock()
	w := r.removed[src]
	if w == nil {
		if _, ok := r.order[src]; !ok {
			return unknownSource(src)
		}
		w = schemas.NewPartWriter[schemas.RemovedRow](r.opts.Workspace.Removed(),
			schemas.PartOptions{Prefix: src, RowsPerGroup: removedRowsPerGroup})
		r.removed[src] = w
	}
	r.removedKind[src] = k // a source in two kinds: the earlier is done with it (see flight)
	r.report.source(src).Removed[reason]++
	return w.Write(schemas.RemovedRow{ID: id, Source: src, Kind: string(k), Reason: reason, Detail: detail, Record: original})
}

// unknownSource is the error for a row whose source column names no source
// of chimed.yaml. clean and removed/ name their files after the source, so
// a name from data alone (a stale or hand-made normalized/ file, or one
// whose rows say ../../x) must never reach a path.
func unknownSource(src string) error {
	return fmt.Errorf("source %s is not a source in chimed.yaml (clean names its files after the sources listed there; re-run `chimed ingest`)",
		strconv.Quote(src))
}

// closeRemoved commits the removed/ parts of the sources whose last
// removed row was of kind k.
func (r *run) closeRemoved(k schemas.Kind) error {
	r.removedMu.Lock()
	defer r.removedMu.Unlock()
	for _, name := range sortedKeys(r.removed) {
		if r.removedKind[name] != k {
			continue
		}
		if err := r.removed[name].Close(); err != nil {
			return err
		}
	}
	return nil
}

// idBits packs a 16-hex-digit StableID into 64 bits, so the exact-dedup
// index holds 16 bytes per row (key, kept id) instead of a string. Ids of
// another shape give 0 and the duplicate's detail is left empty.
func idBits(id string) uint64 {
	if len(id) != 16 {
		return 0
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(id)); err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(id, 16, 64)
	return v
}

func idText(v uint64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%016x", v)
}
