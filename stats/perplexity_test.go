package stats

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// writePerplexityCorpus fills clean/text with n fluent medical rows and
// a few rows of noise, one with a phone number.
func writePerplexityCorpus(t *testing.T, ws workspace.Dir, n int) (noise []string) {
	t.Helper()
	diseases := []string{"高血压", "糖尿病", "冠心病", "慢性胃炎", "哮喘", "痛风", "肺炎", "贫血"}
	advice := []string{"应低盐低脂饮食，规律服用药物，定期复查。", "需要控制饮食，适量运动，按时服药。",
		"要注意休息，避免劳累，戒烟限酒，遵医嘱治疗。", "应及时就医，完善检查，明确诊断后规范治疗。"}
	var rows []schemas.Text
	for i := range n {
		rows = append(rows, schemas.Text{ID: fmt.Sprintf("t-%03d", i), Source: "book",
			Text: diseases[i%len(diseases)] + "患者" + advice[(i/len(diseases))%len(advice)] + diseases[(i+3)%len(diseases)] + "也" + advice[i%len(advice)]})
	}
	// Noise rows are never training candidates, so all three are scored.
	for i := 0; len(noise) < 3; i++ {
		if id := fmt.Sprintf("noise-%d", i); hashID(pplSeed+pplKey(schemas.KindText, id))%pplStride != 0 {
			noise = append(noise, id)
		}
	}
	rows = append(rows,
		schemas.Text{ID: noise[0], Source: "ocr", Text: "j I..__f\\i^肝硬化湔S细胞膜同上 Rl55K Al56T Dl68V;@NS5A 请致电13812345678"},
		schemas.Text{ID: noise[1], Source: "ocr", Text: "qwertyuiop asdfghjkl zxcvbnm 0987654321 !!@@##"},
		schemas.Text{ID: noise[2], Source: "ocr", Text: "ÿþ囧囧乂乂 ~~~ 〓〓〓 ▲▲▲ ※※※ ☆☆☆ ◎◎◎"})
	if _, err := schemas.WriteFile(filepath.Join(ws.Clean(schemas.KindText), "part-00000.parquet"), slices.Values(rows)); err != nil {
		t.Fatal(err)
	}
	// removed/: copies of fluent rows, rows of noise, one record that does
	// not decode and a triple (not scored).
	textJSON := func(id, text string) string {
		b, err := json.Marshal(schemas.Text{ID: id, Source: "book", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	removed := []schemas.RemovedRow{
		{ID: "r-dup-1", Source: "book", Kind: "text", Reason: "duplicate", Record: textJSON("r-dup-1", rows[1].Text)},
		{ID: "r-dup-2", Source: "book", Kind: "text", Reason: "duplicate", Record: textJSON("r-dup-2", rows[2].Text)},
		{ID: "r-junk-1", Source: "ocr", Kind: "text", Reason: "low_cjk", Record: textJSON("r-junk-1", "zxcv ~~ @@ 乂乂 qwer ;;; ÿþ")},
		{ID: "r-junk-2", Source: "ocr", Kind: "text", Reason: "low_cjk", Record: `not json`},
		{ID: "r-kg", Source: "kg", Kind: "kg", Reason: "kg_self_loop", Record: `{"head":"a","relation":"b","tail":"a"}`},
	}
	if _, err := schemas.WriteFile(filepath.Join(ws.Removed(), "part-00000.parquet"), slices.Values(removed)); err != nil {
		t.Fatal(err)
	}
	return noise
}

// TestPerplexity checks the held-out perplexity section: the model trains
// only on sampled rows, scores all the others, puts the noise at the top,
// masks personal data, stays within its character cap and is the same on
// every run.
func TestPerplexity(t *testing.T) {
	const rows = 200
	cases := []struct {
		name     string
		capChars int64
	}{
		{"default cap", 0},
		{"small cap", 600},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := workspace.Dir(t.TempDir())
			noise := writePerplexityCorpus(t, ws, rows)
			r, err := Collect(ws, Options{NoWords: true, PerplexityChars: c.capChars})
			if err != nil {
				t.Fatal(err)
			}
			p := r.Corpus.Perplexity
			if p == nil || len(p.Kinds) != 1 || p.Kinds[0].Kind != "text" {
				t.Fatalf("perplexity = %+v", p)
			}
			k := p.Kinds[0]
			if k.HeldIn != p.TrainRows || k.Scored+k.HeldIn != rows+int64(len(noise)) || k.Perplexity.N != k.Scored {
				t.Errorf("held in %d, trained on %d, scored %d, histogram n %d, of %d rows", k.HeldIn, p.TrainRows, k.Scored, k.Perplexity.N, rows+len(noise))
			}
			if want := cmp.Or(c.capChars, 1_000_000); p.TrainChars > want || p.CharCap != want {
				t.Errorf("trained on %d characters, cap %d", p.TrainChars, want)
			}
			if k.HeldIn == 0 || k.Scored < (rows+int64(len(noise)))*(pplStride-1)/pplStride/2 {
				t.Errorf("held in %d, scored %d: the sample is not about one row in %d", k.HeldIn, k.Scored, pplStride)
			}
			if !strings.Contains(p.Model, fmt.Sprintf("trained on %s held-in characters", num(float64(p.TrainChars)))) {
				t.Errorf("model description %q", p.Model)
			}
			if len(k.Highest) != samplesPer || len(k.Lowest) != samplesPer {
				t.Fatalf("%d highest, %d lowest", len(k.Highest), len(k.Lowest))
			}
			for i, s := range k.Highest {
				if i < len(noise) && !slices.Contains(noise, s.ID) {
					t.Errorf("highest #%d is %s (%.1f), not one of the noise rows %v", i+1, s.ID, s.Perplexity, noise)
				}
				if i > 0 && s.Perplexity > k.Highest[i-1].Perplexity {
					t.Errorf("highest not in descending order: %v", k.Highest)
				}
				for _, f := range s.Fields {
					if strings.Contains(f.Text, "13812345678") {
						t.Errorf("%s shows an unmasked phone number: %q", s.ID, f.Text)
					}
				}
			}
			for i, s := range k.Lowest {
				if slices.Contains(noise, s.ID) || i > 0 && s.Perplexity < k.Lowest[i-1].Perplexity {
					t.Errorf("lowest #%d is %s (%.1f)", i+1, s.ID, s.Perplexity)
				}
			}
			if hi, lo := k.Highest[len(noise)-1].Perplexity, k.Percentiles[1].Value; hi < 5*lo {
				t.Errorf("noise scores %.1f, median %.1f: noise should stand far out", hi, lo)
			}
			byReason := map[string]ReasonPerplexity{}
			for _, rp := range p.Removed {
				byReason[rp.Reason] = rp
			}
			dup, junk := byReason["duplicate"], byReason["low_cjk"]
			if len(p.Removed) != 2 || dup.Scored != 2 || junk.Scored != 1 || junk.Unreadable != 1 {
				t.Errorf("removed perplexity = %+v", p.Removed)
			}
			if !(junk.Mean > 5*dup.Mean) {
				t.Errorf("removed noise scores %.1f, removed copies of fluent rows %.1f", junk.Mean, dup.Mean)
			}
			again, err := Collect(ws, Options{NoWords: true, PerplexityChars: c.capChars})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again.Corpus.Perplexity, p) {
				t.Error("a second run gives another result")
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	cases := []struct {
		values []float64
		q      float64
		want   float64
	}{
		{nil, 0.5, 0},
		{[]float64{7}, 0.9, 7},
		{[]float64{1, 2, 3, 4, 5}, 0.5, 3},
		{[]float64{1, 2, 3, 4, 5}, 0.1, 1.4},
		{[]float64{1, 2, 3, 4, 5}, 1, 5},
		{[]float64{10, 20}, 0.99, 19.9},
	}
	for _, c := range cases {
		if got := quantile(c.values, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.values, c.q, got, c.want)
		}
	}
}
