package kg

import (
	"cmp"
	"slices"

	"github.com/chimed/chimed/schemas"
)

// Graph collects canonical, deduplicated triples grouped by (source, head),
// the unit that becomes one DCPT paragraph and a few SFT questions.
//
// Verbalising all facts of a head needs them together, and clean's output is
// not sorted by head, so Graph holds the kept triples in memory: about
// len(head)+len(tail)+16 (id) bytes plus ~120 bytes of map and slice
// overhead per unique triple, i.e. roughly 200 MB for a million-triple KG.
// Every other kind is streamed.
type Graph struct {
	table   *RelationTable
	seen    map[string]struct{}
	heads   map[[2]string]*HeadFacts // (source, head)
	parent  map[string]string        // union-find over heads joined by a near-dup cluster
	cluster map[string]string        // cluster id → a head holding it
	stats   counter
}

// HeadFacts is every kept fact about one head entity from one source.
type HeadFacts struct {
	Source   string
	Head     string
	HeadType string
	Facts    []Fact // in relation-table order, then unknown relations by name
	byRel    map[string]int
}

// Entities lists the head and every tail, each once: the strings a head's
// training text is made of besides its templates.
func (h *HeadFacts) Entities() []string {
	out := []string{h.Head}
	for _, f := range h.Facts {
		for _, t := range f.Tails {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Fact is one relation of a head with all its tails in first-seen order,
// and the ids of the triples they came from.
type Fact struct {
	Relation string
	Tails    []string
	IDs      []string
}

// NewGraph starts an empty graph using the config's relation aliases.
func NewGraph(cfg Config) *Graph {
	return &Graph{
		table:   NewRelationTable(cfg.Relations),
		seen:    map[string]struct{}{},
		heads:   map[[2]string]*HeadFacts{},
		parent:  map[string]string{},
		cluster: map[string]string{},
		stats:   newCounter(),
	}
}

// Table is the graph's relation table.
func (g *Graph) Table() *RelationTable { return g.table }

// Add canonicalises and adds a triple. It returns "" when the triple was
// kept, else the reason it was dropped (Reason*).
func (g *Graph) Add(t schemas.Triple) string {
	g.stats.in++
	if why := Canonicalize(&t, g.table); why != "" {
		g.stats.dropped[why]++
		return why
	}
	key := t.Head + "\x1f" + t.Relation + "\x1f" + t.Tail
	if _, dup := g.seen[key]; dup {
		g.stats.dropped[ReasonDuplicate]++
		return ReasonDuplicate
	}
	g.seen[key] = struct{}{}
	g.stats.add(t)

	hk := [2]string{t.Source, t.Head}
	h := g.heads[hk]
	if h == nil {
		h = &HeadFacts{Source: t.Source, Head: t.Head, HeadType: t.HeadType, byRel: map[string]int{}}
		g.heads[hk] = h
	}
	if h.HeadType == "" {
		h.HeadType = t.HeadType
	}
	i, ok := h.byRel[t.Relation]
	if !ok {
		i = len(h.Facts)
		h.byRel[t.Relation] = i
		h.Facts = append(h.Facts, Fact{Relation: t.Relation})
	}
	h.Facts[i].Tails = append(h.Facts[i].Tails, t.Tail)
	h.Facts[i].IDs = append(h.Facts[i].IDs, t.ID)

	g.find(t.Head)
	if t.Cluster != "" {
		if other, ok := g.cluster[t.Cluster]; ok {
			g.union(other, t.Head)
		} else {
			g.cluster[t.Cluster] = t.Head
		}
	}
	return ""
}

func (g *Graph) find(h string) string {
	p, ok := g.parent[h]
	if !ok {
		g.parent[h] = h
		return h
	}
	if p == h {
		return h
	}
	r := g.find(p)
	g.parent[h] = r
	return r
}

func (g *Graph) union(a, b string) {
	ra, rb := g.find(a), g.find(b)
	if ra == rb {
		return
	}
	if rb < ra { // the smaller name is the root, so the key is order-free
		ra, rb = rb, ra
	}
	g.parent[rb] = ra
}

// GroupKey is the split key of a head's rows: the head itself, or, when a
// near-duplicate cluster joins triples of several heads, the smallest head
// of that connected set, so a cluster never straddles two splits.
func (g *Graph) GroupKey(head string) string { return "kg\x1f" + g.find(head) }

// Heads returns every head's facts sorted by head, then source; facts are in
// relation-table order so paragraphs read in a fixed, sensible order.
func (g *Graph) Heads() []*HeadFacts {
	out := make([]*HeadFacts, 0, len(g.heads))
	for _, h := range g.heads {
		slices.SortStableFunc(h.Facts, func(a, b Fact) int {
			_, ra := g.table.templates(a.Relation)
			_, rb := g.table.templates(b.Relation)
			return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.Relation, b.Relation))
		})
		for i, f := range h.Facts {
			h.byRel[f.Relation] = i
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *HeadFacts) int {
		return cmp.Or(cmp.Compare(a.Head, b.Head), cmp.Compare(a.Source, b.Source))
	})
	return out
}

// IDs lists the ids of every triple behind a head's facts.
func (h *HeadFacts) IDs() []string {
	var ids []string
	for _, f := range h.Facts {
		ids = append(ids, f.IDs...)
	}
	return ids
}
