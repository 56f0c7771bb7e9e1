package dedup

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSignatureAgreementIsJaccard checks the property LSH relies on: two
// sets of Jaccard J agree on a share J of the signature's values, for large
// sets and for sets smaller than the number of bins (where densification
// fills most bins), and the band-collision rate follows the S-curve.
func TestSignatureAgreementIsJaccard(t *testing.T) {
	mh, err := NewMinHasher(ShingleChar, 5, 16, 6)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		size   int // elements of each set
		shared int // elements in both
	}{
		{20, 20}, {20, 16}, {20, 10}, {20, 4},
		{60, 50}, {60, 30},
		{500, 450}, {500, 333}, {500, 100}, {500, 0},
	}
	r := rand.New(rand.NewPCG(7, 9))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d-%d", c.size, c.shared), func(t *testing.T) {
			j := float64(c.shared) / float64(2*c.size-c.shared)
			const trials = 300
			agree, bandHits := 0.0, 0
			a, b := make([]uint32, mh.Perms()), make([]uint32, mh.Perms())
			for range trials {
				x, y := make([]uint64, 0, c.size), make([]uint64, 0, c.size)
				for i := range c.size {
					h := r.Uint64()
					x = append(x, h)
					if i < c.shared {
						y = append(y, h)
					} else {
						y = append(y, r.Uint64())
					}
				}
				mh.Signature(x, a)
				mh.Signature(y, b)
				same := 0
				for i := range a {
					if a[i] == b[i] {
						same++
					}
				}
				agree += float64(same) / float64(len(a))
				ka, kb := make([]uint32, mh.Bands), make([]uint32, mh.Bands)
				mh.BandKeys(a, 0, ka)
				mh.BandKeys(b, 0, kb)
				for i := range ka {
					if ka[i] == kb[i] {
						bandHits++
						break
					}
				}
			}
			agree /= trials
			if math.Abs(agree-j) > 0.03 {
				t.Errorf("J = %.3f: signatures agree on %.3f of values", j, agree)
			}
			want := CandidateProbability(j, mh.Bands, mh.Rows)
			got := float64(bandHits) / trials
			if math.Abs(got-want) > 0.08 {
				t.Errorf("J = %.3f: candidate rate %.3f, S-curve %.3f", j, got, want)
			}
		})
	}
}

// TestSignatureIgnoresRepeatsAndOrder: a set's signature depends on its
// members only.
func TestSignatureIgnoresRepeatsAndOrder(t *testing.T) {
	mh, _ := NewMinHasher(ShingleChar, 5, 16, 6)
	x := []uint64{5, 1, 9, 1, 5, 77}
	y := []uint64{77, 9, 5, 1}
	a, b := make([]uint32, mh.Perms()), make([]uint32, mh.Perms())
	if !mh.Signature(x, a) || !mh.Signature(y, b) {
		t.Fatal("no signature")
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: %d vs %d", i, a[i], b[i])
		}
	}
	if mh.Signature(nil, a) {
		t.Error("an empty set has a signature")
	}
}

// Densification fills every empty bin from the first bin on its probe
// sequence that was non-empty as hashed, for signatures that fit the
// stack bitset and for larger ones.
func TestSignatureDensifiesFromHashedBins(t *testing.T) {
	for _, br := range [][2]int{{16, 6}, {64, 4}, {40, 8}, {100, 100}} {
		mh, err := NewMinHasher(ShingleChar, 5, br[0], br[1])
		if err != nil {
			t.Fatal(err)
		}
		k := uint64(mh.Perms())
		for _, n := range []int{1, 2, 3, 5, 9, 12, 17, 40, 2000} {
			shingles := make([]uint64, n)
			for i := range shingles {
				shingles[i] = uint64(i)*0x9e3779b97f4a7c15 + 7
			}
			// The bins as hashed, by the definition in Signature's comment.
			raw := make([]uint32, k)
			for i := range raw {
				raw[i] = math.MaxUint32
			}
			for _, h := range shingles {
				v := mix64(h ^ mh.seed)
				bin := (v >> 32) * k >> 32
				raw[bin] = min(raw[bin], min(uint32(v), math.MaxUint32-1))
			}
			want := slices.Clone(raw)
			for i := range want {
				if raw[i] != math.MaxUint32 {
					continue
				}
				for _, j := range mh.probes[i][1:] {
					if raw[j] != math.MaxUint32 {
						want[i] = raw[j]
						break
					}
				}
			}
			got := make([]uint32, k)
			if !mh.Signature(shingles, got) {
				t.Fatal("no signature")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d×%d bins, %d shingles: signature differs from the definition", br[0], br[1], n)
			}
			if slices.Contains(got, math.MaxUint32) {
				t.Fatalf("%d×%d bins, %d shingles: a bin left empty", br[0], br[1], n)
			}
		}
	}
}

// TestRadixSort compares radixSort with a stable sort on the same bits.
func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		n    int
		mask uint64
		lo   uint
	}{
		{0, ^uint64(0), 0}, {1, ^uint64(0), 0}, {5, 0xff, 0}, {1000, ^uint64(0), 0},
		{3000, 1<<54 - 1, 0}, {3000, ^uint64(0), 32}, {3000, 0xf<<32 | 0xffff, 32}, {100, 0, 0},
		{5000, ^uint64(0), 0}, {20000, 1<<54 - 1, 0}, {20000, ^uint64(0), 32}, {70, ^uint64(0), 0},
	} {
		x := make([]uint64, c.n)
		for i := range x {
			x[i] = r.Uint64() & c.mask
		}
		want := slices.Clone(x)
		slices.SortStableFunc(want, func(a, b uint64) int { return cmp.Compare(a>>c.lo, b>>c.lo) })
		radixSort(x, nil, c.lo)
		if !slices.Equal(x, want) {
			t.Errorf("n %d, mask %x, lo %d: radixSort differs from a stable sort", c.n, c.mask, c.lo)
		}
	}
}

// TestSortHashes compares sortHashes with slices.Sort on mixed hashes, on
// values that share their top bits (crowded buckets) and on short slices.
func TestSortHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var buf []uint64
	for _, c := range []struct {
		n    int
		mask uint64
	}{{0, ^uint64(0)}, {5, ^uint64(0)}, {63, ^uint64(0)}, {64, ^uint64(0)}, {65, 0xff}, {127, ^uint64(0)}, {128, ^uint64(0)}, {1000, ^uint64(0)},
		{4099, ^uint64(0)}, {3000, 0xffff}, {3000, 0}, {50000, ^uint64(0)}} {
		x := make([]uint64, c.n)
		for i := range x {
			x[i] = r.Uint64() & c.mask
		}
		if c.n > 10 {
			x[3] = x[7] // repeats stay
		}
		want := slices.Clone(x)
		slices.Sort(want)
		buf = sortHashes(x, buf)
		if !slices.Equal(x, want) {
			t.Errorf("n %d, mask %x: sortHashes differs from slices.Sort", c.n, c.mask)
		}
	}
}

// BenchmarkShingleSort sorts 1,000 shingle hashes with pdqsort and by
// distribution.
func BenchmarkShingleSort(b *testing.B) {
	for _, n := range []int{24, 48, 64, 96, 128, 1000} {
		r := rand.New(rand.NewPCG(1, 1))
		src := make([]uint64, n)
		for i := range src {
			src[i] = r.Uint64()
		}
		x := make([]uint64, len(src))
		b.Run(fmt.Sprintf("pdqsort/%d", n), func(b *testing.B) {
			for range b.N {
				copy(x, src)
				slices.Sort(x)
			}
		})
		b.Run(fmt.Sprintf("distribution/%d", n), func(b *testing.B) {
			var buf []uint64
			for range b.N {
				copy(x, src)
				buf = sortHashes(x, buf)
			}
		})
	}
}

// TestJaccard checks the merge against a map count on random sets that
// share some members.
func TestJaccard(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 300 {
		seen := map[uint64]int{}
		var a, b []uint64
		for range r.IntN(200) {
			v := r.Uint64() % 500
			if r.IntN(2) == 0 {
				a = append(a, v)
			} else {
				b = append(b, v)
			}
			if r.IntN(3) == 0 {
				a, b = append(a, v), append(b, v)
			}
		}
		a, _ = ShingleSet(a, nil)
		b, _ = ShingleSet(b, nil)
		for _, v := range a {
			seen[v] |= 1
		}
		for _, v := range b {
			seen[v] |= 2
		}
		inter := 0
		for _, m := range seen {
			if m == 3 {
				inter++
			}
		}
		want := 1.0
		if len(seen) > 0 {
			want = float64(inter) / float64(len(seen))
		}
		if got := Jaccard(a, b); math.Abs(got-want) > 1e-12 {
			t.Fatalf("Jaccard = %v, want %v (|a| %d, |b| %d)", got, want, len(a), len(b))
		}
	}
}

// jaccardPair makes two 500-shingle sets sharing shared values.
func jaccardPair(shared int) (x, y []uint64) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := range 500 {
		v := r.Uint64()
		x = append(x, v)
		if i < shared {
			y = append(y, v)
		} else {
			y = append(y, r.Uint64())
		}
	}
	x, _ = ShingleSet(x, nil)
	y, _ = ShingleSet(y, nil)
	return x, y
}

// BenchmarkJaccard is one verification of two 500-shingle sets of Jaccard
// 0.6.
func BenchmarkJaccard(b *testing.B) {
	x, y := jaccardPair(375)
	for range b.N {
		Jaccard(x, y)
	}
}

// BenchmarkJaccardFloor checks a pair of Jaccard 0.33 against 0.6, as most
// of the demo's candidate pairs are (BenchmarkJaccardFloor/none: the same
// pair merged whole).
func BenchmarkJaccardFloor(b *testing.B) {
	x, y := jaccardPair(250)
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			jaccardFloor(x, y, 0.6)
		}
	})
	b.Run("none", func(b *testing.B) {
		for range b.N {
			Jaccard(x, y)
		}
	})
}

// TestUnionFind checks the union-find against connected components found
// by a plain search: the same groups, each rooted at its smallest row.
func TestUnionFind(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + r.IntN(60)
		u := NewUnionFind(uint32(n))
		adj := make([][]int, n)
		for range r.IntN(2 * n) {
			a, b := r.IntN(n), r.IntN(n)
			u.Union(uint32(a), uint32(b))
			adj[a], adj[b] = append(adj[a], b), append(adj[b], a)
		}
		comp := make([]int, n)
		for i := range comp {
			comp[i] = -1
		}
		for i := range n { // i is the smallest row of each component found from it
			if comp[i] >= 0 {
				continue
			}
			stack := []int{i}
			comp[i] = i
			for len(stack) > 0 {
				x := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for _, y := range adj[x] {
					if comp[y] < 0 {
						comp[y] = i
						stack = append(stack, y)
					}
				}
			}
		}
		for i := range n {
			if got := u.Find(uint32(i)); int(got) != comp[i] {
				t.Fatalf("trial %d: find(%d) = %d, want %d", trial, i, got, comp[i])
			}
		}
	}
}

// BenchmarkSignature is the MinHash signature alone, over a 500-shingle set.
func BenchmarkSignature(b *testing.B) {
	mh, err := NewMinHasher(ShingleChar, 5, 16, 8)
	if err != nil {
		b.Fatal(err)
	}
	sh := make([]uint64, 500)
	for i := range sh {
		sh[i] = mix64(uint64(i))
	}
	sig := make([]uint32, mh.Perms())
	b.SetBytes(int64(len(sh)))
	for b.Loop() {
		mh.Signature(sh, sig)
	}
}
