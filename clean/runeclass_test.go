package clean

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestRuneClasses holds the table to the unicode package on every rune,
// invalid ones included.
func TestRuneClasses(t *testing.T) {
	tab := runeClasses()
	for r := rune(-1); r <= unicode.MaxRune+1; r++ {
		c := classOf(tab, r)
		for _, check := range []struct {
			name string
			bit  uint8
			want bool
		}{
			{"letter or digit", classLetterDigit, unicode.IsLetter(r) || unicode.IsDigit(r)},
			{"punct or symbol", classPunctSymbol, unicode.IsPunct(r) || unicode.IsSymbol(r)},
			{"space", classSpace, unicode.IsSpace(r)},
			{"han", classHan, unicode.Is(unicode.Han, r)},
			{"cased", classCased, unicode.ToLower(r) != r},
		} {
			if got := c&check.bit != 0; got != check.want {
				t.Fatalf("%U (valid %v): %s = %v, unicode says %v", r, utf8.ValidRune(r), check.name, got, check.want)
			}
		}
	}
}
