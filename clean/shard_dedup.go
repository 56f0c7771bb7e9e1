package clean

import (
	"bufio"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// ShardDedup is phase 2 of a sharded clean over n scan tasks: see ShuffleDir.
// It removes clean/, removed/ and reports/clean.json of an earlier run
// before the filter tasks write them again.
func ShardDedup(o Options, n int) error {
	r, err := newRun(o)
	if err != nil {
		return err
	}
	scans, err := readScans(o.Workspace, n)
	if err != nil {
		return err
	}
	if err := r.removeStale(); err != nil {
		return err
	}
	out := dedupDir(o.Workspace)
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for _, k := range schemas.Kinds {
		if err := phasesFor(k).dedup(r, k, scans, filepath.Join(out, string(k))); err != nil {
			return err
		}
	}
	res := &dedupResult{Shards: n, NearDedup: r.report.NearDedup, Tasks: assignSources(o.Sources, scans, n)}
	return atomicfile.WriteJSON(filepath.Join(out, "dedup.json"), res)
}

// assignSources gives each source to a filter task: the largest sources
// first, each to the task with the fewest rows so far.
func assignSources(sources []Source, scans []*scanResult, n int) map[string]int {
	in := map[string]int64{}
	for _, s := range scans {
		for name, c := range s.Report.Sources {
			in[name] += c.In
		}
	}
	order := make([]int, len(sources))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := in[sources[a].Name], in[sources[b].Name]
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	load := make([]int64, n)
	tasks := map[string]int{}
	for _, i := range order {
		t := 0
		for j := range load {
			if load[j] < load[t] {
				t = j
			}
		}
		tasks[sources[i].Name] = t
		load[t] += in[sources[i].Name]
	}
	return tasks
}

// keyRecord is one survivor's entry in keys.bin.
type keyRecord struct {
	key, id uint64
	local   int64
	banded  bool
}

// readKeys streams a keys.bin file.
func readKeys(path string, fn func(keyRecord) error) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var rec [24]byte
	for {
		if _, err := io.ReadFull(br, rec[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		flags := binary.LittleEndian.Uint64(rec[16:])
		kr := keyRecord{key: binary.LittleEndian.Uint64(rec[0:]), id: binary.LittleEndian.Uint64(rec[8:]), local: int64(flags >> 1), banded: flags&1 == 1}
		if err := fn(kr); err != nil {
			return err
		}
	}
}

// Decisions in dedup/<kind>/decisions.bin, one per survivor in row order:
// a code and its detail (the cluster root's id, "" for the row's own; or
// the id of the row it duplicates).
const (
	decideKeep byte = iota
	decideDuplicate
	decideNear
)

const noOrdinal = ^uint32(0)

// dedupKind is phase 2 for one kind.
func dedupKind[T any, P record[T]](r *run, k schemas.Kind, scans []*scanResult, out string) error {
	var total int64
	for _, s := range scans {
		total += s.Kinds[k].Staged
	}
	if total == 0 {
		return nil
	}
	// Exact dedup in row order; every survivor left gets the next ordinal.
	exactOn := enabled(r.cfg.Exact.Enabled)
	exact := map[uint64]uint64{}
	ords := make([][]uint32, len(scans))
	dupOf := map[int64]uint64{} // survivor number (in row order) → id bits of the row kept
	var next uint32
	var row int64
	for i, s := range scans {
		ords[i] = make([]uint32, 0, s.Kinds[k].Staged)
		err := readKeys(filepath.Join(scanDir(r.opts.Workspace, i), string(k), "keys.bin"), func(kr keyRecord) error {
			if exactOn {
				if kept, dup := exact[kr.key]; dup {
					dupOf[row] = kept
					ords[i] = append(ords[i], noOrdinal)
					row++
					return nil
				}
				exact[kr.key] = kr.id
			}
			if kr.banded && r.report.NearDedup != nil {
				r.report.NearDedup.Indexed++
			}
			ords[i] = append(ords[i], next)
			next++
			row++
			return nil
		})
		if err != nil {
			return err
		}
	}
	exact = nil
	var near *nearResult
	if r.mh != nil && slices.Contains(r.cfg.Near.Kinds, k) {
		var err error
		if near, err = shardedNear[T, P](r, k, scans, ords, next); err != nil {
			return err
		}
	}
	dw, err := newFrameFile(filepath.Join(out, "decisions.bin"))
	if err != nil {
		return err
	}
	defer dw.f.Close()
	row = 0
	for i := range scans {
		for _, o := range ords[i] {
			code, detail := decideKeep, ""
			switch {
			case o == noOrdinal:
				code, detail = decideDuplicate, idText(dupOf[row])
			case near != nil:
				if root, dup := near.clusters.DuplicateOf(o); dup {
					code, detail = decideNear, near.ids[root]
				} else if root := near.clusters.ClusterOf(o); root != o {
					detail = near.ids[root]
				}
			}
			if err := dw.w.WriteByte(code); err != nil {
				return err
			}
			if err := dw.frame([]byte(detail)); err != nil {
				return err
			}
			row++
		}
	}
	return dw.close()
}

// shardedNear finds the candidate pairs band by band from the scan tasks'
// sorted band files, and verifies them as nearDedup does.
func shardedNear[T any, P record[T]](r *run, k schemas.Kind, scans []*scanResult, ords [][]uint32, rows uint32) (*nearResult, error) {
	stats := r.report.NearDedup
	var pairs []uint64
	for b := range r.mh.Bands {
		var err error
		if pairs, err = mergeBand(r, k, len(scans), b, ords, pairs); err != nil {
			return nil, err
		}
	}
	pairs = dedup.MergePairs(pairs, nil)
	stats.Candidates += int64(len(pairs))
	cl, err := dedup.NewClusterer(pairs, rows, r.cfg.Near.Threshold, r.cfg.Near.ClusterThreshold)
	if err != nil {
		return nil, fmt.Errorf("clean %s: %w", k, err)
	}
	pairs = nil
	ids := make([]string, rows)
	if cl.RowsInPairs() > 0 {
		pull, stop := iter.Pull2(shardFrames(r.opts.Workspace, k, scans))
		defer stop()
		nextFrame := func() (*shardCandidates, error) {
			for {
				sf, err, ok := pull()
				if !ok || err != nil {
					return nil, err
				}
				sc := &shardCandidates{frame: sf.frame, ords: ords[sf.shard][sf.frame.ord : sf.frame.ord+uint32(sf.frame.rows)]}
				if slices.ContainsFunc(sc.ords, func(o uint32) bool { return o != noOrdinal && cl.InPair(o) }) {
					return sc, nil
				}
			}
		}
		work := func(c *shardCandidates) { shingleShard[T, P](r, cl, c) }
		verify := func(c *shardCandidates) error { return addCandidates(cl, ids, c.rows, c.err) }
		if err := mapOrdered(r.workers, nextFrame, work, verify); err != nil {
			return nil, err
		}
	}
	stats.Duplicates += cl.Duplicates
	stats.Clustered += cl.Clustered
	return &nearResult{clusters: cl.Clusters(), ids: ids}, nil
}

// shardCandidates is a staging frame of a scan task and the global
// ordinal of each of its rows (noOrdinal: an exact duplicate).
type shardCandidates struct {
	frame *stageFrame
	ords  []uint32
	rows  []candidate
	err   error
}

func shingleShard[T any, P record[T]](r *run, cl *dedup.Clusterer, c *shardCandidates) {
	rows, err := decodeFrame[T](c.frame)
	if err != nil {
		c.err = err
		return
	}
	var runes []rune
	var buf, shingles []uint64
	var fields []string
	for i := range rows {
		o := c.ords[i]
		if o == noOrdinal || !cl.InPair(o) {
			continue
		}
		p := P(&rows[i].Row)
		fields = dedup.KeyFields(p, fields[:0])
		var set []uint64
		shingles, runes = r.mh.Shingles(fields, shingles[:0], runes)
		set, buf = dedup.ShingleSet(shingles, buf)
		group := uint64(0)
		if r.eval[p.RecordSource()] {
			group = 1
		}
		c.rows = append(c.rows, candidate{ord: o, id: strings.Clone(p.RecordID()), group: group, set: slices.Clone(set)})
	}
	c.frame = nil
}

// mergeBand appends to pairs the candidate pairs of band b: one merge of
// the scan tasks' sorted band files by bucket key (ties in task order, so
// in row order), with each local survivor number turned into its global
// ordinal and exact duplicates left out. A bucket's rows are paired with
// its first, as BandPairs does.
func mergeBand(r *run, k schemas.Kind, n, b int, ords [][]uint32, pairs []uint64) ([]uint64, error) {
	bufSize := int(min(max(r.memoryBudget()/int64(64*max(n, 1)), 64<<10), 4<<20))
	h := &bandHeap{}
	for i := range n {
		f, err := os.Open(bandPath(filepath.Join(scanDir(r.opts.Workspace, i), string(k)), b))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		c := &bandCursor{shard: i, r: bufio.NewReaderSize(f, bufSize), path: f.Name()}
		if ok, err := c.next(ords[i]); err != nil {
			return nil, err
		} else if ok {
			h.cs = append(h.cs, c)
		}
	}
	heap.Init(h)
	var bucket uint32
	first := noOrdinal
	for h.Len() > 0 {
		c := h.cs[0]
		if first == noOrdinal || c.key != bucket {
			bucket, first = c.key, c.ord
		} else {
			pairs = append(pairs, uint64(first)<<32|uint64(c.ord))
		}
		ok, err := c.next(ords[c.shard])
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return pairs, nil
}

// bandCursor reads one scan task's band file: its current entry's bucket
// key and global ordinal.
type bandCursor struct {
	shard int
	r     *bufio.Reader
	path  string
	key   uint32
	ord   uint32
}

// next moves to the next entry that is not an exact duplicate.
func (c *bandCursor) next(ords []uint32) (bool, error) {
	var b [8]byte
	for {
		if _, err := io.ReadFull(c.r, b[:]); err == io.EOF {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("%s: %w", c.path, err)
		}
		e := binary.LittleEndian.Uint64(b[:])
		local := uint32(e)
		if int(local) >= len(ords) {
			return false, fmt.Errorf("%s: row %d beyond the task's %d survivors", c.path, local, len(ords))
		}
		if o := ords[local]; o != noOrdinal {
			c.key, c.ord = uint32(e>>32), o
			return true, nil
		}
	}
}

type bandHeap struct{ cs []*bandCursor }

func (h *bandHeap) Len() int { return len(h.cs) }
func (h *bandHeap) Less(i, j int) bool {
	a, b := h.cs[i], h.cs[j]
	if a.key != b.key {
		return a.key < b.key
	}
	return a.shard < b.shard
}
func (h *bandHeap) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *bandHeap) Push(x any)    { h.cs = append(h.cs, x.(*bandCursor)) }
func (h *bandHeap) Pop() any {
	x := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return x
}

// taskFrames is stageFrames of a scan task's staging file, which a task
// that staged no row of the kind did not write.
func taskFrames(path string, counts []int) iter.Seq2[*stageFrame, error] {
	if len(counts) == 0 {
		return func(func(*stageFrame, error) bool) {}
	}
	return stageFrames(path, counts)
}

// shardFrame is a staging frame of scan task shard; frame.ord is the
// task's local number of its first row.
type shardFrame struct {
	shard int
	frame *stageFrame
}

// shardFrames reads every scan task's staging frames of kind k, in task
// order.
func shardFrames(ws workspace.Dir, k schemas.Kind, scans []*scanResult) iter.Seq2[shardFrame, error] {
	return func(yield func(shardFrame, error) bool) {
		for i, s := range scans {
			m := s.Kinds[k]
			if len(m.Frames) == 0 {
				continue
			}
			counts := make([]int, len(m.Frames))
			for j, f := range m.Frames {
				counts[j] = f.Rows
			}
			for fr, err := range stageFrames(filepath.Join(scanDir(ws, i), string(k), "stage.bin"), counts) {
				if !yield(shardFrame{shard: i, frame: fr}, err) || err != nil {
					return
				}
			}
		}
	}
}
