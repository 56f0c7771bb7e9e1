package stages

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/schemas"
)

// Kinds are built side by side, but a stage file holds their rows one kind
// after another, as when they were built in turn, so it comes out the same
// bytes. Each kind writes a file through its own lane: the lane of the
// first kind not yet finished writes straight through; the lanes after it
// hold their rows in memory, and past the spill budget in a spool file
// under ws/.chimed/tmp, until every kind before theirs has finished.

// laneFile is one output file shared by the lanes of every kind.
type laneFile[T any] struct {
	mu    sync.Mutex
	w     *fileWriter[T]
	cur   int // the lane writing straight through
	lanes []*lane[T]
	spill *spillBudget
}

// lane is one kind's way into a laneFile.
type lane[T any] struct {
	f     *laneFile[T]
	i     int
	done  bool
	held  []T
	bytes int64
	spool *spool[T]
}

// spillBudget is the memory the held rows of every lane may take together;
// a lane that finds it spent spills its own rows.
type spillBudget struct {
	dir   string
	limit int64
	used  atomic.Int64
	// spills counts spool writes, for tests and logs.
	spills atomic.Int64
}

func newLaneFile[T any](w *fileWriter[T], kinds int, sb *spillBudget) *laneFile[T] {
	f := &laneFile[T]{w: w, spill: sb}
	for i := range kinds {
		f.lanes = append(f.lanes, &lane[T]{f: f, i: i})
	}
	return f
}

// Write appends a row of the lane's kind.
func (l *lane[T]) Write(r T) error {
	f := l.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == l.i {
		return f.w.Write(r)
	}
	if l.done {
		return fmt.Errorf("%s: a row came after its kind was done with the file", f.w.path)
	}
	l.held = append(l.held, r)
	n := rowBytes(r)
	l.bytes += n
	if f.spill.used.Add(n) > f.spill.limit {
		return l.spillHeld()
	}
	return nil
}

// spillHeld appends the held rows to the lane's spool file.
func (l *lane[T]) spillHeld() error {
	if len(l.held) == 0 {
		return nil
	}
	if l.spool == nil {
		s, err := newSpool[T](l.f.spill.dir)
		if err != nil {
			return err
		}
		l.spool = s
	}
	if err := l.spool.write(l.held); err != nil {
		return err
	}
	l.f.spill.spills.Add(1)
	l.release()
	return nil
}

func (l *lane[T]) release() {
	l.f.spill.used.Add(-l.bytes)
	clear(l.held)
	l.held, l.bytes = l.held[:0], 0
}

// finish marks the lane's kind built and hands the file on: every lane
// after it whose kind has finished too is written out, and the first one
// still building writes straight through from now on.
func (l *lane[T]) finish() error {
	f := l.f
	f.mu.Lock()
	defer f.mu.Unlock()
	l.done = true
	for f.cur < len(f.lanes) && f.lanes[f.cur].done {
		f.cur++
		if f.cur < len(f.lanes) {
			if err := f.lanes[f.cur].drain(); err != nil {
				return err
			}
		}
	}
	return nil
}

// drain writes the lane's spooled, then held, rows to the file.
func (l *lane[T]) drain() error {
	if l.spool != nil {
		if err := l.spool.each(l.f.w.Write); err != nil {
			return err
		}
		l.spool = nil
	}
	for _, r := range l.held {
		if err := l.f.w.Write(r); err != nil {
			return err
		}
	}
	l.release()
	return nil
}

// finished reports whether every lane has finished, so no row is left held.
func (f *laneFile[T]) finished() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur == len(f.lanes)
}

// abort drops the lanes' spool files.
func (f *laneFile[T]) abort() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.lanes {
		if l.spool != nil {
			l.spool.remove()
			l.spool = nil
		}
	}
}

// spool is a lane's spilled rows: an uncompressed Parquet file, read back
// once in order.
type spool[T any] struct {
	f  *os.File
	pw *parquet.GenericWriter[T]
}

func newSpool[T any](dir string) (*spool[T], error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "stages-spool-*.parquet")
	if err != nil {
		return nil, err
	}
	return &spool[T]{f: f, pw: parquet.NewGenericWriter[T](f, parquet.Compression(&parquet.Uncompressed))}, nil
}

func (s *spool[T]) write(rows []T) error {
	if _, err := s.pw.Write(rows); err != nil {
		return fmt.Errorf("spill to %s: %w", s.f.Name(), err)
	}
	if err := s.pw.Flush(); err != nil {
		return fmt.Errorf("spill to %s: %w", s.f.Name(), err)
	}
	return nil
}

// each closes the spool, calls fn with every row in order and removes it.
func (s *spool[T]) each(fn func(T) error) error {
	defer s.remove()
	if err := s.pw.Close(); err != nil {
		return fmt.Errorf("spill to %s: %w", s.f.Name(), err)
	}
	for r, err := range schemas.ReadFile[T](s.f.Name()) {
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool[T]) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// rowBytes is about what a held row takes in memory: its strings and a
// little for the headers.
func rowBytes(r any) int64 {
	n := int64(64)
	switch v := r.(type) {
	case schemas.DCPTRow:
		n += int64(len(v.ID) + len(v.Source) + len(v.Kind) + len(v.Text))
	case schemas.SFTRow:
		n += int64(len(v.ID) + len(v.Source) + len(v.Kind))
		for _, m := range v.Messages {
			n += int64(32 + len(m.Role) + len(m.Content))
		}
	case schemas.DPORow:
		n += int64(len(v.ID) + len(v.Source) + len(v.Kind) + len(v.Prompt) + len(v.Chosen) + len(v.Rejected))
	case LineageRow:
		n += int64(len(v.ID) + len(v.Group))
		for _, rec := range v.Records {
			n += int64(16 + len(rec))
		}
	}
	return n
}

// laneSet is a laneFile of any row type.
type laneSet interface {
	lane(i int) any
	finishLane(i int) error
	finished() bool
	abort()
}

func (f *laneFile[T]) lane(i int) any         { return f.lanes[i] }
func (f *laneFile[T]) finishLane(i int) error { return f.lanes[i].finish() }

// newLaneSet puts lanes in front of a stage split's writer.
func newLaneSet(st schemas.Stage, w splitWriter, kinds int, sb *spillBudget) (laneSet, error) {
	switch fw := w.(type) {
	case *fileWriter[schemas.DCPTRow]:
		return newLaneFile(fw, kinds, sb), nil
	case *fileWriter[schemas.SFTRow]:
		return newLaneFile(fw, kinds, sb), nil
	case *fileWriter[schemas.DPORow]:
		return newLaneFile(fw, kinds, sb), nil
	}
	return nil, fmt.Errorf("stage %s: no lanes for %T", st, w)
}
