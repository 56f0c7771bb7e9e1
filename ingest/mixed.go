package ingest

import (
	"bufio"
	"bytes"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// mixedLineMax is the longest line mixedLines decides on by itself; the
// rest of a longer line (a JSON array on one line) is decoded in the
// sniffed encoding as it streams, so memory stays bounded.
const mixedLineMax = 1 << 20

// mixedLines decodes a file with encoding: auto one line at a time, so a
// file the sniffer called GB18030 (or UTF-8) keeps the lines that are
// plainly in the other encoding: corpora concatenated from GBK and UTF-8
// dumps are common, and sniffing per file quarantined every line of the
// minority encoding. A line is
//   - read as UTF-8 when it is valid UTF-8;
//   - decoded as GB18030 when GB18030 decodes it without a replacement
//     character and it is not mostly UTF-8 (a UTF-8 line with a damaged
//     byte stays UTF-8, and is quarantined, rather than turned into
//     mojibake);
//   - otherwise left to the sniffed encoding, whose check quarantines it
//     naming both encodings (see fileReader.invalidBytes).
//
// '\n' is never part of a GB18030 multi-byte character, so splitting the
// raw bytes on it is safe in both encodings.
type mixedLines struct {
	r       *bufio.Reader
	primary textEncoding // utf-8 (enc nil) or gb18030
	gb      *encoding.Decoder
	out     []byte // decoded, not yet read
	// long is set while streaming a line longer than mixedLineMax; dec
	// decodes it and carry holds a character cut at a chunk's end.
	long  bool
	dec   transform.Transformer
	carry []byte
	err   error
}

func newMixedLines(r io.Reader, primary textEncoding) *mixedLines {
	return &mixedLines{r: bufio.NewReaderSize(r, mixedLineMax), primary: primary, gb: simplifiedchinese.GB18030.NewDecoder()}
}

func (m *mixedLines) Read(p []byte) (int, error) {
	for len(m.out) == 0 {
		if m.err != nil {
			return 0, m.err
		}
		line, err := m.r.ReadSlice('\n')
		readErr := err
		switch {
		case err == bufio.ErrBufferFull && !m.long:
			m.long = true
			m.dec = transform.Nop
			if m.primary.enc != nil {
				m.dec = m.primary.enc.NewDecoder()
			}
			m.dec.Reset()
			m.carry = m.carry[:0]
			fallthrough
		case m.long:
			end := err != bufio.ErrBufferFull // the line ends here (or the file does)
			if m.out, err = m.decodeChunk(line, end); err != nil {
				return 0, err
			}
			if end {
				m.long = false
				m.err = readErr
			}
		default:
			m.err = err
			m.out = m.decode(line)
		}
	}
	n := copy(p, m.out)
	m.out = m.out[n:]
	return n, nil
}

// decodeChunk decodes one piece of a long line in the sniffed encoding; a
// character cut at its end waits in carry for the next piece, and end
// flushes it.
func (m *mixedLines) decodeChunk(chunk []byte, end bool) ([]byte, error) {
	src := append(m.carry, chunk...)
	dst := make([]byte, 2*len(src)+utf8.UTFMax)
	nDst, nSrc, err := m.dec.Transform(dst, src, end)
	if err != nil && err != transform.ErrShortSrc {
		return nil, err
	}
	m.carry = append(m.carry[:0], src[nSrc:]...)
	return dst[:nDst], nil
}

// decode turns one raw line into UTF-8 as the type comment says.
func (m *mixedLines) decode(line []byte) []byte {
	if utf8.Valid(line) {
		return line
	}
	if !mostlyUTF8(line) {
		if out, err := m.gb.Bytes(line); err == nil && !bytes.ContainsRune(out, utf8.RuneError) {
			return out
		}
	}
	if m.primary.enc == nil {
		return line // invalid UTF-8: checkText finds it
	}
	out, err := m.primary.enc.NewDecoder().Bytes(line)
	if err != nil {
		return line
	}
	return out
}
