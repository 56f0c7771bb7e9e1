package dedup

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/chimed/chimed/internal/segment"
)

// Shingle modes of near-dedup.
const (
	// ShingleChar shingles canonical text into character n-grams.
	ShingleChar = "char"
	// ShingleWord shingles it into n-grams of jieba words (internal/segment).
	ShingleWord = "word"
)

// MinHasher turns a text into a set of shingle hashes and a MinHash
// signature of Bands×Rows 32-bit values.
//
// The signature is one-permutation hashing with optimal densification (Li,
// Owen & Zhang 2012; Shrivastava 2017): each shingle hash is mixed once, its
// high bits pick one of the Bands×Rows bins and its low bits are the value
// whose minimum the bin keeps; an empty bin then borrows the value of the
// first non-empty bin on its own fixed probe sequence. Two sets of Jaccard J
// agree on each bin with probability J, as with one permutation per value,
// but a signature costs one mix per shingle instead of 96 (the classic
// scheme was 10% of clean's CPU on the 1GB demo). Hand-written: no kept Go
// library implements it. Everything is fixed, so signatures are the same on
// every run and machine.
type MinHasher struct {
	Mode        string
	NGram       int
	Bands, Rows int
	// seed keys the shingle mix; probes[i] is bin i's densification
	// sequence (Perms() entries, the first of them i itself).
	seed   uint64
	probes [][]uint16
}

// NewMinHasher makes a MinHasher; mode is ShingleChar or ShingleWord.
func NewMinHasher(mode string, ngram, bands, rows int) (*MinHasher, error) {
	if mode != ShingleChar && mode != ShingleWord {
		return nil, fmt.Errorf("near_dedup.shingle: %q is not char or word", mode)
	}
	if mode == ShingleWord {
		if _, err := segment.Jieba(); err != nil {
			return nil, fmt.Errorf("near_dedup.shingle word: %w", err)
		}
	}
	k := bands * rows
	if k < 1 || k > 1<<16 {
		return nil, fmt.Errorf("near_dedup: bands×rows = %d, want 1 to 65536", k)
	}
	m := &MinHasher{Mode: mode, NGram: ngram, Bands: bands, Rows: rows, seed: 0x243f6a8885a308d3} // the digits of pi
	// Bin i probes a fixed pseudo-random permutation of all bins, so a
	// borrowed value comes from a bin chosen independently of the set (the
	// "optimal" densification; borrowing from the next bin to the right
	// makes neighbouring empty bins agree with each other).
	state := m.seed
	m.probes = make([][]uint16, k)
	for i := range m.probes {
		p := make([]uint16, k)
		for j := range p {
			p[j] = uint16(j)
		}
		for j := k - 1; j > 0; j-- { // Fisher–Yates on a splitmix64 stream
			state += 0x9e3779b97f4a7c15
			r := int(mix64(state) % uint64(j+1))
			p[j], p[r] = p[r], p[j]
		}
		at := slices.Index(p, uint16(i))
		p[0], p[at] = p[at], p[0] // a non-empty bin keeps its own value
		m.probes[i] = p
	}
	return m, nil
}

// Perms is the number of signature values (Bands×Rows bins).
func (m *MinHasher) Perms() int { return len(m.probes) }

// Shingles appends the hashes of text's shingles to dst (with repeats).
// runeBuf is scratch space, returned for reuse.
func (m *MinHasher) Shingles(fields []string, dst []uint64, runeBuf []rune) ([]uint64, []rune) {
	if m.Mode == ShingleChar {
		runeBuf, _ = FoldFields(fields, runeBuf[:0], nil)
		return m.charShingles(runeBuf, dst), runeBuf
	}
	return m.wordShingles(fields, dst, runeBuf)
}

// ShinglesFolded is Shingles of fields that FoldFields folded into folded
// (char shingles are taken from it as it is).
func (m *MinHasher) ShinglesFolded(fields []string, folded []rune, dst []uint64, runeBuf []rune) ([]uint64, []rune) {
	if m.Mode == ShingleChar {
		return m.charShingles(folded, dst), runeBuf
	}
	return m.wordShingles(fields, dst, runeBuf)
}

func (m *MinHasher) charShingles(folded []rune, dst []uint64) []uint64 {
	return appendRuneGramHashes(dst, folded, m.NGram, 0)
}

func (m *MinHasher) wordShingles(fields []string, dst []uint64, runeBuf []rune) ([]uint64, []rune) {
	add := func(h uint64) bool { dst = append(dst, h); return true }
	text := norm.NFKC.String(strings.ToLower(strings.Join(fields, "\x1f")))
	words, err := segment.Words(text)
	if err != nil { // checked in NewMinHasher; cannot happen after it
		return dst, runeBuf
	}
	// Each word becomes one "rune" of a word-level n-gram: its hash, folded
	// into a rune-sized value that runeGramHashes mixes back to 64 bits.
	runeBuf = runeBuf[:0]
	for _, w := range words {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
			continue // punctuation and symbols are not words
		}
		h := uint64(14695981039346656037)
		for i := 0; i < len(w); i++ {
			h = (h ^ uint64(w[i])) * 0x100000001b3
		}
		runeBuf = append(runeBuf, rune(uint32(h)&0x7fffffff))
	}
	runeGramHashes(runeBuf, m.NGram, 0x77, add)
	return dst, runeBuf
}

// Signature writes the MinHash signature of a shingle set into sig
// (len Perms()); false when there are no shingles. Repeated shingles do not
// change it.
func (m *MinHasher) Signature(shingles []uint64, sig []uint32) bool {
	if len(shingles) == 0 {
		return false
	}
	k := uint64(len(sig))
	// A bin's value is 32 bits below its minimum candidate; full marks an
	// empty bin, which no value reaches (values are at most 2³²−2).
	const full = math.MaxUint32
	for i := range sig {
		sig[i] = full
	}
	for _, h := range shingles {
		v := mix64(h ^ m.seed)
		bin := (v >> 32) * k >> 32 // high bits: the bin, by multiply-shift range reduction
		if lo := min(uint32(v), full-1); lo < sig[bin] {
			sig[bin] = lo
		}
	}
	// bits is a bitset of the bins as hashed, non-empty before borrowing,
	// found in the same loop as the empty bins: 256 bins fit on the stack
	// (a 2 KiB bitset, sized for 16,384 bins and zeroed for each densified
	// row, showed in the 1GB demo's profile).
	var small [4]uint64
	bits := small[:]
	if int(k) > 64*len(small) {
		bits = make([]uint64, (k+63)/64)
	}
	empty := false
	for i, v := range sig {
		if v == full {
			empty = true
		} else {
			bits[i/64] |= 1 << (i % 64)
		}
	}
	if empty {
		// Densify from the bins as hashed, not from already borrowed values.
		for i, v := range sig {
			if v != full {
				continue
			}
			for _, j := range m.probes[i][1:] {
				if bits[j/64]&(1<<(j%64)) != 0 {
					sig[i] = sig[j]
					break
				}
			}
		}
	}
	return true
}

// BandKeys hashes each band of Rows signature values (and the dedup
// namespace) into a 32-bit bucket key.
func (m *MinHasher) BandKeys(sig []uint32, ns uint64, keys []uint32) {
	for b := 0; b < m.Bands; b++ {
		h := mix64(ns ^ uint64(b+1)*0x9e3779b97f4a7c15)
		for _, v := range sig[b*m.Rows : (b+1)*m.Rows] {
			h = mix64(h ^ uint64(v))
		}
		keys[b] = uint32(h)
	}
}

// CandidateProbability is the LSH S-curve: the chance that two rows of
// Jaccard similarity j share at least one band, 1 − (1 − j^rows)^bands.
func CandidateProbability(j float64, bands, rows int) float64 {
	return 1 - math.Pow(1-math.Pow(j, float64(rows)), float64(bands))
}

// jaccardFloor is Jaccard(a, b) when that is at least floor, and otherwise
// some value below floor. Near-dedup compares a pair's Jaccard with its
// thresholds only, and on the 1GB demo 94% of candidate pairs fall below
// the lower one, so the merge stops as soon as the shingles left cannot
// bring the pair up to floor, and pairs whose sizes alone rule it out are
// not merged at all (J ≤ min(|a|,|b|)/max(|a|,|b|)).
func jaccardFloor(a, b []uint64, floor float64) float64 {
	na, nb := len(a), len(b)
	switch {
	case na == 0 && nb == 0:
		return 1
	case na == 0 || nb == 0:
		return 0
	}
	need := -1 // no floor: never stop early
	if floor > 0 {
		if lo, hi := float64(min(na, nb)), float64(max(na, nb)); lo < floor*hi {
			return lo / hi // an upper bound, below floor
		}
		// J ≥ floor ⟺ inter ≥ floor·(na+nb)/(1+floor). need is one below
		// that (rounded down), so float rounding can only make the merge
		// run longer.
		need = int(floor*float64(na+nb)/(1+floor)) - 1
	}
	i, j, inter := 0, 0, 0
	for i < na && j < nb {
		// Check the bound every 32 steps: inter can grow by at most
		// min(na-i, nb-j) more.
		if (i+j)&31 == 0 && inter+min(na-i, nb-j) < need {
			return float64(inter+min(na-i, nb-j)) / float64(na+nb) // below floor: see need
		}
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(na+nb-inter)
}

// Jaccard is |a∩b| / |a∪b| of two sorted, duplicate-free hash sets (1 for
// two empty sets).
func Jaccard(a, b []uint64) float64 { return jaccardFloor(a, b, 0) }

// ShingleSet sorts and de-duplicates shingle hashes in place, by
// distribution (sortHashes; an LSD radix sort measured slower than pdqsort
// at these sizes). buf is scratch space, returned for reuse.
func ShingleSet(h, buf []uint64) ([]uint64, []uint64) {
	buf = sortHashes(h, buf)
	return slices.Compact(h), buf
}
