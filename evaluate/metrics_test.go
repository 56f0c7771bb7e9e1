package evaluate

import (
	"math"
	"strings"
	"testing"
)

func words(s string) []string { return strings.Fields(s) }

func TestMetricsHandComputed(t *testing.T) {
	tests := []struct {
		name      string
		cand, ref string
		bleu1     float64
		bleu2     float64
		bleu4     float64
		rouge1    float64
		rouge2    float64
		rougeL    float64
	}{
		{
			// Every n-gram matches and the lengths agree: all scores 1.
			name: "identical", cand: "糖尿病 是 一种 代谢 疾病", ref: "糖尿病 是 一种 代谢 疾病",
			bleu1: 1, bleu2: 1, bleu4: 1, rouge1: 1, rouge2: 1, rougeL: 1,
		},
		{
			// cand 4 words, ref 6. unigram overlap 3 (多饮 多尿 消瘦): p1 = 3/4.
			// BP = exp(1 − 6/4) = exp(−0.5). BLEU-1 = 0.75·e^−0.5.
			// bigrams cand: 多饮-多尿, 多尿-口干, 口干-消瘦; ref: 症状-有, 有-多饮,
			// 多饮-多尿, 多尿-多食, 多食-消瘦 → overlap 1: p2 = 1/3.
			// BLEU-2 = e^−0.5·sqrt(0.75·1/3) = e^−0.5·0.5. No 4-gram match → 0.
			// ROUGE-1: P 3/4, R 3/6 → F 2·.75·.5/1.25 = 0.6.
			// ROUGE-2: P 1/3, R 1/5 → F 2·(1/15)/(8/15) = 0.25.
			// LCS 多饮 多尿 消瘦 = 3 → same as ROUGE-1: 0.6.
			name: "partial", cand: "多饮 多尿 口干 消瘦", ref: "症状 有 多饮 多尿 多食 消瘦",
			bleu1: 0.75 * math.Exp(-0.5), bleu2: 0.5 * math.Exp(-0.5), bleu4: 0,
			rouge1: 0.6, rouge2: 0.25, rougeL: 0.6,
		},
		{
			// Clipping: "的" ×4 in the candidate, once in the reference:
			// p1 = 1/4; candidate longer than reference → BP 1.
			// ROUGE-1: overlap 1, P 1/4, R 1/2 → F 1/3. LCS 1 → 1/3.
			name: "clipped", cand: "的 的 的 的", ref: "的 病",
			bleu1: 0.25, bleu2: 0, bleu4: 0, rouge1: 1.0 / 3, rouge2: 0, rougeL: 1.0 / 3,
		},
		{
			// LCS differs from unigram overlap when order differs:
			// cand A B C D, ref D C B A: overlap 4, LCS 1.
			name: "order", cand: "甲 乙 丙 丁", ref: "丁 丙 乙 甲",
			bleu1: 1, bleu2: 0, bleu4: 0, rouge1: 1, rouge2: 0, rougeL: 0.25,
		},
		{name: "empty candidate", cand: "", ref: "发热", bleu1: 0, bleu2: 0, bleu4: 0, rouge1: 0, rouge2: 0, rougeL: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ScoreQA(words(tt.cand), words(tt.ref))
			want := QAScores{tt.bleu1, tt.bleu2, tt.bleu4, tt.rouge1, tt.rouge2, tt.rougeL}
			g := []float64{got.BLEU1, got.BLEU2, got.BLEU4, got.Rouge1, got.Rouge2, got.RougeL}
			w := []float64{want.BLEU1, want.BLEU2, want.BLEU4, want.Rouge1, want.Rouge2, want.RougeL}
			names := []string{"BLEU-1", "BLEU-2", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L"}
			for i := range g {
				if math.Abs(g[i]-w[i]) > 1e-12 {
					t.Errorf("%s = %.6f, want %.6f", names[i], g[i], w[i])
				}
			}
		})
	}
}

func FuzzMetricsBounded(f *testing.F) {
	f.Add("多饮 多尿 口干", "多饮 多尿")
	f.Add("", "a")
	f.Fuzz(func(t *testing.T, cand, ref string) {
		s := ScoreQA(words(cand), words(ref))
		for _, v := range []float64{s.BLEU1, s.BLEU2, s.BLEU4, s.Rouge1, s.Rouge2, s.RougeL} {
			if math.IsNaN(v) || v < 0 || v > 1+1e-12 {
				t.Fatalf("score %v out of [0,1] for %q vs %q", v, cand, ref)
			}
		}
		if cand == ref && len(words(cand)) > 0 && s.Rouge1 != 1 {
			t.Fatalf("identical texts give ROUGE-1 %v", s.Rouge1)
		}
	})
}

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n   int
		lo, hi float64
	}{
		{8, 10, 0.490162, 0.943318}, // by hand: centre 0.716741, half 0.226579
		{0, 10, 0, 0.277532},
		{10, 10, 0.722468, 1},
		{50, 100, 0.403832, 0.596168},
		{0, 0, 0, 1},
	}
	for _, tt := range tests {
		got := Wilson(tt.k, tt.n)
		if math.Abs(got.Lo-tt.lo) > 1e-5 || math.Abs(got.Hi-tt.hi) > 1e-5 {
			t.Errorf("Wilson(%d, %d) = [%.6f, %.6f], want [%.6f, %.6f]", tt.k, tt.n, got.Lo, got.Hi, tt.lo, tt.hi)
		}
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	xs := []float64{0.1, 0.9, 0.4, 0.6, 0.3, 0.7, 0.5, 0.2, 0.8, 0.0}
	a, b := BootstrapMean(xs, 7), BootstrapMean(xs, 7)
	if a != b {
		t.Fatalf("same seed, different intervals: %v %v", a, b)
	}
	m := mean(xs)
	if !(a.Lo < m && m < a.Hi) || a.Lo < 0 || a.Hi > 0.9 {
		t.Fatalf("interval %v does not bracket the mean %v inside the data's range", a, m)
	}
	if c := BootstrapMean(xs, 8); c == a {
		t.Fatalf("a different seed gave the identical interval %v", c)
	}
	if got := BootstrapMean([]float64{0.3, 0.3, 0.3}, 1); got.Lo != 0.3 || got.Hi != 0.3 {
		t.Fatalf("constant data: %v, want [0.3, 0.3]", got)
	}
}
