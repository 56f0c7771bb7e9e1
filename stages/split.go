package stages

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/chimed/chimed/schemas"
)

// SplitAssigner puts a group key into train, valid or test by hashing it
// with the seed, so every row of a group lands in one split and a different
// seed reshuffles groups.
type SplitAssigner struct {
	seed     [8]byte
	fraction SplitFractions
}

// NewSplitAssigner makes an assigner for a seed and fractions (zero
// fractions mean DefaultSplits).
func NewSplitAssigner(seed uint64, f SplitFractions) *SplitAssigner {
	if f == (SplitFractions{}) {
		f = DefaultSplits
	}
	a := &SplitAssigner{fraction: f}
	binary.LittleEndian.PutUint64(a.seed[:], seed)
	return a
}

// unit maps a key to [0, 1) with a hash salted by salt.
func unit(salt []byte, key string) float64 {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return float64(binary.BigEndian.Uint64(h.Sum(sum[:0]))>>11) / (1 << 53)
}

// Split returns the index into schemas.Splits (0 train, 1 valid, 2 test).
func (a *SplitAssigner) Split(groupKey string) int {
	u := unit(a.seed[:], groupKey)
	switch {
	case u < a.fraction.Train:
		return 0
	case u < a.fraction.Train+a.fraction.Valid:
		return 1
	case a.fraction.Test > 0:
		return 2
	case a.fraction.Valid > 0: // rounding past train+valid when test is 0
		return 1
	}
	return 0
}

// weightSalt makes weight sampling independent of the seed, so the seed
// changes only the split.
var weightSalt = []byte("chimed-weight")

// canonical folds text for group keys and question matching: no
// whitespace, lower case, full-width ASCII folded to half width.
func canonical(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r, ok := fold(r); ok {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fold is canonical for one rune: the rune it becomes, or false when it
// is dropped. CJK runes, which have no case, skip the case tables (most of
// the cost otherwise). Scanners that must not allocate fold rune by rune.
func fold(r rune) (rune, bool) {
	switch {
	case r < utf8.RuneSelf:
		if r == ' ' || (r >= '\t' && r <= '\r') {
			return 0, false
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
	case r >= 0x3040 && r < 0xA000: // kana, CJK ideographs: no case, no spaces
	case r >= '！' && r <= '～':
		r = unicode.ToLower(r - 0xfee0)
	case unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff':
		return 0, false
	default:
		r = unicode.ToLower(r)
	}
	return r, true
}

// groupKey is a record's split key: its near-duplicate cluster when clean
// set one, else "q:" + the hash of its canonical question or text.
func groupKey(cluster, text string) string {
	if cluster != "" {
		return "c:" + cluster
	}
	return "q:" + schemas.StableID(canonical(text))
}
