package ngram

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// medical is a little in-domain text: the model trains on part of it and
// is scored on the rest.
var medical = []string{
	"高血压患者应低盐饮食，规律服用降压药物，定期监测血压。",
	"糖尿病患者需要控制饮食，适量运动，按时服用降糖药物。",
	"感冒后出现发热、咳嗽、流涕等症状，应多饮水，注意休息。",
	"冠心病患者应避免劳累，戒烟限酒，遵医嘱服用药物。",
	"高血压的常见症状包括头痛、头晕、心悸等，应及时就医。",
	"糖尿病的典型症状是多饮、多食、多尿和体重下降。",
	"发热患者应多饮水，注意休息，必要时服用退热药物。",
	"慢性胃炎患者应规律饮食，避免辛辣刺激食物，戒烟限酒。",
	"咳嗽伴有发热时，应及时就医，遵医嘱服用止咳药物。",
	"高血脂患者应低脂饮食，适量运动，定期复查血脂。",
}

func train(t *testing.T, order int, rows []string) *Model {
	t.Helper()
	tr, err := NewTrainer(order)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		tr.Add(r)
	}
	return tr.Model()
}

// TestSumsToOne checks that P(· | history) sums to one over the vocabulary
// (every seen symbol, the end symbol and the unseen slot) for histories of
// every length: seen, partly seen and unseen, at the row start and inside.
func TestSumsToOne(t *testing.T) {
	for _, order := range []int{2, 3, 4, 5} {
		m := train(t, order, medical)
		var vocab []rune
		for r := range m.symbols {
			vocab = append(vocab, r)
		}
		if len(vocab)+1 != m.Vocab() || len(m.counts[0]) != len(vocab) {
			t.Fatalf("order %d: vocab %d, want %d", order, m.Vocab(), len(vocab)+1)
		}
		histories := [][]rune{
			{}, {bos}, []rune("高血压"), []rune("患者应"), append([]rune{bos}, []rune("糖尿")...),
			[]rune("，应"), []rune("鑫鑫鑫"), []rune("药物。"), []rune("X患者"),
		}
		for _, h := range histories {
			h = h[max(0, len(h)-(order-1)):]
			sum := m.prob(h, '\uFFFF') // one unseen character stands for the unseen slot
			for _, w := range vocab {
				sum += m.prob(h, w)
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("order %d, history %q: probabilities sum to %.12f", order, string(h), sum)
			}
		}
	}
}

// TestHeldOut checks that held-out in-domain text scores a lower
// perplexity than the same characters shuffled and than text of another
// script, and that every perplexity is finite and at least one.
func TestHeldOut(t *testing.T) {
	m := train(t, 4, medical[:8])
	rng := rand.New(rand.NewPCG(1, 2))
	for _, held := range medical[8:] {
		r := []rune(held)
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		cases := []struct {
			name string
			text string
		}{
			{"shuffled", string(r)},
			{"latin", "Lorem ipsum dolor sit amet, consectetur adipiscing."},
			{"repeated unseen", strings.Repeat("鑫", 20)},
		}
		in := m.Perplexity(held)
		if math.IsNaN(in) || math.IsInf(in, 0) || in < 1 {
			t.Fatalf("perplexity of %q is %v", held, in)
		}
		for _, c := range cases {
			if out := m.Perplexity(c.text); !(in < out) {
				t.Errorf("%s: held-out %q scores %.1f, not below %q's %.1f", c.name, held, in, c.text, out)
			}
		}
	}
}

// TestTrainedRowIsLikely checks that a row the model was trained on is
// much more likely than under the uniform distribution.
func TestTrainedRowIsLikely(t *testing.T) {
	m := train(t, 4, medical)
	if got, uniform := m.Perplexity(medical[0]), float64(m.Vocab()); got > uniform/4 {
		t.Errorf("trained row perplexity %.1f, uniform %.0f", got, uniform)
	}
	if m.TrainRows() != int64(len(medical)) || m.Order() != 4 {
		t.Errorf("rows %d order %d", m.TrainRows(), m.Order())
	}
	var chars int64
	for _, r := range medical {
		chars += int64(len([]rune(r)))
	}
	if m.TrainChars() != chars {
		t.Errorf("chars %d, want %d", m.TrainChars(), chars)
	}
}

func TestEmptyAndBadOrder(t *testing.T) {
	for _, order := range []int{0, 1, MaxOrder + 1} {
		if _, err := NewTrainer(order); err == nil {
			t.Errorf("order %d accepted", order)
		}
	}
	// A model of nothing is uniform over its one unseen slot and the end
	// symbol it never saw: finite, not NaN.
	m := train(t, 3, nil)
	if p := m.Perplexity("任何文字"); math.IsNaN(p) || math.IsInf(p, 0) {
		t.Errorf("empty model perplexity %v", p)
	}
	m = train(t, 3, []string{""})
	if p := m.Perplexity(""); math.IsNaN(p) || p < 1 {
		t.Errorf("empty row perplexity %v", p)
	}
}

// TestDiscounts checks the modified Kneser–Ney discount estimates and
// their clamping.
func TestDiscounts(t *testing.T) {
	cases := []struct {
		name string
		coc  [5]float64
		want [3]float64
	}{
		{"too few counts", [5]float64{0, 10, 0, 3, 1}, [3]float64{0.5, 1, 1.5}},
		// y = 100/(100+80) = 5/9; D1 = 1-2y·40/100, D2 = 2-3y·20/40, D3 = 3-4y·10/20.
		{"estimated", [5]float64{0, 100, 40, 20, 10}, [3]float64{1 - 2*5.0/9*0.4, 2 - 3*5.0/9*0.5, 3 - 4*5.0/9*0.5}},
	}
	for _, c := range cases {
		got := discounts(c.coc)
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("%s: D%d = %v, want %v", c.name, i+1, got[i], c.want[i])
			}
		}
	}
}

// FuzzPerplexity checks that any text, trained on or not, scores a finite
// perplexity of at least one and that distributions still sum to one.
func FuzzPerplexity(f *testing.F) {
	f.Add("高血压患者应低盐饮食。", "糖尿病")
	f.Add("", "\x00\xff")
	f.Add("aaaaaaaaaa", "aaaa")
	f.Fuzz(func(t *testing.T, trainText, score string) {
		m := train(t, 4, []string{trainText, score[:len(score)/2]})
		if p := m.Perplexity(score); math.IsNaN(p) || math.IsInf(p, 0) || p < 1-1e-9 {
			t.Fatalf("perplexity %v", p)
		}
		h := append([]rune{bos}, []rune(score)...)
		h = h[max(0, len(h)-3):]
		unseen := rune(0x10FFFF)
		for m.symbols[unseen] {
			unseen--
		}
		sum := m.prob(h, unseen)
		for r := range m.symbols {
			sum += m.prob(h, r)
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("P(· | %q) sums to %.12f", string(h), sum)
		}
	})
}
