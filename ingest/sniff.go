package ingest

import (
	"bytes"
	"encoding/json"
	"strings"

	"golang.org/x/text/encoding/unicode"
)

// Sniff guesses a file's format from its first bytes (decompressed, up to
// 64 KiB) and, only where the content is ambiguous, its extension ext
// (".json", ".csv", …). Real files lie about their type — a .json that is
// JSON Lines, a .txt that is JSONL, a .spo that is TSV — so content wins:
//
//   - "PK" with "[Content_Types].xml" or "xl/" inside → XLSX; "PAR1" → Parquet;
//   - first non-space byte '[' or '{': JSON Lines if the first value ends at
//     a line end and another value follows, else one JSON document;
//   - tabs on every one of the first lines → TSV; a steady count of commas
//     per line → CSV;
//   - anything else → plain text.
func Sniff(prefix []byte, ext string) Format { return sniffHinted(prefix, ext, "") }

// sniffHinted is Sniff with a preset's usual format as a last hint: it
// stands in for the extension when the extension names no format (".spo",
// none at all), so it only ever settles what content leaves open.
func sniffHinted(prefix []byte, ext string, hint Format) Format {
	ext = strings.ToLower(ext)
	// What settles JSON Lines against one document where the content
	// cannot: the extension, but a .txt says nothing about JSON content
	// (MedicalGPT ships JSON Lines as medical_corpus.txt), and a JSON Lines
	// preset's files are often named .json (QASystemOnMedicalKG's
	// medical.json, CMeIE's *.json): a document over several lines is told
	// by its content, and a single line read as JSON Lines is one record,
	// where read as a document its first member could make it an object
	// of records.
	jsonExt := ext
	switch f := extFormat(ext, ""); {
	case hint == FormatJSONL:
		jsonExt = ".jsonl"
	case hint == FormatJSON && f != FormatJSONL:
		jsonExt = ".json"
	}
	if !namesFormat(ext) {
		ext = formatExt[hint]
	}
	switch {
	case bytes.HasPrefix(prefix, []byte("PK\x03\x04")) &&
		(bytes.Contains(prefix, []byte("[Content_Types].xml")) || bytes.Contains(prefix, []byte("xl/")) || ext == ".xlsx"):
		return FormatXLSX
	case bytes.HasPrefix(prefix, []byte("PAR1")):
		return FormatParquet
	}
	text := sniffText(prefix)
	i := skipJSONSpace(text, 0)
	if i < len(text) && (text[i] == '[' || text[i] == '{') {
		if f, ok := sniffJSON(text, i, jsonExt); ok {
			return f
		}
	}
	return sniffDelimited(text, ext)
}

// sniffText turns a prefix into UTF-8-compatible bytes for the text
// sniffers: a UTF-8 BOM is dropped and UTF-16 (with or without BOM) is
// decoded. GB18030 needs no decoding here, since its ASCII bytes
// (brackets, tabs, commas, newlines) never occur inside a multi-byte
// character.
func sniffText(prefix []byte) []byte {
	switch {
	case bytes.HasPrefix(prefix, bomUTF8):
		return prefix[3:]
	case bytes.HasPrefix(prefix, bomUTF16LE):
		out, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder().Bytes(prefix[2 : len(prefix)&^1])
		return out
	case bytes.HasPrefix(prefix, bomUTF16BE):
		out, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder().Bytes(prefix[2 : len(prefix)&^1])
		return out
	}
	if order, ok := utf16WithoutBOM(prefix); ok {
		out, _ := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(prefix[:len(prefix)&^1])
		return out
	}
	return prefix
}

// sniffJSON decides between JSON Lines and one JSON document whose first
// value starts at b[i]; ok is false when b does not look like JSON at all.
func sniffJSON(b []byte, i int, ext string) (Format, bool) {
	jsonl := ext == ".jsonl" || ext == ".ndjson" || ext == ".jl"
	end, complete := jsonValueEnd(b, i)
	if !complete {
		if end < 0 {
			// Mismatched brackets: a broken document if the extension
			// or its start says JSON, else prose that starts with one.
			switch {
			case jsonl:
				return FormatJSONL, true
			case ext == ".json":
				return FormatJSON, true
			}
			if k := skipJSONSpace(b, i+1); b[i] == '[' && k < len(b) && (b[k] == '{' || b[k] == '[') {
				return FormatJSON, true
			}
			return "", false
		}
		// The first value runs past the window. A newline inside it means
		// a pretty-printed document; one long line is JSON Lines unless
		// the extension says otherwise. A bracket alone on its line opens
		// a document whatever the extension: no JSON Lines record is "[".
		switch {
		case restOfLineBlank(b, i+1):
			return FormatJSON, true
		case jsonl:
			return FormatJSONL, true
		case b[i] == '[' || bytes.IndexByte(b[i:], '\n') >= 0 || ext == ".json":
			return FormatJSON, true
		}
		return FormatJSONL, true
	}
	if !json.Valid(b[i:end]) && ext != ".json" && !jsonl && bytes.IndexByte(b[i:end], '\n') < 0 {
		// "[注] 本章": brackets on one line, but not JSON. (A broken
		// multi-line document, or one named .json, is still read as JSON
		// so its reader can say where it breaks.)
		return "", false
	}
	if bytes.IndexByte(b[i:end], '\n') >= 0 && json.Valid(b[i:end]) {
		// A whole value over several lines (a pretty-printed array) is a
		// document even in a .jsonl: no JSON Lines record spans lines.
		return FormatJSON, true
	}
	// The rest of the first value's line must be blank for JSON Lines.
	j := end
	for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r') {
		j++
	}
	if j < len(b) && b[j] != '\n' {
		if b[j] == ',' && b[i] == '{' {
			return "", false // "{…}," is no JSON we read
		}
		return FormatJSON, true // something else on the line: let the JSON reader report it
	}
	k := skipJSONSpace(b, j)
	if k < len(b) && (b[k] == '{' || b[k] == '[') {
		return FormatJSONL, true
	}
	if jsonl {
		return FormatJSONL, true
	}
	return FormatJSON, true
}

// restOfLineBlank reports whether b holds only spaces from i to the next
// line end (and has one).
func restOfLineBlank(b []byte, i int) bool {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\n':
			return true
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return false
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// jsonValueEnd finds where the JSON object or array starting at b[i] ends,
// tracking only nesting and strings (enough to find the boundary, not to
// validate). It returns (end, true) past the closing bracket, (len(b),
// false) when b ends first, and (-1, false) on a bracket mismatch.
// Hand-written: no kept library exposes value boundaries over a partial
// buffer.
func jsonValueEnd(b []byte, i int) (int, bool) {
	var stack []byte
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			stack = append(stack, c)
		case '}', ']':
			if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return -1, false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}

// sniffDelimited tells TSV, CSV and plain text apart by the first lines:
// TSV when every line holds a tab, in about equal numbers; CSV when the
// extension says so or every line holds the same number of commas (at least
// one); text otherwise.
func sniffDelimited(b []byte, ext string) Format {
	lines := firstLines(b, 20)
	if len(lines) == 0 {
		return extFormat(ext, FormatText)
	}
	if steadyCount(lines, '\t') {
		return FormatTSV
	}
	switch ext {
	case ".csv":
		return FormatCSV
	case ".tsv", ".tab":
		return FormatTSV
	case ".txt", ".text", ".md":
		return FormatText
	}
	if steadyCount(lines, ',') {
		return FormatCSV
	}
	return FormatText
}

// steadyCount reports whether c occurs in every line, the same number of
// times in most of them.
func steadyCount(lines [][]byte, c byte) bool {
	counts := map[int]int{}
	for _, l := range lines {
		n := bytes.Count(l, []byte{c})
		if n == 0 {
			return false
		}
		counts[n]++
	}
	best := 0
	for _, k := range counts {
		best = max(best, k)
	}
	return best*2 > len(lines) || len(lines) == 1
}

// firstLines returns up to n complete non-empty lines of b (the last line
// only when b holds the whole file, which we cannot know: so only complete
// ones, unless there is no newline at all).
func firstLines(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 && len(out) < n {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			if len(out) == 0 {
				out = append(out, b)
			}
			break
		}
		if l := bytes.TrimRight(b[:j], "\r"); len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
		b = b[j+1:]
	}
	return out
}

// formatExt is the extension that stands for each format in sniffing.
var formatExt = map[Format]string{
	FormatJSONL: ".jsonl", FormatJSON: ".json", FormatCSV: ".csv", FormatTSV: ".tsv",
	FormatText: ".txt", FormatXLSX: ".xlsx", FormatParquet: ".parquet",
}

// namesFormat reports whether an extension says what format a file is in.
func namesFormat(ext string) bool {
	switch ext {
	case ".txt", ".text", ".md":
		return true
	}
	return extFormat(ext, "") != ""
}

// extFormat maps a file extension to a format, or def when it names none.
func extFormat(ext string, def Format) Format {
	switch ext {
	case ".jsonl", ".ndjson", ".jl":
		return FormatJSONL
	case ".json":
		return FormatJSON
	case ".csv":
		return FormatCSV
	case ".tsv", ".tab":
		return FormatTSV
	case ".xlsx":
		return FormatXLSX
	case ".parquet":
		return FormatParquet
	}
	return def
}
