package clean

import (
	"github.com/chimed/chimed/schemas"
)

// evalIndex maps the hash of every n-character window of canonical eval
// text (exam questions, eval QA questions and answers) to the first eval
// row that has it. Eval text shorter than n is indexed whole, and matched
// only by a training value that is that text exactly. Eval sets are small
// (CMExam's 6,811 questions give about 0.7 M windows), so a map fits.
type evalIndex struct {
	n     int
	grams map[uint64]uint32
	ids   []string
}

func newEvalIndex(n int) *evalIndex { return &evalIndex{n: n, grams: map[uint64]uint32{}} }

// add indexes the eval-facing fields of one eval row.
func (x *evalIndex) add(r schemas.Record, buf []rune) []rune {
	fields := evalFields(r, nil)
	if len(fields) == 0 {
		return buf
	}
	idx := uint32(len(x.ids))
	x.ids = append(x.ids, r.RecordID())
	for _, f := range fields {
		buf = appendCanon(buf[:0], f)
		runeGramHashes(buf, x.n, 0, func(h uint64) bool {
			if _, ok := x.grams[h]; !ok {
				x.grams[h] = idx
			}
			return true
		})
	}
	return buf
}

// match returns the id of the eval row that shares a window with one of a
// training row's probe fields, or "".
func (x *evalIndex) match(r schemas.Record, fields []string, buf []rune) (string, []string, []rune) {
	fields = probeFields(r, fields[:0])
	found := -1
	for _, f := range fields {
		buf = appendCanon(buf[:0], f)
		runeGramHashes(buf, x.n, 0, func(h uint64) bool {
			if i, ok := x.grams[h]; ok {
				found = int(i)
				return false
			}
			return true
		})
		if found >= 0 {
			return x.ids[found], fields, buf
		}
	}
	return "", fields, buf
}
