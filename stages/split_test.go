package stages

import (
	"strings"
	"testing"
	"unicode"
)

// canonicalRef is canonical written the plain, slow way.
func canonicalRef(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			continue
		}
		if r >= '！' && r <= '～' {
			r -= 0xfee0
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		" 糖尿病\t的 ＨｂＡ１ｃ\u3000是多少？": "糖尿病的hba1c是多少?",
		"ABC\u200bdef\n": "abcdef",
		"Ⅰ型糖尿病":          "ⅰ型糖尿病",
	} {
		if got := canonical(in); got != want {
			t.Errorf("canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCanonical checks the fast path against the plain definition.
func FuzzCanonical(f *testing.F) {
	f.Add(" 糖尿病\t的 ＨｂＡ１ｃ\u3000是多少？")
	f.Add("ΣΑΣ Straße \u0085 ǅ")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := canonical(s), canonicalRef(s); got != want {
			t.Fatalf("canonical(%q) = %q, want %q", s, got, want)
		}
	})
}
