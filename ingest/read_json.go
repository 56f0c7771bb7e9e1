package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	json "github.com/goccy/go-json"
)

// readJSON streams the records of JSON documents: the elements of an
// array, or the members of an object of records ({"k1": {…}, "k2": {…}},
// each member's key kept as "_key"), found at src.JSON.Records inside the
// document or at its top. An object whose first member is not an object
// is one record. Several documents one after another are read in turn.
//
// Only one record is held in memory at a time: jsonScanner finds each
// record's bytes by tracking nesting and strings, and the record alone is
// decoded. A record that is not valid JSON is reported and skipped; the
// stream itself resyncs at the next element. If the structure between
// records is broken the rest of the file cannot be read, and the error says
// so.
func (fr *fileReader) readJSON(r io.Reader) {
	s := newJSONScanner(r, int64(fr.enc.bom), fr.maxRecord)
	var path []string
	if p := strings.TrimSpace(fr.src.JSON.Records); p != "" {
		path = strings.Split(strings.TrimPrefix(p, "$."), ".")
	}
	var row int64
	for docs := 0; ; docs++ {
		c, err := s.skipSpace()
		if err == io.EOF {
			return // an empty file has no records, like an empty JSONL
		}
		if err != nil {
			fr.fail(s.loc(row), true, err)
			return
		}
		if docs > 0 && path != nil {
			fr.fail(s.loc(row), true, fmt.Errorf("unexpected %q after the JSON document", c))
			return
		}
		if !fr.findRecords(s, path, row) {
			return
		}
		if !fr.readRecords(s, &row) {
			return
		}
		if len(path) > 0 {
			// The records are read; pass over the rest of the document.
			if _, err := s.capture(nil, len(path), true); err != nil {
				fr.fail(s.loc(row), true, err)
			}
			return
		}
	}
}

// findRecords moves s to the start of the value at path; it returns false
// (having reported why) when the path is not in the document.
func (fr *fileReader) findRecords(s *jsonScanner, path []string, row int64) bool {
	for depth, name := range path {
		c, err := s.skipSpace()
		if err != nil || c != '{' {
			return fr.fail(s.loc(row), true, fmt.Errorf("json.records %q: %s is not an object", fr.src.JSON.Records, pathPrefix(path, depth)))
		}
		s.advance(1)
		for found := false; !found; {
			c, err := s.skipSpace()
			if err == nil && c == '}' {
				return fr.fail(s.loc(row), true, fmt.Errorf("json.records %q: no key %q in %s", fr.src.JSON.Records, name, pathPrefix(path, depth)))
			}
			key, err := s.readKey()
			if err != nil {
				return fr.fail(s.loc(row), true, err)
			}
			if key == name {
				found = true
				continue
			}
			if _, err := s.capture(nil, 0, true); err != nil {
				return fr.fail(s.loc(row), true, err)
			}
			if err := s.expectMore('}'); err != nil {
				return fr.fail(s.loc(row), true, err)
			}
		}
	}
	return true
}

func pathPrefix(path []string, n int) string {
	if n == 0 {
		return "the document"
	}
	return strings.Join(path[:n], ".")
}

// readRecords reads the array or object of records s is at, counting rows
// in *row. It returns false when the stream must end.
func (fr *fileReader) readRecords(s *jsonScanner, row *int64) bool {
	c, err := s.skipSpace()
	if err != nil {
		return fr.fail(s.loc(*row), true, err)
	}
	switch c {
	case '[':
		s.advance(1)
		return fr.readElements(s, row)
	case '{':
		// An object of records, or a single record: its first member's
		// value decides.
		loc := s.loc(*row)
		s.advance(1)
		c, err := s.skipSpace()
		if err != nil {
			return fr.fail(loc, true, err)
		}
		if c == '}' {
			s.advance(1)
			return true // {}: no records
		}
		key, err := s.readKey()
		if err != nil {
			return fr.fail(loc, true, err)
		}
		if c, err = s.skipSpace(); err != nil {
			return fr.fail(loc, true, err)
		}
		if c == '{' {
			return fr.readMembers(s, row, key)
		}
		// One record: gather the rest of the object after what was read.
		prefix := fmt.Appendf(nil, "{%s:", quoteKey(key))
		rec, err := s.capture(prefix, 1, false)
		return fr.emitJSON(s, loc, rec, err, row, "")
	default:
		// A scalar document is one record of its own.
		loc := s.loc(*row)
		rec, err := s.capture(nil, 0, false)
		return fr.emitJSON(s, loc, rec, err, row, "")
	}
}

// readElements reads array elements up to the closing bracket.
func (fr *fileReader) readElements(s *jsonScanner, row *int64) bool {
	const end = ']'
	for first := true; ; first = false {
		c, err := s.skipSpace()
		if err != nil {
			return fr.fail(s.loc(*row), true, fmt.Errorf("unexpected end of file inside the array: %w", err))
		}
		if c == end && first {
			s.advance(1)
			return true
		}
		loc := s.loc(*row)
		rec, err := s.capture(nil, 0, false)
		if !fr.emitJSON(s, loc, rec, err, row, "") {
			return false
		}
		if err := s.expectMore(end); err != nil {
			if errors.Is(err, errJSONEnd) {
				return true
			}
			return fr.fail(s.loc(*row), true, err)
		}
	}
}

// readMembers reads an object of records whose first key has been read.
func (fr *fileReader) readMembers(s *jsonScanner, row *int64, key string) bool {
	for {
		if _, err := s.skipSpace(); err != nil {
			return fr.fail(s.loc(*row), true, fmt.Errorf("unexpected end of file: want a value"))
		}
		loc := s.loc(*row)
		rec, err := s.capture(nil, 0, false)
		if !fr.emitJSON(s, loc, rec, err, row, key) {
			return false
		}
		if err := s.expectMore('}'); err != nil {
			if errors.Is(err, errJSONEnd) {
				return true
			}
			return fr.fail(s.loc(*row), true, err)
		}
		if key, err = s.readKey(); err != nil {
			return fr.fail(s.loc(*row), true, err)
		}
	}
}

// emitJSON decodes one captured record and passes it on.
func (fr *fileReader) emitJSON(s *jsonScanner, loc Location, rec captured, err error, row *int64, key string) bool {
	*row++
	if err != nil {
		return fr.fail(loc, true, err)
	}
	if rec.over {
		return fr.fail(loc, false, tooLong(rec.size))
	}
	return fr.put(pending{loc: loc, jsonText: rec.text, key: key})
}

func quoteKey(k string) []byte {
	b, _ := json.Marshal(k)
	return b
}

func jsonUnquote(b []byte) (string, error) {
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// jsonScanner walks a JSON stream and cuts out whole values without
// decoding them, so that records can be decoded one at a time. It knows
// strings, escapes and nesting, which is all it takes to find where a value
// ends; the decoder validates the rest. Hand-written: encoding/json's token
// Decoder can neither cap a value's size nor go on after a bad element.
type jsonScanner struct {
	br    *bufio.Reader
	off   int64 // offset of the next byte in the decoded stream
	line  int64 // line of the next byte
	max   int64
	buf   []byte
	stack []byte // open brackets of the value being captured
}

func newJSONScanner(r io.Reader, base, max int64) *jsonScanner {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, readBufSize)
	}
	return &jsonScanner{br: br, off: base, line: 1, max: max}
}

func (s *jsonScanner) loc(row int64) Location {
	return Location{Line: s.line, Row: row, Offset: s.off}
}

// advance consumes n bytes already peeked, none of them a newline.
func (s *jsonScanner) advance(n int) {
	s.br.Discard(n)
	s.off += int64(n)
}

// skipSpace consumes white space and returns the next byte, unconsumed.
func (s *jsonScanner) skipSpace() (byte, error) {
	for {
		b, err := s.br.Peek(1)
		if err != nil {
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		switch b[0] {
		case '\n':
			s.line++
			fallthrough
		case ' ', '\t', '\r':
			s.advance(1)
		default:
			return b[0], nil
		}
	}
}

var errJSONEnd = errors.New("end of container")

// expectMore consumes the separator after a value: "," (more follow) or
// end (errJSONEnd); anything else breaks the stream.
func (s *jsonScanner) expectMore(end byte) error {
	c, err := s.skipSpace()
	if err != nil {
		return fmt.Errorf("unexpected end of file: want ',' or '%c'", end)
	}
	s.advance(1)
	switch c {
	case ',':
		return nil
	case end:
		return errJSONEnd
	}
	return fmt.Errorf("unexpected %q where ',' or '%c' should follow a record; the rest of the file cannot be read", c, end)
}

// readKey reads an object key and the colon after it.
func (s *jsonScanner) readKey() (string, error) {
	c, err := s.skipSpace()
	if err != nil {
		return "", errors.New("unexpected end of file: want an object key")
	}
	if c != '"' {
		return "", fmt.Errorf("unexpected %q where an object key should be; the rest of the file cannot be read", c)
	}
	raw, err := s.capture(nil, 0, false)
	if err != nil {
		return "", err
	}
	if raw.over {
		return "", fmt.Errorf("object key of %d bytes exceeds max_record_bytes", raw.size)
	}
	key, err := jsonUnquote(raw.text)
	if err != nil {
		return "", fmt.Errorf("bad object key: %w", err)
	}
	if c, err = s.skipSpace(); err != nil || c != ':' {
		return "", fmt.Errorf("want ':' after object key %q; the rest of the file cannot be read", key)
	}
	s.advance(1)
	return key, nil
}

// captured is one value's text; over says it passed the cap and text was
// dropped, size is its full length.
type captured struct {
	text []byte
	size int64
	over bool
}

// capture reads the next value. With depth 0 it starts at the value's
// first byte; with depth > 0 it continues inside that many objects already
// opened, whose text so far is prefix. discard drops the text (for skipped
// values). The returned text is valid until the next capture.
//
// Broken input is cut where a later record can still be found: a closing
// bracket closes the innermost matching opener (so "{"a": [}" ends at its
// "}"), a closer nothing opened ends the value before it, and a raw newline
// ends a string (JSON strings cannot hold one). The decoder then rejects
// the cut value, and the stream goes on at the next element.
func (s *jsonScanner) capture(prefix []byte, depth int, discard bool) (captured, error) {
	if _, err := s.skipSpace(); err != nil {
		return captured{}, errors.New("unexpected end of file: want a value")
	}
	s.buf = append(s.buf[:0], prefix...)
	out := captured{size: int64(len(prefix))}
	v := valueScan{stack: s.stack[:0]}
	first := depth == 0
	for range depth {
		v.stack = append(v.stack, '{')
	}
	defer func() { s.stack = v.stack[:0] }()
	for {
		chunk, err := s.br.Peek(max(s.br.Buffered(), 1))
		if len(chunk) == 0 {
			if v.scalar && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				break // a scalar may end the stream
			}
			if err == io.EOF {
				err = errors.New("unexpected end of file inside a value")
			}
			return out, err
		}
		i := 0
		if first {
			switch chunk[0] {
			case '"':
				v.inString, i = true, 1
			case '{', '[':
				v.stack, i = append(v.stack, chunk[0]), 1
			default:
				v.scalar = true
			}
			first = false
		}
		i, done := v.scan(chunk, i)
		taken := chunk[:i]
		s.line += int64(bytes.Count(taken, []byte{'\n'}))
		out.size += int64(len(taken))
		if !discard && !out.over {
			if out.size > s.max {
				out.over, s.buf = true, s.buf[:0]
			} else {
				s.buf = append(s.buf, taken...)
			}
		}
		s.br.Discard(i)
		s.off += int64(i)
		if done {
			break
		}
	}
	if v.scalar && out.size == 0 {
		c, _ := s.br.Peek(1)
		s.advance(len(c))
		return out, fmt.Errorf("unexpected %q where a value should be; the rest of the file cannot be read", c)
	}
	if !discard && !out.over {
		out.text = s.buf
	}
	return out, nil
}

// valueScan is where capture stands inside a value: in a string (just
// after a backslash), in a scalar, and the containers open around it.
type valueScan struct {
	inString, escaped, scalar bool
	stack                     []byte
}

// scan reads chunk from i. It returns where it stopped and whether the
// value ended there (just past its last byte, or before a closer of an
// outer container); otherwise the value goes on past the chunk.
func (v *valueScan) scan(chunk []byte, i int) (int, bool) {
	inString, escaped, scalar, stack := v.inString, v.escaped, v.scalar, v.stack
	done := false
scan:
	for ; i < len(chunk); i++ {
		c := chunk[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '\n':
				inString = false
			case c == '"':
				inString = false
				if len(stack) == 0 {
					i++
					done = true
					break scan
				}
			}
		case scalar:
			switch c {
			case ',', ']', '}', ' ', '\t', '\r', '\n', '{', '[', '"', ':':
				done = true
				break scan
			}
		default:
			switch c {
			case '"':
				inString = true
			case '{', '[':
				stack = append(stack, c)
			case '}', ']':
				j := bytes.LastIndexByte(stack, c-2) // '{' is '}'-2, '[' is ']'-2
				if j < 0 {
					done = true // a closer of an outer container
					break scan
				}
				stack = stack[:j]
				if len(stack) == 0 {
					i++
					done = true
					break scan
				}
			}
		}
	}
	v.inString, v.escaped, v.stack = inString, escaped, stack
	return i, done
}
