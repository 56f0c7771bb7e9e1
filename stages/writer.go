package stages

import (
	"fmt"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/schemas"
)

// fileWriter streams rows of T into one Parquet file that appears under its
// final name only on Close (schemas.WriteFile needs every row up front, and
// a stage split is written row by row as records stream past).
type fileWriter[T any] struct {
	path  string
	f     *atomicfile.File
	pw    *parquet.GenericWriter[T]
	buf   []T
	group int
	rows  int64
}

const (
	writeBatch   = 512
	rowsPerGroup = 8192 // bounds the writer's memory, as schemas.PartWriter does
)

func newFileWriter[T any](path string) (*fileWriter[T], error) {
	f, err := atomicfile.Create(path)
	if err != nil {
		return nil, err
	}
	return &fileWriter[T]{path: path, f: f, pw: parquet.NewGenericWriter[T](f, schemas.WriterOptions()...)}, nil
}

// Write appends one row.
func (w *fileWriter[T]) Write(r T) error {
	w.buf = append(w.buf, r)
	w.rows++
	if len(w.buf) == writeBatch {
		return w.flush()
	}
	return nil
}

func (w *fileWriter[T]) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.pw.Write(w.buf); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.group += len(w.buf)
	clear(w.buf)
	w.buf = w.buf[:0]
	if w.group >= rowsPerGroup {
		w.group = 0
		if err := w.pw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	return nil
}

// Close writes the footer and commits the file (an empty file still gets
// its schema, so every split file always exists).
func (w *fileWriter[T]) Close() error {
	if err := w.flush(); err != nil {
		w.f.Abort()
		return err
	}
	if err := w.pw.Close(); err != nil {
		w.f.Abort()
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.f.Commit()
}

// Abort drops the file.
func (w *fileWriter[T]) Abort() { w.f.Abort() }

// file is the path the writer commits to and the rows written so far.
func (w *fileWriter[T]) file() (string, int64) { return w.path, w.rows }

// splitWriter is one stage split's fileWriter, whatever the stage's row
// shape.
type splitWriter interface {
	closer
	file() (string, int64)
}

// newSplitWriter opens a stage split file of the stage's row shape.
func newSplitWriter(sp schemas.StageSpec, path string) (splitWriter, error) {
	switch sp.Shape {
	case schemas.ShapeText:
		return newFileWriter[schemas.DCPTRow](path)
	case schemas.ShapeChat:
		return newFileWriter[schemas.SFTRow](path)
	case schemas.ShapePair:
		return newFileWriter[schemas.DPORow](path)
	}
	return nil, fmt.Errorf("stage %s: no writer for row shape %q", sp.Name, sp.Shape)
}

// writeRow writes r to a writer or lane that takes rows of its type.
func writeRow[T any](st schemas.Stage, w any, r T) error {
	fw, ok := w.(interface{ Write(T) error })
	if !ok {
		return fmt.Errorf("stage %s: its files do not hold %T rows", st, r)
	}
	return fw.Write(r)
}
