package evaluate

import "math"

// BLEU and ROUGE over jieba words, the CMExam / Qilin-Med convention for open
// QA. Hand-written: no maintained Go library computes either (the Python
// references are nltk's sentence_bleu and the `rouge` package); the
// definitions below follow those and are pinned by hand-computed table tests.

// ngramCounts counts the n-grams of words, keyed by the words joined with a
// separator that cannot occur inside a jieba word.
func ngramCounts(words []string, n int) (map[string]int, int) {
	total := len(words) - n + 1
	if total <= 0 {
		return nil, 0
	}
	m := make(map[string]int, total)
	for i := 0; i < total; i++ {
		key := words[i]
		for _, w := range words[i+1 : i+n] {
			key += "\x00" + w
		}
		m[key]++
	}
	return m, total
}

// clippedOverlap is Σ min(count in candidate, count in reference).
func clippedOverlap(cand, ref map[string]int) int {
	o := 0
	for k, c := range cand {
		o += min(c, ref[k])
	}
	return o
}

// BLEU is sentence-level cumulative BLEU-N of one candidate against one
// reference with uniform weights 1/N and no smoothing, as nltk's
// sentence_bleu computes it: the brevity penalty times the geometric mean of
// the clipped n-gram precisions for n = 1..N; 0 when any precision is 0.
func BLEU(candidate, reference []string, maxN int) float64 {
	c, r := len(candidate), len(reference)
	if c == 0 || r == 0 || maxN < 1 {
		return 0
	}
	logSum := 0.0
	for n := 1; n <= maxN; n++ {
		cc, total := ngramCounts(candidate, n)
		if total == 0 {
			return 0
		}
		rc, _ := ngramCounts(reference, n)
		o := clippedOverlap(cc, rc)
		if o == 0 {
			return 0
		}
		logSum += math.Log(float64(o) / float64(total))
	}
	bp := 1.0
	if c <= r {
		bp = math.Exp(1 - float64(r)/float64(c))
	}
	return bp * math.Exp(logSum/float64(maxN))
}

// f1 is the harmonic mean of precision and recall, 0 when both are 0.
func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// RougeN is the ROUGE-N F1 of a candidate against one reference: clipped
// n-gram overlap over the candidate's n-grams (precision) and over the
// reference's (recall).
func RougeN(candidate, reference []string, n int) float64 {
	cc, ct := ngramCounts(candidate, n)
	rc, rt := ngramCounts(reference, n)
	if ct == 0 || rt == 0 {
		return 0
	}
	o := float64(clippedOverlap(cc, rc))
	return f1(o/float64(ct), o/float64(rt))
}

// RougeL is the sentence-level ROUGE-L F1 (β = 1): the longest common
// subsequence over the candidate's length (precision) and the reference's
// (recall).
func RougeL(candidate, reference []string) float64 {
	if len(candidate) == 0 || len(reference) == 0 {
		return 0
	}
	l := float64(lcs(candidate, reference))
	return f1(l/float64(len(candidate)), l/float64(len(reference)))
}

// lcs is the length of the longest common subsequence, in O(len(a)·len(b))
// time and O(len(b)) memory.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// QAScores are the open-QA metrics of one generated answer.
type QAScores struct {
	BLEU1, BLEU2, BLEU4    float64
	Rouge1, Rouge2, RougeL float64
}

// ScoreQA computes every open-QA metric of one candidate against its reference.
func ScoreQA(candidate, reference []string) QAScores {
	return QAScores{
		BLEU1:  BLEU(candidate, reference, 1),
		BLEU2:  BLEU(candidate, reference, 2),
		BLEU4:  BLEU(candidate, reference, 4),
		Rouge1: RougeN(candidate, reference, 1),
		Rouge2: RougeN(candidate, reference, 2),
		RougeL: RougeL(candidate, reference),
	}
}
