package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// RunOptions tune one ingest run.
type RunOptions struct {
	// Only names the sources to ingest; empty means every source. With a
	// subset, the other sources' outputs and report entries are kept.
	Only []string
	// Parallel is how many sources are ingested at once (default GOMAXPROCS).
	// Each source also reads on its own goroutine while it maps and writes.
	Parallel int
	// RowsPerPart rolls normalized and quarantine parts (default: PartWriter's).
	RowsPerPart int
	// KeepGoing turns a source that quarantined more than its
	// max_quarantine from Run's error into a warning, logged and kept in
	// the report. An eval source that gave no row stays an error.
	KeepGoing bool
	// Shard, when set, runs one array task's share: its parts are named
	// after it, and its counts go to ShardReportPath for Merge, which
	// writes reports/ingest.json and runs the checks once every shard is
	// done. Only is not allowed with it.
	Shard Shard
	// SplitBytes is the size above which a shard reads a JSON Lines or text file
	// in pieces (0: DefaultSplitBytes; < 0: never).
	SplitBytes int64
	Bars       *progress.Bars
	Log        *slog.Logger
}

// sourceName is what a source name may be: it prefixes file names.
var sourceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// plan is one source ready to run: preset applied, mapping compiled, files
// found.
type plan struct {
	src     Source
	mapper  *mapper
	files   []inputFile // records, in sorted order
	lookups []inputFile // join lookup files, in sorted order
	size    int64
}

type inputFile struct {
	path string // to open
	rel  string // as it appears in locations and ids
	size int64
	// A shard's piece of a large JSON Lines or text file (split) is the records
	// starting at offsets in [from, to); to < 0 is the end (see span).
	split    bool
	piece    bool
	from, to int64
}

// share is what the piece adds to bytes read: pieces add up to the file.
func (f inputFile) share() int64 {
	if f.to < 0 {
		return f.size - f.from
	}
	return f.to - f.from
}

// Run ingests the sources of chimed.yaml into the workspace:
// normalized/<kind>/<source>-NNNNN.parquet, quarantine/<source>-NNNNN.parquet
// and reports/ingest.json. Every source is checked (preset, mapping, files)
// before anything is written. Once everything is written, Run fails (the
// report returned with the error) when a source quarantined more than its
// max_quarantine (unless opt.KeepGoing) or an eval source gave no row: a
// mapping that fits no record must not pass for a small source. Files of
// one source read as different formats or encodings are warned of. It starts by sweeping temporary files and the
// outputs of the sources it runs, so a re-run after a kill finishes the work
// and gives the same bytes: files of a source are read in sorted order on one
// goroutine and its rows are written in that order.
func Run(ctx context.Context, ws workspace.Dir, sources []Source, opt RunOptions) (*Report, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	plans, err := makePlans(ws, sources, opt.Only)
	if err != nil {
		return nil, err
	}
	full := len(opt.Only) == 0
	if opt.Shard.Sharded() {
		if !full {
			return nil, errors.New("--source and --shard do not go together: a shard reads its share of every source")
		}
		split := opt.SplitBytes
		if split == 0 {
			split = DefaultSplitBytes
		}
		if split > 0 {
			if err := markSplit(plans, split); err != nil {
				return nil, err
			}
		}
		plans = shardPlansSplit(plans, opt.Shard, split)
		if err := clearShardOutputs(ws, opt.Shard); err != nil {
			return nil, err
		}
	} else if err := clearOutputs(ws, sources, plans, full); err != nil {
		return nil, err
	}
	report := &Report{Sources: map[string]*SourceReport{}}
	if !full {
		if report, err = priorReport(ws, sources); err != nil {
			return nil, err
		}
	}
	bars := opt.Bars.Group()
	defer bars.Stop()
	results, err := ingestAll(ctx, ws, plans, bars, opt, log)
	if err != nil {
		return nil, err
	}
	if opt.Shard.Sharded() {
		return nil, writeShardReport(ws, opt.Shard, plans, results)
	}
	return finishReport(ws, plans, results, report, opt)
}

// priorReport is reports/ingest.json as a run of some sources (--only)
// starts from: the last report, less the sources chimed.yaml no longer
// lists.
func priorReport(ws workspace.Dir, sources []Source) (*Report, error) {
	report, err := ReadReport(ws.Report("ingest.json"))
	if err != nil {
		return nil, err
	}
	configured := map[string]bool{}
	for _, s := range sources {
		configured[s.Name] = true
	}
	for name := range report.Sources {
		if !configured[name] {
			delete(report.Sources, name) // no longer in chimed.yaml
		}
	}
	return report, nil
}

// ingestAll runs the plans, opt.Parallel sources at a time, and returns
// their results in plan order. The first error cancels the other sources
// and is returned; so is an interruption of ctx.
func ingestAll(ctx context.Context, ws workspace.Dir, plans []plan, bars *progress.Group, opt RunOptions, log *slog.Logger) ([]sourceResult, error) {
	parallel := opt.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, parallel)
	)
	results := make([]sourceResult, len(plans))
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			res, err := runSource(ctx, ws, &plans[i], bars, opt)
			c := res.Counts
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
				return
			}
			results[i] = res
			secs := time.Since(start).Seconds()
			log.Info("ingested", "source", plans[i].src.Name, "kind", plans[i].src.Kind,
				"read", c.Read, "written", c.Written, "quarantined", c.Quarantined,
				"MB/s", fmt.Sprintf("%.1f", float64(c.Bytes)/1e6/max(secs, 1e-9)))
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := parent.Err(); err != nil {
		return nil, err // interrupted: no report, the next run starts over
	}
	return results, nil
}

// Merge ends a sharded ingest: it adds up the n shards' reports into
// reports/ingest.json and runs the checks Run runs (max_quarantine, eval
// sources with no row) on the sums, so the report and the errors are those
// of one process. It sweeps the temporary files killed shards left.
func Merge(ws workspace.Dir, sources []Source, n int, opt RunOptions) (*Report, error) {
	plans, err := makePlans(ws, sources, nil)
	if err != nil {
		return nil, err
	}
	dirs := []string{ws.Reports(), ws.Quarantine()}
	for _, k := range schemas.Kinds {
		dirs = append(dirs, ws.Normalized(k))
	}
	for _, d := range dirs {
		if err := atomicfile.Sweep(d); err != nil {
			return nil, fmt.Errorf("sweep %s: %w", d, err)
		}
	}
	results, err := mergeResults(ws, n, plans)
	if err != nil {
		return nil, err
	}
	return finishReport(ws, plans, results, &Report{Sources: map[string]*SourceReport{}}, opt)
}

// finishReport checks what the sources gave, warns, and writes
// reports/ingest.json.
func finishReport(ws workspace.Dir, plans []plan, results []sourceResult, report *Report, opt RunOptions) (*Report, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var problems []error
	for i := range plans {
		p, res := &plans[i], &results[i]
		sr := &SourceReport{Kind: string(p.src.Kind), Counts: res.Counts}
		for _, w := range mixedFiles(p.src.Name, res.sniffs) {
			log.Warn(w)
			sr.Warnings = append(sr.Warnings, w)
		}
		if o := checkQuarantine(&p.src, res); o != nil {
			if opt.KeepGoing {
				log.Warn("more records quarantined than max_quarantine allows; going on (--keep-going)",
					"source", o.Source, "quarantined", o.Quarantined, "records", o.Records,
					"max_quarantine", o.Limit.String(), "first_errors", strings.Join(o.First, "; "))
				sr.Warnings = append(sr.Warnings, o.Error())
			} else {
				problems = append(problems, o)
			}
		}
		if err := checkEval(&p.src, res.Counts); err != nil {
			problems = append(problems, err)
		}
		report.Sources[p.src.Name] = sr
	}
	if err := WriteReport(ws.Report("ingest.json"), report); err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return report, &CheckError{Problems: problems}
	}
	return report, nil
}

// makePlans checks every selected source and finds its files.
func makePlans(ws workspace.Dir, sources []Source, only []string) ([]plan, error) {
	byName := map[string]bool{}
	for _, s := range sources {
		byName[s.Name] = true
	}
	for _, n := range only {
		if !byName[n] {
			return nil, fmt.Errorf("--source %s: no such source in chimed.yaml", n)
		}
	}
	var plans []plan
	for _, s := range sources {
		if len(only) > 0 && !slices.Contains(only, s.Name) {
			continue
		}
		if !sourceName.MatchString(s.Name) {
			return nil, fmt.Errorf("sources[%s].name: use letters, digits, '.', '_' and '-' only (it names output files)", s.Name)
		}
		src, err := ApplyPreset(s)
		if err != nil {
			return nil, err
		}
		if err := src.Validate(); err != nil {
			return nil, err
		}
		mp, err := compileMapping(&src)
		if err != nil {
			return nil, err
		}
		files, err := globFiles(ws, &src)
		if err != nil {
			return nil, err
		}
		p := plan{src: src, mapper: mp}
		for _, f := range files {
			p.size += f.size
			if j := src.Map.Join; j != nil {
				if ok, _ := filepath.Match(j.Lookup, filepath.Base(f.path)); ok {
					p.lookups = append(p.lookups, f)
					continue
				}
			}
			p.files = append(p.files, f)
		}
		if j := src.Map.Join; j != nil {
			if j.Lookup == "" || j.Key == "" || j.On == "" || j.As == "" {
				return nil, fmt.Errorf("sources[%s].map.join: give lookup, key, on and as", s.Name)
			}
			if len(p.lookups) == 0 {
				return nil, fmt.Errorf("sources[%s].map.join.lookup: %q matches none of the source's files", s.Name, j.Lookup)
			}
			if len(p.files) == 0 {
				return nil, fmt.Errorf("sources[%s].map.join.lookup: %q matches every file; none is left to join", s.Name, j.Lookup)
			}
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// SourceFiles lists the files a source reads, exactly as ingest resolves
// them, so other steps (chimed run's up-to-date check) never disagree with
// ingest about which files a source is.
func SourceFiles(ws workspace.Dir, s *Source) ([]string, error) {
	files, err := globFiles(ws, s)
	if err != nil {
		return nil, err
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths, nil
}

// globFiles expands a source's paths: relative to the workspace unless
// absolute, sorted, each file once. A pattern that matches nothing is an
// error naming the source, since a typo would otherwise ingest nothing.
func globFiles(ws workspace.Dir, s *Source) ([]inputFile, error) {
	seen := map[string]bool{}
	var out []inputFile
	for _, pat := range s.Paths {
		full := pat
		if !filepath.IsAbs(pat) {
			full = ws.Path(pat)
		}
		matches, err := glob(full)
		if err != nil {
			return nil, fmt.Errorf("sources[%s].paths: %q: %w", s.Name, pat, err)
		}
		sort.Strings(matches)
		n := 0
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("sources[%s].paths: %w: %w", s.Name, ErrUnreadable, err)
			}
			if st.IsDir() {
				if !hasMeta(pat) {
					return nil, fmt.Errorf("sources[%s].paths: %q is a folder: name its files (%s)", s.Name, pat, filepath.Join(pat, "*"))
				}
				continue
			}
			if !st.Mode().IsRegular() {
				// A FIFO or device would block or never end; only files hold a dataset.
				return nil, fmt.Errorf("sources[%s].paths: %s is not a regular file (%s)", s.Name, m, st.Mode().Type())
			}
			n++
			if seen[m] {
				continue
			}
			seen[m] = true
			rel := m
			if !filepath.IsAbs(pat) {
				if r, err := filepath.Rel(string(ws), m); err == nil {
					rel = r
				}
			}
			out = append(out, inputFile{path: m, rel: filepath.ToSlash(rel), size: st.Size()})
		}
		if n == 0 {
			return nil, fmt.Errorf("sources[%s].paths: %q matches no file (looked in %s)", s.Name, pat, filepath.Dir(full))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// clearOutputs sweeps temporary files a killed run left and removes the
// outputs the run will write again: everything of ingest on a full run,
// only the named sources' parts on a partial one (a sharded ingest's
// <source>-sIIII parts among them).
func clearOutputs(ws workspace.Dir, sources []Source, plans []plan, full bool) error {
	outputs := []string{ws.Quarantine()}
	for _, k := range schemas.Kinds {
		outputs = append(outputs, ws.Normalized(k))
	}
	for _, d := range append([]string{ws.Reports()}, outputs...) {
		if err := atomicfile.Sweep(d); err != nil {
			return fmt.Errorf("sweep %s: %w", d, err)
		}
	}
	names := map[string]bool{}
	for _, p := range plans {
		names[p.src.Name] = true
	}
	configured := map[string]bool{}
	for _, s := range sources {
		configured[s.Name] = true
	}
	ours := func(prefix string) bool {
		if names[prefix] {
			return true
		}
		src, _, sharded := cutShard(prefix)
		return sharded && names[src] && !configured[prefix]
	}
	part := regexp.MustCompile(`^(.+)-\d{5}\.parquet$`)
	for _, d := range outputs {
		ents, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			m := part.FindStringSubmatch(e.Name())
			if e.IsDir() || m == nil || !(full || ours(m[1])) {
				continue
			}
			if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// item is one record (or reader error) handed from the reading goroutine
// to the mapping one.
type item struct {
	raw Raw
	err error
	// fail ends the stream: a file that could not be read (ErrUnreadable).
	fail error
}

const batchSize = 256

// rowsPerGroup bounds what a writer buffers before it flushes a Parquet row
// group: 2048 rows of a few KiB each (a long QA with its meta) is some
// 10 MiB per source at most, whatever the input size.
const rowsPerGroup = 2048

// sourceResult is what ingesting one source gave: its counts, its first
// quarantine errors (for the message when there are too many) and what
// each file was read as.
type sourceResult struct {
	Counts
	first  []string
	sniffs []fileSniff
}

// firstErrorsShown is how many quarantine errors a too-many-quarantined
// message quotes.
const firstErrorsShown = 3

// runSource ingests one source: a reader goroutine streams its files in
// order; this goroutine maps each record and writes rows and quarantine.
func runSource(ctx context.Context, ws workspace.Dir, p *plan, bars *progress.Group, opt RunOptions) (res sourceResult, err error) {
	s := &p.src
	c := &res.Counts
	*c = Counts{Files: len(p.lookups)}
	for _, f := range p.files {
		if f.from == 0 { // a split file counts once, in its first piece's shard
			c.Files++
		}
	}
	onSniff := func(f fileSniff) { res.sniffs = append(res.sniffs, f) }
	quarantined := func(raw *Raw, err error) schemas.QuarantineRow {
		q := quarantineRow(s.Name, s.Kind, raw, err)
		if len(res.first) < firstErrorsShown {
			res.first = append(res.first, Location{File: q.File, Line: q.Line, Row: q.Row, Offset: q.Offset}.String()+": "+q.Error)
		}
		return q
	}
	parts := schemas.PartOptions{Prefix: shardPrefix(s.Name, opt.Shard), RowsPerPart: opt.RowsPerPart, RowsPerGroup: rowsPerGroup}
	// Compressing the rows is some 40% of ingest's CPU: on one goroutine
	// it would hold up reading and mapping, so row groups compress side
	// by side (the quarantine's are few).
	rowParts := parts
	rowParts.ParallelGroups = runtime.GOMAXPROCS(0)
	rows, err := newRowSink(s.Kind, ws.Normalized(s.Kind), rowParts)
	if err != nil {
		return res, err
	}
	quar := schemas.NewPartWriter[schemas.QuarantineRow](ws.Quarantine(), parts)
	ok := false
	defer func() {
		if !ok {
			rows.abort()
			quar.Abort()
		}
	}()
	bar := bars.Start(s.Name, p.size, true)
	defer bar.Finish()

	w := startSourceWriter(rows, quar)
	defer w.stop()
	quarantine := func(raw *Raw, err error) error {
		c.Quarantined++
		return w.quarantine(quarantined(raw, err))
	}

	var join *joinTable
	if s.Map.Join != nil {
		c.Lookup = &LookupCounts{}
		quarantineLookup := func(raw *Raw, err error) error {
			c.Lookup.Quarantined++
			return w.quarantine(quarantined(raw, err))
		}
		if join, err = readJoin(ctx, p, bar, c, onSniff, ws.Tmp(), quarantineLookup); err != nil {
			return res, err
		}
	}

	var out []schemas.Record
	for it, err := range stream(ctx, p.files, s, bar, c, onSniff, ws.Tmp()) {
		if err != nil {
			return res, err
		}
		c.Read++
		if it.err != nil {
			if err := quarantine(&it.raw, it.err); err != nil {
				return res, err
			}
			continue
		}
		var merr error
		if out, merr = p.joinAndMap(join, &it.raw, out[:0]); merr != nil {
			if err := quarantine(&it.raw, merr); err != nil {
				return res, err
			}
			continue
		}
		c.RecordsOK++
		if err := w.rows(out); err != nil {
			return res, err
		}
		c.Written += int64(len(out))
	}
	if join != nil {
		if err := join.settle(c.Lookup, func(raw *Raw, err error) error { return w.quarantine(quarantined(raw, err)) }); err != nil {
			return res, err
		}
	}
	c.MetaCapped = p.mapper.capped
	if err := w.finish(); err != nil {
		return res, err
	}
	if err := rows.close(); err != nil {
		return res, err
	}
	if err := quar.Close(); err != nil {
		return res, err
	}
	ok = true
	return res, nil
}

// joinAndMap attaches a record's joined lookup row, if the source joins
// one, and maps it to canonical rows appended to out; an error quarantines
// the record.
func (p *plan) joinAndMap(join *joinTable, raw *Raw, out []schemas.Record) ([]schemas.Record, error) {
	if join != nil {
		if err := join.attach(raw); err != nil {
			return out, err
		}
	}
	return p.mapper.mapRecord(raw, out)
}

// readJoin reads a source's lookup files into its join table; a lookup
// row that does not read or does not join (no key, a repeated key) goes to
// quarantine.
func readJoin(ctx context.Context, p *plan, bar *progress.Bar, c *Counts, onSniff func(fileSniff), tmpDir string, quarantine func(*Raw, error) error) (*joinTable, error) {
	join := &joinTable{spec: p.src.Map.Join, rows: map[string]*joinRow{}}
	for it, err := range stream(ctx, p.lookups, &p.src, bar, c, onSniff, tmpDir) {
		if err != nil {
			return nil, err
		}
		c.Lookup.Read++
		if it.err == nil {
			it.err = join.add(it.raw)
		}
		if it.err != nil {
			if err := quarantine(&it.raw, it.err); err != nil {
				return nil, err
			}
		}
	}
	return join, nil
}

// settle counts the lookup rows some record joined as used and
// quarantines the rest, in the order they were read.
func (j *joinTable) settle(lc *LookupCounts, quarantine func(*Raw, error) error) error {
	for _, key := range j.order {
		jr := j.rows[key]
		if jr.used {
			lc.Used++
			continue
		}
		lc.Quarantined++
		if err := quarantine(&jr.raw, fmt.Errorf("no record joined this %s row (%s=%s)", j.spec.As, j.spec.Key, key)); err != nil {
			return err
		}
	}
	return nil
}

// sourceWriter writes a source's rows and quarantine rows on a goroutine of
// its own, so Parquet encoding and compression overlap with reading and
// mapping; batches keep their order, so output stays deterministic.
type sourceWriter struct {
	ch      chan writeBatch
	done    chan struct{}
	err     error // set by the writer goroutine before done closes
	failed  atomic.Bool
	cur     writeBatch
	sink    rowSink
	quar    *schemas.PartWriter[schemas.QuarantineRow]
	stopped bool
}

type writeBatch struct {
	rows []schemas.Record
	quar []schemas.QuarantineRow
}

func startSourceWriter(sink rowSink, quar *schemas.PartWriter[schemas.QuarantineRow]) *sourceWriter {
	w := &sourceWriter{ch: make(chan writeBatch, 4), done: make(chan struct{}), sink: sink, quar: quar}
	go func() {
		defer close(w.done)
		for b := range w.ch {
			if w.err != nil {
				continue // drain after a failure
			}
			for _, r := range b.rows {
				if w.err = w.sink.write(r); w.err != nil {
					break
				}
			}
			if w.err == nil && len(b.quar) > 0 {
				w.err = w.quar.Write(b.quar...)
			}
			if w.err != nil {
				w.failed.Store(true)
			}
		}
	}()
	return w
}

func (w *sourceWriter) send() error {
	if w.failed.Load() {
		return w.finish()
	}
	if len(w.cur.rows)+len(w.cur.quar) >= batchSize {
		w.ch <- w.cur
		w.cur = writeBatch{}
	}
	return nil
}

func (w *sourceWriter) rows(rs []schemas.Record) error {
	w.cur.rows = append(w.cur.rows, rs...)
	return w.send()
}

func (w *sourceWriter) quarantine(q schemas.QuarantineRow) error {
	w.cur.quar = append(w.cur.quar, q)
	return w.send()
}

// finish hands over the last batch and waits for the writer; it returns
// the first write error.
func (w *sourceWriter) finish() error {
	if !w.stopped {
		w.stopped = true
		if len(w.cur.rows)+len(w.cur.quar) > 0 && !w.failed.Load() {
			w.ch <- w.cur
		}
		close(w.ch)
		<-w.done
	}
	return w.err
}

// stop ends the writer goroutine on an early return.
func (w *sourceWriter) stop() { _ = w.finish() }

// stream reads files in order on a goroutine of its own and yields their
// records (a reader error is an item's err); the loop's error is a
// cancellation. Bytes read are counted in c and shown on the bar; onSniff
// hears what each file is read as (on the reading goroutine, which has
// ended once the loop is over).
func stream(ctx context.Context, files []inputFile, s *Source, bar *progress.Bar, c *Counts, onSniff func(fileSniff), tmpDir string) func(yield func(item, error) bool) {
	return func(yield func(item, error) bool) {
		ch := make(chan []item, 4)
		stop := make(chan struct{})
		var bytes int64
		go func() {
			defer close(ch)
			batch := make([]item, 0, batchSize)
			send := func() bool {
				select {
				case ch <- batch:
					batch = make([]item, 0, batchSize)
					return true
				case <-stop:
					return false
				case <-ctx.Done():
					return false
				}
			}
			onBytes := func(n int64) {
				bytes += n
				bar.Add(n)
			}
			for _, f := range files {
				read := readFile(f.path, f.rel, s, onBytes, onSniff, tmpDir)
				if f.piece {
					sniffed := onSniff
					if f.from > 0 {
						sniffed = nil // the first piece tells it
					}
					read = readFileSpan(f.path, f.rel, s, span{from: f.from, to: f.to}, nil, sniffed, tmpDir)
					onBytes(f.share())
				}
				for raw, err := range read {
					if errors.Is(err, ErrUnreadable) {
						// Not a broken record: the rest of the file was never
						// read. The run fails, naming the file.
						batch = append(batch, item{fail: err})
						send()
						return
					}
					batch = append(batch, item{raw: raw, err: err})
					if len(batch) == batchSize && !send() {
						return
					}
				}
			}
			if len(batch) > 0 {
				send()
			}
		}()
		defer func() {
			close(stop)
			for range ch { // let the reader finish
			}
			c.Bytes += bytes
		}()
		for batch := range ch {
			for _, it := range batch {
				if it.fail != nil {
					yield(item{}, it.fail)
					return
				}
				if !yield(it, nil) {
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			yield(item{}, err)
		}
	}
}

// joinTable holds a join's lookup rows by key, in the order they came.
type joinTable struct {
	spec  *JoinMapping
	rows  map[string]*joinRow
	order []string
}

type joinRow struct {
	raw  Raw
	used bool
}

func (j *joinTable) add(raw Raw) error {
	key, err := textOf(raw.Fields[j.spec.Key])
	if err != nil || strings.TrimSpace(key) == "" {
		return fmt.Errorf("join: lookup row has no %s", j.spec.Key)
	}
	key = strings.TrimSpace(key)
	if first, dup := j.rows[key]; dup {
		return fmt.Errorf("join: %s=%s appears again (first at %s)", j.spec.Key, key, first.raw.Loc)
	}
	j.rows[key] = &joinRow{raw: raw}
	j.order = append(j.order, key)
	return nil
}

// attach puts the record's partner under the join's As name.
func (j *joinTable) attach(raw *Raw) error {
	key, err := textOf(raw.Fields[j.spec.On])
	if err != nil || strings.TrimSpace(key) == "" {
		return fmt.Errorf("join: the record has no %s", j.spec.On)
	}
	key = strings.TrimSpace(key)
	jr := j.rows[key]
	if jr == nil {
		return fmt.Errorf("join: no %s row has %s=%s", j.spec.As, j.spec.Key, key)
	}
	jr.used = true
	raw.Fields[j.spec.As] = jr.raw.Fields
	return nil
}

// rowSink writes canonical rows of one kind into part files.
type rowSink interface {
	write(schemas.Record) error
	close() error
	abort()
}

// partSink buffers rows so the Parquet writer gets them in batches.
type partSink[T any] struct {
	w   *schemas.PartWriter[T]
	buf []T
}

func (s *partSink[T]) write(r schemas.Record) error {
	row, ok := any(r).(*T)
	if !ok {
		return fmt.Errorf("internal: a %T row in a %T writer", r, s.w)
	}
	s.buf = append(s.buf, *row)
	if len(s.buf) < batchSize {
		return nil
	}
	return s.flush()
}

func (s *partSink[T]) flush() error {
	err := s.w.Write(s.buf...)
	clear(s.buf)
	s.buf = s.buf[:0]
	return err
}

func (s *partSink[T]) close() error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.w.Close()
}

func (s *partSink[T]) abort() { s.w.Abort() }

func sinkOf[T any](dir string, o schemas.PartOptions) rowSink {
	return &partSink[T]{w: schemas.NewPartWriter[T](dir, o), buf: make([]T, 0, batchSize)}
}

func newRowSink(k schemas.Kind, dir string, o schemas.PartOptions) (rowSink, error) {
	switch k {
	case schemas.KindText:
		return sinkOf[schemas.Text](dir, o), nil
	case schemas.KindQA:
		return sinkOf[schemas.QA](dir, o), nil
	case schemas.KindKG:
		return sinkOf[schemas.Triple](dir, o), nil
	case schemas.KindDialogue:
		return sinkOf[schemas.Dialogue](dir, o), nil
	case schemas.KindPreference:
		return sinkOf[schemas.PreferencePair](dir, o), nil
	case schemas.KindExam:
		return sinkOf[schemas.ExamQuestion](dir, o), nil
	}
	return nil, fmt.Errorf("no writer for kind %q", k)
}
