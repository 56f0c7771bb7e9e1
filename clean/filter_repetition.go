package clean

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/runeclass"
	"github.com/chimed/chimed/schemas"
)

// repetitionFilter removes degenerate, repetitive text, after Gopher
// (Rae et al. 2021, "MassiveText" quality filters), adapted to Chinese by
// counting characters instead of words:
//   - "repeated_lines": the characters in lines that occur more than once
//     make up more than max_dup_line_frac (default 0.3) of the field;
//   - "repeated_ngrams": the characters covered by character n-grams
//     (n = ngram, default 20) that occur more than once make up more than
//     max_dup_ngram_frac (default 0.5) of the field.
//
// Fields shorter than min_chars (default 100) are not judged. The n-gram is
// long because Chinese exam explanations and textbook prose legitimately
// repeat 10–15 character phrases ("不是慢性鼻窦炎的主要诊疗科室" once per
// wrong option); degenerate output repeats whole sentences. The detail
// names the field.
type repetitionFilter struct {
	MaxDupLineFrac  float64 `yaml:"max_dup_line_frac"`
	MaxDupNGramFrac float64 `yaml:"max_dup_ngram_frac"`
	NGram           int     `yaml:"ngram"`
	MinChars        int     `yaml:"min_chars"`
}

func init() {
	register("repetition", textKinds, func(decode func(any) error) (any, error) {
		f := &repetitionFilter{MaxDupLineFrac: 0.3, MaxDupNGramFrac: 0.5, NGram: 20, MinChars: 100}
		if err := decode(f); err != nil {
			return nil, err
		}
		if f.NGram < 2 {
			f.NGram = 2
		}
		return f, nil
	})
}

// Check implements Filter.
func (f *repetitionFilter) Check(r schemas.Record) (string, string) {
	return f.check(r.TextFields(), nil)
}

// CheckProfiled implements ProfiledFilter: a field's Profile has its
// length in characters, so a short field is passed over without decoding
// it.
func (f *repetitionFilter) CheckProfiled(fields []schemas.Field, profiles []Profile) (string, string) {
	return f.check(fields, profiles)
}

// check judges fields; profiles, when not nil, are their Profiles.
func (f *repetitionFilter) check(fields []schemas.Field, profiles []Profile) (string, string) {
	var sc *repetitionScratch
	defer func() {
		if sc != nil {
			repetitionPool.Put(sc)
		}
	}()
	for i, fl := range fields {
		s := *fl.Value
		if len(s) < f.MinChars { // a character is at least a byte
			continue
		}
		if profiles != nil && profiles[i].Runes < f.MinChars {
			continue
		}
		if sc == nil {
			sc = repetitionPool.Get().(*repetitionScratch)
		}
		sc.runes = appendRunes(sc.runes[:0], s)
		n := len(sc.runes)
		if n < f.MinChars {
			continue
		}
		if dupLineFrac(s, n) > f.MaxDupLineFrac {
			return "repeated_lines", fl.Name
		}
		if dupNGramFrac(sc.runes, f.NGram, sc) > f.MaxDupNGramFrac {
			return "repeated_ngrams", fl.Name
		}
	}
	return "", ""
}

// repetitionScratch is one check's buffers, as long as the field: pooled,
// since the filter runs on every row of every worker.
type repetitionScratch struct {
	runes []rune
	slots []uint64
	table []uint64
	diff  []int32
}

var repetitionPool = sync.Pool{New: func() any { return new(repetitionScratch) }}

// appendRunes appends the runes of s to dst, as ranging over s does (an
// invalid byte is one utf8.RuneError), with runeclass.DecodeRune's fast path for the
// three-byte runes of Chinese text.
func appendRunes(dst []rune, s string) []rune {
	dst = slices.Grow(dst, len(s)) // at most one rune a byte
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, rune(c))
			i++
			continue
		}
		r, n := runeclass.DecodeRune(s[i:])
		dst = append(dst, r)
		i += n
	}
	return dst
}

// dupLineFrac is the share of characters in lines seen earlier in s.
func dupLineFrac(s string, total int) float64 {
	if strings.Count(s, "\n") < 2 {
		return 0
	}
	seen := map[string]bool{}
	dup := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if seen[line] {
			dup += utf8.RuneCountInString(line)
		}
		seen[line] = true
	}
	return float64(dup) / float64(total)
}

// dupNGramFrac is the share of characters of runes covered by a character
// n-gram that occurs more than once. Hand-written: window hashes (rolling,
// see dedup.WindowHashes) go into an open-addressing table that marks the ones
// seen twice, then every window of a marked hash marks its characters in a
// difference array. Two linear passes; this replaced a sort of the hashes
// that was most of the filter's time. sc holds the buffers (nil: fresh).
func dupNGramFrac(runes []rune, n int, sc *repetitionScratch) float64 {
	if len(runes) < 2*n {
		return 0
	}
	if len(runes) >= 1<<20 {
		runes = runes[:1<<20-1] // judge the first million characters
	}
	if sc == nil {
		sc = new(repetitionScratch)
	}
	windows := len(runes) - n + 1
	size := 1 << bits.Len(uint(2*windows)) // load factor at most one half
	if cap(sc.table) < size {
		sc.table = make([]uint64, size)
	}
	table := sc.table[:size]
	clear(table)
	mask := uint64(size - 1)
	// An entry is a window hash with its two low bits replaced: bit 0
	// marks the slot used, bit 1 a hash seen more than once.
	slots := sc.slots[:0]
	dedup.WindowHashes(runes, n, 0, func(h uint64) bool {
		key := h&^3 | 1
		i := h & mask
		for table[i] != 0 && table[i]&^2 != key {
			i = (i + 1) & mask
		}
		if table[i] == 0 {
			table[i] = key
		} else {
			table[i] |= 2
		}
		slots = append(slots, i)
		return true
	})
	sc.slots = slots
	if cap(sc.diff) < len(runes)+1 {
		sc.diff = make([]int32, len(runes)+1)
	}
	diff := sc.diff[:len(runes)+1]
	clear(diff)
	for p, i := range slots {
		if table[i]&2 != 0 {
			diff[p]++
			diff[p+n]--
		}
	}
	c, depth := 0, int32(0)
	for _, d := range diff[:len(runes)] {
		depth += d
		if depth > 0 {
			c++
		}
	}
	return float64(c) / float64(len(runes))
}
