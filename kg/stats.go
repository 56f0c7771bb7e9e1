package kg

import (
	"cmp"
	"slices"

	"github.com/chimed/chimed/schemas"
)

// counter accumulates the numbers Stats reports while triples are added, so
// the report comes from the same counters the code uses.
type counter struct {
	in        int
	kept      int
	dropped   map[string]int
	relations map[string]int
	degree    map[string]int // entity → in+out degree over kept triples
	heads     map[string]struct{}
}

func newCounter() counter {
	return counter{dropped: map[string]int{}, relations: map[string]int{},
		degree: map[string]int{}, heads: map[string]struct{}{}}
}

func (c *counter) add(t schemas.Triple) {
	c.kept++
	c.relations[t.Relation]++
	c.degree[t.Head]++
	c.degree[t.Tail]++
	c.heads[t.Head] = struct{}{}
}

// Stats describes the canonical graph; `chimed build-stages` writes it to
// stages/kg_stats.json for `chimed stats` to chart.
type Stats struct {
	In        int            `json:"in"`        // triples read from clean/kg
	Triples   int            `json:"triples"`   // canonical, unique triples kept
	Dropped   map[string]int `json:"dropped"`   // reason → triples
	Entities  int            `json:"entities"`  // distinct heads and tails
	Heads     int            `json:"heads"`     // distinct heads
	Relations int            `json:"relations"` // distinct canonical relations
	// TopRelations are the 20 most frequent relations, most frequent first.
	TopRelations []NameCount `json:"top_relations"`
	// Degree is the distribution of entity degree (in + out) in fixed buckets.
	Degree []Bucket `json:"degree_distribution"`
	// TopEntities are the 10 entities of highest degree.
	TopEntities []NameCount `json:"top_entities"`
}

// NameCount is a named count.
type NameCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Bucket counts entities whose degree lies in [Min, Max] (Max 0 = no bound).
type Bucket struct {
	Label    string `json:"label"`
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	Entities int    `json:"entities"`
}

var buckets = []Bucket{
	{"1", 1, 1, 0}, {"2", 2, 2, 0}, {"3-5", 3, 5, 0}, {"6-10", 6, 10, 0},
	{"11-50", 11, 50, 0}, {"51-100", 51, 100, 0}, {"101-1000", 101, 1000, 0}, {">1000", 1001, 0, 0},
}

func topN(m map[string]int, n int) []NameCount {
	out := make([]NameCount, 0, len(m))
	for k, v := range m {
		out = append(out, NameCount{k, v})
	}
	slices.SortFunc(out, func(a, b NameCount) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name)) })
	return out[:min(n, len(out))]
}

// Stats returns the graph's statistics so far.
func (g *Graph) Stats() Stats {
	c := &g.stats
	s := Stats{
		In: c.in, Triples: c.kept, Dropped: map[string]int{},
		Entities: len(c.degree), Heads: len(c.heads), Relations: len(c.relations),
		TopRelations: topN(c.relations, 20), TopEntities: topN(c.degree, 10),
		Degree: slices.Clone(buckets),
	}
	for k, v := range c.dropped {
		s.Dropped[k] = v
	}
	for _, d := range c.degree {
		for i := range s.Degree {
			if d >= s.Degree[i].Min && (s.Degree[i].Max == 0 || d <= s.Degree[i].Max) {
				s.Degree[i].Entities++
				break
			}
		}
	}
	return s
}
