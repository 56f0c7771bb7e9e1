package clean

import (
	"unicode"

	"github.com/chimed/chimed/schemas"
)

// cjkFilter removes rows that are not mostly Chinese: the share of Han
// characters among all letters and digits of the row's text must be at
// least min_ratio (default 0.3, low enough for drug names, units and English
// abbreviations in Chinese medical text). Rows with fewer than min_chars
// letters are left to the length filter.
// Reason: "low_cjk".
type cjkFilter struct {
	MinRatio float64 `yaml:"min_ratio"`
	MinChars int     `yaml:"min_chars"`
}

func init() {
	register("cjk_ratio", textKinds, func(decode func(any) error) (any, error) {
		f := &cjkFilter{MinRatio: 0.3, MinChars: 10}
		return f, decode(f)
	})
}

// Check implements Filter.
func (f *cjkFilter) Check(r schemas.Record) (string, string) {
	han, letters := 0, 0
	for _, fl := range r.TextFields() {
		h, l := cjkCounts(*fl.Value)
		han += h
		letters += l
	}
	return f.decide(han, letters)
}

// CheckProfiled implements ProfiledFilter: the counts are the Profiles'.
func (f *cjkFilter) CheckProfiled(_ []schemas.Field, profiles []Profile) (string, string) {
	han, letters := 0, 0
	for i := range profiles {
		han += profiles[i].Han
		letters += profiles[i].Letters
	}
	return f.decide(han, letters)
}

// cjkCounts counts the Han characters of s, and its letters and digits
// (Han characters included).
func cjkCounts(s string) (han, letters int) {
	for _, c := range s {
		switch {
		case c < 0x80:
			if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				letters++
			}
		case c >= 0x4e00 && c <= 0x9fff || unicode.Is(unicode.Han, c):
			han++
			letters++
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			letters++
		}
	}
	return han, letters
}

func (f *cjkFilter) decide(han, letters int) (string, string) {
	if letters < f.MinChars {
		return "", ""
	}
	if float64(han) < f.MinRatio*float64(letters) {
		return "low_cjk", ""
	}
	return "", ""
}
