package demo

import (
	"slices"
	"strings"

	"github.com/chimed/chimed/schemas"
)

// ShingleSize is the character n-gram size of Jaccard5.
const ShingleSize = 5

// hashString is 64-bit FNV-1a, written out here because hash/fnv allocates
// per call and this runs once per shingle.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// hashRunes is 64-bit FNV-1a over the runes' UTF-32 values: the same
// n-gram always hashes alike, without building a string per n-gram.
func hashRunes(rs []rune) uint64 {
	h := uint64(14695981039346656037)
	for _, r := range rs {
		for k := 0; k < 32; k += 8 {
			h ^= uint64(byte(r >> k))
			h *= 1099511628211
		}
	}
	return h
}

// shingles returns the sorted, distinct hashes of s's character n-grams
// (the whole string when it is shorter than n).
func shingles(s string, n int) []uint64 {
	rs := []rune(s)
	if len(rs) == 0 {
		return nil
	}
	if len(rs) < n {
		return []uint64{hashRunes(rs)}
	}
	out := make([]uint64, 0, len(rs)-n+1)
	for i := 0; i+n <= len(rs); i++ {
		out = append(out, hashRunes(rs[i:i+n]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// jaccardSorted is |a∩b| / |a∪b| of two sorted distinct hash lists. The demo
// measures similarity with its own code, not clean's, on purpose: the ground
// truth that clean's tests are scored against must not share clean's bugs.
func jaccardSorted(a, b []uint64) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
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
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Jaccard5 is the Jaccard similarity of the sets of character 5-grams of a
// and b: the measure demo-truth.json quotes for near duplicates.
func Jaccard5(a, b string) float64 {
	return jaccardSorted(shingles(a, ShingleSize), shingles(b, ShingleSize))
}

// RecordText joins a record's text fields (schemas.Record.TextFields order)
// with newlines: the text Jaccard5 is measured on in demo-truth.json.
func RecordText(r schemas.Record) string {
	fs := r.TextFields()
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		if *f.Value != "" {
			parts = append(parts, *f.Value)
		}
	}
	return strings.Join(parts, "\n")
}

// lshBands × lshRows minhashes index the near-duplicate guard: a pair with
// Jaccard 0.6 becomes a candidate with probability 1-(1-0.6³)¹² ≈ 0.95, and
// candidates are verified exactly, so the guard misses little above 0.6.
const (
	lshBands = 12
	lshRows  = 3
)

// nearGuard remembers every record generated so far (per kind) and answers
// whether a new one is too similar to any of them. It holds each record's
// shingle set, so it is only used at the default scale.
type nearGuard struct {
	max     float64
	buckets map[schemas.Kind]map[uint64][]int32
	sets    map[schemas.Kind][][]uint64
}

func newNearGuard(max float64) *nearGuard {
	return &nearGuard{max: max, buckets: map[schemas.Kind]map[uint64][]int32{}, sets: map[schemas.Kind][][]uint64{}}
}

// mix is splitmix64's finaliser, used to derive the minhash functions.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func bandKeys(set []uint64) [lshBands]uint64 {
	var mins [lshBands * lshRows]uint64
	for i := range mins {
		mins[i] = ^uint64(0)
	}
	for _, h := range set {
		for i := range mins {
			if v := mix(h ^ uint64(i+1)*0x9e3779b97f4a7c15); v < mins[i] {
				mins[i] = v
			}
		}
	}
	var keys [lshBands]uint64
	for b := range keys {
		k := uint64(b) * 0x9e3779b97f4a7c15
		for r := 0; r < lshRows; r++ {
			k = mix(k ^ mins[b*lshRows+r])
		}
		keys[b] = k
	}
	return keys
}

// similar reports whether text has a character 5-gram Jaccard of at least
// max with a record of kind remembered so far.
func (g *nearGuard) similar(kind schemas.Kind, text string) bool {
	set := shingles(text, ShingleSize)
	idx := g.buckets[kind]
	seen := map[int32]bool{}
	for _, k := range bandKeys(set) {
		for _, id := range idx[k] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if jaccardSorted(set, g.sets[kind][id]) >= g.max {
				return true
			}
		}
	}
	return false
}

// add remembers text as a record of kind.
func (g *nearGuard) add(kind schemas.Kind, text string) {
	set := shingles(text, ShingleSize)
	idx := g.buckets[kind]
	if idx == nil {
		idx = map[uint64][]int32{}
		g.buckets[kind] = idx
	}
	id := int32(len(g.sets[kind]))
	g.sets[kind] = append(g.sets[kind], set)
	for _, k := range bandKeys(set) {
		idx[k] = append(idx[k], id)
	}
}

// ngramGuard holds the character n-grams of every eval question, so that
// unplanted training records can be kept free of them (planted
// contamination is then the only contamination).
type ngramGuard struct {
	n     int
	grams map[uint64]struct{}
}

func newNgramGuard(n int) *ngramGuard { return &ngramGuard{n: n, grams: map[uint64]struct{}{}} }

func (g *ngramGuard) add(s string) {
	rs := []rune(s)
	for i := 0; i+g.n <= len(rs); i++ {
		g.grams[hashRunes(rs[i:i+g.n])] = struct{}{}
	}
}

// hits reports whether s shares an n-gram with an eval question.
func (g *ngramGuard) hits(s string) bool {
	if len(g.grams) == 0 {
		return false
	}
	rs := []rune(s)
	for i := 0; i+g.n <= len(rs); i++ {
		if _, ok := g.grams[hashRunes(rs[i:i+g.n])]; ok {
			return true
		}
	}
	return false
}

// seenFilter is a fixed-size Bloom filter (two bit positions per item in
// 2^28 bits, 32 MiB) of canonical-text hashes, so memory stays flat however
// far --scale grows the corpus. A false positive only skips one candidate
// natural record, which the generator replaces with another.
type seenFilter []uint64

const seenBits = 28

func newSeenFilter() seenFilter { return make(seenFilter, 1<<(seenBits-6)) }

// testAndSet reports whether h was (probably) added before, and adds it.
func (f seenFilter) testAndSet(h uint64) bool {
	const mask = 1<<seenBits - 1
	a, b := h&mask, mix(h)&mask
	seen := f[a>>6]&(1<<(a&63)) != 0 && f[b>>6]&(1<<(b&63)) != 0
	f[a>>6] |= 1 << (a & 63)
	f[b>>6] |= 1 << (b & 63)
	return seen
}
