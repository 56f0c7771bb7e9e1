package dedup

import "slices"

// LSHIndex holds, per band, one 8-byte entry (32-bit bucket key, 32-bit row
// ordinal) for every row: Bands×8 bytes per row and nothing else — no text,
// no signature. Entries are sorted once all rows are in; rows sharing a
// bucket become candidate pairs.
type LSHIndex struct {
	bands [][]uint64
}

// NewLSHIndex makes an index of the given number of bands, with room for
// rows rows, so the fixed cost per row is not doubled by slice growth.
func NewLSHIndex(bands int, rows int64) *LSHIndex {
	x := &LSHIndex{bands: make([][]uint64, bands)}
	for b := range x.bands {
		x.bands[b] = make([]uint64, 0, rows)
	}
	return x
}

// Add records the band keys of row ord.
func (x *LSHIndex) Add(ord uint32, keys []uint32) {
	for b, k := range keys {
		x.bands[b] = append(x.bands[b], uint64(k)<<32|uint64(ord))
	}
}

// BytesPerRow is the index's fixed cost per row (before slice growth slack).
func (x *LSHIndex) BytesPerRow() int { return 8 * len(x.bands) }

// Candidates returns the distinct candidate pairs (a < b, packed a<<32|b),
// sorted. Every row of a bucket is paired with the bucket's first row only
// (a star, not a clique), so a bucket of k rows costs k−1 pairs; union-find
// over verified pairs still joins the whole group. The index is freed.
func (x *LSHIndex) Candidates() []uint64 {
	var pairs, scratch []uint64
	for b, entries := range x.bands {
		pairs, scratch = BandPairs(entries, pairs, scratch)
		x.bands[b] = nil
	}
	return MergePairs(pairs, scratch)
}

// MergePairs sorts candidate pairs gathered from several bands (BandPairs,
// or a sharded run's band merge) and drops the repeats: the pairs
// Candidates returns. scratch is reused space.
func MergePairs(pairs, scratch []uint64) []uint64 {
	radixSort(pairs, scratch, 0)
	return slices.Compact(pairs)
}

// SortBandEntries sorts one band's entries (bucket key<<32 | ordinal), in
// ordinal order, by bucket key alone, keeping each bucket's rows in
// ordinal order: how a sharded run writes its band files, so that one
// merge of the shards' files (ties broken by shard) is a band sorted as
// BandPairs sorts it. scratch is reused space, returned.
func SortBandEntries(entries, scratch []uint64) []uint64 {
	return radixSort(entries, scratch, 32)
}

// BandPairs appends to dst the candidate pairs of one band (a<<32|b, a <
// b, unsorted, possibly repeated): entries are the band's (bucket key<<32 |
// ordinal) in ordinal order, which it sorts in place. A sharded index would
// gather one band's entries from every shard and call it per band. scratch
// is reused space, returned.
func BandPairs(entries, dst, scratch []uint64) ([]uint64, []uint64) {
	// Entries are in row order: a stable sort by bucket key alone leaves
	// each bucket's rows in that order.
	scratch = radixSort(entries, scratch, 32)
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j]>>32 == entries[i]>>32 {
			first := uint32(entries[i])
			dst = append(dst, uint64(first)<<32|uint64(uint32(entries[j])))
			j++
		}
		i = j
	}
	return dst, scratch
}
