package segment

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"糖尿病有哪些常见症状？", []string{"糖尿病", "有", "哪些", "常见", "症状", "？"}},
		{"  ", nil},
		{"高血压 患者", []string{"高血压", "患者"}},
	}
	for _, c := range cases {
		got, err := Words(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Words(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestDictDirFromEnvMustHoldDictionaries(t *testing.T) {
	t.Setenv(EnvDictDir, t.TempDir())
	if _, err := DictDir(); err == nil {
		t.Fatal("an empty folder was accepted as gojieba's dictionaries")
	}
}
