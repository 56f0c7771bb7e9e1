package evaluate

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chimed/chimed/internal/segment"
)

func needJieba(t testing.TB) {
	t.Helper()
	if _, err := segment.Jieba(); err != nil {
		t.Skipf("gojieba dictionaries unavailable: %v", err)
	}
}

func TestBM25(t *testing.T) {
	needJieba(t)
	x := NewBM25()
	passages := []string{
		"糖尿病是一种以高血糖为特征的代谢性疾病，典型症状为多饮、多尿、多食和体重下降。",
		"高血压患者应低盐饮食，规律服用降压药物。",
		"肺炎常见症状有发热、咳嗽、咳痰，严重者出现呼吸困难。",
		"。，、", // punctuation only: indexed, never retrieved
	}
	for _, p := range passages {
		if err := x.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		want  int
	}{
		{"糖尿病的典型症状是什么？", 0},
		{"高血压 饮食 注意 什么", 1},
		{"发热咳嗽应考虑哪种疾病", 2},
	}
	for _, tt := range tests {
		hits, err := x.Search(tt.query, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Passage != passages[tt.want] {
			t.Errorf("Search(%q) = %v, want passage %d first", tt.query, hits, tt.want)
		}
		for i := 1; i < len(hits); i++ {
			if hits[i].Score > hits[i-1].Score {
				t.Errorf("hits out of order: %v", hits)
			}
		}
	}
	if hits, _ := x.Search("，。", 3); len(hits) != 0 {
		t.Errorf("a punctuation query retrieved %v", hits)
	}
}

func TestCutPassage(t *testing.T) {
	long := strings.Repeat("糖尿病需要长期管理。", 30) // 300 runes
	tests := []struct {
		in     string
		n      int
		pieces int
	}{
		{"短文本", 10, 1},
		{long, 100, 3},
		{strings.Repeat("无标点", 50), 40, 4}, // 150 runes, hard cuts
		{"   ", 10, 0},
	}
	for _, tt := range tests {
		got := cutPassage(tt.in, tt.n)
		if len(got) != tt.pieces {
			t.Errorf("cutPassage(%d runes, %d) = %d pieces, want %d", utf8.RuneCountInString(tt.in), tt.n, len(got), tt.pieces)
		}
		joined := strings.Join(got, "")
		if joined != strings.Join(strings.Fields(tt.in), "") {
			t.Errorf("cutPassage lost text: %q", joined)
		}
		for _, p := range got {
			if utf8.RuneCountInString(p) > tt.n {
				t.Errorf("piece of %d runes > %d", utf8.RuneCountInString(p), tt.n)
			}
			if tt.in == long && !strings.HasSuffix(p, "。") {
				t.Errorf("piece %q not cut at a sentence end", p)
			}
		}
	}
}
