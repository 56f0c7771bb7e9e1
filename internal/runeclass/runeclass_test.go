package runeclass

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestClasses holds the table to the unicode package on every rune,
// invalid ones included.
func TestClasses(t *testing.T) {
	tab := Get()
	for r := rune(-1); r <= unicode.MaxRune+1; r++ {
		c := tab.Of(r)
		for _, check := range []struct {
			name string
			bit  Class
			want bool
		}{
			{"letter or digit", LetterDigit, unicode.IsLetter(r) || unicode.IsDigit(r)},
			{"punct or symbol", PunctSymbol, unicode.IsPunct(r) || unicode.IsSymbol(r)},
			{"space", Space, unicode.IsSpace(r)},
			{"han", Han, unicode.Is(unicode.Han, r)},
			{"cased", Cased, unicode.ToLower(r) != r},
			{"defined", odd, r >= 0 && r%2 == 1 && r < 0x20000},
		} {
			if got := c&check.bit != 0; got != check.want {
				t.Fatalf("%U (valid %v): %s = %v, want %v", r, utf8.ValidRune(r), check.name, got, check.want)
			}
		}
	}
}

// odd is a class defined the way clean's components define theirs.
var odd = Define(func(r rune) bool { return r%2 == 1 && r < 0x20000 })

func TestIdeographs(t *testing.T) {
	tab := Get()
	c, uniform := tab.Ideographs()
	if uniform {
		t.Fatal("the odd class splits the ideographs, yet they are called uniform")
	}
	if c != tab.Of(0x4e00) {
		t.Errorf("Ideographs = %b, Of(U+4E00) = %b", c, tab.Of(0x4e00))
	}
}

func TestDefineAfterBuild(t *testing.T) {
	Get()
	defer func() {
		if recover() == nil {
			t.Error("Define after Get did not panic")
		}
	}()
	Define(func(rune) bool { return false })
}

// TestDecodeRune checks the inline three-byte decoder against
// utf8.DecodeRuneInString on every rune of the BMP, invalid sequences and
// truncated input.
func TestDecodeRune(t *testing.T) {
	check := func(s string) {
		r, n := DecodeRune(s)
		wr, wn := utf8.DecodeRuneInString(s)
		if r != wr || n != wn {
			t.Fatalf("DecodeRune(%q) = %U,%d, want %U,%d", s, r, n, wr, wn)
		}
	}
	for r := rune(0); r < 0x10000; r++ {
		check(string(r) + "x")
	}
	for _, s := range []string{"", "\xe4", "\xe4\xb8", "\xed\xa0\x80", "\xe0\x80\x80", "\xef\xbf", "\xe4\x41\x80", "\xe4\xb8\x41", "\xff\xff\xff"} {
		check(s)
	}
}

// TestNFCFastPath checks that every value NFKCStable accepts is NFC, as
// the unicode normaliser's fast path assumes.
func TestNFCFastPath(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x10000; r++ {
		if s := string(r); NFKCStable(s) {
			b.WriteString(s)
			if !norm.NFC.IsNormalString(s) {
				t.Errorf("%U passes NFKCStable but is not NFC", r)
			}
		}
	}
	if all := b.String(); !norm.NFC.IsNormalString(all) {
		t.Errorf("the fast path's runes together are not NFC")
	}
}
