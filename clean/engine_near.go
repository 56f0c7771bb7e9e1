package clean

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/schemas"
)

// nearResult is what pass 2 found: the near-duplicate groups and clusters
// over staged ordinals, and the ids of the rows in them.
type nearResult struct {
	clusters dedup.Clusters
	ids      []string // by ordinal; "" for a row in no candidate pair
}

// nearDedup runs pass 2 of near-dedup over the staging file of one kind
// (see cleanKind and engine_stage.go): frameRows[i] rows in frame i, rows in
// all. One goroutine reads the staging file's frames, r.workers decode
// them and shingle the rows that are in a candidate pair, and this one
// hands each row's set to the dedup.Clusterer in row order, which verifies
// the pairs. Memory: the Clusterer's and 16 bytes a row for the ids.
func nearDedup[T any, P record[T]](r *run, k schemas.Kind, path string, frameRows []int, rows uint32, lsh *dedup.LSHIndex) (*nearResult, error) {
	start := time.Now()
	stats := r.report.NearDedup
	pairs := lsh.Candidates()
	stats.Candidates += int64(len(pairs))
	cl, err := dedup.NewClusterer(pairs, rows, r.cfg.Near.Threshold, r.cfg.Near.ClusterThreshold)
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", k, err)
	}
	pairs = nil
	ids := make([]string, rows)
	if cl.RowsInPairs() > 0 {
		pull, stopPull := iter.Pull2(stageFrames(path, frameRows))
		defer stopPull()
		next := func() (*candidates, error) {
			for {
				fr, err, ok := pull()
				if !ok || err != nil || fr.ord > cl.Last() {
					return nil, err
				}
				for o := fr.ord; o < fr.ord+uint32(fr.rows); o++ {
					if cl.InPair(o) {
						return &candidates{frame: fr}, nil
					}
				}
			}
		}
		work := func(b *candidates) { shingleCandidates[T, P](r, cl, b) }
		verify := func(b *candidates) error { return addCandidates(cl, ids, b.rows, b.err) }
		if err := mapOrdered(r.workers, next, work, verify); err != nil {
			return nil, err
		}
	}
	stats.Duplicates += cl.Duplicates
	stats.Clustered += cl.Clustered
	r.opts.Log.Debug("clean: pass 2 done", "kind", k, "candidates", stats.Candidates, "rows_in_pairs", cl.RowsInPairs(), "took", time.Since(start))
	return &nearResult{clusters: cl.Clusters(), ids: ids}, nil
}

// shingleCandidates decodes a frame and makes the shingle set of each of
// its rows in a candidate pair.
func shingleCandidates[T any, P record[T]](r *run, cl *dedup.Clusterer, b *candidates) {
	rows, err := decodeFrame[T](b.frame)
	if err != nil {
		b.err = err
		return
	}
	var runes []rune
	var buf, shingles []uint64
	var fields []string
	for i := range rows {
		o := b.frame.ord + uint32(i)
		if !cl.InPair(o) {
			continue
		}
		p := P(&rows[i].Row)
		fields = dedup.KeyFields(p, fields[:0])
		// The shingles go to reused space and the set that is held is a
		// copy of its own size: a new slice per row, grown by appending,
		// was 3% of clean's CPU on the 1GB demo.
		var set []uint64
		shingles, runes = r.mh.Shingles(fields, shingles[:0], runes)
		set, buf = dedup.ShingleSet(shingles, buf)
		set = slices.Clone(set)
		group := uint64(0) // eval rows are deduplicated only among themselves
		if r.eval[p.RecordSource()] {
			group = 1
		}
		// The id is held until pass 3: a copy, so it does not keep the
		// whole decoded frame alive.
		b.rows = append(b.rows, candidate{ord: o, id: strings.Clone(p.RecordID()), group: group, set: set})
	}
	b.frame = nil
}

// writeStaged is pass 3 of near-dedup: workers decode the staging file's
// frames again, and this goroutine writes every staged row, to clean/ with
// its cluster id or to removed/ as a near duplicate.
func writeStaged[T any, P record[T]](r *run, k schemas.Kind, path string, frameRows []int, near *nearResult, writeClean func(T) error) error {
	clusters, ids := near.clusters, near.ids
	pull, stopPull := iter.Pull2(stageFrames(path, frameRows))
	defer stopPull()
	next := func() (*decoded[T], error) {
		fr, err, ok := pull()
		if !ok || err != nil {
			return nil, err
		}
		return &decoded[T]{frame: fr}, nil
	}
	work := func(d *decoded[T]) {
		d.rows, d.err = decodeFrame[T](d.frame)
	}
	write := func(d *decoded[T]) error {
		if d.err != nil {
			return d.err
		}
		for i := range d.rows {
			st := &d.rows[i]
			o := d.frame.ord + uint32(i)
			p := P(&st.Row)
			if root, dup := clusters.DuplicateOf(o); dup {
				id, src := p.RecordID(), p.RecordSource()
				original, err := originalJSON(p, st.Changed, st.Before)
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				if err := r.remove(k, id, src, ReasonNearDuplicate, ids[root], original); err != nil {
					return err
				}
				continue
			}
			cluster := p.RecordID()
			if root := clusters.ClusterOf(o); root != o {
				cluster = ids[root]
			}
			p.SetCluster(cluster)
			if err := writeClean(st.Row); err != nil {
				return err
			}
		}
		return nil
	}
	return mapOrdered(r.workers, next, work, write)
}

// decoded is one frame of the staging file for pass 3, and its rows once a
// worker has decoded them.
type decoded[T any] struct {
	frame *stageFrame
	rows  []staged[T]
	err   error
}

// candidate is a staged row in a candidate pair: its ordinal, id, dedup
// group (1 for an eval row) and its sorted shingle set.
// addCandidates verifies a batch of shingled rows against the clusters
// (exact Jaccard on every candidate pair they are in), in row order, and
// notes each row's id; err is the batch's shingling error.
func addCandidates(cl *dedup.Clusterer, ids []string, rows []candidate, err error) error {
	if err != nil {
		return err
	}
	for _, c := range rows {
		ids[c.ord] = c.id
		cl.Add(c.ord, c.set, c.group)
	}
	return nil
}

type candidate struct {
	ord   uint32
	id    string
	group uint64
	set   []uint64
}

// candidates is one frame of the staging file with a row in a candidate
// pair, and those rows once a worker has decoded and shingled them.
type candidates struct {
	frame *stageFrame
	rows  []candidate
	err   error
}
