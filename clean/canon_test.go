package clean

import (
	"testing"
	"unicode"

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
