package clean

import (
	"slices"
	"strings"
	"unicode/utf8"

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
// that occurs more than once. Hand-written: window hashes (rolling, see
// windowHashes) are packed with their position, sorted, and equal hashes
// mark their windows in a difference array — no map, one sort.
func dupNGramFrac(s string, n int) float64 {
	runes := []rune(s)
	if len(runes) < 2*n {
		return 0
	}
	const posBits = 20
	if len(runes) >= 1<<posBits {
		runes = runes[:1<<posBits-1] // judge the first million characters
	}
	const posMask = 1<<posBits - 1
	hs := make([]uint64, 0, len(runes)-n+1)
	pos := uint64(0)
	windowHashes(runes, n, 0, func(h uint64) bool {
		hs = append(hs, h&^posMask|pos)
		pos++
		return true
	})
	slices.Sort(hs)
	diff := make([]int32, len(runes)+1)
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j]&^posMask == hs[i]&^posMask {
			j++
		}
		if j-i > 1 {
			for _, h := range hs[i:j] {
				p := h & posMask
				diff[p]++
				diff[p+uint64(n)]--
			}
		}
		i = j
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
