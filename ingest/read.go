package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// DefaultMaxRecordBytes caps one raw record when a source sets no
// max_record_bytes.
const DefaultMaxRecordBytes = 16 << 20

// sniffWindow is how much of a (decompressed) file the format and encoding
// sniffers look at.
const sniffWindow = 64 << 10

// readBufSize is the buffer of each stage of a reader (file, decompressed,
// decoded): big enough for the sniff window and for few refills.
const readBufSize = 256 << 10

// ReadFile streams the raw records of one file. path is the file to open;
// rel is its workspace-relative name used in every Location. onBytes, if
// not nil, is called with the number of raw (on-disk, possibly compressed)
// bytes consumed, for progress bars and the report's "bytes".
// A yielded non-nil error is always an *Error: if !Fatal the record is
// skipped (quarantined by the caller) and the stream continues; if Fatal
// the stream ends after it.
func ReadFile(path, rel string, src *Source, onBytes func(int64)) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(Raw{}, &Error{Location: Location{File: rel, Offset: -1}, Fatal: true, Err: err})
			return
		}
		defer f.Close()
		readStream(f, f, rel, filepath.Ext(path), src, onBytes, yield)
	}
}

// ReadStream is ReadFile over an open stream; ext is the file name's
// extension, used only as a hint when the content is ambiguous.
func ReadStream(r io.Reader, rel, ext string, src *Source, onBytes func(int64)) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		readStream(r, nil, rel, ext, src, onBytes, yield)
	}
}

// fileReader is the state one reader shares with the per-format code: where
// the file is, the source's options and how to report a broken record.
type fileReader struct {
	rel       string
	ext       string
	src       *Source
	maxRecord int64
	enc       textEncoding
	yield     func(Raw, error) bool
	stopped   bool // the consumer stopped the iteration

	// For Parquet, which needs random access: the file, and whether its
	// content is gzip'd (then it is spooled to a temporary file).
	file    *os.File
	gzipped bool
}

// emit passes one record on; it returns false once the consumer stops.
func (fr *fileReader) emit(raw Raw) bool {
	if fr.stopped {
		return false
	}
	raw.Loc.File = fr.rel
	if !fr.yield(raw, nil) {
		fr.stopped = true
	}
	return !fr.stopped
}

// fail reports a broken record (or, if fatal, the end of the file); it
// returns false when the stream must end.
func (fr *fileReader) fail(loc Location, fatal bool, err error) bool {
	if fr.stopped {
		return false
	}
	loc.File = fr.rel
	if !fr.yield(Raw{Loc: loc}, &Error{Location: loc, Fatal: fatal, Err: err}) {
		fr.stopped = true
	}
	return !fr.stopped && !fatal
}

// failText is fail with the broken record's source text attached.
func (fr *fileReader) failText(loc Location, text string, err error) bool {
	if fr.stopped {
		return false
	}
	loc.File = fr.rel
	if !fr.yield(Raw{Loc: loc, Text: Truncate(text, MaxRawText)}, &Error{Location: loc, Err: err}) {
		fr.stopped = true
	}
	return !fr.stopped
}

// countingReader reports every read's size to onBytes.
type countingReader struct {
	r       io.Reader
	onBytes func(int64)
	n       int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.onBytes(int64(n))
	}
	return n, err
}

func readStream(r io.Reader, file *os.File, rel, ext string, src *Source, onBytes func(int64), yield func(Raw, error) bool) {
	if src == nil {
		src = &Source{}
	}
	fr := &fileReader{rel: rel, ext: strings.ToLower(ext), src: src, yield: yield, maxRecord: int64(src.MaxRecordBytes)}
	if fr.maxRecord <= 0 {
		fr.maxRecord = DefaultMaxRecordBytes
	}
	fr.file = file
	start := Location{Offset: -1}
	var counter *countingReader
	if onBytes != nil {
		counter = &countingReader{r: r, onBytes: onBytes}
		r = counter
	}
	br := bufio.NewReaderSize(r, readBufSize)
	if magic, _ := br.Peek(2); isGzip(magic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			fr.fail(start, true, fmt.Errorf("gzip: %w", err))
			return
		}
		defer gz.Close()
		fr.gzipped = true
		gz.Multistream(true)
		br = bufio.NewReaderSize(&fatalReader{r: gz, what: "gzip"}, readBufSize)
		fr.ext = strings.TrimSuffix(fr.ext, ".gz")
	}
	prefix, err := br.Peek(sniffWindow)
	atEOF := err != nil
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		fr.fail(start, true, err)
		return
	}

	format := src.Format
	if format == "" || format == FormatAuto {
		format = Sniff(prefix, fr.ext)
	}
	switch format {
	case FormatXLSX:
		fr.readXLSX(br)
		return
	case FormatParquet:
		if file != nil && !fr.gzipped && counter != nil {
			// Parquet reads the file at random: count the rest of it now.
			if st, err := file.Stat(); err == nil && st.Size() > counter.n {
				onBytes(st.Size() - counter.n)
			}
		}
		fr.readParquet(br)
		return
	}

	enc, err := chooseEncoding(src.Encoding, prefix, atEOF)
	if err != nil {
		fr.fail(start, true, err)
		return
	}
	fr.enc = enc
	if _, err := br.Discard(enc.bom); err != nil {
		fr.fail(start, true, err)
		return
	}
	var text io.Reader = br
	if enc.enc != nil {
		text = bufio.NewReaderSize(enc.enc.NewDecoder().Reader(br), readBufSize)
	}
	switch format {
	case FormatJSONL:
		fr.readJSONL(text)
	case FormatJSON:
		fr.readJSON(text)
	case FormatCSV, FormatTSV:
		fr.readCSV(text, format)
	case FormatText:
		fr.readText(text)
	default:
		fr.fail(start, true, fmt.Errorf("unknown format %q", format))
	}
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// errFatalStream marks a read error after which nothing more of the file can
// be read (a corrupt gzip stream); the readers stop instead of resyncing.
type fatalStreamError struct {
	what string
	err  error
}

func (e *fatalStreamError) Error() string { return e.what + ": " + e.err.Error() }
func (e *fatalStreamError) Unwrap() error { return e.err }

// fatalReader tags every error but io.EOF from r as fatal.
type fatalReader struct {
	r    io.Reader
	what string
}

func (f *fatalReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF {
		err = &fatalStreamError{what: f.what, err: err}
	}
	return n, err
}

// lineReader cuts a decoded stream into lines with no length limit short of
// max, tracking each line's 1-based number and byte offset. It strips "\n"
// and "\r\n"; a line over max is skipped without being kept in memory.
type lineReader struct {
	br   *bufio.Reader
	max  int64
	off  int64 // offset of the next line
	line int64 // number of the next line
	buf  []byte
}

func newLineReader(r io.Reader, max int64, base int64) *lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufSize)
	}
	return &lineReader{br: br, max: max, off: base, line: 1}
}

// textLine is one line of a file; size is its length in bytes without the
// line ending, which may exceed len(text) when the line was over the cap.
type textLine struct {
	text   []byte
	line   int64
	offset int64
	size   int64
	over   bool
}

// next returns the next line; text is only valid until the following call.
// It returns io.EOF after the last line.
func (l *lineReader) next() (textLine, error) {
	tl := textLine{line: l.line, offset: l.off}
	l.buf = l.buf[:0]
	var total int64
	for {
		chunk, err := l.br.ReadSlice('\n')
		total += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			if tl.over {
				continue
			}
			if total > l.max+2 { // +2: the line ending does not count
				tl.over = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return tl, err
		}
		if total == 0 {
			return tl, io.EOF
		}
		l.off += total
		l.line++
		text := chunk
		if len(l.buf) > 0 && !tl.over {
			l.buf = append(l.buf, chunk...)
			text = l.buf
		}
		size := total
		if n := len(text); n > 0 && text[n-1] == '\n' {
			size--
			text = text[:n-1]
			if n >= 2 && text[n-2] == '\r' {
				size--
				text = text[:n-2]
			}
		}
		tl.size = size
		tl.over = size > l.max
		if !tl.over {
			tl.text = text
		}
		return tl, nil
	}
}

// checkText finds bytes the file's encoding could not decode in one record:
// invalid UTF-8 in a UTF-8 file, or the replacement character a GB18030 or
// UTF-16 decoder puts where the source bytes were invalid. It returns the
// byte offset within b of the first such place, or -1.
func (fr *fileReader) checkText(b []byte) int {
	if fr.enc.enc == nil {
		if utf8.Valid(b) {
			return -1
		}
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return i
			}
			i += size
		}
		return -1
	}
	return bytes.Index(b, []byte("\uFFFD"))
}

// invalidBytes is the error for a record holding bytes invalid in the file's
// encoding; at is the absolute offset in the decoded stream.
func (fr *fileReader) invalidBytes(b []byte, i int, at int64) error {
	end := min(i+4, len(b))
	return fmt.Errorf("bytes invalid in %s at byte %d: % x", fr.enc.name, at, b[i:end])
}

// tooLong is the error for a record over max_record_bytes.
func tooLong(n int64) error {
	return fmt.Errorf("record of %d bytes exceeds max_record_bytes", n)
}

// isFatal reports whether a read error means the stream itself is broken.
func isFatal(err error) bool {
	var fe *fatalStreamError
	return errors.As(err, &fe)
}
