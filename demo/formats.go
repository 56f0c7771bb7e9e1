package demo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/chimed/chimed/internal/atomicfile"
)

// fileWriter streams one raw file: atomically (it appears when complete),
// optionally gzip'd, counting the lines, records and bytes it wrote.
type fileWriter struct {
	rel   string // workspace-relative, slash-separated
	af    *atomicfile.File
	gz    *gzip.Writer
	bw    *bufio.Writer
	lines int64 // newlines written so far (of the uncompressed text)
	rows  int64
	bad   int64
	bytes int64 // uncompressed bytes
}

func createFile(ws, rel string, gz bool) (*fileWriter, error) {
	af, err := atomicfile.Create(filepath.Join(ws, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("demo: create %s: %w", rel, err)
	}
	w := &fileWriter{rel: rel, af: af}
	if gz {
		w.gz = gzip.NewWriter(af) // zero header time and name: deterministic bytes
		w.bw = bufio.NewWriterSize(w.gz, 256<<10)
	} else {
		w.bw = bufio.NewWriterSize(af, 256<<10)
	}
	return w, nil
}

// write appends bytes that are not a record (a header, JSON array framing).
func (w *fileWriter) write(b []byte) {
	w.bw.Write(b) // a write error sticks in bufio and is returned by close
	w.lines += int64(bytes.Count(b, []byte{'\n'}))
	w.bytes += int64(len(b))
}

func (w *fileWriter) close() error {
	if err := w.bw.Flush(); err != nil {
		w.af.Abort()
		return fmt.Errorf("demo: write %s: %w", w.rel, err)
	}
	if w.gz != nil {
		if err := w.gz.Close(); err != nil {
			w.af.Abort()
			return fmt.Errorf("demo: gzip %s: %w", w.rel, err)
		}
	}
	if err := w.af.Commit(); err != nil {
		return fmt.Errorf("demo: commit %s: %w", w.rel, err)
	}
	return nil
}

func (w *fileWriter) truth() FileTruth {
	return FileTruth{Path: w.rel, Records: w.rows, Broken: w.bad, Bytes: w.bytes}
}

// sink is where one source's records go, in that source's format.
type sink interface {
	// put writes one record and says where it went.
	put(it *item) (Loc, error)
	// putBroken writes a record broken in the way class names; ok is false
	// when the format cannot be broken that way. needle is a piece of the
	// record's text that the broken record still shows.
	putBroken(it *item, class ErrorClass, r *rng) (loc Loc, needle string, ok bool, err error)
	// putRaw writes b as one record (over-long lines, hand-made quirks);
	// bad marks it as one ingest must quarantine.
	putRaw(b []byte, bad bool) (Loc, error)
	close() ([]FileTruth, error)
}

// recSink writes formats in which a record is a run of bytes: JSON Lines,
// plain text lines, CSV/TSV rows, JSON array elements, object members and
// MedDialog text blocks.
type recSink struct {
	w *fileWriter
	// enc renders a valid record (UTF-8, with its line ending).
	enc func(it *item, row int64) []byte
	// missing renders the record with a required field absent or empty;
	// fields renders it with the wrong number of CSV fields. nil: n/a.
	missing, fields func(it *item, row int64) []byte
	json            bool // records are JSON (can be malformed)
	gbk             bool // the file is GBK; enc's UTF-8 is transcoded
	noLines         bool // the format has no meaningful line numbers (JSON arrays)
	// open/sep/end frame the records (JSON arrays and objects).
	open, sep, end string
	key            func(row int64) string // object member names
}

func (s *recSink) loc() Loc {
	l := Loc{File: s.w.rel, Row: s.w.rows}
	if !s.noLines {
		l.Line = s.w.lines + 1
	}
	return l
}

func (s *recSink) frame() {
	if s.w.rows == 0 {
		s.w.write([]byte(s.open))
	} else {
		s.w.write([]byte(s.sep))
	}
	if s.key != nil {
		s.w.write([]byte(`  ` + jsonString(s.key(s.w.rows)) + `: `))
	}
}

func (s *recSink) emit(b []byte, bad bool) Loc {
	s.frame()
	l := s.loc()
	if s.gbk {
		b = toGBK(b)
	}
	s.w.write(b)
	s.w.rows++
	if bad {
		s.w.bad++
	}
	return l
}

func (s *recSink) put(it *item) (Loc, error) { return s.emit(s.enc(it, s.w.rows), false), nil }

func (s *recSink) putRaw(b []byte, bad bool) (Loc, error) { return s.emit(b, bad), nil }

func (s *recSink) putBroken(it *item, class ErrorClass, r *rng) (Loc, string, bool, error) {
	row := s.w.rows
	switch class {
	case ClassJSON:
		if !s.json || s.open != "" {
			return Loc{}, "", false, nil
		}
		b := s.enc(it, row)
		needle, broken := breakJSON(b, r)
		return s.emit(broken, true), needle, true, nil
	case ClassEncoding:
		b := s.enc(it, row)
		left, right, needle := splitMiddle(b)
		bad := []byte("\xff\xfe")
		if s.gbk {
			left, right, bad = toGBK(left), toGBK(right), []byte{0xff}
		}
		s.frame()
		l := s.loc()
		s.w.write(left)
		s.w.write(bad)
		s.w.write(right)
		s.w.rows++
		s.w.bad++
		return l, needle, true, nil
	case ClassMissing:
		if s.missing == nil {
			return Loc{}, "", false, nil
		}
		return s.emit(s.missing(it, row), true), it.needleMissing(), true, nil
	case ClassFields:
		if s.fields == nil {
			return Loc{}, "", false, nil
		}
		return s.emit(s.fields(it, row), true), firstRunes(strings.SplitN(it.canon(), "\n", 2)[0], 8), true, nil
	}
	return Loc{}, "", false, nil
}

func (s *recSink) close() ([]FileTruth, error) {
	if s.open != "" {
		if s.w.rows == 0 {
			s.w.write([]byte(s.open))
		}
		s.w.write([]byte(s.end))
	}
	return []FileTruth{s.w.truth()}, s.w.close()
}

// breakJSON cuts a JSON record in the middle of a string value and adds a
// newline, so it cannot parse; it returns a piece of the text kept.
func breakJSON(b []byte, r *rng) (needle string, out []byte) {
	s := strings.TrimRight(string(b), "\r\n")
	eol := string(b[len(s):]) // keep the record's own line ending
	if r.chance(0.5) {        // drop the colon after the first key
		if i := strings.Index(s, `":`); i > 0 {
			out := s[:i+1] + " " + s[i+2:]
			return firstRunes(out, 10), []byte(out + eol)
		}
	}
	cut := len(s) / 2
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return firstRunes(s, 10), []byte(s[:cut] + eol)
}

// splitMiddle splits a record at a rune boundary near its middle, inside its
// text, and returns a few runes before the cut as the needle.
func splitMiddle(b []byte) (left, right []byte, needle string) {
	cut := len(b) / 2
	for cut > 0 && (b[cut]&0xC0) == 0x80 {
		cut--
	}
	start := max(0, cut-12)
	for start < cut && (b[start]&0xC0) == 0x80 {
		start++
	}
	needle = string(b[start:cut])
	// a needle is decoded text: keep one side of a field separator or quote
	if i := strings.LastIndexAny(needle, ",\t\""); i >= 0 {
		if needle[i+1:] != "" {
			needle = needle[i+1:]
		} else {
			needle = needle[:strings.IndexAny(needle, ",\t\"")]
		}
	}
	return append([]byte{}, b[:cut]...), b[cut:], needle
}

func firstRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		rs = rs[:n]
	}
	return string(rs)
}

// toGBK transcodes UTF-8 to GBK. The fact base and templates use only
// characters GBK has (a test checks); anything else would be a bug.
func toGBK(b []byte) []byte {
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes(b)
	if err != nil {
		panic(fmt.Sprintf("demo: text not encodable in GBK: %v: %q", err, firstRunes(string(b), 40)))
	}
	return out
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) string {
	b, _ := jsonMarshal(s)
	return string(b)
}

// jsonMarshal is json.Marshal without HTML escaping and trailing newline.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func mustJSON(v any) []byte {
	b, err := jsonMarshal(v)
	if err != nil {
		panic(err) // only plain structs of strings are marshalled here
	}
	return b
}

// csvRecord renders one CSV/TSV record, quoting a cell when it holds the
// delimiter, a quote or a line break (RFC 4180). Written by hand because
// encoding/csv's UseCRLF also rewrites newlines inside cells, and CMExam's
// files keep LF inside cells with CRLF between records.
func csvRecord(cells []string, delim byte, crlf bool) []byte {
	var b bytes.Buffer
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(delim)
		}
		if strings.ContainsAny(c, "\"\r\n"+string(delim)) {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(c, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(c)
		}
	}
	if crlf {
		b.WriteString("\r\n")
	} else {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// xlsxSink writes an XLSX sheet through excelize's StreamWriter, which
// spills rows to a temporary file rather than holding them in memory.
type xlsxSink struct {
	ws, rel string
	f       *excelize.File
	sw      *excelize.StreamWriter
	cells   func(it *item) []any
	rows    int64
}

func newXLSXSink(ws, rel string, header []any, cells func(*item) []any) (*xlsxSink, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", rel, err)
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", rel, err)
	}
	return &xlsxSink{ws: ws, rel: rel, f: f, sw: sw, cells: cells}, nil
}

func (s *xlsxSink) put(it *item) (Loc, error) {
	l := Loc{File: s.rel, Row: s.rows}
	cell, _ := excelize.CoordinatesToCellName(1, int(s.rows)+2)
	if err := s.sw.SetRow(cell, s.cells(it)); err != nil {
		return l, fmt.Errorf("demo: %s row %d: %w", s.rel, s.rows, err)
	}
	s.rows++
	return l, nil
}

func (s *xlsxSink) putBroken(*item, ErrorClass, *rng) (Loc, string, bool, error) {
	return Loc{}, "", false, nil
}

func (s *xlsxSink) putRaw([]byte, bool) (Loc, error) {
	return Loc{}, fmt.Errorf("demo: %s: raw records are not supported in XLSX", s.rel)
}

func (s *xlsxSink) close() ([]FileTruth, error) {
	if err := s.sw.Flush(); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", s.rel, err)
	}
	af, err := atomicfile.Create(filepath.Join(s.ws, filepath.FromSlash(s.rel)))
	if err != nil {
		return nil, err
	}
	n, err := s.f.WriteTo(af)
	if err == nil {
		err = s.f.Close()
	}
	if err != nil {
		af.Abort()
		return nil, fmt.Errorf("demo: write %s: %w", s.rel, err)
	}
	if err := af.Commit(); err != nil {
		return nil, err
	}
	return []FileTruth{{Path: s.rel, Records: s.rows, Bytes: n}}, nil
}

// multiSink spreads a source's records over several files in turn (CMMLU's
// dev/ and test/ folders); cMedQA2's join of two files is cmedqaSink.
type multiSink struct {
	sinks []sink
	next  int
}

func (m *multiSink) pick() sink {
	s := m.sinks[m.next%len(m.sinks)]
	m.next++
	return s
}

func (m *multiSink) put(it *item) (Loc, error) { return m.pick().put(it) }

func (m *multiSink) putBroken(it *item, c ErrorClass, r *rng) (Loc, string, bool, error) {
	return m.pick().putBroken(it, c, r)
}

func (m *multiSink) putRaw(b []byte, bad bool) (Loc, error) { return m.pick().putRaw(b, bad) }

func (m *multiSink) close() ([]FileTruth, error) {
	var out []FileTruth
	for _, s := range m.sinks {
		ft, err := s.close()
		if err != nil {
			return nil, err
		}
		out = append(out, ft...)
	}
	return out, nil
}

// cmedqaSink writes cMedQA2's two files: question.csv (question_id,content),
// a lookup table, and answer.csv (ans_id,question_id,content), whose rows
// are the records.
type cmedqaSink struct {
	q, a   *fileWriter
	r      *rng
	nextID int64
}

func (s *cmedqaSink) put(it *item) (Loc, error) {
	s.nextID += 1 + int64(s.r.IntN(50))
	qid := 10_000_000 + s.nextID
	s.q.write(csvRecord([]string{fmt.Sprint(qid), it.question()}, ',', false))
	s.q.rows++
	l := Loc{File: s.a.rel, Row: s.a.rows, Line: s.a.lines + 1}
	s.a.write(csvRecord([]string{fmt.Sprint(qid + 30_000_000), fmt.Sprint(qid), it.answer}, ',', false))
	s.a.rows++
	return l, nil
}

func (s *cmedqaSink) putBroken(*item, ErrorClass, *rng) (Loc, string, bool, error) {
	return Loc{}, "", false, nil
}

func (s *cmedqaSink) putRaw([]byte, bool) (Loc, error) {
	return Loc{}, fmt.Errorf("demo: cmedqa2: raw records are not supported")
}

func (s *cmedqaSink) close() ([]FileTruth, error) {
	qt := s.q.truth()
	qt.Lookup = true
	at := s.a.truth()
	if err := s.q.close(); err != nil {
		return nil, err
	}
	return []FileTruth{at, qt}, s.a.close()
}
