package clean

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/chimed/chimed/schemas"
)

// nearResult is what pass 2 found: the near-duplicate and cluster
// union-finds over staged ordinals, and the ids of the rows in them.
type nearResult struct {
	dupUF, clusterUF unionFind
	ids              []string // by ordinal; "" for a row in no candidate pair
}

// nearDedup runs pass 2 of near-dedup over the staging file of one kind
// (see cleanKind and stage.go): frameRows[i] rows in frame i, rows in
// all. Memory: the candidate pairs; 60 bytes per staged row (the last
// partner of each row, two union-finds, an id and a held set, in slices by
// ordinal, which cost less than maps of the rows in pairs: 60–100% of the
// demo's rows are); and the shingle sets of rows in a candidate pair, each
// held only until its last pair is verified.
func nearDedup[T any, P record[T]](r *run, k schemas.Kind, path string, frameRows []int, rows uint32, lsh *LSHIndex) (*nearResult, error) {
	start := time.Now()
	stats := r.report.NearDedup
	pairs := lsh.Candidates()
	stats.Candidates += int64(len(pairs))

	// lastUse[o] is the largest ordinal o is paired with (0: in no pair,
	// since a row's partners include itself and pair (0, b) has b > 0);
	// byB lists pairs by their later row.
	lastUse := make([]uint32, rows)
	inPairs, lastCand := 0, uint32(0)
	byB := make([]uint64, len(pairs))
	for i, pr := range pairs {
		a, b := uint32(pr>>32), uint32(pr)
		if a >= rows || b >= rows {
			return nil, fmt.Errorf("clean %s: candidate pair (%d, %d) beyond the %d staged rows", k, a, b, rows)
		}
		for _, o := range [2]uint32{a, b} {
			if lastUse[o] == 0 {
				inPairs++
			}
			lastUse[o] = max(lastUse[o], b)
		}
		lastCand = max(lastCand, b)
		byB[i] = uint64(b)<<32 | uint64(a)
	}
	radixSort(byB, pairs, 0) // pairs' memory as scratch space
	pairs = nil

	dupUF, clusterUF := newUnionFind(rows), newUnionFind(rows)
	ids := make([]string, rows)
	// held are the shingle sets of rows whose pairs are not all verified,
	// and whether each is an eval row.
	type heldSet struct {
		set  []uint64
		eval bool
	}
	if inPairs > 0 {
		held := make([]heldSet, rows)
		// Pass 2: one goroutine reads the staging file's frames, r.workers
		// decode them and shingle the rows that are in a candidate pair,
		// and this one verifies pairs in row order as each row's set
		// arrives.
		pull, stopPull := iter.Pull2(stageFrames(path, frameRows))
		defer stopPull()
		next := func() (*candidates, error) {
			for {
				fr, err, ok := pull()
				if !ok || err != nil || fr.ord > lastCand {
					return nil, err
				}
				for o := fr.ord; o < fr.ord+uint32(fr.rows); o++ {
					if lastUse[o] != 0 {
						return &candidates{frame: fr}, nil
					}
				}
			}
		}
		work := func(b *candidates) {
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
				if lastUse[o] == 0 {
					continue
				}
				p := P(&rows[i].Row)
				fields = keyFields(p, fields[:0])
				// The shingles go to reused space and the set that is held
				// is a copy of its own size: a new slice per row, grown by
				// appending, was 3% of clean's CPU on the 1GB demo.
				var set []uint64
				shingles, runes = r.mh.Shingles(fields, shingles[:0], runes)
				set, buf = shingleSet(shingles, buf)
				set = slices.Clone(set)
				// The id is held until pass 3: a copy, so it does not keep
				// the whole decoded frame alive.
				b.rows = append(b.rows, candidate{ord: o, id: strings.Clone(p.RecordID()), eval: r.eval[p.RecordSource()], set: set})
			}
			b.frame = nil
		}
		next2 := 0
		verify := func(b *candidates) error {
			if b.err != nil {
				return b.err
			}
			for _, c := range b.rows {
				o := c.ord
				ids[o] = c.id
				held[o] = heldSet{set: c.set, eval: c.eval}
				for ; next2 < len(byB) && uint32(byB[next2]>>32) == o; next2++ {
					a := uint32(byB[next2])
					ha := held[a]
					if ha.eval != c.eval {
						continue // eval rows are deduplicated only among themselves
					}
					j := jaccardFloor(ha.set, c.set, r.cfg.Near.ClusterThreshold)
					if j >= r.cfg.Near.Threshold {
						dupUF.union(a, o)
						stats.Duplicates++
					}
					if j >= r.cfg.Near.ClusterThreshold {
						clusterUF.union(a, o)
						stats.Clustered++
					}
					if lastUse[a] == o {
						held[a] = heldSet{}
					}
				}
				if lastUse[o] == o {
					held[o] = heldSet{}
				}
			}
			return nil
		}
		if err := mapOrdered(r.workers, next, work, verify); err != nil {
			return nil, err
		}
	}
	r.opts.Log.Debug("clean: pass 2 done", "kind", k, "candidates", stats.Candidates, "rows_in_pairs", inPairs, "took", time.Since(start))
	return &nearResult{dupUF: dupUF, clusterUF: clusterUF, ids: ids}, nil
}

// writeStaged is pass 3 of near-dedup: workers decode the staging file's
// frames again, and this goroutine writes every staged row, to clean/ with
// its cluster id or to removed/ as a near duplicate.
func writeStaged[T any, P record[T]](r *run, k schemas.Kind, path string, frameRows []int, near *nearResult, writeClean func(T) error) error {
	dupUF, clusterUF, ids := near.dupUF, near.clusterUF, near.ids
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
			if root := dupUF.find(o); root != o {
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
			if root := clusterUF.find(o); root != o {
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

// candidate is a staged row in a candidate pair: its ordinal, id, whether
// it is an eval row, and its sorted shingle set.
type candidate struct {
	ord  uint32
	id   string
	eval bool
	set  []uint64
}

// candidates is one frame of the staging file with a row in a candidate
// pair, and those rows once a worker has decoded and shingled them.
type candidates struct {
	frame *stageFrame
	rows  []candidate
	err   error
}
