package clean

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestFoldMatchesNFKC checks the hand-written fast path of appendFolded
// against x/text's NFKC followed by the slow path.
func TestFoldMatchesNFKC(t *testing.T) {
	for _, s := range []string{
		"高血压，ＣＴ检查１０ｍｇ。“引号”——破折号……省略号·间隔号　全角空格【方括号】《书名》、顿号",
		"ABC abc 123 !?", "①㎎℃ 비타민 éé", "",
	} {
		for _, keep := range []bool{false, true} {
			got := string(appendFolded(nil, s, keep))
			want := string(appendFoldedSlow(nil, norm.NFKC.String(s), keep))
			if got != want {
				t.Errorf("fold(%q, punct=%v) = %q, want %q", s, keep, got, want)
			}
		}
	}
}

// appendFoldedSlow is the definition appendFolded must match.
func appendFoldedSlow(dst []rune, s string, keepPunct bool) []rune {
	for _, r := range s {
		switch {
		case r < 0x80 && r >= 'A' && r <= 'Z':
			dst = append(dst, r+'a'-'A')
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			dst = append(dst, r)
		case r < 0x80:
			if keepPunct && r > ' ' && r < 0x7f {
				dst = append(dst, r)
			}
		case isLetterOrDigit(r):
			dst = append(dst, toLower(r))
		case keepPunct && isPunctOrSymbol(r):
			dst = append(dst, r)
		}
	}
	return dst
}

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
func isPunctOrSymbol(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }
func toLower(r rune) rune         { return unicode.ToLower(r) }

// TestDecodeRune checks the inline three-byte decoder against
// utf8.DecodeRuneInString on every rune of the BMP, invalid sequences and
// truncated input.
func TestDecodeRune(t *testing.T) {
	check := func(s string) {
		r, n := decodeRune(s)
		wr, wn := utf8.DecodeRuneInString(s)
		if r != wr || n != wn {
			t.Fatalf("decodeRune(%q) = %U,%d, want %U,%d", s, r, n, wr, wn)
		}
	}
	for r := rune(0); r < 0x10000; r++ {
		check(string(r) + "x")
	}
	for _, s := range []string{"", "\xe4", "\xe4\xb8", "\xed\xa0\x80", "\xe0\x80\x80", "\xef\xbf", "\xe4\x41\x80", "\xe4\xb8\x41", "\xff\xff\xff"} {
		check(s)
	}
}

// TestNFCFastPath checks that every value nfkcStable accepts is NFC, as
// the unicode normaliser's fast path assumes.
func TestNFCFastPath(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x10000; r++ {
		if s := string(r); nfkcStable(s) {
			b.WriteString(s)
			if !norm.NFC.IsNormalString(s) {
				t.Errorf("%U passes nfkcStable but is not NFC", r)
			}
		}
	}
	if all := b.String(); !norm.NFC.IsNormalString(all) {
		t.Errorf("the fast path's runes together are not NFC")
	}
}

// TestEvalFindMatchesWindowHashes checks evalIndex.find, which inlines the
// rolling hash, against windowHashes with a callback on random text.
func TestEvalFindMatchesWindowHashes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []rune("高血压糖尿病心肌梗死头痛发热咳嗽abc123")
	text := func(n int) []rune {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return rs
	}
	x := newEvalIndex(6, false)
	var evals [][]rune
	for i := range 50 {
		e := text(8)
		evals = append(evals, e)
		windowHashes(e, 6, 0, func(h uint64) bool {
			if _, ok := x.grams[h]; !ok {
				x.grams[h] = uint32(i)
				x.bloom[(h%bloomBits)/64] |= 1 << (h % 64)
			}
			return true
		})
	}
	hits := 0
	for range 2000 {
		rs := text(rng.IntN(40))
		if rng.IntN(3) == 0 { // plant an eval text's window
			e := evals[rng.IntN(len(evals))]
			rs = append(append(rs, e[1:7]...), text(rng.IntN(5))...)
		}
		want := -1
		windowHashes(rs, 6, 0, func(h uint64) bool {
			if id, ok := x.grams[h]; ok {
				want = int(id)
				return false
			}
			return true
		})
		if got := x.find(rs, 6, 0); got != want {
			t.Fatalf("find(%q) = %d, want %d", string(rs), got, want)
		}
		if want >= 0 {
			hits++
		}
	}
	if hits == 0 {
		t.Fatal("no window of the random texts was in the index")
	}
}
