package trainer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/chimed/chimed/schemas"
)

// arrowBatchRows is how many rows one Arrow record batch holds while a stage
// file streams: small enough that a batch of long DCPT documents stays a few
// megabytes, large enough that per-batch overhead does not show.
const arrowBatchRows = 256

// groupOrder picks the order in which a file's n row groups are read; nil
// reads them in file order.
type groupOrder func(n int) []int

// arrowRecords streams the named top-level columns of a Parquet file as
// Arrow record batches, row group by row group, so memory holds one batch
// (and one column chunk's pages) at a time however large the file. A record
// is released once yield returns: callers copy out what they keep.
func arrowRecords(path string, groups groupOrder, columns ...string) iter.Seq2[arrow.Record, error] {
	return func(yield func(arrow.Record, error) bool) {
		var pf *file.Reader
		var rr pqarrow.RecordReader
		defer func() {
			if rr != nil {
				rr.Release()
			}
			if pf != nil {
				pf.Close()
			}
		}()
		err := guard(path, func() (err error) {
			props := parquet.NewReaderProperties(memory.DefaultAllocator)
			props.BufferedStreamEnabled = true // read pages as needed, not whole column chunks
			if pf, err = file.OpenParquetFile(path, false, file.WithReadProps(props)); err != nil {
				return fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: arrowBatchRows}, memory.DefaultAllocator)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			sc := pf.MetaData().Schema
			var leaves []int
			for i := range sc.NumColumns() {
				if slices.Contains(columns, sc.Column(i).ColumnPath()[0]) {
					leaves = append(leaves, i)
				}
			}
			if len(leaves) == 0 {
				return fmt.Errorf("%s: no column %s", path, strings.Join(columns, ", "))
			}
			if pf.NumRows() == 0 {
				return nil
			}
			// The record reader opens columns on goroutines of its own, where
			// a panic on a corrupt chunk cannot be caught: check each chunk's
			// metadata here first.
			for g := range pf.NumRowGroups() {
				rg := pf.MetaData().RowGroup(g)
				for _, c := range leaves {
					if _, err := rg.ColumnChunk(c); err != nil {
						return fmt.Errorf("%s: row group %d column %d: %w", path, g, c, err)
					}
					if _, err := pf.RowGroup(g).GetColumnPageReader(c); err != nil {
						return fmt.Errorf("%s: row group %d column %d: %w", path, g, c, err)
					}
				}
			}
			var order []int // nil: all, in file order
			if groups != nil {
				order = groups(pf.NumRowGroups())
			}
			if rr, err = fr.GetRecordReader(context.Background(), leaves, order); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return nil
		})
		if err != nil {
			yield(nil, err)
			return
		}
		if rr == nil {
			return
		}
		var row int64
		for {
			var rec arrow.Record
			err := guard(path, func() error {
				if rr.Next() {
					rec = rr.Record()
					return nil
				}
				if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("%s: row %d: %w", path, row, err)
				}
				return nil
			})
			if err != nil {
				yield(nil, err)
				return
			}
			if rec == nil || !yield(rec, nil) {
				return
			}
			row += rec.NumRows()
		}
	}
}

// guard runs a call into the Parquet reader, which panics on some corrupt
// files (a footer without a schema, say): a bad file is an error naming
// it, not a crash.
func guard(path string, read func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: corrupt Parquet file: %v", path, r)
		}
	}()
	return read()
}

// column finds a column of a record batch by name.
func column(rec arrow.Record, path, name string) (arrow.Array, error) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("%s: no column %q", path, name)
	}
	return rec.Column(idx[0]), nil
}

// stringsOf reads a string-like Arrow column; a null reads as "" (as
// parquet-go reads it).
func stringsOf(arr arrow.Array, path, name string) (func(i int) string, error) {
	var at func(int) string
	switch a := arr.(type) {
	case *array.String:
		at = a.Value
	case *array.LargeString:
		at = a.Value
	case *array.Binary:
		at = a.ValueString
	case *array.LargeBinary:
		at = a.ValueString
	default:
		return nil, fmt.Errorf("%s: column %q is %s, want a string", path, name, arr.DataType())
	}
	// Values point into the batch's buffers; clone so a kept string does not
	// pin a whole batch.
	return func(i int) string {
		if arr.IsNull(i) {
			return ""
		}
		return strings.Clone(at(i))
	}, nil
}

// readDCPTTexts streams the text column of a DCPT split through Arrow.
func readDCPTTexts(path string) iter.Seq2[string, error] { return readDCPTTextsIn(path, nil) }

// readDCPTTextsIn reads a DCPT split in an order drawn from rng: its row
// groups in random order, the documents of each group in file order. The
// shuffle buffer then mixes the packed sequences. Documents stay next to
// their neighbours on purpose: build-stages writes a knowledge-graph head's
// renderings and its QA text one after another, and packed together they
// teach the model to retrieve the facts (on the demo, shuffling documents
// within a group took DCPT's cloze exam accuracy from 53% to 33%). Memory
// holds one Arrow batch of texts, however large the file; nil rng reads in
// file order.
func readDCPTTextsIn(path string, rng *rand.Rand) iter.Seq2[string, error] {
	if rng == nil {
		return readDCPTGroups(path, nil)
	}
	return func(yield func(string, error) bool) {
		n, err := rowGroups(path)
		if err != nil {
			yield("", err)
			return
		}
		for _, g := range rng.Perm(n) {
			for d, err := range readDCPTGroups(path, func(int) []int { return []int{g} }) {
				if !yield(d, err) || err != nil {
					return
				}
			}
		}
	}
}

// rowGroups is the number of row groups of a Parquet file.
func rowGroups(path string) (n int, err error) {
	err = guard(path, func() error {
		pf, err := file.OpenParquetFile(path, false)
		if err != nil {
			return fmt.Errorf("%s: not a readable Parquet file: %w", path, err)
		}
		defer pf.Close()
		n = pf.NumRowGroups()
		return nil
	})
	return n, err
}

// readDCPTGroups streams the text column of the given row groups.
func readDCPTGroups(path string, groups groupOrder) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for rec, err := range arrowRecords(path, groups, "text") {
			if err != nil {
				yield("", err)
				return
			}
			col, err := column(rec, path, "text")
			if err != nil {
				yield("", err)
				return
			}
			text, err := stringsOf(col, path, "text")
			if err != nil {
				yield("", err)
				return
			}
			for i := range col.Len() {
				if !yield(text(i), nil) {
					return
				}
			}
		}
	}
}

// readSFTChats streams the messages column of an SFT split through Arrow:
// a list of {role, content} structs per row.
//
// With an rng, the row groups come in an order drawn from it.
func readSFTChats(path string, rng *rand.Rand) iter.Seq2[[]schemas.Turn, error] {
	var groups groupOrder
	if rng != nil {
		groups = rng.Perm
	}
	return func(yield func([]schemas.Turn, error) bool) {
		var row int64
		for rec, err := range arrowRecords(path, groups, "messages") {
			if err != nil {
				yield(nil, err)
				return
			}
			chats, err := turnsOf(rec, path, row)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, c := range chats {
				if !yield(c, nil) {
					return
				}
			}
			row += rec.NumRows()
		}
	}
}

// turnsOf decodes one batch's messages column.
func turnsOf(rec arrow.Record, path string, row int64) ([][]schemas.Turn, error) {
	col, err := column(rec, path, "messages")
	if err != nil {
		return nil, err
	}
	list, ok := col.(*array.List)
	if !ok {
		return nil, fmt.Errorf("%s: column \"messages\" is %s, want a list of {role, content}", path, col.DataType())
	}
	st, ok := list.ListValues().(*array.Struct)
	if !ok {
		return nil, fmt.Errorf("%s: column \"messages\" is %s, want a list of {role, content}", path, col.DataType())
	}
	field := func(name string) (func(int) string, error) {
		i, ok := st.DataType().(*arrow.StructType).FieldIdx(name)
		if !ok {
			return nil, fmt.Errorf("%s: messages have no %q field", path, name)
		}
		return stringsOf(st.Field(i), path, "messages."+name)
	}
	role, err := field("role")
	if err != nil {
		return nil, err
	}
	content, err := field("content")
	if err != nil {
		return nil, err
	}
	out := make([][]schemas.Turn, list.Len())
	for i := range out {
		if list.IsNull(i) {
			continue
		}
		lo, hi := list.ValueOffsets(i)
		if lo < 0 || hi < lo || int(hi) > st.Len() {
			return nil, fmt.Errorf("%s: row %d: messages offsets [%d, %d) outside %d turns", path, row+int64(i), lo, hi, st.Len())
		}
		for j := int(lo); j < int(hi); j++ {
			out[i] = append(out[i], schemas.Turn{Role: role(j), Content: content(j)})
		}
	}
	return out, nil
}

// shuffled passes a stream through a seeded shuffle buffer of size slots:
// the first size examples fill it, then each new example takes the place of
// one drawn at random, which is handed on; at the end the rest leave in
// random order. Every example comes out exactly once, memory holds at most
// size of them, and the order is a function of the rng's seed and the
// stream alone.
func shuffled[E any](src iter.Seq2[E, error], size int, rng *rand.Rand) iter.Seq2[E, error] {
	return func(yield func(E, error) bool) {
		size = max(size, 1)
		buf := make([]E, 0, min(size, 1024))
		for e, err := range src {
			if err != nil {
				yield(e, err)
				return
			}
			if len(buf) < size {
				buf = append(buf, e)
				continue
			}
			j := rng.IntN(size)
			out := buf[j]
			buf[j] = e
			if !yield(out, nil) {
				return
			}
		}
		rng.Shuffle(len(buf), func(i, j int) { buf[i], buf[j] = buf[j], buf[i] })
		for _, e := range buf {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// exampleStream is the data order of a run: epoch after epoch, one pass
// over the stage's examples (read again from the file each epoch, in a file
// order drawn from (seed, epoch): row groups shuffled, for DCPT documents
// within a group too) through a shuffle buffer seeded by (seed, epoch). The
// file order mixes the whole file, the buffer mixes within its reach;
// neither changes how many examples an epoch has, so the count of the
// first pass holds. Example k of the run is therefore
// fixed by the seed and the file, so a resumed run that seeks to step×batch
// sees exactly the batches an uninterrupted one would.
type exampleStream[E any] struct {
	pass   func(*rand.Rand) iter.Seq2[E, error] // one pass, in a file order drawn from the rng
	n      int                                  // examples per pass, counted up front
	buffer int
	seed   uint64
	name   string // for errors: the file read

	epoch, taken int // taken: examples handed out of this epoch
	next         func() (E, error, bool)
	stop         func()
}

func newExampleStream[E any](name string, n, buffer int, seed uint64, pass func(*rand.Rand) iter.Seq2[E, error]) *exampleStream[E] {
	return &exampleStream[E]{pass: pass, n: n, buffer: buffer, seed: seed, name: name, epoch: -1}
}

// fileOrderSeed sets the file order's random stream apart from the
// shuffle buffer's.
const fileOrderSeed = 0x9e3779b97f4a7c15

func (s *exampleStream[E]) startEpoch(ep int) {
	s.close()
	s.epoch, s.taken = ep, 0
	rng := rand.New(rand.NewPCG(s.seed, uint64(ep)))
	layout := rand.New(rand.NewPCG(s.seed^fileOrderSeed, uint64(ep)))
	s.next, s.stop = iter.Pull2(shuffled(s.pass(layout), s.buffer, rng))
}

// seek positions the stream at example k of the run by reading and
// dropping the first k mod n examples of epoch k/n.
func (s *exampleStream[E]) seek(k int) error {
	s.startEpoch(k / s.n)
	for range k % s.n {
		if _, err := s.take(); err != nil {
			return err
		}
	}
	return nil
}

// take hands out the next example, moving to the next epoch at the end of
// one. A pass that yields a different number of examples than counted means
// the file changed under the run; that is an error, not a shorter epoch.
func (s *exampleStream[E]) take() (E, error) {
	var zero E
	if s.epoch < 0 {
		s.startEpoch(0)
	}
	if s.taken == s.n {
		if _, _, more := s.next(); more {
			return zero, fmt.Errorf("%s: epoch %d has more than the %d examples counted: the file changed during training", s.name, s.epoch, s.n)
		}
		s.startEpoch(s.epoch + 1)
	}
	e, err, ok := s.next()
	if err != nil {
		return zero, err
	}
	if !ok {
		return zero, fmt.Errorf("%s: epoch %d ended after %d of the %d examples counted: the file changed during training", s.name, s.epoch, s.taken, s.n)
	}
	s.taken++
	return e, nil
}

// batch takes the next size examples.
func (s *exampleStream[E]) batch(size int) ([]E, error) {
	out := make([]E, size)
	for i := range out {
		var err error
		if out[i], err = s.take(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// close ends the current pass and closes its file.
func (s *exampleStream[E]) close() {
	if s.stop != nil {
		s.stop()
		s.next, s.stop = nil, nil
	}
}

// count is the number of examples of one pass.
func count[E any](pass iter.Seq2[E, error]) (int, error) {
	n := 0
	for _, err := range pass {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// indexes is a pass over 0..n-1: the order of examples held in memory
// (there is no file to order).
func indexes(n int) func(*rand.Rand) iter.Seq2[int, error] {
	return func(*rand.Rand) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range n {
				if !yield(i, nil) {
					return
				}
			}
		}
	}
}
