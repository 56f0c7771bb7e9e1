package schemas

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sort"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/chimed/chimed/internal/atomicfile"
)

// PartOptions tune a PartWriter.
type PartOptions struct {
	// RowsPerPart rolls to a new part file after this many rows (default 200,000).
	RowsPerPart int
	// RowsPerGroup flushes a Parquet row group after this many rows (default
	// 8,192), which bounds the writer's memory.
	RowsPerGroup int
	// Prefix names the parts: Prefix-00000.parquet (default "part").
	Prefix string
	// ParallelGroups is how many row groups are encoded and compressed at
	// once, each on a goroutine of its own, and committed in order (0 or
	// 1: one at a time, on the caller's). Compression is most of a
	// writer's work, so a writer that would hold up the steps feeding it
	// spreads it over the cores. The file's bytes are the same either way.
	ParallelGroups int
}

// PartWriter streams rows of T into dir/part-NNNNN.parquet files, zstd
// compressed. Each part appears under its final name only when it is
// complete, so a killed run never leaves a truncated file that looks whole.
type PartWriter[T any] struct {
	dir   string
	opts  PartOptions
	part  int
	rows  int // rows in the current part
	group int // rows in the current row group
	total int64
	file  *atomicfile.File
	pw    *parquet.GenericWriter[T]
	names []string
	// With ParallelGroups > 1: the rows of the row group being gathered,
	// and the groups being written, oldest first.
	groupRows  []T
	groupCalls []int // how many rows each Write gave the group, in order
	inflight   []*groupWrite
}

// groupWrite is one row group being encoded and compressed on its own
// goroutine; err is set before done closes.
type groupWrite struct {
	rg   *parquet.ConcurrentRowGroupWriter
	done chan struct{}
	err  error
}

// NewPartWriter starts writing parts into dir; nothing is created until the
// first row arrives.
func NewPartWriter[T any](dir string, opts PartOptions) *PartWriter[T] {
	if opts.RowsPerPart <= 0 {
		opts.RowsPerPart = 200_000
	}
	if opts.RowsPerGroup <= 0 {
		opts.RowsPerGroup = 8192
	}
	if opts.Prefix == "" {
		opts.Prefix = "part"
	}
	return &PartWriter[T]{dir: dir, opts: opts}
}

// fastZstd is zstd at its fastest level: ingest measured a third of its CPU
// in compression at the default level, and about a fifth less in total at
// this one, for files a little larger. Every chimed file is zstd either way,
// which every Parquet reader understands.
var fastZstd = zstd.Codec{Level: zstd.SpeedFastest}

// WriterOptions are the parquet-go options every chimed file is written with.
func WriterOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&fastZstd),
		parquet.CreatedBy("chimed", "1", ""),
	}
}

// Write appends rows.
func (w *PartWriter[T]) Write(rows ...T) error {
	for len(rows) > 0 {
		if w.pw == nil {
			if err := w.open(); err != nil {
				return err
			}
		}
		n := min(len(rows), w.opts.RowsPerPart-w.rows, w.opts.RowsPerGroup-w.group)
		if w.opts.ParallelGroups > 1 {
			w.groupRows = append(w.groupRows, rows[:n]...)
			w.groupCalls = append(w.groupCalls, n)
		} else if _, err := w.pw.Write(rows[:n]); err != nil {
			return fmt.Errorf("write %s: %w", w.current(), err)
		}
		rows = rows[n:]
		w.rows += n
		w.group += n
		w.total += int64(n)
		if w.group >= w.opts.RowsPerGroup {
			if err := w.endGroup(); err != nil {
				return fmt.Errorf("write %s: %w", w.current(), err)
			}
			w.group = 0
		}
		if w.rows >= w.opts.RowsPerPart {
			if err := w.closePart(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *PartWriter[T]) current() string {
	return filepath.Join(w.dir, fmt.Sprintf("%s-%05d.parquet", w.opts.Prefix, w.part))
}

func (w *PartWriter[T]) open() error {
	f, err := atomicfile.Create(w.current())
	if err != nil {
		return err
	}
	w.file = f
	w.pw = parquet.NewGenericWriter[T](f, WriterOptions()...)
	w.rows, w.group = 0, 0
	return nil
}

// endGroup ends the row group being written: flushed at once, or, with
// ParallelGroups, handed to a goroutine of its own, once the oldest of
// ParallelGroups in flight is committed.
func (w *PartWriter[T]) endGroup() error {
	if w.opts.ParallelGroups <= 1 {
		return w.pw.Flush()
	}
	if len(w.groupRows) == 0 {
		return nil
	}
	g := &groupWrite{rg: w.pw.BeginRowGroup(), done: make(chan struct{})}
	rows, calls := w.groupRows, w.groupCalls
	w.groupRows, w.groupCalls = make([]T, 0, len(rows)), nil
	schema := w.pw.Schema()
	go func() {
		defer close(g.done)
		prows := make([]parquet.Row, len(rows))
		for i := range rows {
			prows[i] = schema.Deconstruct(nil, &rows[i])
		}
		// The rows go in as the Write calls gave them, which the row
		// group cuts 64 at a time, a page ending where a column's buffer
		// is full after one: so the pages are the generic writer's.
		for _, n := range calls {
			if _, g.err = g.rg.WriteRows(prows[:n]); g.err != nil {
				return
			}
			prows = prows[n:]
		}
		g.err = g.rg.Flush()
	}()
	w.inflight = append(w.inflight, g)
	if len(w.inflight) >= w.opts.ParallelGroups {
		return w.commitGroups(len(w.inflight) - w.opts.ParallelGroups + 1)
	}
	return nil
}

// commitGroups waits for the n oldest row groups in flight and commits
// them to the file in order.
func (w *PartWriter[T]) commitGroups(n int) error {
	for range n {
		g := w.inflight[0]
		w.inflight = w.inflight[1:]
		<-g.done
		if g.err != nil {
			return g.err
		}
		if _, err := g.rg.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// waitGroups lets every row group in flight finish, for an abort.
func (w *PartWriter[T]) waitGroups() {
	for _, g := range w.inflight {
		<-g.done
	}
	w.inflight, w.groupRows, w.groupCalls = nil, w.groupRows[:0], nil
}

func (w *PartWriter[T]) closePart() error {
	if w.pw == nil {
		return nil
	}
	name := w.current()
	if w.opts.ParallelGroups > 1 {
		err := w.endGroup()
		if err == nil {
			err = w.commitGroups(len(w.inflight))
		}
		if err != nil {
			w.waitGroups()
			w.file.Abort()
			w.pw, w.file = nil, nil
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	if err := w.pw.Close(); err != nil {
		w.file.Abort()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := w.file.Commit(); err != nil {
		return err
	}
	w.names = append(w.names, name)
	w.pw, w.file = nil, nil
	w.part++
	return nil
}

// Close commits the last part. A writer that received no rows writes no file.
func (w *PartWriter[T]) Close() error { return w.closePart() }

// Abort drops the part being written; committed parts stay.
func (w *PartWriter[T]) Abort() {
	w.waitGroups()
	if w.file != nil {
		w.file.Abort()
		w.pw, w.file = nil, nil
	}
}

// Rows is the number of rows written so far.
func (w *PartWriter[T]) Rows() int64 { return w.total }

// Files lists the committed part files.
func (w *PartWriter[T]) Files() []string { return w.names }

// WriteFile writes rows to one Parquet file at path, atomically. It is meant
// for files whose rows are already in hand (stage splits, eval sets); stream
// large outputs with PartWriter.
func WriteFile[T any](path string, rows iter.Seq[T]) (n int64, err error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Abort()
		}
	}()
	pw := parquet.NewGenericWriter[T](f, WriterOptions()...)
	buf := make([]T, 0, 1024)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := pw.Write(buf); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		n += int64(len(buf))
		buf = buf[:0]
		return pw.Flush()
	}
	for r := range rows {
		buf = append(buf, r)
		if len(buf) == cap(buf) {
			if err = flush(); err != nil {
				return n, err
			}
		}
	}
	if err = flush(); err != nil {
		return n, err
	}
	if err = pw.Close(); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, f.Commit()
}

// ReadFile streams the rows of one Parquet file written from T (or any file
// whose columns match T's by name). Errors name the file.
func ReadFile[T any](path string) iter.Seq2[T, error] { return ReadRange[T](path, 0, -1) }

// ReadRange streams rows [from, to) of one Parquet file, seeking to the
// first; to < 0 reads to the end. A file that ends before row to is an
// error. Errors name the file.
func ReadRange[T any](path string, from, to int64) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		f, err := os.Open(path)
		if err != nil {
			yield(zero, err)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			yield(zero, err)
			return
		}
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			yield(zero, fmt.Errorf("%s: not a readable Parquet file: %w", path, err))
			return
		}
		r := parquet.NewGenericReader[T](pf)
		defer r.Close()
		if from > 0 {
			if err := r.SeekToRow(from); err != nil {
				yield(zero, fmt.Errorf("%s: seek to row %d: %w", path, from, err))
				return
			}
		}
		row := from
		for to < 0 || row < to {
			size := int64(256)
			if to >= 0 {
				size = min(size, to-row)
			}
			buf := make([]T, size) // fresh each batch: rows handed out are never overwritten
			n, err := r.Read(buf)
			for i := range n {
				if !yield(buf[i], nil) {
					return
				}
			}
			row += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				yield(zero, fmt.Errorf("%s: row %d: %w", path, row, err))
				return
			}
			if n == 0 {
				break
			}
		}
		if to >= 0 && row < to {
			yield(zero, fmt.Errorf("%s: ends at row %d, before row %d", path, row, to))
		}
	}
}

// PartFiles lists the *.parquet files in dir in name order (a missing dir
// has none).
func PartFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && filepath.Ext(e.Name()) == ".parquet" && e.Name()[0] != '.' {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// ReadDir streams the rows of every part file in dir, in name order.
func ReadDir[T any](dir string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		files, err := PartFiles(dir)
		if err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for _, f := range files {
			for r, err := range ReadFile[T](f) {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

// CountRows returns the number of rows in a Parquet file from its footer.
func CountRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return pf.NumRows(), nil
}
