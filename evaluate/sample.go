package evaluate

import (
	"container/heap"
	"encoding/binary"
	"hash/fnv"
	"iter"
	"slices"
)

// Sample keeps at most n rows of seq, chosen deterministically: the n rows
// whose ids hash lowest under seed, returned in that hash order. The choice
// depends only on ids and seed, not on file order or on n's other rows, so
// a larger n keeps every row a smaller n kept. n <= 0 keeps every row (still
// in hash order). Memory holds n rows, never the whole file.
func Sample[T any](seq iter.Seq2[T, error], n int, seed uint64, id func(T) string) (rows []T, total int, err error) {
	h := &rowHeap[T]{}
	for r, err := range seq {
		if err != nil {
			return nil, total, err
		}
		total++
		k := rowKey(seed, id(r))
		if n <= 0 || h.Len() < n {
			heap.Push(h, keyed[T]{k, r})
		} else if k < h.items[0].key {
			h.items[0] = keyed[T]{k, r}
			heap.Fix(h, 0)
		}
	}
	items := h.items
	slices.SortFunc(items, func(a, b keyed[T]) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	rows = make([]T, len(items))
	for i, it := range items {
		rows[i] = it.row
	}
	return rows, total, nil
}

func rowKey(seed uint64, id string) uint64 {
	f := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	f.Write(b[:])
	f.Write([]byte(id))
	return f.Sum64()
}

type keyed[T any] struct {
	key uint64
	row T
}

// rowHeap is a max-heap on key, so its top is the row to evict.
type rowHeap[T any] struct{ items []keyed[T] }

func (h *rowHeap[T]) Len() int           { return len(h.items) }
func (h *rowHeap[T]) Less(i, j int) bool { return h.items[i].key > h.items[j].key }
func (h *rowHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rowHeap[T]) Push(x any)         { h.items = append(h.items, x.(keyed[T])) }
func (h *rowHeap[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
