package stages

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/chimed/chimed/schemas"
)

// splitIndex proves that no key (a group key, a cluster) has rows in two
// splits. It needs a view of every key at once, which grows with the
// corpus, so past its share of the memory budget it writes its entries as
// a run sorted by key hash to ws/.chimed/tmp and starts afresh; finish
// merges the runs and finds a key in two splits there. Safe for use by
// several kinds at once.
type splitIndex struct {
	what string
	seed maphash.Seed
	sb   *spillBudget

	mu   sync.Mutex
	m    map[uint64]int8 // key hash → split
	runs []string
}

// entryBytes is about what one entry takes in the map.
const entryBytes = 48 // a map entry and its share of the buckets

func newSplitIndex(what string, sb *spillBudget) *splitIndex {
	return &splitIndex{what: what, seed: maphash.MakeSeed(), sb: sb, m: map[uint64]int8{}}
}

// conflict names a key in two splits: by itself when it is at hand, else
// (found merging runs, which keep hashes only) by its hash.
func (x *splitIndex) conflict(key string, h uint64, a, b int8) error {
	if a > b {
		a, b = b, a
	}
	name := fmt.Sprintf("%q", key)
	if key == "" {
		name = fmt.Sprintf("with hash %016x", h)
	}
	return &LeakageError{File: "stages", Row: -1, Err: fmt.Errorf("%w: %s %s is in %s and %s", ErrLeak, x.what, name, schemas.Splits[a], schemas.Splits[b])}
}

// add notes that key has a row in split. Keys are told apart by a 64-bit
// hash, as CheckLeakage tells them apart.
func (x *splitIndex) add(key string, split int8) error {
	h := maphash.String(x.seed, key)
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, ok := x.m[h]; ok {
		if s != split {
			return x.conflict(key, h, s, split)
		}
		return nil
	}
	x.m[h] = split
	if int64(len(x.m))*entryBytes > x.sb.limit/4 { // 1/128 of the budget each
		return x.spill()
	}
	return nil
}

// spill writes the map as a run sorted by hash: hash, split.
func (x *splitIndex) spill() error {
	if len(x.m) == 0 {
		return nil
	}
	hs := make([]uint64, 0, len(x.m))
	for h := range x.m {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	if err := os.MkdirAll(x.sb.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(x.sb.dir, "stages-"+x.what+"-run-*")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	var rec [9]byte
	for _, h := range hs {
		binary.BigEndian.PutUint64(rec[:8], h)
		rec[8] = byte(x.m[h])
		w.Write(rec[:])
	}
	err = errors.Join(w.Flush(), f.Close())
	x.runs = append(x.runs, f.Name())
	if err != nil {
		return fmt.Errorf("spill %s index: %w", x.what, err)
	}
	x.sb.spills.Add(1)
	clear(x.m)
	return nil
}

// finish checks the spilled runs against each other and removes them.
// The keys still in memory were checked as they came.
func (x *splitIndex) finish() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	defer x.remove()
	if len(x.runs) == 0 {
		return nil
	}
	if err := x.spill(); err != nil {
		return err
	}
	var h runHeap
	for _, p := range x.runs {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		r := &runReader{r: bufio.NewReaderSize(f, 1<<16)}
		if ok, err := r.next(); err != nil {
			return err
		} else if ok {
			h = append(h, r)
		}
	}
	heap.Init(&h)
	var last runReader
	for len(h) > 0 {
		r := h[0]
		if last.r != nil && r.h == last.h && r.split != last.split {
			return x.conflict("", r.h, last.split, r.split)
		}
		last = *r
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}

// remove drops the runs (after finish, or when the build fails).
func (x *splitIndex) remove() {
	for _, p := range x.runs {
		os.Remove(p)
	}
	x.runs = nil
}

type runReader struct {
	r     *bufio.Reader
	h     uint64
	split int8
}

func (r *runReader) next() (bool, error) {
	var rec [9]byte
	if _, err := io.ReadFull(r.r, rec[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	r.h, r.split = binary.BigEndian.Uint64(rec[:8]), int8(rec[8])
	return true, nil
}

// runHeap orders run readers by their current hash.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].h < h[j].h }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(v any)        { *h = append(*h, v.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
