package ingest

import (
	"fmt"
	"strings"

	"github.com/chimed/chimed/internal/escape"
)

// Location says where a raw record is: the file (relative to the workspace),
// the 1-based line its text starts on (0 where lines mean nothing, as in
// XLSX or Parquet), its 0-based ordinal among the file's records (counting
// broken ones, so ordinals never shift when a record fails), and its byte
// offset in the decoded file stream (-1 where unknown).
type Location struct {
	File   string
	Line   int64
	Row    int64
	Offset int64
}

// String renders the location for error messages: "raw/a.csv:12 (row 10, byte 4031)".
func (l Location) String() string {
	var b strings.Builder
	b.WriteString(l.File)
	if l.Line > 0 {
		fmt.Fprintf(&b, ":%d", l.Line)
	}
	fmt.Fprintf(&b, " (row %d", l.Row)
	if l.Offset >= 0 {
		fmt.Fprintf(&b, ", byte %d", l.Offset)
	}
	b.WriteString(")")
	return b.String()
}

// Error is a record (or a whole file) that could not be read, with where it
// broke — the csv.ParseError of chimed. Quarantine rows carry its fields.
type Error struct {
	Location
	// Fatal is set when the rest of the file cannot be read either (bad
	// gzip stream, unreadable XLSX); the reader stops after yielding it.
	Fatal bool
	Err   error
}

// Error says where the record broke and why, with any control character
// the cause quotes from the data escaped.
func (e *Error) Error() string {
	return escape.Controls(e.Location.String() + ": " + e.Err.Error())
}

// Unwrap lets errors.Is and errors.As see the cause.
func (e *Error) Unwrap() error { return e.Err }

// Raw is one raw record as a reader yields it, before mapping. Fields is a
// JSON-like value tree: map[string]any objects, []any lists, string,
// float64 or json.Number, bool and nil. CSV, TSV and XLSX rows map each
// column name to its string cell; a text record has "text", "head" and
// "body" (plus whatever a text Parser adds).
type Raw struct {
	Loc    Location
	Fields map[string]any
	// Text is the record's source text, for quarantine and debugging; readers
	// may truncate it (see MaxRawText).
	Text string
	// Views names fields that are views of one text (a text record's text,
	// head and body): once a mapping reads one of them, the others stay
	// out of meta, where they would only repeat it.
	Views []string
}

// MaxRawText caps how much of a record's source text quarantine keeps.
const MaxRawText = 4096

// Truncate shortens s to at most n bytes on a UTF-8 boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…[truncated]"
}
