package dedup

import "fmt"

// Clusterer is near-dedup's third phase: it verifies candidate pairs by
// exact Jaccard of their rows' shingle sets and joins them into groups.
// J ≥ threshold makes the later row a near duplicate of the group's first;
// J ≥ clusterThreshold only puts the rows in one cluster. Rows are handed
// to Add in ordinal order, each with its set, and every pair is verified
// when its later row arrives; a set is held only until its last pair is
// verified. Memory: 44 bytes per row (its last partner, two union-finds
// and a held-set slot, in slices by ordinal, which cost less than maps of
// the rows in pairs: 60–100% of the demo's rows are), the pairs, and the
// sets held.
type Clusterer struct {
	threshold, clusterThreshold float64
	// lastUse[o] is the largest ordinal o is paired with (0: in no pair,
	// since a row's partners include itself and pair (0, b) has b > 0);
	// byB lists pairs by their later row, next the first not verified.
	lastUse []uint32
	byB     []uint64
	next    int
	held    []heldSet
	inPairs int
	last    uint32
	dup     UnionFind
	cluster UnionFind
	// Duplicates and Clustered count the pairs at or above each threshold.
	Duplicates, Clustered int64
}

// heldSet is a row's shingle set, held until its last pair is verified,
// and its group.
type heldSet struct {
	set   []uint64
	group uint64
}

// NewClusterer prepares to verify pairs (LSHIndex.Candidates' output) over
// rows rows. pairs' memory is reused: the caller must not use it again.
func NewClusterer(pairs []uint64, rows uint32, threshold, clusterThreshold float64) (*Clusterer, error) {
	c := &Clusterer{threshold: threshold, clusterThreshold: clusterThreshold,
		lastUse: make([]uint32, rows), byB: make([]uint64, len(pairs))}
	for i, pr := range pairs {
		a, b := uint32(pr>>32), uint32(pr)
		if a >= rows || b >= rows {
			return nil, fmt.Errorf("candidate pair (%d, %d) beyond the %d rows", a, b, rows)
		}
		for _, o := range [2]uint32{a, b} {
			if c.lastUse[o] == 0 {
				c.inPairs++
			}
			c.lastUse[o] = max(c.lastUse[o], b)
		}
		c.last = max(c.last, b)
		c.byB[i] = uint64(b)<<32 | uint64(a)
	}
	radixSort(c.byB, pairs, 0) // pairs' memory as scratch space
	c.dup, c.cluster = NewUnionFind(rows), NewUnionFind(rows)
	if c.inPairs > 0 {
		c.held = make([]heldSet, rows)
	}
	return c, nil
}

// InPair reports whether row o is in a candidate pair: only those rows
// need a shingle set.
func (c *Clusterer) InPair(o uint32) bool { return c.lastUse[o] != 0 }

// RowsInPairs is the number of rows in a candidate pair.
func (c *Clusterer) RowsInPairs() int { return c.inPairs }

// Last is the largest ordinal in a pair: rows after it need no set.
func (c *Clusterer) Last() uint32 { return c.last }

// Add gives the shingle set (sorted, distinct: ShingleSet) of row o, which
// is in a pair, and verifies the pairs whose later row it is. Rows of
// different groups (eval and training rows) are never joined. Rows come in
// ordinal order.
func (c *Clusterer) Add(o uint32, set []uint64, group uint64) {
	c.held[o] = heldSet{set: set, group: group}
	for ; c.next < len(c.byB) && uint32(c.byB[c.next]>>32) == o; c.next++ {
		a := uint32(c.byB[c.next])
		ha := c.held[a]
		if ha.group != group {
			continue
		}
		j := jaccardFloor(ha.set, set, c.clusterThreshold)
		if j >= c.threshold {
			c.dup.Union(a, o)
			c.Duplicates++
		}
		if j >= c.clusterThreshold {
			c.cluster.Union(a, o)
			c.Clustered++
		}
		if c.lastUse[a] == o {
			c.held[a] = heldSet{}
		}
	}
	if c.lastUse[o] == o {
		c.held[o] = heldSet{}
	}
}

// Clusters is what the verified pairs say, once every row is added.
func (c *Clusterer) Clusters() Clusters {
	return Clusters{dup: c.dup, cluster: c.cluster}
}

// Clusters is near-dedup's result, read by its fourth phase (filtering):
// for each row, the row it is a near duplicate of and its cluster's root.
// Roots are the smallest ordinals: the first rows in the deterministic
// order, which are always kept.
type Clusters struct{ dup, cluster UnionFind }

// DuplicateOf is the row o is a near duplicate of, and false when o is
// kept.
func (c Clusters) DuplicateOf(o uint32) (uint32, bool) {
	root := c.dup.Find(o)
	return root, root != o
}

// ClusterOf is the root of o's cluster (o itself when alone).
func (c Clusters) ClusterOf(o uint32) uint32 { return c.cluster.Find(o) }

// UnionFind joins rows into clusters whose root is always the smallest
// ordinal, i.e. the row that comes first in the deterministic order.
// u[x] is x's parent plus one, 0 for a root, so a new one (NewUnionFind)
// has every row alone: 4 bytes per row, indexed rather than hashed (a map
// of the rows in pairs cost more, and held 60–100% of the demo's rows).
type UnionFind []uint32

// NewUnionFind has every one of rows rows alone.
func NewUnionFind(rows uint32) UnionFind { return make(UnionFind, rows) }

// Find is the root of x's group: its smallest ordinal.
func (u UnionFind) Find(x uint32) uint32 {
	root := x
	for u[root] != 0 {
		root = u[root] - 1
	}
	for x != root { // path compression
		next := u[x] - 1
		u[x] = root + 1
		x = next
	}
	return root
}

// Union joins the groups of a and b.
func (u UnionFind) Union(a, b uint32) {
	ra, rb := u.Find(a), u.Find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u[rb] = ra + 1
}
