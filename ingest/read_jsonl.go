package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
	"unsafe"

	json "github.com/goccy/go-json"
)

// readJSONL reads one JSON value per line. Blank lines are not records; a
// line that is not valid JSON, holds invalid bytes or is over the cap is
// reported with its line and offset and the stream goes on.
func (fr *fileReader) readJSONL(r io.Reader) {
	lr := newLineReader(r, fr.maxRecord, int64(fr.enc.bom))
	var row int64
	for {
		tl, err := lr.next()
		if err == io.EOF {
			return
		}
		loc := Location{Line: tl.line, Row: row, Offset: tl.offset}
		if fr.span.past(tl.offset) {
			return // the next piece's
		}
		// A record before the span is counted, so the span's keep
		// their ordinals, and not decoded.
		before := fr.span.before(tl.offset)
		if err != nil {
			// An I/O error fails the shard wherever it is; any other is
			// the piece's that holds it.
			if !before || errors.Is(err, ErrUnreadable) {
				fr.fail(loc, true, err)
			}
			return
		}
		if tl.over {
			row++
			if !before && !fr.fail(loc, false, tooLong(tl.size)) {
				return
			}
			continue
		}
		line := bytes.TrimSpace(tl.text)
		if len(line) == 0 {
			continue
		}
		row++
		if !before && !fr.put(pending{loc: loc, jsonText: line}) {
			return
		}
	}
}

// decodePending decodes a record's JSON text into its fields, or sets its
// error. It may run on several goroutines at once.
func (fr *fileReader) decodePending(p *pending) {
	text := p.jsonText
	p.jsonText = nil
	fields, err := fr.parseJSONRecord(text, p.loc.Offset)
	if err != nil {
		p.err, p.text = err, string(text)
		return
	}
	if p.key != "" {
		fields["_key"] = p.key
	}
	p.raw = Raw{Loc: p.loc, Fields: fields, Text: rawText(text, p.owned)}
}

// rawText is a record's source text as Raw.Text keeps it: at most
// MaxRawText bytes, shared with text when the record owns it (most records
// are mapped, and their text is never read again), else copied.
func rawText(text []byte, owned bool) string {
	if len(text) > MaxRawText {
		return Truncate(string(text[:MaxRawText+utf8.UTFMax]), MaxRawText)
	}
	if owned {
		return unsafe.String(unsafe.SliceData(text), len(text))
	}
	return string(text)
}

// parseJSONRecord decodes one record's JSON text: an object becomes the
// record's fields; any other value is kept under "_value". base is the
// record's offset in the decoded stream, for error messages.
func (fr *fileReader) parseJSONRecord(b []byte, base int64) (map[string]any, error) {
	if i := fr.checkText(b); i >= 0 {
		return nil, fr.invalidBytes(b, i, base+int64(i))
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return map[string]any{"_value": v}, nil
}

// decodeJSON decodes one complete JSON value with goccy/go-json, several
// times faster than encoding/json into interface values. A panic inside
// the decoder on hostile input is turned into an error.
func decodeJSON(b []byte) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("invalid JSON (decoder failed: %v)", p)
		}
	}()
	if err := json.Unmarshal(b, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d of the record: %s", se.Offset, se.Error())
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return v, nil
}
