package clean

import "math/bits"

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
