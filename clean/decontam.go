package clean

import (
	"slices"

	"github.com/chimed/chimed/schemas"
)

// minShortEval is the shortest canonical eval text that is looked for
// inside training text; shorter ones ("高血压？") only match a training
// value that is exactly that text.
const minShortEval = 6

// evalIndex maps the hash of every n-character window of canonical eval
// text (exam and eval QA questions, optionally answers) to the first eval
// row that has it. An eval text shorter than n is indexed whole, salted by
// its length, and training values are scanned with windows of each such
// length too, so a short eval question wrapped in a longer training
// question is still found. Eval sets are small (CMExam's 6,811 questions
// give about 0.7 M windows), so a map fits.
type evalIndex struct {
	n         int
	answers   bool
	grams     map[uint64]uint32
	bloom     []uint64 // one bit per hash mod 2²², set for every key of grams
	shortLens []int    // lengths of short eval texts, ascending
	ids       []string
}

// saltShort salts the hash of a whole short eval text (and the same-length
// windows compared with it), keeping them apart from n-character windows.
const saltShort = 0x5bd1e995

// bloomBits sizes the bit filter in front of the map (512 KiB): most
// training windows miss it and never touch the map.
const bloomBits = 1 << 22

func newEvalIndex(n int, answers bool) *evalIndex {
	return &evalIndex{n: n, answers: answers, grams: map[uint64]uint32{}, bloom: make([]uint64, bloomBits/64)}
}

// add indexes the eval-facing fields of one eval row.
func (x *evalIndex) add(r schemas.Record, buf []rune) []rune {
	fields := evalFields(r, x.answers, nil)
	if len(fields) == 0 {
		return buf
	}
	idx := uint32(len(x.ids))
	x.ids = append(x.ids, r.RecordID())
	put := func(h uint64) bool {
		if _, ok := x.grams[h]; !ok {
			x.grams[h] = idx
			x.bloom[(h%bloomBits)/64] |= 1 << (h % 64)
		}
		return true
	}
	for _, f := range fields {
		buf = appendCanon(buf[:0], f)
		switch {
		case len(buf) == 0:
		case len(buf) >= x.n:
			windowHashes(buf, x.n, 0, put)
		default:
			windowHashes(buf, len(buf), saltShort, put)
			if len(buf) >= minShortEval {
				if i, found := slices.BinarySearch(x.shortLens, len(buf)); !found {
					x.shortLens = slices.Insert(x.shortLens, i, len(buf))
				}
			}
		}
	}
	return buf
}

// find returns the eval row of the first n-rune window of rs (hashed with
// salt) in the index, or -1. It computes windowHashes' hashes with the
// bloom test inlined: this loop runs over every window of every training
// row's probe fields, and a callback per window cost twice as much.
func (x *evalIndex) find(rs []rune, n int, salt uint64) int {
	if n <= 0 || len(rs) < n {
		return -1
	}
	const base = 0x100000001b3 // as in windowHashes
	pow := uint64(1)
	for i := 1; i < n; i++ {
		pow *= base
	}
	var h uint64
	for _, r := range rs[:n] {
		h = h*base + uint64(r)
	}
	bloom := x.bloom
	for i := 0; ; i++ {
		k := mix64(h ^ salt)
		if bloom[(k%bloomBits)/64]&(1<<(k%64)) != 0 {
			if id, ok := x.grams[k]; ok {
				return int(id)
			}
		}
		if i+n >= len(rs) {
			return -1
		}
		h = (h-uint64(rs[i])*pow)*base + uint64(rs[i+n])
	}
}

// matchFolded returns the id of the eval row that shares a window with one
// of a training row's probe fields, or "". The row's key fields are
// foldFields' folded and spans; probe lists the probe fields among them
// (probeKeyIndex).
func (x *evalIndex) matchFolded(folded []rune, spans [][2]int, probe []int, buf []rune) (string, []rune) {
	for _, j := range probe {
		buf = canonRunes(buf[:0], folded[spans[j][0]:spans[j][1]])
		if found := x.matchCanon(buf); found >= 0 {
			return x.ids[found], buf
		}
	}
	return "", buf
}

// matchCanon returns the eval row one canonical probe text matches, or -1.
func (x *evalIndex) matchCanon(rs []rune) int {
	if len(rs) == 0 {
		return -1
	}
	found := x.find(rs, x.n, 0)
	for _, l := range x.shortLens {
		if found >= 0 || l > len(rs) {
			break
		}
		found = x.find(rs, l, saltShort)
	}
	if found < 0 && len(rs) < x.n && len(rs) < minShortEval {
		found = x.find(rs, len(rs), saltShort) // exact match of a very short text
	}
	return found
}
