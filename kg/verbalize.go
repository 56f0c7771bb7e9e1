package kg

import (
	"hash/fnv"
	"strings"
)

// pick chooses one of n templates for a (head, relation, purpose) by
// hashing, so the same facts always read the same while different heads get
// different wordings.
func pick(n int, parts ...string) int {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0x1f})
	}
	return int(h.Sum64() % uint64(n))
}

func fill(tmpl, head, rel string, tails []string) string {
	return strings.NewReplacer("{h}", head, "{r}", rel, "{t}", strings.Join(tails, "、")).Replace(tmpl)
}

// Verbalize turns every fact about one head into one Chinese paragraph, one
// sentence per relation, for DCPT.
func (g *Graph) Verbalize(h *HeadFacts) string {
	var b strings.Builder
	for _, f := range h.Facts {
		rel, _ := g.table.templates(f.Relation)
		b.WriteString(fill(rel.Facts[pick(len(rel.Facts), h.Head, f.Relation, "fact")], h.Head, f.Relation, f.Tails))
	}
	return b.String()
}

// QAPair is a question answered from one relation of one head.
type QAPair struct {
	Relation string
	Question string
	Answer   string
	IDs      []string // the triples it was made from
}

// Questions makes one question per relation of a head, answered from its
// tails (at most Config.MaxAnswerTails, then "等"), e.g.
// "糖尿病有哪些常见症状？" → "糖尿病的常见症状包括多饮、多尿、消瘦。".
func (g *Graph) Questions(h *HeadFacts, cfg Config) []QAPair {
	limit := cfg.maxAnswerTails()
	out := make([]QAPair, 0, len(h.Facts))
	for _, f := range h.Facts {
		rel, _ := g.table.templates(f.Relation)
		q := fill(rel.Questions[pick(len(rel.Questions), h.Head, f.Relation, "question")], h.Head, f.Relation, nil)
		tails, ids := f.Tails, f.IDs
		if len(tails) > limit {
			tails = tails[:limit:limit]
			if !strings.Contains(rel.Answer, "{t}等") {
				tails = append(tails, "等")
			}
			ids = ids[:limit]
		}
		a := fill(rel.Answer, h.Head, f.Relation, tails)
		a = strings.Replace(a, "、等", "等", 1)
		out = append(out, QAPair{Relation: f.Relation, Question: q, Answer: a, IDs: ids})
	}
	return out
}
