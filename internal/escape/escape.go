// Package escape makes text from raw data safe to print: a record's bytes
// end up in error messages (a JSON decoder quotes the character it choked
// on as it is), and a NUL, an ANSI escape or a bidi override printed as
// such corrupts a terminal, a log line or a report.
package escape

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Controls returns s with every control character (C0, DEL, C1), line and
// paragraph separator, bidi control and byte that is not UTF-8 written as
// an escape: "\x00", "\x1b", "\u202e", "\xff". Newlines and tabs are
// escaped too ("\n", "\t"), so the result is always one line. Text without
// such characters comes back unchanged (and unallocated).
func Controls(s string) string { return escape(s, false) }

// ControlsKeepLines is Controls for messages of several lines: it keeps
// "\n" and "\t" as they are and escapes everything else Controls does.
func ControlsKeepLines(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafe(r, size, keepLines) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafe(r, size, keepLines):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// unsafe reports whether a rune (size bytes of the string) must be escaped.
func unsafe(r rune, size int, keepLines bool) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r == '\n' || r == '\t':
		return !keepLines
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c:
		return true // bidi embeddings, overrides, isolates and marks
	}
	return false
}
