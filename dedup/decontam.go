package dedup

import (
	"slices"

	"github.com/chimed/chimed/schemas"
)

// minShortEval is the shortest canonical eval text that is looked for
// inside training text; shorter ones ("高血压？") only match a training
// value that is exactly that text.
const minShortEval = 6

// EvalIndex maps the hash of every n-character window of canonical eval
// text (exam and eval QA questions, optionally answers) to the first eval
// row that has it. An eval text shorter than n is indexed whole, salted by
// its length, and training values are scanned with windows of each such
// length too, so a short eval question wrapped in a longer training
// question is still found. Eval sets are small (CMExam's 6,811 questions
// give about 0.7 M windows), so a map fits.
type EvalIndex struct {
	n       int
	answers bool
	grams   map[uint64]uint32
	// p is the length every key but a very short text's has at least
	// (min(n, minShortEval)); bloom has one bit (hash mod bloomBits) for the
	// first p runes of each such key, so a training text is scanned once,
	// by p-rune windows, and keys are hashed only where a key can start.
	p     int
	bloom []uint64
	// keys has one bit (hash mod bloomBits) for every key of grams: a
	// window the prefix bloom lets through is looked up in the map only
	// if its bit is set. The demo's templated training text shares many
	// six-rune prefixes with its eval set; most of those windows miss here.
	keys      []uint64
	shortLens []int // lengths of short eval texts, ascending
	ids       []string
}

// saltShort salts the hash of a whole short eval text (and the same-length
// windows compared with it), keeping them apart from n-character windows.
const saltShort = 0x5bd1e995

// bloomBits sizes each bit filter in front of the map (512 KiB): most
// training windows miss them and never touch the map.
const bloomBits = 1 << 22

// polyBase is the base of WindowHashes. polynomial hash.
const polyBase = 0x100000001b3

func NewEvalIndex(n int, answers bool) *EvalIndex {
	return &EvalIndex{n: n, p: min(n, minShortEval), answers: answers, grams: map[uint64]uint32{},
		bloom: make([]uint64, bloomBits/64), keys: make([]uint64, bloomBits/64)}
}

// Add indexes the eval-facing fields of one eval row.
func (x *EvalIndex) Add(r schemas.Record, buf []rune) []rune {
	fields := evalFields(r, x.answers, nil)
	if len(fields) == 0 {
		return buf
	}
	idx := uint32(len(x.ids))
	x.ids = append(x.ids, r.RecordID())
	put := func(h uint64) bool {
		if _, ok := x.grams[h]; !ok {
			x.grams[h] = idx
			x.keys[(h%bloomBits)/64] |= 1 << (h % 64)
		}
		return true
	}
	starts := func(h uint64) bool {
		x.bloom[(h%bloomBits)/64] |= 1 << (h % 64)
		return true
	}
	for _, f := range fields {
		buf = appendCanon(buf[:0], f)
		switch {
		case len(buf) == 0:
		case len(buf) >= x.n:
			WindowHashes(buf, x.n, 0, put)
			WindowHashes(buf[:len(buf)-x.n+x.p], x.p, 0, starts) // the first p runes of each window
		default:
			WindowHashes(buf, len(buf), saltShort, put)
			if len(buf) >= minShortEval {
				if i, found := slices.BinarySearch(x.shortLens, len(buf)); !found {
					x.shortLens = slices.Insert(x.shortLens, i, len(buf))
				}
				WindowHashes(buf[:x.p], x.p, 0, starts)
			}
		}
	}
	return buf
}

// MatchFolded returns the id of the eval row that shares a window with one
// of a training row's probe fields, or "". The row's key fields are
// FoldFields' folded and spans; probe lists the probe fields among them
// (ProbeKeyIndex).
func (x *EvalIndex) MatchFolded(folded []rune, spans [][2]int, probe []int, buf []rune) (string, []rune) {
	for _, j := range probe {
		buf = canonRunes(buf[:0], folded[spans[j][0]:spans[j][1]])
		if found := x.matchCanon(buf); found >= 0 {
			return x.ids[found], buf
		}
	}
	return "", buf
}

// matchCanon returns the eval row one canonical probe text matches, or -1:
// the row of its first n-rune window in the index; else, for the shortest
// short eval length with a match, the row of its first window of that
// length; else, for a text shorter than n and minShortEval, the row whose
// whole text it is.
//
// It scans rs once, rolling the hash of p-rune windows (as WindowHashes
// does, with the bloom test inlined) and hashing the n- and short-length
// windows only at the positions the bloom lets through. Scanning once per
// key length, with a bloom of whole keys, was 4% of clean's CPU on the 1GB
// demo, whose eval set has short texts of seven lengths.
func (x *EvalIndex) matchCanon(rs []rune) int {
	if len(rs) == 0 {
		return -1
	}
	if len(rs) < x.n && len(rs) < minShortEval {
		id, ok := x.grams[mix64(polyHash(rs)^saltShort)]
		if !ok {
			return -1
		}
		return int(id)
	}
	p := x.p
	// short[k] is the row of the first window of length shortLens[k] found.
	var shortBuf [16]int
	short := shortBuf[:0]
	for _, l := range x.shortLens {
		if l > len(rs) {
			break
		}
		short = append(short, -1)
	}
	h, pow := firstWindow(rs, p)
	bloom := x.bloom
	for i := 0; ; i++ {
		if k := mix64(h); bloom[(k%bloomBits)/64]&(1<<(k%64)) != 0 {
			if id := x.matchAt(rs[i:], short); id >= 0 {
				return id
			}
		}
		if i+p >= len(rs) {
			break
		}
		h = (h-uint64(rs[i])*pow)*polyBase + uint64(rs[i+p])
	}
	for _, id := range short {
		if id >= 0 {
			return id
		}
	}
	return -1
}

// matchAt looks up the windows that start at rs[0]: it returns the row of
// the n-rune one if indexed, or -1 after noting in short[k] the row of the
// one of length shortLens[k], where short[k] is still -1.
func (x *EvalIndex) matchAt(rs []rune, short []int) int {
	var h uint64
	k := 0
	for j, r := range rs[:min(len(rs), max(x.n, x.lastShort(short)))] {
		h = h*polyBase + uint64(r)
		l := j + 1
		for k < len(short) && x.shortLens[k] < l {
			k++
		}
		if k < len(short) && x.shortLens[k] == l && short[k] < 0 {
			if id, ok := x.lookup(mix64(h ^ saltShort)); ok {
				short[k] = int(id)
			}
		}
		if l == x.n {
			if id, ok := x.lookup(mix64(h)); ok {
				return int(id)
			}
		}
	}
	return -1
}

// lookup is grams[key], behind the keys bloom.
func (x *EvalIndex) lookup(key uint64) (uint32, bool) {
	if x.keys[(key%bloomBits)/64]&(1<<(key%64)) == 0 {
		return 0, false
	}
	id, ok := x.grams[key]
	return id, ok
}

// lastShort is the longest short length short covers (0 for none).
func (x *EvalIndex) lastShort(short []int) int {
	if len(short) == 0 {
		return 0
	}
	return x.shortLens[len(short)-1]
}

// polyHash is WindowHashes. polynomial hash of rs as one window (unmixed).
func polyHash(rs []rune) uint64 {
	var h uint64
	for _, r := range rs {
		h = h*polyBase + uint64(r)
	}
	return h
}

// Rows is the number of eval rows indexed.
func (x *EvalIndex) Rows() int { return len(x.ids) }

// Windows is the number of distinct window hashes indexed.
func (x *EvalIndex) Windows() int { return len(x.grams) }
