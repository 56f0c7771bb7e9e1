package dedup

import (
	"slices"
	"testing"
)

// TestClusterer verifies hand-made pairs: duplicates above the threshold
// join into near-duplicate groups rooted at their first row, pairs between
// the two thresholds only cluster, and rows of different groups never join.
func TestClusterer(t *testing.T) {
	set := func(lo, hi uint64) []uint64 {
		var s []uint64
		for v := lo; v < hi; v++ {
			s = append(s, v)
		}
		return s
	}
	// Row sets: 0 and 1 share 9 of 11 (J 0.82), 1 and 2 are equal,
	// 3 shares 7 of 13 with 0 (J 0.54, below both), 4 shares 7 of 10 with 0
	// (J 0.7: clustered only), 5 equals 0 but is in another group.
	sets := [][]uint64{set(0, 10), set(1, 11), set(1, 11), set(3, 16), set(0, 7), set(0, 10)}
	groups := []uint64{0, 0, 0, 0, 0, 1}
	pair := func(a, b uint64) uint64 { return a<<32 | b }
	pairs := []uint64{pair(0, 1), pair(0, 3), pair(0, 4), pair(0, 5), pair(1, 2)}
	slices.Sort(pairs)
	c, err := NewClusterer(pairs, 7, 0.8, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	if c.RowsInPairs() != 6 || c.Last() != 5 || c.InPair(6) || !c.InPair(2) {
		t.Fatalf("RowsInPairs %d, Last %d, InPair(6) %v, InPair(2) %v", c.RowsInPairs(), c.Last(), c.InPair(6), c.InPair(2))
	}
	for o := range uint32(6) {
		c.Add(o, sets[o], groups[o])
	}
	cl := c.Clusters()
	for _, tc := range []struct {
		row       uint32
		dupOf     uint32
		isDup     bool
		clusterOf uint32
	}{
		{0, 0, false, 0}, {1, 0, true, 0}, {2, 0, true, 0}, {3, 3, false, 3},
		{4, 4, false, 0}, {5, 5, false, 5}, {6, 6, false, 6},
	} {
		dup, isDup := cl.DuplicateOf(tc.row)
		if dup != tc.dupOf || isDup != tc.isDup || cl.ClusterOf(tc.row) != tc.clusterOf {
			t.Errorf("row %d: DuplicateOf = %d, %v; ClusterOf = %d; want %d, %v; %d",
				tc.row, dup, isDup, cl.ClusterOf(tc.row), tc.dupOf, tc.isDup, tc.clusterOf)
		}
	}
	if c.Duplicates != 2 || c.Clustered != 3 {
		t.Errorf("Duplicates %d, Clustered %d, want 2, 3", c.Duplicates, c.Clustered)
	}
	if _, err := NewClusterer([]uint64{pair(1, 9)}, 5, 0.8, 0.6); err == nil {
		t.Error("a pair beyond the rows was accepted")
	}
}
