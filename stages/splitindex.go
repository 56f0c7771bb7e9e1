package stages

import (
	"bufio"
	"cmp"
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

	mu    sync.Mutex
	m     map[uint64]splitEntry
	bytes int64
	runs  []string
}

type splitEntry struct {
	split int8
	key   string
}

func newSplitIndex(what string, sb *spillBudget) *splitIndex {
	return &splitIndex{what: what, seed: maphash.MakeSeed(), sb: sb, m: map[uint64]splitEntry{}}
}

// entryBytes is about what one entry takes in the map.
func entryBytes(key string) int64 { return int64(48 + len(key)) }

func (x *splitIndex) conflict(key string, a, b int8) error {
	if a > b {
		a, b = b, a
	}
	return &LeakageError{File: "stages", Row: -1, Err: fmt.Errorf("%w: %s %q is in %s and %s", ErrLeak, x.what, key, schemas.Splits[a], schemas.Splits[b])}
}

// add notes that key has a row in split.
func (x *splitIndex) add(key string, split int8) error {
	h := maphash.String(x.seed, key)
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.m[h]; ok {
		if e.split != split && e.key == key {
			return x.conflict(key, e.split, split)
		}
		if e.key == key {
			return nil
		}
	}
	x.m[h] = splitEntry{split: split, key: key}
	n := entryBytes(key)
	x.bytes += n
	if x.bytes > x.sb.limit/4 { // 1/128 of the budget each
		return x.spill()
	}
	return nil
}

// spill writes the map as a sorted run: hash, split, key length, key.
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
	var hdr [8 + 1 + binary.MaxVarintLen64]byte
	for _, h := range hs {
		e := x.m[h]
		binary.BigEndian.PutUint64(hdr[:8], h)
		hdr[8] = byte(e.split)
		n := binary.PutUvarint(hdr[9:], uint64(len(e.key)))
		w.Write(hdr[:9+n])
		w.WriteString(e.key)
	}
	err = errors.Join(w.Flush(), f.Close())
	x.runs = append(x.runs, f.Name())
	if err != nil {
		return fmt.Errorf("spill %s index: %w", x.what, err)
	}
	x.sb.spills.Add(1)
	clear(x.m)
	x.bytes = 0
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
	var last *splitEntry
	var lastHash uint64
	for len(h) > 0 {
		r := h[0]
		e := r.e
		if last != nil && r.h == lastHash && last.key == e.key && last.split != e.split {
			return x.conflict(e.key, last.split, e.split)
		}
		lastHash, last = r.h, &splitEntry{split: e.split, key: e.key}
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
	r *bufio.Reader
	h uint64
	e splitEntry
}

func (r *runReader) next() (bool, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, err
	}
	key := make([]byte, n)
	if _, err := io.ReadFull(r.r, key); err != nil {
		return false, err
	}
	r.h, r.e = binary.BigEndian.Uint64(hdr[:8]), splitEntry{split: int8(hdr[8]), key: string(key)}
	return true, nil
}

// runHeap orders run readers by their current hash, then key.
type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(h[i].h, h[j].h), cmp.Compare(h[i].e.key, h[j].e.key)) < 0
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(v any)   { *h = append(*h, v.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
