package clean

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"unsafe"
)

// The staging file holds a kind's surviving rows between pass 1 and pass 3
// of near-dedup; it lives for one run and is read twice. It was an
// uncompressed Parquet file: shredded into columns by pass 1's one consumer
// goroutine, and put back together, row by row in one goroutine, by
// passes 2 and 3. encoding/gob was tried instead and cost more (it re-reads
// its type descriptors in every frame). So the rows are written by this
// small hand-written codec, which no library offers for a generic struct
// of strings and slices at memcpy speed: each worker encodes its batch's
// survivors into one frame while it still holds them, the consumer appends
// the frame's bytes, and passes 2 and 3 hand whole frames to workers that
// decode them in parallel. On the 1GB demo, run alternately with the
// Parquet staging: pass 2 9.1–11.0 s against 10.5–12.4 s, pass 3 8.1–9.8 s
// against 8.8–10.6 s, about 5 CPU-seconds less in all.
//
// A frame is uvarint(len(blob)), blob, uvarint(len(dropped)) and the
// dropped positions as uvarints: the rows of the blob that the consumer
// found to be exact duplicates after the worker encoded them, which are
// not staged rows and have no ordinal. In a blob a struct is its fields in
// order, a string uvarint(len) and its bytes (kept exactly, valid UTF-8 or
// not), an int32 or int64 a varint, and a slice uvarint(len+1) and its elements, 0
// being a nil slice (so a row's JSON in removed/ says null or [] as it did
// when read).

// encodeStaged encodes rows into one frame blob; scratch is reused space,
// returned grown.
func encodeStaged[T any](rows []staged[T], scratch []byte) ([]byte, []byte, error) {
	dst := scratch[:0]
	for i := range rows {
		var err error
		if dst, err = appendValue(dst, reflect.ValueOf(&rows[i]).Elem()); err != nil {
			return nil, dst, fmt.Errorf("stage row %d: %w", i, err)
		}
	}
	return bytes.Clone(dst), dst, nil
}

// appendValue appends v's encoding to dst.
func appendValue(dst []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		return append(dst, s...), nil
	case reflect.Int32, reflect.Int64:
		return binary.AppendVarint(dst, v.Int()), nil
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, 0), nil
		}
		dst = binary.AppendUvarint(dst, uint64(v.Len())+1)
		for i := range v.Len() {
			var err error
			if dst, err = appendValue(dst, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case reflect.Struct:
		for i := range v.NumField() {
			var err error
			if dst, err = appendValue(dst, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("staging codec: %s values are not supported", v.Type())
}

// stageDecoder reads values from a blob. s is the blob as a string: every
// string decoded is a substring of it, so a frame costs no allocation or
// copy per value (these were 3% of clean's CPU on the 1GB demo). A decoded
// row therefore keeps its whole frame alive: a string held past the frame
// (an id kept for later) must be cloned.
type stageDecoder struct {
	b   []byte
	s   string
	pos int
}

var errShortBlob = errors.New("blob ends inside a value")

func (d *stageDecoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		return 0, errShortBlob
	}
	d.pos += n
	return x, nil
}

// value decodes into v, which holds its zero value.
func (d *stageDecoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		n, err := d.uvarint()
		if err != nil {
			return err
		}
		if n > uint64(len(d.b)-d.pos) {
			return errShortBlob
		}
		v.SetString(d.s[d.pos : d.pos+int(n)])
		d.pos += int(n)
		return nil
	case reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.b[d.pos:])
		if n <= 0 || (v.Kind() == reflect.Int32 && x != int64(int32(x))) {
			return errShortBlob
		}
		d.pos += n
		v.SetInt(x)
		return nil
	case reflect.Slice:
		n, err := d.uvarint()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if n-1 > uint64(len(d.b)-d.pos) { // every element takes a byte at least
			return errShortBlob
		}
		s := reflect.MakeSlice(v.Type(), int(n-1), int(n-1))
		for i := range int(n - 1) {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Struct:
		for i := range v.NumField() {
			if err := d.value(v.Field(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("staging codec: %s values are not supported", v.Type())
}

// stageFrame is one frame as read: its blob, the positions of its rows that
// are not staged, the number of its staged rows and the ordinal of the
// first, and where it starts in the file.
type stageFrame struct {
	blob    []byte
	dropped []int
	rows    int
	ord     uint32
	offset  int64
	path    string
}

// decodeFrame returns the frame's f.rows staged rows (without the dropped
// ones), in order, with ordinals from f.ord. Their strings share f.blob's
// memory (see stageDecoder), so f.blob must not be written afterwards.
func decodeFrame[T any](f *stageFrame) ([]staged[T], error) {
	blob, rows := f.blob, f.rows
	// The blob is read for this frame alone and never written again, so it
	// can back immutable strings.
	d := &stageDecoder{b: blob, s: unsafe.String(unsafe.SliceData(blob), len(blob))}
	out := make([]staged[T], rows)
	k, next := 0, 0
	for i := 0; i < rows+len(f.dropped); i++ {
		var dropped staged[T]
		dst := &dropped
		if next < len(f.dropped) && f.dropped[next] == i {
			next++
		} else if k < rows {
			dst = &out[k]
			k++
		}
		at := d.pos
		if err := d.value(reflect.ValueOf(dst).Elem()); err != nil {
			return nil, fmt.Errorf("%s: frame at byte %d: row %d at byte %d of %d decoded: %w", f.path, f.offset, i, at, len(blob), err)
		}
	}
	if k != rows || d.pos != len(blob) {
		return nil, fmt.Errorf("%s: frame at byte %d: %d rows in %d of its %d decoded bytes, not %d", f.path, f.offset, k, d.pos, len(blob), rows)
	}
	return out, nil
}

// stageWriter appends frames to a kind's staging file; frames lists the
// number of staged rows of each, which the file does not record.
type stageWriter struct {
	path   string
	f      *os.File
	w      *bufio.Writer
	tmp    []byte
	frames []int
}

func newStageWriter(dir string) (*stageWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "stage.bin")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &stageWriter{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// Write appends one frame: blob as encodeStaged made it, of which rows are
// staged and the rows at positions dropped (ascending) are not.
func (s *stageWriter) Write(blob []byte, rows int, dropped []int) error {
	s.frames = append(s.frames, rows)
	s.tmp = binary.AppendUvarint(s.tmp[:0], uint64(len(blob)))
	if _, err := s.w.Write(s.tmp); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	if _, err := s.w.Write(blob); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	s.tmp = binary.AppendUvarint(s.tmp[:0], uint64(len(dropped)))
	for _, d := range dropped {
		s.tmp = binary.AppendUvarint(s.tmp, uint64(d))
	}
	if _, err := s.w.Write(s.tmp); err != nil {
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// Close finishes the file.
func (s *stageWriter) Close() error {
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return s.f.Close()
}

// Abort closes the file (it is removed with the staging folder).
func (s *stageWriter) Abort() { s.f.Close() }

// stageFrames reads the frames of a staging file in order, with the
// ordinal of each frame's first staged row; counts[i] is the number of
// staged rows of frame i (stageWriter.frames). A file that ends early or
// goes on after the last frame is an error.
func stageFrames(path string, counts []int) iter.Seq2[*stageFrame, error] {
	return func(yield func(*stageFrame, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		cr := &countingReader{r: bufio.NewReaderSize(f, 1<<20)}
		var ord uint32
		for i, n := range counts {
			fr := &stageFrame{rows: n, ord: ord, offset: cr.n, path: path}
			bad := func(err error) {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				yield(nil, fmt.Errorf("%s: frame %d at byte %d: %w", path, i, fr.offset, err))
			}
			size, err := binary.ReadUvarint(cr)
			if err != nil {
				bad(err)
				return
			}
			fr.blob = make([]byte, size)
			if _, err := io.ReadFull(cr, fr.blob); err != nil {
				bad(err)
				return
			}
			nd, err := binary.ReadUvarint(cr)
			if err != nil {
				bad(err)
				return
			}
			for range nd {
				d, err := binary.ReadUvarint(cr)
				if err != nil {
					bad(err)
					return
				}
				fr.dropped = append(fr.dropped, int(d))
			}
			if !yield(fr, nil) {
				return
			}
			ord += uint32(n)
		}
		if _, err := cr.ReadByte(); err != io.EOF {
			yield(nil, fmt.Errorf("%s: bytes after the last of %d frames at byte %d", path, len(counts), cr.n))
		}
	}
}

// countingReader counts the bytes read, for errors that name an offset.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
