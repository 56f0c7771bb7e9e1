package kg

import (
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
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

// Renderings writes up to n distinct paragraphs about one head for DCPT:
// the first is Verbalize's, each later one picks its templates afresh,
// states the facts in another order and lists
// each fact's tails in another order (fact order, tail order and wording
// are hashed from the head and the rendering's number, so they are fixed
// for the same input). Seeing one fact in several wordings and places is
// what lets a model retrieve it when asked in words it never read
// (Allen-Zhu & Li, arXiv 2309.14316, "knowledge augmentation"); a list
// read in one order only is learnt as a chain, each tail from the one
// before, not as facts about the head.
func (g *Graph) Renderings(h *HeadFacts, n int) []string {
	out := []string{g.Verbalize(h)}
	for i := 1; i < n; i++ {
		salt := strconv.Itoa(i)
		order := make([]int, len(h.Facts))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool {
			return pick(1<<30, h.Head, h.Facts[order[a]].Relation, salt) < pick(1<<30, h.Head, h.Facts[order[b]].Relation, salt)
		})
		var b strings.Builder
		for _, j := range order {
			f := h.Facts[j]
			rel, _ := g.table.templates(f.Relation)
			tails := shuffled(f.Tails, h.Head, f.Relation, salt)
			b.WriteString(fill(rel.Facts[pick(len(rel.Facts), h.Head, f.Relation, "fact", salt)], h.Head, f.Relation, tails))
		}
		if !slices.Contains(out, b.String()) {
			out = append(out, b.String())
		}
	}
	return out
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
	return g.questions(h, cfg, false)
}

func (g *Graph) questions(h *HeadFacts, cfg Config, every bool) []QAPair {
	limit := cfg.maxAnswerTails()
	out := make([]QAPair, 0, len(h.Facts))
	for _, f := range h.Facts {
		rel, _ := g.table.templates(f.Relation)
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
		templates := rel.Questions
		if !every {
			templates = templates[pick(len(templates), h.Head, f.Relation, "question"):][:1]
		}
		for _, tmpl := range templates {
			q := fill(tmpl, h.Head, f.Relation, nil)
			out = append(out, QAPair{Relation: f.Relation, Question: q, Answer: a, IDs: ids})
		}
	}
	return out
}

// shuffled returns the tails in an order hashed from parts, so a list reads
// in another order in each rendering and every tail in turn stands next to
// the head and relation that name it.
func shuffled(tails []string, parts ...string) []string {
	out := slices.Clone(tails)
	key := func(t string) int { return pick(1<<30, append(parts, t)...) }
	sort.SliceStable(out, func(a, b int) bool { return key(out[a]) < key(out[b]) })
	return out
}

// QATexts writes a head's KG→QA pairs for DCPT text: every question wording
// of every relation, answered in turn by the full sentence and by the bare
// tails, each time in another tail order (at most Config.MaxAnswerTails).
// Many wordings of one question are what lets a model answer a wording it
// never read (Allen-Zhu & Li), and a bare answer puts the facts right after
// their question, as an exam's answer follows it.
func (g *Graph) QATexts(h *HeadFacts, cfg Config) []QAPair {
	limit := cfg.maxAnswerTails()
	var out []QAPair
	for _, f := range h.Facts {
		rel, _ := g.table.templates(f.Relation)
		for i, tmpl := range rel.Questions {
			salt := strconv.Itoa(i)
			tails, ids := shuffled(f.Tails, h.Head, f.Relation, "qa", salt), f.IDs
			if len(tails) > limit {
				tails, ids = tails[:limit], ids[:limit]
			}
			a := strings.Join(tails, "、") + "。"
			if i%2 == 0 {
				if len(tails) < len(f.Tails) && !strings.Contains(rel.Answer, "{t}等") {
					tails = append(slices.Clip(tails), "等")
				}
				a = strings.Replace(fill(rel.Answer, h.Head, f.Relation, tails), "、等", "等", 1)
			}
			out = append(out, QAPair{Relation: f.Relation, Question: fill(tmpl, h.Head, f.Relation, nil), Answer: a, IDs: ids})
		}
	}
	return out
}
