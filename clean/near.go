package clean

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/schemas"
)

// nearDedup runs passes 2 and 3 of near-dedup over the staged rows
// of one kind (see cleanKind). Memory: the candidate pairs, 4 bytes per
// staged row (the last partner of each row), and the shingle sets and ids
// of rows that are in a candidate pair, each set held only until its last
// pair is verified.
func nearDedup[T any, P record[T]](r *run, k schemas.Kind, parts []string, rows uint32, lsh *LSHIndex, writeClean func(T) error) error {
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
			return fmt.Errorf("clean %s: candidate pair (%d, %d) beyond the %d staged rows", k, a, b, rows)
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

	dupUF, clusterUF := unionFind{}, unionFind{}
	ids := make(map[uint32]string, inPairs)
	// held are the shingle sets of rows whose pairs are not all verified,
	// and whether each is an eval row.
	type heldSet struct {
		set  []uint64
		eval bool
	}
	held := map[uint32]heldSet{}
	if inPairs > 0 {
		// Pass 2: one goroutine reads the staged rows and picks those in a
		// candidate pair, r.workers shingle them, and this one verifies
		// pairs in row order as each row's set arrives.
		pull, stopPull := iter.Pull2(stagedRows[T](parts))
		defer stopPull()
		var ord uint32
		next := func() (*candidates, error) {
			b := &candidates{}
			for len(b.rows) < candidateBatch && ord <= lastCand {
				st, err, ok := pull()
				if !ok {
					break
				}
				if err != nil {
					return nil, err
				}
				o := ord
				ord++
				if lastUse[o] == 0 {
					continue
				}
				p := P(&st.Row)
				b.rows = append(b.rows, candidate{ord: o, id: p.RecordID(), eval: r.eval[p.RecordSource()], fields: keyFields(p, nil)})
			}
			if len(b.rows) == 0 {
				return nil, nil
			}
			return b, nil
		}
		work := func(b *candidates) {
			var runes []rune
			var buf []uint64
			for i := range b.rows {
				c := &b.rows[i]
				var sh []uint64
				sh, runes = r.mh.Shingles(c.fields, nil, runes)
				c.set, buf = shingleSet(sh, buf)
				c.fields = nil
			}
		}
		next2 := 0
		verify := func(b *candidates) error {
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
						delete(held, a)
					}
				}
				if lastUse[o] == o {
					delete(held, o)
				}
			}
			return nil
		}
		if err := mapOrdered(r.workers, next, work, verify); err != nil {
			return err
		}
	}

	lastUse = nil
	r.opts.Log.Debug("clean: pass 2 done", "kind", k, "candidates", stats.Candidates, "rows_in_pairs", inPairs, "took", time.Since(start))
	// Pass 3: write every staged row, clean or near duplicate.
	var ord uint32
	for _, part := range parts {
		for st, err := range prefetch(schemas.ReadFile[staged[T]](part)) {
			if err != nil {
				return err
			}
			o := ord
			ord++
			p := P(&st.Row)
			if root := dupUF.find(o); root != o {
				id, src := p.RecordID(), p.RecordSource()
				original, err := originalJSON(p, st.Changed, st.Before)
				if err != nil {
					return fmt.Errorf("%s: %w", part, err)
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
	}
	return nil
}

// candidateBatch is how many rows of candidate pairs pass 2 shingles per
// batch.
const candidateBatch = 64

// candidate is a staged row in a candidate pair: its ordinal, id, whether
// it is an eval row, and its key fields until a worker turns them into a
// sorted shingle set.
type candidate struct {
	ord    uint32
	id     string
	eval   bool
	fields []string
	set    []uint64
}

type candidates struct{ rows []candidate }

// stagedRows reads the row column of every staged part in order.
func stagedRows[T any](parts []string) iter.Seq2[stagedRow[T], error] {
	return func(yield func(stagedRow[T], error) bool) {
		for _, part := range parts {
			for st, err := range schemas.ReadFile[stagedRow[T]](part) { // without the fields as read
				if !yield(st, err) || err != nil {
					return
				}
			}
		}
	}
}

// stagedRow reads only the row column of a staged file (parquet-go reads
// the columns the struct names), for the verification pass.
type stagedRow[T any] struct {
	Row T `parquet:"row"`
}

// stageWriter writes the rows between pass 1 and pass 3 to one Parquet file,
// uncompressed: the file lives for one run and is read twice, so Snappy's
// work (a few per cent of clean's CPU on the 1GB demo, on the serial
// consumer) bought nothing but disk space for a file the page cache holds.
type stageWriter[T any] struct {
	path string
	f    *os.File
	w    *parquet.GenericWriter[staged[T]]
	buf  []staged[T]
	rows int
}

func newStageWriter[T any](dir string) (*stageWriter[T], error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "stage.parquet")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &stageWriter[T]{path: path, f: f, w: parquet.NewGenericWriter[staged[T]](f, parquet.Compression(&parquet.Uncompressed))}, nil
}

// Write buffers a row and writes a row group every 8,192 rows.
func (s *stageWriter[T]) Write(r staged[T]) error {
	s.buf = append(s.buf, r)
	if len(s.buf) < 256 {
		return nil
	}
	return s.flush()
}

func (s *stageWriter[T]) flush() error {
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.rows += len(s.buf)
	s.buf = s.buf[:0]
	if s.rows%8192 == 0 {
		return s.w.Flush()
	}
	return nil
}

// Close finishes the file; Files then lists it.
func (s *stageWriter[T]) Close() error {
	if len(s.buf) > 0 {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if err := s.w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return s.f.Close()
}

// Abort closes the file (it is removed with the staging folder).
func (s *stageWriter[T]) Abort() { s.f.Close() }

// Files lists the staged file.
func (s *stageWriter[T]) Files() []string { return []string{s.path} }
