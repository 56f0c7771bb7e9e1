package clean

import (
	"context"
	"fmt"
	"slices"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/schemas"
)

// pass1 reads files in order, has r.workers goroutines normalise, filter
// and hash the rows, and calls sink with each batch in read order. At most
// 2×workers batches are in flight, so memory stays bounded.
func pass1[T any, P record[T]](ctx context.Context, r *run, files []inputFile, sink func(*batch[T]) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *batch[T], r.workers)
	inOrder := make(chan *batch[T], 2*r.workers)
	readErr := make(chan error, 1)
	go func() { // reader
		defer close(jobs)
		defer close(inOrder)
		readErr <- readBatches(ctx, r, files, func(b *batch[T]) bool {
			select {
			case inOrder <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- b:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for range r.workers {
		go func() {
			w := &worker{}
			if r.mh != nil {
				w.sig = make([]uint32, r.mh.Perms())
			}
			for b := range jobs {
				processBatch[T, P](r, w, b)
				close(b.done)
			}
		}()
	}
	for b := range inOrder {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
		r.report.addTally(b.tally)
		if err := sink(b); err != nil {
			return err
		}
	}
	return <-readErr
}

// readBatches streams the rows of files into batches of batchRows.
func readBatches[T any](ctx context.Context, r *run, files []inputFile, send func(*batch[T]) bool) error {
	for _, f := range files {
		rows, n := schemas.ReadFile[T](f.path), int64(0)
		if f.to > 0 { // a sharded scan's share of the file
			rows, n = schemas.ReadRange[T](f.path, f.from, f.to), f.from
		}
		b := &batch[T]{file: f.path, first: n, eval: r.eval[f.source], done: make(chan struct{})}
		for row, err := range rows {
			if err != nil {
				return err
			}
			b.rows = append(b.rows, row)
			n++
			if len(b.rows) == batchRows {
				if !send(b) {
					return ctx.Err()
				}
				b = &batch[T]{file: f.path, first: n, eval: b.eval, done: make(chan struct{})}
			}
		}
		if len(b.rows) > 0 && !send(b) {
			return ctx.Err()
		}
	}
	return nil
}

// processBatch runs the steps on each row of b and computes what the
// ordered sink needs: the reason to remove it, its dedup key and band keys.
func processBatch[T any, P record[T]](r *run, w *worker, b *batch[T]) {
	b.out = make([]rowResult[T], len(b.rows))
	var zero T
	near := r.mh != nil && slices.Contains(r.cfg.Near.Kinds, P(&zero).Kind())
	var bandBuf []uint32 // one allocation for the batch's band keys
	if near {
		bandBuf = make([]uint32, len(b.rows)*r.mh.Bands)
	}
	b.tally = Tally{}
	for i := range b.rows {
		res := &b.out[i]
		res.row = b.rows[i]
		p := P(&res.row)
		// Remember each text field as read; strings are immutable, so this
		// copies no text. Slices (turns, options) are shared with b.rows;
		// they are not read again.
		fields := p.TextFields()
		w.before = w.before[:0]
		for _, f := range fields {
			w.before = append(w.before, *f.Value)
		}
		res.reason, res.detail, w.profiles = r.steps[p.Kind()].applyProfiled(p, fields, b.tally, w.profiles)
		for j, f := range fields {
			if *f.Value != w.before[j] {
				res.changed = append(res.changed, int32(j))
				res.before = append(res.before, w.before[j])
			}
		}
		if res.reason != "" {
			if !b.removeOriginal(p, res, i) {
				return
			}
			continue
		}
		eval := r.eval[p.RecordSource()]
		ns := uint64(0)
		if eval {
			ns = 1
		}
		// Fold the key fields once: the key, the eval probes and the
		// shingles are all computed from the folded text.
		w.fields = dedup.KeyFields(p, w.fields[:0])
		w.folded, w.spans = dedup.FoldFields(w.fields, w.folded[:0], w.spans[:0])
		res.key, w.keyBuf = dedup.CanonKey(w.folded, w.spans, ns, w.keyBuf)
		if r.evalIdx != nil && !eval {
			var id string
			w.probe = dedup.ProbeKeyIndex(p, w.probe[:0])
			if id, w.runes = r.evalIdx.MatchFolded(w.folded, w.spans, w.probe, w.runes); id != "" {
				res.reason, res.detail = ReasonContaminated, id
				if !b.removeOriginal(p, res, i) {
					return
				}
				continue
			}
		}
		if near {
			w.shingle, w.runes = r.mh.ShinglesFolded(w.fields, w.folded, w.shingle[:0], w.runes)
			if r.mh.Signature(w.shingle, w.sig) {
				res.bands = bandBuf[i*r.mh.Bands : (i+1)*r.mh.Bands : (i+1)*r.mh.Bands]
				r.mh.BandKeys(w.sig, ns, res.bands)
			}
		}
	}
	if near || r.stageAll {
		var st []staged[T]
		for i := range b.out {
			if res := &b.out[i]; res.reason == "" {
				st = append(st, staged[T]{Row: res.row, Changed: res.changed, Before: res.before})
			}
		}
		if b.stage, w.stage, b.err = encodeStaged(st, w.stage); b.err != nil {
			b.err = fmt.Errorf("%s: rows %d–%d: %w", b.file, b.first, b.first+int64(len(b.rows))-1, b.err)
		}
	}
	b.rows = nil
}

// removeOriginal sets the original JSON of row i, which pass 1 removes, and
// drops what only a kept row needs; false (with b.err set) on failure.
func (b *batch[T]) removeOriginal(p schemas.Record, res *rowResult[T], i int) bool {
	var err error
	res.original, err = originalJSON(p, res.changed, res.before)
	if err != nil {
		b.err = fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), err)
		return false
	}
	res.changed, res.before = nil, nil
	return true
}
