package clean

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/progress"
	"github.com/chimed/chimed/schemas"
)

// kindRun is the state of one kind's passes: its clean/ writers, and with
// near-dedup on its staging file and LSH index.
type kindRun[T any, P record[T]] struct {
	r        *run
	k        schemas.Kind
	start    time.Time
	bar      *progress.Bar
	cleanW   map[string]*asyncWriter[T]
	staging  *stageWriter // nil: near-dedup is off for the kind
	stageDir string
	lsh      *dedup.LSHIndex
	exact    map[uint64]uint64 // canonical key → id bits of the row kept
	ord      uint32            // the next staged row's ordinal
	dropped  []int             // scratch: the rows of a frame not staged
	sources  map[string]bool
	lastSrc  string
}

// cleanKind streams one kind through the steps and dedup. Pass 1 reads the
// normalized parts with a pool of workers (order preserved), removes what
// the filters, decontamination and exact dedup catch, and — with near-dedup
// on — writes survivors to a staging folder while the LSH index collects
// their band keys. Pass 2 reads the staged rows, shingles only the rows in
// candidate pairs and verifies each pair by exact Jaccard; pass 3 writes
// clean rows with their cluster id and the near duplicates to removed/.
// It returns once every row is decided; the returned kindTail writes them.
func cleanKind[T any, P record[T]](ctx context.Context, r *run, k schemas.Kind, files []inputFile) (tail *kindTail, err error) {
	if len(files) == 0 {
		return &kindTail{finish: func() error { return nil }, abort: func() {}, sources: map[string]bool{}}, nil
	}
	var total int64
	for _, f := range files {
		total += f.rows
	}
	kr := &kindRun[T, P]{r: r, k: k, start: time.Now(), cleanW: map[string]*asyncWriter[T]{},
		stageDir: r.opts.Workspace.Path("clean", ".staging", string(k)), exact: map[uint64]uint64{}, sources: map[string]bool{}}
	kr.bar = r.opts.Bars.Start("clean "+string(k), total, false)
	defer kr.bar.Finish()
	defer func() {
		if err != nil {
			kr.abort()
		}
	}()
	if r.mh != nil && slices.Contains(r.cfg.Near.Kinds, k) {
		if kr.staging, err = newStageWriter(kr.stageDir); err != nil {
			return nil, err
		}
		kr.lsh = dedup.NewLSHIndex(r.mh.Bands, total)
	}
	if err := pass1[T, P](ctx, r, files, kr.decide); err != nil {
		return nil, err
	}
	r.opts.Log.Debug("clean: pass 1 done", "kind", k, "took", time.Since(kr.start))
	kr.exact = nil
	var near *nearResult
	if kr.staging != nil {
		if err := kr.staging.Close(); err != nil {
			return nil, err
		}
		if near, err = nearDedup[T, P](r, k, kr.staging.path, kr.staging.frames, kr.ord, kr.lsh); err != nil {
			return nil, err
		}
		kr.lsh = nil
	}
	return &kindTail{finish: func() error { return kr.finish(near) }, abort: kr.abort, sources: kr.sources}, nil
}

// abort drops the kind's uncommitted files.
func (kr *kindRun[T, P]) abort() {
	for _, w := range kr.cleanW {
		w.Abort()
	}
	if kr.staging != nil {
		kr.staging.Abort()
	}
}

// writeClean writes a kept row to its source's clean/ parts and counts it.
func (kr *kindRun[T, P]) writeClean(row T) error {
	src := P(&row).RecordSource()
	w := kr.cleanW[src]
	if w == nil {
		if _, ok := kr.r.order[src]; !ok { // pass 1 checked every row; a path is never built from another name
			return unknownSource(src)
		}
		w = newAsyncWriter(schemas.NewPartWriter[T](kr.r.opts.Workspace.Clean(kr.k), schemas.PartOptions{Prefix: src}))
		kr.cleanW[src] = w
	}
	kr.r.report.source(src).Kept++
	return w.Write(row)
}

// decide is pass 1's sink: it takes each batch in read order, applies exact
// dedup, writes removals, and either writes kept rows (near-dedup off) or
// indexes them and appends the batch's staging frame.
func (kr *kindRun[T, P]) decide(b *batch[T]) error {
	// pos is the position in b.stage of the next row the worker staged
	// (every row it did not remove); those found here to be exact
	// duplicates are listed in the frame as dropped.
	pos, first := 0, kr.ord
	kr.dropped = kr.dropped[:0]
	for i := range b.out {
		res := &b.out[i]
		inFrame := kr.staging != nil && res.reason == ""
		if inFrame {
			pos++
		}
		if err := kr.count(b, i); err != nil {
			return err
		}
		kr.dedupExact(res)
		if res.reason != "" {
			if err := kr.removeRow(b, i); err != nil {
				return err
			}
			if inFrame {
				kr.dropped = append(kr.dropped, pos-1)
			}
			continue
		}
		if err := kr.keep(res); err != nil {
			return err
		}
	}
	if kr.staging != nil && kr.ord > first {
		if err := kr.staging.Write(b.stage, int(kr.ord-first), kr.dropped); err != nil {
			return err
		}
	}
	kr.bar.Add(int64(len(b.out)))
	return nil
}

// count checks row i's source and counts it in; the first row of a source
// waits until earlier kinds' last passes are done with it.
func (kr *kindRun[T, P]) count(b *batch[T], i int) error {
	r := kr.r
	src := P(&b.out[i].row).RecordSource()
	if _, ok := r.order[src]; !ok {
		return fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), unknownSource(src))
	}
	if src != kr.lastSrc || len(kr.sources) == 0 {
		r.waitFor(src)
		kr.sources[src] = true
		kr.lastSrc = src
	}
	if r.eval[src] && !b.eval {
		return fmt.Errorf("%s: row %d: eval source %s shares a part file with a training source; clean needs one source per file",
			b.file, b.first+int64(i), src)
	}
	r.report.source(src).In++
	return nil
}

// dedupExact removes a row whose canonical key an earlier row has.
func (kr *kindRun[T, P]) dedupExact(res *rowResult[T]) {
	if res.reason != "" || !enabled(kr.r.cfg.Exact.Enabled) {
		return
	}
	if kept, dup := kr.exact[res.key]; dup {
		res.reason, res.detail = ReasonDuplicate, idText(kept)
	} else {
		kr.exact[res.key] = idBits(P(&res.row).RecordID())
	}
}

// removeRow writes row i of b, which pass 1 removes, to removed/.
func (kr *kindRun[T, P]) removeRow(b *batch[T], i int) error {
	res := &b.out[i]
	p := P(&res.row)
	if res.original == "" { // an exact duplicate: workers marshal only rows they remove
		var err error
		if res.original, err = originalJSON(p, res.changed, res.before); err != nil {
			return fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), err)
		}
	}
	return kr.r.remove(kr.k, p.RecordID(), p.RecordSource(), res.reason, res.detail, res.original)
}

// keep writes a kept row to clean/ (near-dedup off) or gives it the next
// staged ordinal and indexes its band keys.
func (kr *kindRun[T, P]) keep(res *rowResult[T]) error {
	if kr.staging == nil {
		p := P(&res.row)
		p.SetCluster(p.RecordID())
		return kr.writeClean(res.row)
	}
	if res.bands != nil {
		kr.lsh.Add(kr.ord, res.bands)
		kr.r.report.NearDedup.Indexed++
	}
	if kr.ord == ^uint32(0) {
		return fmt.Errorf("clean %s: more than 4 294 967 295 rows of one kind", kr.k)
	}
	kr.ord++
	return nil
}

// finish is the kind's last pass: with near-dedup, pass 3 writes the
// staged rows; then the kind's clean/ and removed/ parts are committed.
func (kr *kindRun[T, P]) finish(near *nearResult) error {
	r := kr.r
	if kr.staging != nil {
		if err := writeStaged[T, P](r, kr.k, kr.staging.path, kr.staging.frames, near, kr.writeClean); err != nil {
			return err
		}
		// The .staging folder itself goes at the end of Run: the next
		// kind may be making its own folder in it now.
		if err := os.RemoveAll(kr.stageDir); err != nil {
			return err
		}
	}
	for _, src := range sortedKeys(kr.cleanW) {
		if err := kr.cleanW[src].Close(); err != nil {
			return err
		}
	}
	// A source holds one kind: commit its removed rows now rather than
	// keep their last row group in memory through the other kinds. (A
	// source with rows of a later kind would start its next part file.)
	if err := r.closeRemoved(kr.k); err != nil {
		return err
	}
	r.opts.Log.Debug("clean: kind done", "kind", kr.k, "took", time.Since(kr.start))
	return nil
}
