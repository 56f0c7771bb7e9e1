package dedup

import (
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/text/unicode/norm"

	"github.com/chimed/chimed/internal/runeclass"
	"github.com/chimed/chimed/schemas"
)

// Canonical text is what dedup keys, MinHash shingles and decontamination
// n-grams are computed on: the stored (NFC) text folded with NFKC (so "，"
// and ",", "１" and "1", "㎎" and "mg" compare equal), lower-cased, keeping
// only letters and digits. Dropping spaces and punctuation means two rows
// that differ only in punctuation or spacing are exact duplicates.

// fieldSep is put between fields in canonical text, so that n-grams do not
// silently span two fields' boundary and "ab"+"c" differs from "a"+"bc".
const fieldSep = '\x1f'

// appendCanon appends the canonical runes of s to dst: letters and digits
// only. Dedup keys and decontamination n-grams use it.
func appendCanon(dst []rune, s string) []rune { return appendFolded(dst, s, false) }

// appendShingleText appends s folded for shingling: like appendCanon but
// punctuation and symbols stay (only spaces go), because in Chinese the
// punctuation is part of a 5-character window's context and dropping it
// shrinks short texts' shingle sets, which lowers the Jaccard of genuine
// near duplicates (measured on the demo: pairs at 0.80–0.81 with
// punctuation fell to 0.77–0.79 without it).
func appendShingleText(dst []rune, s string) []rune { return appendFolded(dst, s, true) }

func appendFolded(dst []rune, s string, keepPunct bool) []rune {
	if out, ok := foldRunes(dst, s, keepPunct, true); ok {
		return out
	}
	out, _ := foldRunes(dst, norm.NFKC.String(s), keepPunct, false)
	return out
}

// foldRunes is appendFolded's loop. With stableOnly it gives up (false)
// at the first rune runeclass.NFKCStable would refuse, so a value is scanned once
// when it needs no NFKC rather than once to check and once to fold.
func foldRunes(dst []rune, s string, keepPunct, stableOnly bool) ([]rune, bool) {
	classes := runeclass.Get()
	for i := 0; i < len(s); {
		var r rune
		if c := s[i]; c < utf8.RuneSelf {
			r = rune(c)
			i++
		} else {
			var size int
			r, size = runeclass.DecodeRune(s[i:])
			i += size
			switch {
			case r >= 0x4e00 && r <= 0x9fff: // CJK ideographs: letters, NFKC-stable, no case
				dst = append(dst, r)
				continue
			case r >= 0xff01 && r <= 0xff5e: // full-width ASCII, as NFKC folds it
				r -= 0xfee0
			case r == 0x2026: // "…" is "..." under NFKC
				if keepPunct {
					dst = append(dst, '.', '.', '.')
				}
				continue
			}
		}
		if r < utf8.RuneSelf {
			switch c := byte(r); {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				dst = append(dst, r)
			case c >= 'A' && c <= 'Z':
				dst = append(dst, r+'a'-'A')
			case keepPunct && c > ' ' && c < 0x7f:
				dst = append(dst, r)
			}
			continue
		}
		if stableOnly && !runeclass.StableRune(r) {
			return dst, false
		}
		switch c := classes.Of(r); {
		case c&runeclass.LetterDigit != 0:
			if c&runeclass.Cased != 0 {
				r = unicode.ToLower(r)
			}
			dst = append(dst, r)
		case keepPunct && c&runeclass.PunctSymbol != 0:
			dst = append(dst, r)
		}
	}
	return dst, true
}

// KeyFields lists the values that make a row's canonical key: what must be
// equal for two rows to be the same record. Near-dedup shingles the same
// values.
func KeyFields(r schemas.Record, dst []string) []string {
	switch r := r.(type) {
	case *schemas.Text:
		return append(dst, r.Text)
	case *schemas.QA:
		return append(dst, r.Question, r.Answer)
	case *schemas.Triple:
		return append(dst, r.Head, r.Relation, r.Tail)
	case *schemas.Dialogue:
		for _, t := range r.Turns {
			dst = append(dst, t.Role, t.Content)
		}
		return dst
	case *schemas.PreferencePair:
		return append(dst, r.Prompt, r.Chosen, r.Rejected)
	case *schemas.ExamQuestion:
		dst = append(dst, r.Question)
		for _, o := range r.Options {
			dst = append(dst, o.Label, o.Text)
		}
		return append(dst, r.Answer)
	}
	for _, f := range r.TextFields() {
		dst = append(dst, *f.Value)
	}
	return dst
}

// evalFields lists the values of an eval row that training rows must not
// share an n-gram with: exam and QA questions, and QA answers when asked.
func evalFields(r schemas.Record, answers bool, dst []string) []string {
	switch r := r.(type) {
	case *schemas.QA:
		if answers {
			return append(dst, r.Question, r.Answer)
		}
		return append(dst, r.Question)
	case *schemas.ExamQuestion:
		return append(dst, r.Question)
	}
	return dst
}

// ProbeKeyIndex lists where a row's eval probes are among its KeyFields:
// the values checked against the eval sets, what a model would be prompted
// with or read (the question, the document, the user's turns, the
// prompt). clean's pass 1 folds a row's text once (FoldFields) for its
// key, its eval probes and its shingles.
func ProbeKeyIndex(r schemas.Record, dst []int) []int {
	switch r := r.(type) {
	case *schemas.Text, *schemas.QA, *schemas.PreferencePair, *schemas.ExamQuestion:
		return append(dst, 0)
	case *schemas.Dialogue:
		for i, t := range r.Turns {
			if t.Role == schemas.RoleUser {
				dst = append(dst, 2*i+1)
			}
		}
	}
	return dst
}

// FoldFields appends fields folded for shingling (appendShingleText), with
// fieldSep between fields, to dst: the text char shingles are taken from.
// spans gets each field's [start, end) in dst. Its letters and digits are
// the canonical text (see canonRunes).
func FoldFields(fields []string, dst []rune, spans [][2]int) ([]rune, [][2]int) {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, fieldSep)
		}
		start := len(dst)
		dst = appendShingleText(dst, f)
		spans = append(spans, [2]int{start, len(dst)})
	}
	return dst, spans
}

// canonRune reports whether a rune of folded shingle text is canonical: a
// letter or digit. appendCanon is appendShingleText without punctuation and
// symbols, so the canonical runes of a string are its folded runes that
// pass this (FuzzCanonFromFolded checks it). classes is runeclass.Get(),
// which callers fetch once rather than for every rune.
func canonRune(classes *runeclass.Table, r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' // folded ASCII is lower case
	case r >= 0x4e00 && r <= 0x9fff:
		return true
	}
	return classes.Of(r)&runeclass.LetterDigit != 0
}

// canonRunes appends the canonical runes of folded shingle text to dst.
func canonRunes(dst, folded []rune) []rune {
	classes := runeclass.Get()
	for _, r := range folded {
		if canonRune(classes, r) {
			dst = append(dst, r)
		}
	}
	return dst
}

// CanonKey hashes the canonical key of a row into 64 bits, salted
// with the dedup namespace (eval rows are deduplicated only among
// themselves): the canonical runes of the key fields FoldFields folded,
// fieldSep between fields, as UTF-8. buf is scratch space, returned for
// reuse.
func CanonKey(folded []rune, spans [][2]int, ns uint64, buf []byte) (uint64, []byte) {
	buf = binary.LittleEndian.AppendUint64(buf[:0], ns)
	classes := runeclass.Get()
	for i, sp := range spans {
		if i > 0 {
			buf = append(buf, fieldSep)
		}
		for _, r := range folded[sp[0]:sp[1]] {
			switch {
			case !canonRune(classes, r):
			case r >= 0x800 && r <= 0xffff && (r < 0xd800 || r > 0xdfff):
				// Three bytes, as utf8.AppendRune writes them, without its
				// call: most canonical runes are Chinese.
				buf = append(buf, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
			default:
				buf = utf8.AppendRune(buf, r)
			}
		}
	}
	return xxhash.Sum64(buf), buf
}

// mix64 is the splitmix64 finaliser: a cheap, well-spread 64-bit mix.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// WindowHashes calls fn with the hash of every window of exactly n runes
// of rs (none when rs is shorter), salted; fn returns false to stop.
// Hand-written rolling polynomial hash (mod 2⁶⁴), mixed per window, so each
// window costs O(1) whatever n is.
func WindowHashes(rs []rune, n int, salt uint64, fn func(uint64) bool) {
	if n <= 0 || len(rs) < n {
		return
	}
	h, pow := firstWindow(rs, n)
	for i := 0; ; i++ {
		if !fn(mix64(h ^ salt)) {
			return
		}
		if i+n >= len(rs) {
			return
		}
		h = (h-uint64(rs[i])*pow)*polyBase + uint64(rs[i+n])
	}
}

// firstWindow is the rolling hash of rs[:n] (polyHash) and base^(n-1),
// which rolls it on: h' = (h − rs[i]·pow)·base + rs[i+n].
func firstWindow(rs []rune, n int) (h, pow uint64) {
	pow = 1
	for i := 1; i < n; i++ {
		pow *= polyBase
	}
	return polyHash(rs[:n]), pow
}

// appendWindowHashes appends what WindowHashes passes fn to dst: the
// shingles' loop, without a call per window (which cost a third of it).
func appendWindowHashes(dst []uint64, rs []rune, n int, salt uint64) []uint64 {
	if n <= 0 || len(rs) < n {
		return dst
	}
	h, pow := firstWindow(rs, n)
	dst = slices.Grow(dst, len(rs)-n+1)
	dst = append(dst, mix64(h^salt))
	for i := 0; i+n < len(rs); i++ {
		h = (h-uint64(rs[i])*pow)*polyBase + uint64(rs[i+n])
		dst = append(dst, mix64(h^salt))
	}
	return dst
}

// appendRuneGramHashes appends what runeGramHashes passes fn to dst.
func appendRuneGramHashes(dst []uint64, rs []rune, n int, salt uint64) []uint64 {
	if len(rs) == 0 {
		return dst
	}
	if len(rs) < n {
		n = len(rs)
		salt ^= 0x5bd1e995 // as in runeGramHashes
	}
	return appendWindowHashes(dst, rs, n, salt)
}

// runeGramHashes calls fn with the hash of every n-rune window of rs (or of
// rs as a whole when it is shorter than n but not empty).
func runeGramHashes(rs []rune, n int, salt uint64, fn func(uint64) bool) {
	if len(rs) == 0 {
		return
	}
	if len(rs) < n {
		n = len(rs)
		salt ^= 0x5bd1e995 // a whole short text is not the same as an n-gram of a longer one
	}
	WindowHashes(rs, n, salt, fn)
}
