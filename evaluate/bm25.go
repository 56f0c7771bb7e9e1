package evaluate

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/chimed/chimed/internal/segment"
)

// BM25 is an Okapi BM25 index over passages cut into jieba words, for the RAG
// variant of exam evaluation. Hand-written (Lucene's formula, k1 = 1.2,
// b = 0.75, idf = ln(1 + (N − df + 0.5)/(df + 0.5))): the Go BM25 packages
// are small and unmaintained, and this is forty lines.
type BM25 struct {
	K1, B    float64
	passages []string
	lengths  []int32
	postings map[string][]posting
	avgLen   float64
}

type posting struct{ doc, tf int32 }

// NewBM25 makes an empty index with the usual parameters.
func NewBM25() *BM25 {
	return &BM25{K1: 1.2, B: 0.75, postings: map[string][]posting{}}
}

// Len is the number of passages indexed.
func (x *BM25) Len() int { return len(x.passages) }

// Add indexes one passage.
func (x *BM25) Add(passage string) error {
	words, err := indexWords(passage)
	if err != nil {
		return err
	}
	doc := int32(len(x.passages))
	x.passages = append(x.passages, passage)
	x.lengths = append(x.lengths, int32(len(words)))
	tf := map[string]int32{}
	for _, w := range words {
		tf[w]++
	}
	for w, n := range tf {
		x.postings[w] = append(x.postings[w], posting{doc, n})
	}
	total := x.avgLen*float64(doc) + float64(len(words))
	x.avgLen = total / float64(doc+1)
	return nil
}

// Hit is one retrieved passage and its score.
type Hit struct {
	Passage string
	Score   float64
}

// Search returns the k best passages for query, best first; ties go to the
// passage indexed first, so results are deterministic.
func (x *BM25) Search(query string, k int) ([]Hit, error) {
	words, err := indexWords(query)
	if err != nil {
		return nil, err
	}
	n := float64(len(x.passages))
	scores := map[int32]float64{}
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] {
			continue
		}
		seen[w] = true
		ps := x.postings[w]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ps {
			tf := float64(p.tf)
			norm := x.K1 * (1 - x.B + x.B*float64(x.lengths[p.doc])/x.avgLen)
			scores[p.doc] += idf * tf * (x.K1 + 1) / (tf + norm)
		}
	}
	docs := make([]int32, 0, len(scores))
	for d := range scores {
		docs = append(docs, d)
	}
	slices.SortFunc(docs, func(a, b int32) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(docs) > k {
		docs = docs[:k]
	}
	hits := make([]Hit, len(docs))
	for i, d := range docs {
		hits[i] = Hit{x.passages[d], scores[d]}
	}
	return hits, nil
}

// indexWords is the jieba words of s that carry meaning: punctuation and
// symbols alone are dropped.
func indexWords(s string) ([]string, error) {
	ws, err := segment.Words(strings.ToValidUTF8(s, ""))
	if err != nil {
		return nil, err
	}
	out := ws[:0]
	for _, w := range ws {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsNumber(r) {
				out = append(out, w)
				break
			}
		}
	}
	return out, nil
}
