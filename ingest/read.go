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
	"runtime"
	"strings"
	"sync"
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
	return readFile(path, rel, src, onBytes, nil, "")
}

// fileSniff is what the readers decided about one file: its format and,
// for text formats, its encoding ("" for XLSX and Parquet). ascii is set
// when the sniffed prefix is plain ASCII, which reads the same in every
// encoding ingest knows but UTF-16; empty when it held no byte at all.
type fileSniff struct {
	rel      string
	format   Format
	encoding string
	ascii    bool
	empty    bool
}

// readFile is ReadFile that also tells onSniff, if not nil, what format
// and encoding the file was read as, before its first record, and keeps
// its temporary files in tmpDir ("" for the system's).
func readFile(path, rel string, src *Source, onBytes func(int64), onSniff func(fileSniff), tmpDir string) iter.Seq2[Raw, error] {
	return readFileSpan(path, rel, src, span{to: -1}, onBytes, onSniff, tmpDir)
}

// readFileSpan is readFile for a shard's piece of a file (see span): only
// JSON Lines and plain text files are read in pieces (splittable); of any
// other format the piece that starts at 0 reads it all and the others
// nothing. An error about the
// whole file (it cannot be sniffed or decoded) is the first piece's to
// tell; every piece tells one it could not read (ErrUnreadable), which
// fails its shard.
func readFileSpan(path, rel string, src *Source, sp span, onBytes func(int64), onSniff func(fileSniff), tmpDir string) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		if !sp.whole() && sp.from > 0 {
			inner := yield
			yield = func(r Raw, err error) bool {
				if e, ok := err.(*Error); ok && e.Offset < 0 && !errors.Is(err, ErrUnreadable) {
					return false
				}
				return inner(r, err)
			}
		}
		f, err := os.Open(path)
		if err != nil {
			yield(Raw{}, &Error{Location: Location{File: rel, Offset: -1}, Fatal: true, Err: fmt.Errorf("%w: %w", ErrUnreadable, err)})
			return
		}
		defer f.Close()
		readStream(unreadableReader{f}, f, rel, filepath.Ext(path), src, sp, onBytes, onSniff, tmpDir, yield)
	}
}

// ReadStream is ReadFile over an open stream; ext is the file name's
// extension, used only as a hint when the content is ambiguous.
func ReadStream(r io.Reader, rel, ext string, src *Source, onBytes func(int64)) iter.Seq2[Raw, error] {
	return func(yield func(Raw, error) bool) {
		readStream(r, nil, rel, ext, src, span{to: -1}, onBytes, nil, "", yield)
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
	// tmpDir holds the spooled copy and excelize's spilled XML ("" for
	// the system's temporary folder).
	tmpDir string

	// sink, when set, receives everything put on the producer goroutine of
	// a parallel read (see inParallel).
	sink func(pending) bool

	// span, for a shard's piece of a JSON Lines or text file, keeps only the
	// records that start in it (see readFileSpan).
	span span
}

// splittable says whether a shard may read a file of this format in
// pieces: its records are found by reading lines from the top (JSON Lines,
// plain text). CSV and TSV (a quoted cell may hold a newline, so a line
// does not tell where a record starts without the quoting before it is
// known, and the header is needed), JSON documents (records sit inside one
// value), XLSX and Parquet (read at random through their own readers) are
// read whole.
func splittable(f Format) bool { return f == FormatJSONL || f == FormatText }

// span is a piece of a file's decoded stream: the records whose first
// byte is at an offset in [from, to) (to < 0: to the end). Every record
// before it is still read and counted, so rows keep their ordinals,
// lines and offsets (and so their ids); none after it is read.
type span struct {
	from, to int64
}

func (s span) whole() bool           { return s.from == 0 && s.to < 0 }
func (s span) past(off int64) bool   { return s.to >= 0 && off >= s.to }
func (s span) before(off int64) bool { return off < s.from }

// pending is one thing a reader has to say, in stream order: a finished
// record (raw), a record whose JSON text still needs decoding (jsonText,
// key), or an error (err; text is the broken record's source, if known).
type pending struct {
	raw      Raw
	jsonText []byte
	key      string
	loc      Location
	err      error
	text     string
	fatal    bool
	// owned says jsonText is the record's own copy, never written again,
	// which its Raw.Text may share instead of copying.
	owned bool
}

// emit passes one record on; it returns false once the stream must end.
func (fr *fileReader) emit(raw Raw) bool { return fr.put(pending{raw: raw}) }

// fail reports a broken record (or, if fatal, the end of the file); it
// returns false when the stream must end.
func (fr *fileReader) fail(loc Location, fatal bool, err error) bool {
	return fr.put(pending{loc: loc, err: err, fatal: fatal})
}

// failText is fail for a record whose source text is known.
func (fr *fileReader) failText(loc Location, text string, err error) bool {
	return fr.put(pending{loc: loc, err: err, text: text})
}

// put hands p to the parallel pipeline when one runs (see inParallel), else
// delivers it at once.
func (fr *fileReader) put(p pending) bool {
	if fr.sink != nil {
		return fr.sink(p) && !p.fatal
	}
	if p.jsonText != nil {
		fr.decodePending(&p)
	}
	return fr.deliver(p)
}

// deliver yields p to the consumer; it returns false once the consumer
// stopped or p ended the stream.
func (fr *fileReader) deliver(p pending) bool {
	if fr.stopped {
		return false
	}
	var ok bool
	if p.err != nil {
		loc := p.loc
		loc.File = fr.rel
		ok = fr.yield(Raw{Loc: loc, Text: Truncate(p.text, MaxRawText)}, &Error{Location: loc, Fatal: p.fatal, Err: p.err})
	} else {
		p.raw.Loc.File = fr.rel
		ok = fr.yield(p.raw, nil)
	}
	if !ok {
		fr.stopped = true
	}
	return ok && !p.fatal
}

// inParallel runs produce, a reader that cuts JSON records out of the
// stream, on its own goroutine; workers decode the records' JSON (the
// costly part) in batches, and this goroutine delivers everything in stream
// order, so the consumer sees exactly what a sequential read would give.
// Memory stays bounded: a few batches of at most ~256 KiB are in flight.
func (fr *fileReader) inParallel(produce func()) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		produce()
		return
	}
	type batch struct {
		recs []pending
		done chan struct{}
	}
	const batchRecords, batchBytes = 256, 256 << 10
	ordered := make(chan *batch, 2*workers)
	work := make(chan *batch, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	newBatch := func() *batch { return &batch{recs: make([]pending, 0, batchRecords), done: make(chan struct{})} }
	cur, curBytes := newBatch(), 0
	send := func() bool {
		b := cur
		cur, curBytes = newBatch(), 0
		select {
		case ordered <- b:
		case <-stop:
			return false
		}
		select {
		case work <- b:
		case <-stop:
			return false
		}
		return true
	}
	fr.sink = func(p pending) bool {
		if p.jsonText != nil {
			p.jsonText = bytes.Clone(p.jsonText) // the reader reuses its buffer
			p.owned = true
		}
		cur.recs = append(cur.recs, p)
		curBytes += len(p.jsonText)
		if len(cur.recs) >= batchRecords || curBytes >= batchBytes || p.fatal {
			return send()
		}
		return true
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(ordered)
		produce()
		if len(cur.recs) > 0 {
			send()
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for i := range b.recs {
					if b.recs[i].jsonText != nil {
						fr.decodePending(&b.recs[i])
					}
				}
				close(b.done)
			}
		}()
	}
	defer wg.Wait()
	for b := range ordered {
		<-b.done
		for _, p := range b.recs {
			if !fr.deliver(p) {
				close(stop)
				return
			}
		}
	}
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

// readStream reads one file's records, yielding each: it counts the bytes
// read, unzips, sniffs format and encoding (onSniff hears what was found),
// decodes, and hands the text to its format's parser; sp is the shard's
// piece of the file.
func readStream(r io.Reader, file *os.File, rel, ext string, src *Source, sp span, onBytes func(int64), onSniff func(fileSniff), tmpDir string, yield func(Raw, error) bool) {
	if src == nil {
		src = &Source{}
	}
	fr := &fileReader{rel: rel, ext: strings.ToLower(ext), src: src, yield: yield, maxRecord: int64(src.MaxRecordBytes), span: sp}
	if fr.maxRecord <= 0 {
		fr.maxRecord = DefaultMaxRecordBytes
	}
	fr.file, fr.tmpDir = file, tmpDir
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
		format = sniffHinted(prefix, fr.ext, formatHint(src))
	}
	if !splittable(format) && !sp.whole() {
		if sp.from > 0 {
			return // the first piece reads the whole file
		}
		fr.span = span{to: -1}
	}
	sniffed := fileSniff{rel: rel, format: format, ascii: isASCII(prefix), empty: len(prefix) == 0}
	if onSniff != nil && (format == FormatXLSX || format == FormatParquet) {
		onSniff(sniffed)
	}
	switch format {
	case FormatXLSX, FormatParquet:
		if file != nil && !fr.gzipped && counter != nil {
			// Both read the file at random: count the rest of it now.
			if st, err := file.Stat(); err == nil && st.Size() > counter.n {
				onBytes(st.Size() - counter.n)
			}
		}
		if format == FormatXLSX {
			fr.readXLSX(br)
		} else {
			fr.readParquet(br)
		}
		return
	}

	enc, err := chooseEncoding(src.Encoding, prefix, atEOF)
	if err != nil {
		fr.fail(start, true, err)
		return
	}
	fr.enc = enc
	if onSniff != nil {
		sniffed.encoding = enc.name
		onSniff(sniffed)
	}
	if _, err := br.Discard(enc.bom); err != nil {
		fr.fail(start, true, err)
		return
	}
	// encoding: auto decides UTF-8 or GB18030 per line, with the file's
	// sniffed encoding for lines either would take (see mixedLines).
	auto := src.Encoding == "" || strings.EqualFold(src.Encoding, "auto")
	fr.enc.mixed = auto && (enc.name == "utf-8" || enc.name == "gb18030")
	text, stop := fr.decoded(br)
	defer stop()
	fr.readTextFormat(format, text)
}

// decoded is the file's text as the parser reads it: decoded from the
// file's encoding (per line when mixed) and, when it must be decompressed
// or decoded, read ahead on a goroutine of its own. stop ends that
// goroutine.
func (fr *fileReader) decoded(br *bufio.Reader) (io.Reader, func()) {
	enc := fr.enc
	if enc.enc == nil && !fr.gzipped && !enc.mixed {
		return br, func() {}
	}
	var stream io.Reader = br
	switch {
	case enc.mixed:
		stream = newMixedLines(br, enc)
	case enc.enc != nil:
		stream = enc.enc.NewDecoder().Reader(br)
	}
	stop := func() {}
	if runtime.GOMAXPROCS(0) > 1 {
		ahead := newReadAhead(stream)
		stream, stop = ahead, func() { ahead.Close() }
	}
	return bufio.NewReaderSize(stream, readBufSize), stop
}

// readTextFormat parses a file's decoded text in its format.
func (fr *fileReader) readTextFormat(format Format, text io.Reader) {
	switch format {
	case FormatJSONL:
		fr.inParallel(func() { fr.readJSONL(text) })
	case FormatJSON:
		fr.inParallel(func() { fr.readJSON(text) })
	case FormatCSV, FormatTSV:
		fr.readCSV(text, format)
	case FormatText:
		fr.readText(text)
	default:
		fr.fail(Location{Offset: -1}, true, fmt.Errorf("unknown format %q", format))
	}
}

// readAhead reads a stream on its own goroutine into a few buffers, so
// that decompression and decoding overlap with parsing on two cores.
type readAhead struct {
	full chan []byte // filled buffers, in order; closed after err is set
	free chan []byte
	err  error
	cur  []byte // unread part of the buffer being read
	last []byte // that buffer, to give back
	stop chan struct{}
	done chan struct{}
}

func newReadAhead(r io.Reader) *readAhead {
	const buffers = 4
	a := &readAhead{full: make(chan []byte, buffers), free: make(chan []byte, buffers),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range buffers {
		a.free <- make([]byte, readBufSize)
	}
	go func() {
		defer close(a.done)
		defer close(a.full)
		for {
			var buf []byte
			select {
			case buf = <-a.free:
			case <-a.stop:
				return
			}
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				select {
				case a.full <- buf[:n]:
				case <-a.stop:
					return
				}
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF // ReadFull's own: a short last buffer
				}
				a.err = err
				return
			}
		}
	}()
	return a
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.last != nil {
			a.free <- a.last[:cap(a.last)]
			a.last = nil
		}
		buf, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.cur, a.last = buf, buf
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it, so the stream under it may
// be closed safely.
func (a *readAhead) Close() {
	close(a.stop)
	<-a.done
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
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

// checkString is checkText for a record already held as a string.
func (fr *fileReader) checkString(s string) int {
	if fr.enc.enc == nil {
		if utf8.ValidString(s) {
			return -1
		}
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return i
			}
			i += size
		}
		return -1
	}
	return strings.Index(s, "\uFFFD")
}

// invalidBytes is the error for a record holding bytes invalid in the file's
// encoding; at is the absolute offset in the decoded stream.
func (fr *fileReader) invalidBytes(b []byte, i int, at int64) error {
	tried := fr.enc.name
	if fr.enc.mixed {
		tried = "utf-8 and in gb18030" // mixedLines tried both on the line
	}
	if fr.enc.enc != nil {
		return fmt.Errorf("bytes invalid in %s at byte %d of the decoded text (where the decoder put U+FFFD)", tried, at)
	}
	end := min(i+4, len(b))
	return fmt.Errorf("bytes invalid in %s at byte %d: % x", tried, at, b[i:end])
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
