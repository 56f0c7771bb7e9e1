package stats

import (
	"unicode"
)

// The quality measures stats charts per kind of clean/ row are the ones
// clean's filters judge by, so a chart shows how far the kept rows sit from
// each threshold: length in characters, the share of Han characters among
// letters and digits (cjk_ratio), and the share of characters inside
// repeated character 20-grams (repetition's repeated_ngrams, Gopher's
// measure counted in characters).

// repNGram and repMinChars are clean's repetition defaults: 20-character
// n-grams, judged on fields of at least 100 characters.
const (
	repNGram    = 20
	repMinChars = 100
)

// pctEdges are the lower edges of the percentage histograms: ten bins of
// ten points (100% falls in the last).
var pctEdges = []int64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90}

// cjkShare counts the Han characters and the letters and digits of s.
func cjkShare(s string) (han, letters int) {
	for _, r := range s {
		switch {
		case r < 0x80:
			if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				letters++
			}
		case r >= 0x4e00 && r <= 0x9fff || unicode.Is(unicode.Han, r):
			han++
			letters++
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			letters++
		}
	}
	return han, letters
}

// repeatedShare is the share of s's characters covered by character
// n-grams that occur more than once in s; ok is false when s is shorter
// than repMinChars characters, which clean does not judge.
func repeatedShare(s string, scratch *repScratch) (share float64, ok bool) {
	runes := append(scratch.runes[:0], []rune(s)...)
	scratch.runes = runes
	n := len(runes)
	if n < repMinChars {
		return 0, false
	}
	windows := n - repNGram + 1
	if scratch.first == nil {
		scratch.first = map[uint64]int32{}
	}
	clear(scratch.first)
	// A polynomial rolling hash of each window (mod 2^64): equal windows
	// always hash alike; distinct ones collide with negligible odds.
	const base = 1_000_003
	var top uint64 = 1 // base^(repNGram-1)
	for range repNGram - 1 {
		top *= base
	}
	hashes := scratch.hashes[:0]
	var h uint64
	for i, r := range runes {
		if i >= repNGram {
			h -= uint64(runes[i-repNGram]) * top
		}
		h = h*base + uint64(r)
		if i >= repNGram-1 {
			hashes = append(hashes, h)
		}
	}
	scratch.hashes = hashes
	repeated := make([]bool, windows)
	for i, h := range hashes {
		if j, seen := scratch.first[h]; seen {
			repeated[i], repeated[j] = true, true
		} else {
			scratch.first[h] = int32(i)
		}
	}
	covered, reach := 0, -1 // characters covered by a repeated window
	for i, rep := range repeated {
		if !rep {
			continue
		}
		start := max(i, reach+1)
		end := i + repNGram - 1
		if end >= start {
			covered += end - start + 1
			reach = end
		}
	}
	return float64(covered) / float64(n), true
}

// repScratch keeps repeatedShare's buffers between rows.
type repScratch struct {
	runes  []rune
	hashes []uint64
	first  map[uint64]int32
}
