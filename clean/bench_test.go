package clean

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// benchQA makes n distinct, realistic-looking QA rows (≈ 300 bytes each).
func benchQA(n int) []schemas.QA {
	diseases := []string{"高血压", "糖尿病", "冠心病", "支气管哮喘", "慢性胃炎", "痛风", "偏头痛", "甲状腺功能亢进症"}
	rows := make([]schemas.QA, n)
	for i := range rows {
		d := diseases[i%len(diseases)]
		q := fmt.Sprintf("医生您好，我今年%d岁，最近%d天总是头晕乏力，以前查过有%s，请问需要做什么检查，平时要注意什么？编号%d", 20+i%60, 1+i%30, d, i)
		a := fmt.Sprintf("您好，%s患者出现这种情况建议先到医院测量血压、血糖并做心电图检查。平时注意低盐低脂饮食，规律作息，适量运动，按医嘱服药，每次10mg，一日%d次。如有胸痛、呼吸困难请及时就医。感谢您的咨询，祝您早日康复！参考%d", d, 1+i%3, i*7)
		rows[i] = qa("bench", i, q, a)
	}
	return rows
}

func textBytes[T any, P record[T]](rows []T) int64 {
	var n int64
	for i := range rows {
		for _, f := range P(&rows[i]).TextFields() {
			n += int64(len(*f.Value))
		}
	}
	return n
}

// BenchmarkSteps is the normalisers and filters on one row at a time.
func BenchmarkSteps(b *testing.B) {
	steps, err := buildSteps(DefaultSteps())
	if err != nil {
		b.Fatal(err)
	}
	benchRows(b, func(r schemas.QA, t Tally) { steps[schemas.KindQA].apply(&r, t) })
}

// benchRows calls fn b.N times over 1,000 benchQA rows, with bytes per op
// set to a row's text.
func benchRows(b *testing.B, fn func(schemas.QA, Tally)) {
	rows := benchQA(1000)
	b.SetBytes(textBytes[schemas.QA](rows) / int64(len(rows)))
	t := Tally{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fn(rows[i%len(rows)], t)
	}
}

// BenchmarkPII is the PII masker alone on text that holds some.
func BenchmarkPII(b *testing.B) {
	s := strings.Repeat("患者主诉头痛三天，血压150/95mmHg，每次10mg，一日3次。联系电话13812345678，邮箱a@b.com。", 4)
	b.SetBytes(int64(len(s)))
	t := Tally{}
	for i := 0; i < b.N; i++ {
		piiMasker{}.Normalise("text", s, t)
	}
}

func benchShingle(b *testing.B, mode string, n int) {
	mh, err := dedup.NewMinHasher(mode, n, 16, 6)
	if err != nil {
		b.Skip(err)
	}
	rows := benchQA(1000)
	b.SetBytes(textBytes[schemas.QA](rows) / int64(len(rows)))
	sig := make([]uint32, mh.Perms())
	keys := make([]uint32, mh.Bands)
	var sh []uint64
	var rs []rune
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &rows[i%len(rows)]
		sh, rs = mh.Shingles([]string{r.Question, r.Answer}, sh[:0], rs)
		mh.Signature(sh, sig)
		mh.BandKeys(sig, 0, keys)
	}
}

// BenchmarkMinHashChar is shingling (character 5-grams), the 96-permutation
// signature and the band keys of one row.
func BenchmarkMinHashChar(b *testing.B) { benchShingle(b, dedup.ShingleChar, 5) }

// BenchmarkMinHashWord is the same with jieba-word 2-grams.
func BenchmarkMinHashWord(b *testing.B) { benchShingle(b, dedup.ShingleWord, 2) }

// BenchmarkRun is a whole clean run over 5,000 QA rows, with near-dedup.
func BenchmarkRun(b *testing.B) {
	ws := workspace.Dir(b.TempDir())
	rows := benchQA(5000)
	path := ws.Path("normalized", "qa", "bench-00000.parquet")
	if _, err := schemas.WriteFile(path, func(yield func(schemas.QA) bool) {
		for _, r := range rows {
			if !yield(r) {
				return
			}
		}
	}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(textBytes[schemas.QA](rows))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), Options{Workspace: ws, Sources: []Source{{Name: "bench"}}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignoffs is the sign-off trimmer alone on answers of realistic
// length, most ending in a sign-off.
func BenchmarkSignoffs(b *testing.B) {
	n, err := newSignoffNormaliser(signoffSettings{})
	if err != nil {
		b.Fatal(err)
	}
	benchRows(b, func(r schemas.QA, t Tally) { n.Normalise("answer", r.Answer, t) })
}

// BenchmarkComponents times each default component that runs on QA rows
// alone, on benchQA rows put through the normalisers before it (as in a
// run), to show where BenchmarkSteps' time goes.
func BenchmarkComponents(b *testing.B) {
	before := &kindSteps{}
	for _, name := range defaultOrder {
		if !slices.Contains(registry[name].kinds, schemas.KindQA) {
			continue
		}
		c, err := registry[name].build(decoderFor(name, nil))
		if err != nil {
			b.Fatal(err)
		}
		rows := benchQA(1000)
		t := Tally{}
		for j := range rows {
			before.apply(&rows[j], t)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(textBytes[schemas.QA](rows) / int64(len(rows)))
			b.ResetTimer()
			for j := 0; j < b.N; j++ {
				r := &rows[j%len(rows)] // filters only read it; normalisers' results are dropped
				switch c := c.(type) {
				case Filter:
					c.Check(r)
				case Normaliser:
					for _, f := range r.TextFields() {
						c.Normalise(f.Name, *f.Value, t)
					}
				}
			}
		})
		if n, ok := c.(Normaliser); ok {
			before.normalisers = append(before.normalisers, n)
		}
	}
}
