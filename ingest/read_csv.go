package ingest

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// readCSV reads CSV or TSV with encoding/csv: quoted cells may hold
// newlines, bare quotes are accepted unless lazy_quotes is false, and each
// row becomes a record keyed by the header (or csv.columns). A row with
// the wrong number of cells, a malformed row or one holding invalid bytes is
// reported with its line and the stream goes on.
func (fr *fileReader) readCSV(r io.Reader, format Format) {
	opts := fr.src.CSV
	cr, err := fr.newCSVReader(r, format)
	if err != nil {
		fr.fail(Location{Offset: -1}, true, err)
		return
	}
	base := int64(fr.enc.bom)
	header := opts.Columns
	wantHeader := hasHeader(opts.Header, opts.Columns)
	var row int64
	nextLine := int64(1) // where the next record starts, as best known
	for {
		start := base + cr.r.InputOffset()
		cr.resetRecord()
		record, err := cr.r.Read()
		if err == io.EOF {
			return
		}
		loc := Location{Line: nextLine, Row: row, Offset: start}
		if len(record) > 0 {
			line, _ := cr.r.FieldPos(0)
			loc.Line = int64(line)
			nextLine = loc.Line + 1
			for _, cell := range record {
				nextLine += int64(strings.Count(cell, "\n"))
			}
		}
		if err != nil {
			var pe *csv.ParseError
			switch {
			case errors.Is(err, errCSVRecordTooLong):
				fr.fail(loc, true, fmt.Errorf("%w; a CSV row cannot be skipped safely (an unbalanced quote?), giving up on the file", tooLong(cr.recordBytes())))
				return
			case isFatal(err) || !errors.As(err, &pe):
				fr.fail(loc, true, err)
				return
			}
			loc.Line = int64(pe.StartLine)
			if wantHeader {
				fr.fail(loc, true, fmt.Errorf("header: %w", err))
				return
			}
			row++
			if !fr.failText(loc, strings.Join(record, string(cr.r.Comma)), err) {
				return
			}
			continue
		}
		if wantHeader {
			wantHeader = false
			if header == nil {
				if len(record) > MaxColumns {
					fr.fail(loc, true, tooWide(len(record)))
					return
				}
				header = headerNames(record)
			}
			continue
		}
		if header == nil {
			if len(record) > MaxColumns {
				fr.fail(loc, true, tooWide(len(record)))
				return
			}
			header = make([]string, len(record))
			for i := range header {
				header[i] = "_" + strconv.Itoa(i)
			}
		}
		row++
		text := strings.Join(record, string(cr.r.Comma))
		if size := int64(len(text)); size > fr.maxRecord {
			if !fr.fail(loc, false, tooLong(size)) {
				return
			}
			continue
		}
		if i := fr.checkString(text); i >= 0 {
			if !fr.failText(loc, text, fr.invalidBytes([]byte(text[i:min(i+4, len(text))]), 0, start+int64(i))) {
				return
			}
			continue
		}
		if len(record) != len(header) {
			if !fr.failText(loc, text, fmt.Errorf("row has %d cells, the header %d", len(record), len(header))) {
				return
			}
			continue
		}
		fields := make(map[string]any, len(header))
		for i, name := range header {
			fields[name] = record[i]
		}
		if !fr.emit(Raw{Loc: loc, Fields: fields, Text: Truncate(text, MaxRawText)}) {
			return
		}
	}
}

// MaxColumns caps the columns of a CSV or TSV table. max_record_bytes
// bounds a row's bytes, but a 16 MiB row of one-byte cells is 8 million
// fields, each a map entry several times its size, and a batch of such
// records would exhaust memory. No table of records is that wide (Excel
// stops at 16,384), so a wider header ends the file.
const MaxColumns = 16384

// tooWide is the error for a table wider than MaxColumns.
func tooWide(n int) error {
	return fmt.Errorf("the table has %d columns, more than the %d chimed reads (is this file a table of records?)", n, MaxColumns)
}

// csvReader is an encoding/csv Reader over a stream that refuses to feed
// one row more than the record cap, so an unbalanced quote cannot pull the
// rest of a huge file into memory.
type csvReader struct {
	r   *csv.Reader
	cap *capReader
}

func (c *csvReader) resetRecord()       { c.cap.mark = c.cap.n }
func (c *csvReader) recordBytes() int64 { return c.cap.n - c.cap.mark }

func (fr *fileReader) newCSVReader(r io.Reader, format Format) (*csvReader, error) {
	opts := fr.src.CSV
	comma := ','
	if format == FormatTSV {
		comma = '\t'
	}
	if opts.Delimiter != "" {
		d := opts.Delimiter
		if d == `\t` {
			d = "\t"
		}
		c, size := utf8.DecodeRuneInString(d)
		if size != len(d) || c == utf8.RuneError || c == '"' || c == '\r' || c == '\n' {
			return nil, fmt.Errorf("csv.delimiter %q is not one character", opts.Delimiter)
		}
		comma = c
	}
	// The slack beyond the cap covers what encoding/csv reads ahead.
	cr := &capReader{r: r, max: fr.maxRecord + 64<<10}
	c := csv.NewReader(cr)
	c.Comma = comma
	c.LazyQuotes = opts.LazyQuotes == nil || *opts.LazyQuotes
	c.FieldsPerRecord = -1 // ragged rows are checked per row, not fatal
	c.ReuseRecord = true
	return &csvReader{r: c, cap: cr}, nil
}

var errCSVRecordTooLong = errors.New("record too long")

// capReader fails a read once more than max bytes have been read since
// mark; encoding/csv then returns that error instead of buffering on.
type capReader struct {
	r       io.Reader
	n, mark int64
	max     int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n-c.mark > c.max {
		return 0, errCSVRecordTooLong
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// hasHeader reports whether a file's first row is a header: as csv.header
// (or xlsx.header) says, and by default unless columns are named, since
// naming them means the file has no header row of its own.
func hasHeader(header *bool, columns []string) bool {
	if header != nil {
		return *header
	}
	return len(columns) == 0
}

// headerNames turns a header row into field names: a BOM is stripped from
// the first, an empty name becomes "_<column>" (CMMLU's unnamed index
// column), and a repeated name gets "_<column>" appended.
func headerNames(record []string) []string {
	names := make([]string, len(record))
	seen := map[string]bool{}
	for i, h := range record {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			h = "_" + strconv.Itoa(i)
		case seen[h]:
			h += "_" + strconv.Itoa(i)
		}
		seen[h] = true
		names[i] = h
	}
	return names
}
