package dedup

import (
	"math/bits"
	"slices"
)

// radixDigit is the widest counting pass of radixSort: 2,048 counters,
// small enough to stay in L1 cache. Short slices use 8-bit digits, where
// clearing and summing the counters would otherwise dominate.
const radixDigit = 11

// radixSort sorts x in ascending order of bits [lo, 64) of each value,
// stably, so values equal in those bits keep their order (the LSH index
// appends entries in row order and sorts by bucket key alone). scratch is
// reused when it has room, and returned. Hand-written: the standard
// library's sorts are comparison sorts, and the index sorts millions of
// entries on clean's serial path (pdqsort there was 2.5% of clean's CPU on
// the 1GB demo); no kept Go library offers an LSD radix sort.
func radixSort(x, scratch []uint64, lo uint) []uint64 {
	if len(x) < 2 {
		return scratch
	}
	var all uint64
	for _, v := range x {
		all |= v
	}
	hi := uint(bits.Len64(all >> lo)) // bits above lo that any value uses
	if cap(scratch) < len(x) {
		scratch = make([]uint64, len(x))
	}
	digit := uint(radixDigit)
	if len(x) < 1<<12 {
		digit = 8
	}
	mask := uint64(1)<<digit - 1
	src, dst := x, scratch[:len(x)]
	var counters [1 << radixDigit]int
	count := counters[:1<<digit]
	for shift := lo; shift < lo+hi; shift += digit {
		clear(count)
		for _, v := range src {
			count[(v>>shift)&mask]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range src {
			d := (v >> shift) & mask
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &x[0] {
		copy(x, src)
	}
	return scratch
}

// sortHashes sorts x, a slice of well-mixed 64-bit hashes (shingle hashes
// are), by distributing it over about len(x) buckets of the top bits and
// insertion-sorting each bucket, which holds one or two values on
// average: two linear passes instead of pdqsort's n·log n comparisons
// (shingle-set sorting was 6% of clean's CPU on the 1GB demo). A bucket
// that is crowded anyway (values that are not well mixed) is sorted with
// slices.Sort, so the worst case stays n·log n. buf is scratch space,
// returned for reuse. Hand-written: no kept library sorts by distribution.
func sortHashes(x []uint64, buf []uint64) []uint64 {
	n := len(x)
	if n < 64 { // below 64 hashes pdqsort is as fast (BenchmarkShingleSort)
		slices.Sort(x)
		return buf
	}
	shift := 64 - uint(bits.Len(uint(n))-1) // about n/2 to n buckets
	buckets := 1 << (64 - shift)
	if cap(buf) < n+buckets+1 {
		buf = make([]uint64, n+buckets+1)
	}
	out, start := buf[:n], buf[n:n+buckets+1]
	clear(start)
	for _, v := range x {
		start[v>>shift+1]++
	}
	for i := 1; i <= buckets; i++ {
		start[i] += start[i-1]
	}
	for _, v := range x {
		b := v >> shift
		out[start[b]] = v
		start[b]++
	}
	// start[b] is now the end of bucket b, which begins at start[b-1].
	lo := uint64(0)
	for b := range buckets {
		hi := start[b]
		bucket := out[lo:hi]
		if len(bucket) > 16 {
			slices.Sort(bucket)
		} else {
			for i := 1; i < len(bucket); i++ {
				for j := i; j > 0 && bucket[j] < bucket[j-1]; j-- {
					bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
				}
			}
		}
		lo = hi
	}
	copy(x, out)
	return buf
}
