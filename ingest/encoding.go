package ingest

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// textEncoding is how a file's bytes become UTF-8: enc is nil for UTF-8
// (read as is, validated per record), bom the length of a byte-order mark
// to skip at the start.
type textEncoding struct {
	name string
	enc  encoding.Encoding
	bom  int
	// mixed is set when encoding: auto reads the file line by line as
	// UTF-8 or GB18030, name being the sniffed one (see mixedLines).
	mixed bool
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// chooseEncoding resolves a source's encoding key against a file's first
// bytes. "auto" (or "") picks, in order: a UTF-8 or UTF-16 byte-order mark,
// valid UTF-8, else GB18030 (a superset of GBK and GB2312). An explicit
// name overrides detection, but a matching BOM is still skipped.
func chooseEncoding(name string, prefix []byte, atEOF bool) (textEncoding, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case "", "auto":
		return detectEncoding(prefix, atEOF), nil
	case "utf-8", "utf8":
		return textEncoding{name: "utf-8", bom: bomLen(prefix, bomUTF8)}, nil
	case "gbk", "gb2312", "gb18030", "cp936":
		return textEncoding{name: "gb18030", enc: simplifiedchinese.GB18030}, nil
	case "utf-16", "utf16":
		if bytes.HasPrefix(prefix, bomUTF16BE) {
			return textEncoding{name: "utf-16be", enc: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), bom: 2}, nil
		}
		return textEncoding{name: "utf-16le", enc: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), bom: bomLen(prefix, bomUTF16LE)}, nil
	case "utf-16le":
		return textEncoding{name: "utf-16le", enc: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), bom: bomLen(prefix, bomUTF16LE)}, nil
	case "utf-16be":
		return textEncoding{name: "utf-16be", enc: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), bom: bomLen(prefix, bomUTF16BE)}, nil
	}
	return textEncoding{}, fmt.Errorf("unknown encoding %q (want auto, utf-8, gbk, gb18030, utf-16, utf-16le or utf-16be)", name)
}

func bomLen(prefix, bom []byte) int {
	if bytes.HasPrefix(prefix, bom) {
		return len(bom)
	}
	return 0
}

// detectEncoding guesses a file's encoding from its first bytes. A prefix
// cut inside a multi-byte character is not held against UTF-8 unless the
// file really ends there.
func detectEncoding(prefix []byte, atEOF bool) textEncoding {
	switch {
	case bytes.HasPrefix(prefix, bomUTF8):
		return textEncoding{name: "utf-8", bom: 3}
	case bytes.HasPrefix(prefix, bomUTF16LE):
		return textEncoding{name: "utf-16le", enc: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), bom: 2}
	case bytes.HasPrefix(prefix, bomUTF16BE):
		return textEncoding{name: "utf-16be", enc: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), bom: 2}
	}
	if order, ok := utf16WithoutBOM(prefix); ok {
		return textEncoding{name: "utf-16" + map[unicode.Endianness]string{unicode.LittleEndian: "le", unicode.BigEndian: "be"}[order],
			enc: unicode.UTF16(order, unicode.IgnoreBOM)}
	}
	if validUTF8Prefix(prefix, atEOF) || mostlyUTF8(prefix) {
		return textEncoding{name: "utf-8"}
	}
	return textEncoding{name: "gb18030", enc: simplifiedchinese.GB18030}
}

// mostlyUTF8 reports whether b is UTF-8 with a few damaged bytes: at least
// twenty well-formed multi-byte characters for every invalid byte. A UTF-8
// file with one corrupt record must stay UTF-8 (so only that record is
// quarantined), while GBK text read as UTF-8 is almost nothing but invalid
// bytes and stays far below the ratio.
func mostlyUTF8(b []byte) bool {
	multi, bad := 0, 0
	for len(b) > 0 {
		if b[0] < utf8.RuneSelf {
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(b) {
				break // a character cut at the end of the window
			}
			bad++
		} else {
			multi++
		}
		b = b[size:]
	}
	return multi > 0 && bad*20 <= multi
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a character cut
// off at the end of the window when more of the file follows.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if atEOF {
		return false
	}
	// Drop at most one incomplete trailing character: back up over
	// continuation bytes to its lead byte.
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c&0xC0 == 0x80 {
			continue
		}
		if utf8.RuneStart(c) && !utf8.FullRune(b[len(b)-i:]) {
			return utf8.Valid(b[:len(b)-i])
		}
		break
	}
	return false
}

// utf16WithoutBOM spots UTF-16 that lacks a byte-order mark by its zero
// bytes: text that is mostly ASCII (JSON punctuation, CSV commas, digits)
// has a zero in every other byte, on the even side for big-endian and the
// odd side for little-endian. Text in UTF-8 or GB18030 has no zero bytes.
func utf16WithoutBOM(b []byte) (unicode.Endianness, bool) {
	b = b[:min(len(b), 4096)&^1]
	if len(b) < 8 {
		return unicode.LittleEndian, false
	}
	var even, odd int
	for i := 0; i < len(b); i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	pairs := len(b) / 2
	switch {
	case odd*10 >= pairs*3 && even*20 < pairs:
		return unicode.LittleEndian, true
	case even*10 >= pairs*3 && odd*20 < pairs:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}
