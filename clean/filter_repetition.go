package clean

import (
	"strings"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

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
	for _, fl := range r.TextFields() {
		s := *fl.Value
		n := utf8.RuneCountInString(s)
		if n < f.MinChars {
			continue
		}
		if dupLineFrac(s, n) > f.MaxDupLineFrac {
			return "repeated_lines", fl.Name
		}
		if dupNGramFrac(s, f.NGram) > f.MaxDupNGramFrac {
			return "repeated_ngrams", fl.Name
		}
	}
	return "", ""
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

// dupNGramFrac is the share of characters covered by a character n-gram
// that occurs more than once (each character counted once).
func dupNGramFrac(s string, n int) float64 {
	runes := []rune(s)
	if len(runes) < 2*n {
		return 0
	}
	starts := make([]int, len(runes)+1) // byte offset of each rune
	off := 0
	for i, r := range runes {
		starts[i] = off
		off += utf8.RuneLen(r)
	}
	starts[len(runes)] = off
	first := make(map[uint64]int, len(runes))
	covered := make([]bool, len(runes))
	for i := 0; i+n <= len(runes); i++ {
		h := xxhash.Sum64String(s[starts[i]:starts[i+n]])
		if j, ok := first[h]; ok {
			for k := 0; k < n; k++ {
				covered[i+k] = true
				covered[j+k] = true
			}
			continue
		}
		first[h] = i
	}
	c := 0
	for _, v := range covered {
		if v {
			c++
		}
	}
	return float64(c) / float64(len(runes))
}
