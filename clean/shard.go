package clean

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// ShuffleDir: a sharded clean runs the work of Run as four phases over a shuffle folder
// of files (ShuffleDir), datatrove's way, so that each can be its own
// array task on shared storage:
//
//  1. Scan (n tasks): a task takes a contiguous share of each kind's
//     rows (in the order Run reads them; a file may be cut), normalises, masks
//     and filters its rows and checks them against the eval sets, as
//     pass 1 does. It writes the rows removed so far, the survivors as
//     staging frames, each survivor's exact-dedup key, and per band a file
//     of its band keys sorted by bucket.
//  2. Dedup (one task): exact dedup over every shard's keys in row order;
//     then, band by band, one merge of the shards' sorted band files gives
//     the candidate pairs; the Clusterer verifies them by exact Jaccard in
//     row order (union-find). It writes each survivor's decision (kept with
//     its cluster id, or a duplicate of which row) and which filter task
//     writes each source.
//  3. Filter (n tasks): a task writes every clean/ and removed/ part of
//     the sources given to it, in Run's order, so the files are the bytes
//     one process writes.
//  4. Merge (one task): reports/clean.json from every task's counts.
//
// Memory per task: a scan holds its shard's band keys (8 bytes per band
// per row of its share); dedup holds the exact-dedup map (16 bytes a row
// plus map overhead), a global ordinal per survivor (4 bytes), the
// candidate pairs and the Clusterer (see dedup.Clusterer); a band merge
// holds one read buffer per shard; a filter holds a row group per source
// it writes.
//
// ShuffleDir is that folder; ShardMerge removes its data, an unsharded
// clean all of it.
func ShuffleDir(ws workspace.Dir) string { return ws.Path(".chimed", "shuffle", "clean") }

func scanDir(ws workspace.Dir, i int) string {
	return filepath.Join(ShuffleDir(ws), fmt.Sprintf("scan-%04d", i))
}

func dedupDir(ws workspace.Dir) string { return filepath.Join(ShuffleDir(ws), "dedup") }

func filterReport(ws workspace.Dir, i int) string {
	return filepath.Join(ShuffleDir(ws), fmt.Sprintf("filter-%04d.json", i))
}

// kindMeta is what a scan task wrote of one kind: the rows it read, its
// staging frames and its frames of removed rows, each with its row count
// and sources.
type kindMeta struct {
	Rows   int64       `json:"rows"`
	Staged int64       `json:"staged"`
	Frames []frameInfo `json:"frames"`
	Spill  []frameInfo `json:"spill"`
}

type frameInfo struct {
	Rows    int      `json:"rows"`
	Sources []string `json:"sources"`
}

// scanResult is scan-IIII/scan.json: the task's counts (in, and removed by
// the filters and decontamination) and its frames per kind.
type scanResult struct {
	Shards int                       `json:"shards"`
	Report *Report                   `json:"report"`
	Kinds  map[schemas.Kind]kindMeta `json:"kinds"`
}

// dedupResult is dedup/dedup.json: near-dedup's counts and the filter task
// of each source.
type dedupResult struct {
	Shards    int            `json:"shards"`
	NearDedup *NearStats     `json:"near_dedup,omitempty"`
	Tasks     map[string]int `json:"tasks"`
}

// spilled is a row a scan task removed, for removed/: Local is its place
// among the rows of its kind in the task's share.
type spilled struct {
	Local  int64
	ID     string
	Source string
	Reason string
	Detail string
	Record string
}

// kindPhases are the phases' functions for one kind's row type.
type kindPhases struct {
	scan   func(ctx context.Context, r *run, k schemas.Kind, files []inputFile, dir string) (kindMeta, error)
	dedup  func(r *run, k schemas.Kind, scans []*scanResult, out string) error
	filter func(r *run, k schemas.Kind, scans []*scanResult, mine map[string]bool, fw *filterWriters) error
}

func phasesOf[T any, P record[T]]() kindPhases {
	return kindPhases{scan: scanKind[T, P], dedup: dedupKind[T, P], filter: filterKind[T, P]}
}

func phasesFor(k schemas.Kind) kindPhases {
	switch k {
	case schemas.KindText:
		return phasesOf[schemas.Text]()
	case schemas.KindQA:
		return phasesOf[schemas.QA]()
	case schemas.KindKG:
		return phasesOf[schemas.Triple]()
	case schemas.KindDialogue:
		return phasesOf[schemas.Dialogue]()
	case schemas.KindPreference:
		return phasesOf[schemas.PreferencePair]()
	}
	return phasesOf[schemas.ExamQuestion]()
}

// shareOf is task i of n's share of a kind's files: the kind's rows, in
// the order Run reads them, cut into n contiguous runs of equal rows (a
// file may be cut), so the shares in task order are Run's order.
func shareOf(files []inputFile, i, n int) []inputFile {
	var total int64
	for _, f := range files {
		total += f.rows
	}
	lo, hi := total*int64(i)/int64(n), total*int64(i+1)/int64(n)
	var out []inputFile
	var before int64
	for _, f := range files {
		if a, b := max(lo, before), min(hi, before+f.rows); a < b {
			f.from, f.to = a-before, b-before
			out = append(out, f)
		}
		before += f.rows
	}
	return out
}

// readRange reads rows [from, to) of a Parquet file, seeking to the first.
func readRange[T any](path string, from, to int64) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		f, err := os.Open(path)
		if err != nil {
			yield(zero, err)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			yield(zero, err)
			return
		}
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			yield(zero, fmt.Errorf("%s: not a readable Parquet file: %w", path, err))
			return
		}
		r := parquet.NewGenericReader[T](pf)
		defer r.Close()
		if err := r.SeekToRow(from); err != nil {
			yield(zero, fmt.Errorf("%s: seek to row %d: %w", path, from, err))
			return
		}
		row := from
		for row < to {
			buf := make([]T, min(batchRows, to-row)) // fresh each time: rows handed out are never overwritten
			n, err := r.Read(buf)
			for i := range n {
				if !yield(buf[i], nil) {
					return
				}
			}
			row += int64(n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				yield(zero, fmt.Errorf("%s: row %d: %w", path, row, err))
				return
			}
			if n == 0 {
				break
			}
		}
		if row < to {
			yield(zero, fmt.Errorf("%s: ends at row %d, before row %d", path, row, to))
		}
	}
}

// ShardScan is phase 1 of a sharded clean, task i of n: see ShuffleDir.
func ShardScan(ctx context.Context, o Options, i, n int) (*Report, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	r.stageAll = true
	dir := scanDir(o.Workspace, i)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	inputs := map[schemas.Kind][]inputFile{}
	for _, k := range schemas.Kinds {
		if inputs[k], err = r.inputFiles(k); err != nil {
			return nil, err
		}
	}
	if err := r.indexEvalSets(inputs); err != nil {
		return nil, err
	}
	res := &scanResult{Shards: n, Report: r.report, Kinds: map[schemas.Kind]kindMeta{}}
	res.Report.NearDedup = nil
	for _, k := range schemas.Kinds {
		m, err := phasesFor(k).scan(ctx, r, k, shareOf(inputs[k], i, n), filepath.Join(dir, string(k)))
		if err != nil {
			return nil, err
		}
		res.Kinds[k] = m
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "scan.json"), res); err != nil {
		return nil, err
	}
	return r.report, nil
}

// scanKind is pass 1 over a task's share of one kind's files, without
// exact dedup, writing into dir (see ShuffleDir).
func scanKind[T any, P record[T]](ctx context.Context, r *run, k schemas.Kind, files []inputFile, dir string) (meta kindMeta, err error) {
	if len(files) == 0 {
		return meta, nil
	}
	stage, err := newStageWriter(dir)
	if err != nil {
		return meta, err
	}
	defer stage.Abort()
	spill, err := newFrameFile(filepath.Join(dir, "removed.bin"))
	if err != nil {
		return meta, err
	}
	defer spill.f.Close()
	keys, err := newFrameFile(filepath.Join(dir, "keys.bin"))
	if err != nil {
		return meta, err
	}
	defer keys.f.Close()
	near := r.mh != nil && slices.Contains(r.cfg.Near.Kinds, k)
	var bands [][]uint64
	if near {
		bands = make([][]uint64, r.mh.Bands)
	}
	var local int64
	var rec [24]byte
	var spillBuf []byte
	sink := func(b *batch[T]) error {
		var removed []spilled
		staged, stagedSrc, spillSrc := 0, map[string]bool{}, map[string]bool{}
		for i := range b.out {
			res := &b.out[i]
			p := P(&res.row)
			src := p.RecordSource()
			if _, ok := r.order[src]; !ok {
				return fmt.Errorf("%s: row %d: %w", b.file, b.first+int64(i), unknownSource(src))
			}
			if r.eval[src] && !b.eval {
				return fmt.Errorf("%s: row %d: eval source %s shares a part file with a training source; clean needs one source per file",
					b.file, b.first+int64(i), src)
			}
			c := r.report.source(src)
			c.In++
			if res.reason != "" {
				c.Removed[res.reason]++
				removed = append(removed, spilled{Local: local, ID: p.RecordID(), Source: src, Reason: res.reason, Detail: res.detail, Record: res.original})
				spillSrc[src] = true
			} else {
				flags := uint64(local) << 1
				if res.bands != nil {
					flags |= 1
					for band, key := range res.bands {
						bands[band] = append(bands[band], uint64(key)<<32|uint64(meta.Staged))
					}
				}
				binary.LittleEndian.PutUint64(rec[0:], res.key)
				binary.LittleEndian.PutUint64(rec[8:], idBits(p.RecordID()))
				binary.LittleEndian.PutUint64(rec[16:], flags)
				if _, err := keys.w.Write(rec[:]); err != nil {
					return err
				}
				if meta.Staged == int64(^uint32(0)) {
					return fmt.Errorf("clean %s: more than 4 294 967 295 rows of one kind in a shard", k)
				}
				meta.Staged++
				staged++
				stagedSrc[src] = true
			}
			local++
		}
		if staged > 0 {
			if err := stage.Write(b.stage, staged, nil); err != nil {
				return err
			}
			meta.Frames = append(meta.Frames, frameInfo{Rows: staged, Sources: sortedKeys(stagedSrc)})
		}
		if len(removed) > 0 {
			var blob []byte
			if blob, spillBuf, err = encodeRows(removed, spillBuf); err != nil {
				return err
			}
			if err := spill.frame(blob); err != nil {
				return err
			}
			meta.Spill = append(meta.Spill, frameInfo{Rows: len(removed), Sources: sortedKeys(spillSrc)})
		}
		return nil
	}
	if err := pass1[T, P](ctx, r, files, sink); err != nil {
		return meta, err
	}
	meta.Rows = local
	if err := stage.Close(); err != nil {
		return meta, err
	}
	for _, f := range []*frameFile{spill, keys} {
		if err := f.close(); err != nil {
			return meta, err
		}
	}
	var scratch []uint64
	for b, entries := range bands {
		scratch = dedup.SortBandEntries(entries, scratch)
		if err := writeUint64s(bandPath(dir, b), entries); err != nil {
			return meta, err
		}
		bands[b] = nil
	}
	return meta, nil
}

func bandPath(dir string, b int) string { return filepath.Join(dir, fmt.Sprintf("band-%02d.bin", b)) }

// encodeRows encodes rows with the staging codec into one blob.
func encodeRows[T any](rows []T, scratch []byte) ([]byte, []byte, error) {
	dst := scratch[:0]
	for i := range rows {
		var err error
		if dst, err = appendValue(dst, reflect.ValueOf(&rows[i]).Elem()); err != nil {
			return nil, dst, err
		}
	}
	return slices.Clone(dst), dst, nil
}

// frameFile is a buffered file of frames (uvarint length, bytes) or of
// fixed-size records.
type frameFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	tmp  []byte
}

func newFrameFile(path string) (*frameFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &frameFile{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (f *frameFile) frame(blob []byte) error {
	f.tmp = binary.AppendUvarint(f.tmp[:0], uint64(len(blob)))
	if _, err := f.w.Write(f.tmp); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	if _, err := f.w.Write(blob); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

func (f *frameFile) close() error {
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return f.f.Close()
}

func writeUint64s(path string, xs []uint64) error {
	f, err := newFrameFile(path)
	if err != nil {
		return err
	}
	var b [8]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint64(b[:], x)
		if _, err := f.w.Write(b[:]); err != nil {
			f.f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return f.close()
}

// readScans reads every scan task's scan.json; each must say n tasks.
func readScans(ws workspace.Dir, n int) ([]*scanResult, error) {
	scans := make([]*scanResult, n)
	for i := range n {
		b, err := os.ReadFile(filepath.Join(scanDir(ws, i), "scan.json"))
		if err != nil {
			return nil, fmt.Errorf("clean shard %d/%d did not finish: %w", i, n, err)
		}
		s := &scanResult{}
		if err := json.Unmarshal(b, s); err != nil {
			return nil, fmt.Errorf("clean shard %d/%d: %w", i, n, err)
		}
		if s.Shards != n {
			return nil, fmt.Errorf("clean shard %d ran as one of %d tasks, not %d", i, s.Shards, n)
		}
		scans[i] = s
	}
	return scans, nil
}

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
		verify := func(c *shardCandidates) error {
			if c.err != nil {
				return c.err
			}
			for _, cd := range c.rows {
				ids[cd.ord] = cd.id
				cl.Add(cd.ord, cd.set, cd.group)
			}
			return nil
		}
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

// filterWriters are a filter task's removed/ writers, kept across kinds as
// Run keeps them, and its counts.
type filterWriters struct {
	removed     map[string]*schemas.PartWriter[schemas.RemovedRow]
	removedKind map[string]schemas.Kind
	report      *Report
}

// ShardFilter is phase 3 of a sharded clean, task i of n: it writes the clean/
// and removed/ parts of the sources ShardDedup gave it.
func ShardFilter(o Options, i, n int) (*Report, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	scans, err := readScans(o.Workspace, n)
	if err != nil {
		return nil, err
	}
	dr, err := readDedup(o.Workspace, n)
	if err != nil {
		return nil, err
	}
	mine := map[string]bool{}
	for src, t := range dr.Tasks {
		if t == i {
			mine[src] = true
		}
	}
	if err := removeSourceParts(o.Workspace, mine); err != nil {
		return nil, err
	}
	fw := &filterWriters{removed: map[string]*schemas.PartWriter[schemas.RemovedRow]{}, removedKind: map[string]schemas.Kind{},
		report: &Report{Sources: map[string]*SourceCounts{}}}
	for src := range mine {
		fw.report.source(src)
	}
	defer func() {
		for _, w := range fw.removed {
			w.Abort()
		}
	}()
	for _, k := range schemas.Kinds {
		if len(mine) == 0 { // more tasks than sources
			break
		}
		if err := phasesFor(k).filter(r, k, scans, mine, fw); err != nil {
			return nil, err
		}
	}
	for _, src := range sortedKeys(fw.removed) {
		if err := fw.removed[src].Close(); err != nil {
			return nil, err
		}
	}
	if err := atomicfile.WriteJSON(filterReport(o.Workspace, i), fw.report); err != nil {
		return nil, err
	}
	return fw.report, nil
}

func readDedup(ws workspace.Dir, n int) (*dedupResult, error) {
	b, err := os.ReadFile(filepath.Join(dedupDir(ws), "dedup.json"))
	if err != nil {
		return nil, fmt.Errorf("clean's dedup task did not finish: %w", err)
	}
	dr := &dedupResult{}
	if err := json.Unmarshal(b, dr); err != nil {
		return nil, err
	}
	if dr.Shards != n {
		return nil, fmt.Errorf("clean's dedup task ran over %d shards, not %d", dr.Shards, n)
	}
	return dr, nil
}

// removeSourceParts deletes the clean/ and removed/ parts of sources, as a
// relaunched filter task finds them.
func removeSourceParts(ws workspace.Dir, sources map[string]bool) error {
	dirs := []string{ws.Removed()}
	for _, k := range schemas.Kinds {
		dirs = append(dirs, ws.Clean(k))
	}
	part := regexp.MustCompile(`^(.+)-\d{5}\.parquet$`)
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			name := e.Name()
			if rest, ok := strings.CutPrefix(name, atomicfile.TempPrefix); ok {
				name = rest
			}
			m := part.FindStringSubmatch(name)
			if m == nil && strings.HasPrefix(e.Name(), atomicfile.TempPrefix) {
				if i := strings.LastIndex(name, ".parquet-"); i >= 0 {
					m = part.FindStringSubmatch(name[:i+len(".parquet")])
				}
			}
			if m != nil && sources[m[1]] {
				if err := os.Remove(filepath.Join(d, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	return nil
}

// remove writes one row of a source to removed/ and counts it.
func (fw *filterWriters) remove(ws workspace.Dir, k schemas.Kind, row schemas.RemovedRow) error {
	w := fw.removed[row.Source]
	if w == nil {
		w = schemas.NewPartWriter[schemas.RemovedRow](ws.Removed(),
			schemas.PartOptions{Prefix: row.Source, RowsPerGroup: removedRowsPerGroup})
		fw.removed[row.Source] = w
	}
	fw.removedKind[row.Source] = k
	return w.Write(row)
}

// filterKind is phase 3 for one kind: the rows of the task's sources, in
// row order, to clean/ or removed/ (what the scan removed, and exact
// duplicates); then the near duplicates, as Run's pass 3 writes them
// after pass 1's removals.
func filterKind[T any, P record[T]](r *run, k schemas.Kind, scans []*scanResult, mine map[string]bool, fw *filterWriters) error {
	ws := r.opts.Workspace
	dpath := filepath.Join(dedupDir(ws), string(k), "decisions.bin")
	var dec *bufio.Reader // nil: no survivor of the kind, so no decision
	if df, err := os.Open(dpath); err == nil {
		defer df.Close()
		dec = bufio.NewReaderSize(df, 1<<20)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	readDecision := func() (byte, string, error) {
		code, err := dec.ReadByte()
		if err != nil {
			return 0, "", fmt.Errorf("%s: %w", dpath, err)
		}
		n, err := binary.ReadUvarint(dec)
		if err != nil {
			return 0, "", fmt.Errorf("%s: %w", dpath, err)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(dec, b); err != nil {
			return 0, "", fmt.Errorf("%s: %w", dpath, err)
		}
		return code, string(b), nil
	}
	cleanW := map[string]*asyncWriter[T]{}
	defer func() {
		for _, w := range cleanW {
			w.Abort()
		}
	}()
	type nearDup struct {
		shard  int
		ord    uint32 // the task's survivor number
		detail string
	}
	var nears []nearDup
	for i, s := range scans {
		m := s.Kinds[k]
		dir := filepath.Join(scanDir(ws, i), string(k))
		pullSpill, stopSpill := iter.Pull2(spillRows(filepath.Join(dir, "removed.bin"), m.Spill, mine))
		defer stopSpill()
		var pending *spilled
		nextSpill := func() error {
			sp, err, ok := pullSpill()
			if !ok {
				pending = nil
				return nil
			}
			pending = sp
			return err
		}
		if err := nextSpill(); err != nil {
			return err
		}
		writeSpillBefore := func(local int64) error {
			for pending != nil && pending.Local < local {
				if mine[pending.Source] {
					err := fw.remove(ws, k, schemas.RemovedRow{ID: pending.ID, Source: pending.Source, Kind: string(k),
						Reason: pending.Reason, Detail: pending.Detail, Record: pending.Record})
					if err != nil {
						return err
					}
				}
				if err := nextSpill(); err != nil {
					return err
				}
			}
			return nil
		}
		kf, err := os.Open(filepath.Join(dir, "keys.bin"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		var keys *bufio.Reader
		if kf != nil {
			defer kf.Close()
			keys = bufio.NewReaderSize(kf, 1<<20)
		}
		counts := make([]int, len(m.Frames))
		for j, f := range m.Frames {
			counts[j] = f.Rows
		}
		j := 0
		var rec [24]byte
		if len(counts) > 0 && (keys == nil || dec == nil) {
			return fmt.Errorf("%s: staged rows without their keys or decisions", dir)
		}
		for fr, err := range taskFrames(filepath.Join(dir, "stage.bin"), counts) {
			if err != nil {
				return err
			}
			info := m.Frames[j]
			j++
			wanted := slices.ContainsFunc(info.Sources, func(s string) bool { return mine[s] })
			var rows []staged[T]
			if wanted {
				if rows, err = decodeFrame[T](fr); err != nil {
					return err
				}
			}
			for x := range fr.rows {
				if _, err := io.ReadFull(keys, rec[:]); err != nil {
					return fmt.Errorf("%s: keys: %w", dir, err)
				}
				local := int64(binary.LittleEndian.Uint64(rec[16:]) >> 1)
				code, detail, err := readDecision()
				if err != nil {
					return err
				}
				if err := writeSpillBefore(local); err != nil {
					return err
				}
				if !wanted {
					continue
				}
				st := &rows[x]
				p := P(&st.Row)
				src := p.RecordSource()
				if !mine[src] {
					continue
				}
				switch code {
				case decideKeep:
					cluster := p.RecordID()
					if detail != "" {
						cluster = detail
					}
					p.SetCluster(cluster)
					w := cleanW[src]
					if w == nil {
						w = newAsyncWriter(schemas.NewPartWriter[T](ws.Clean(k), schemas.PartOptions{Prefix: src}))
						cleanW[src] = w
					}
					fw.report.source(src).Kept++
					if err := w.Write(st.Row); err != nil {
						return err
					}
				case decideDuplicate:
					id := p.RecordID()
					original, err := originalJSON(p, st.Changed, st.Before)
					if err != nil {
						return fmt.Errorf("%s: %w", dir, err)
					}
					fw.report.source(src).Removed[ReasonDuplicate]++
					if err := fw.remove(ws, k, schemas.RemovedRow{ID: id, Source: src, Kind: string(k),
						Reason: ReasonDuplicate, Detail: detail, Record: original}); err != nil {
						return err
					}
				case decideNear:
					nears = append(nears, nearDup{shard: i, ord: fr.ord + uint32(x), detail: detail})
				default:
					return fmt.Errorf("%s: decision %d", dpath, code)
				}
			}
		}
		if err := writeSpillBefore(m.Rows); err != nil {
			return err
		}
	}
	// The near duplicates, from the frames that hold them.
	next := 0
	for fr, err := range shardFrames(ws, k, scans) {
		if next == len(nears) {
			break
		}
		if err != nil {
			return err
		}
		nd := nears[next]
		if nd.shard != fr.shard || nd.ord >= fr.frame.ord+uint32(fr.frame.rows) {
			continue
		}
		rows, err := decodeFrame[T](fr.frame)
		if err != nil {
			return err
		}
		for next < len(nears) && nears[next].shard == fr.shard && nears[next].ord < fr.frame.ord+uint32(fr.frame.rows) {
			nd := nears[next]
			st := &rows[nd.ord-fr.frame.ord]
			p := P(&st.Row)
			id, src := p.RecordID(), p.RecordSource()
			original, err := originalJSON(p, st.Changed, st.Before)
			if err != nil {
				return err
			}
			fw.report.source(src).Removed[ReasonNearDuplicate]++
			if err := fw.remove(ws, k, schemas.RemovedRow{ID: id, Source: src, Kind: string(k),
				Reason: ReasonNearDuplicate, Detail: nd.detail, Record: original}); err != nil {
				return err
			}
			next++
		}
	}
	if next != len(nears) {
		return fmt.Errorf("clean %s: %d near duplicates not found in the staging frames", k, len(nears)-next)
	}
	for _, src := range sortedKeys(cleanW) {
		if err := cleanW[src].Close(); err != nil {
			return err
		}
	}
	// Run commits a source's removed/ part at the end of the kind of its
	// last removed row: a later kind's removals start its next part.
	for _, src := range sortedKeys(fw.removed) {
		if fw.removedKind[src] == k {
			if err := fw.removed[src].Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// spillRows reads a scan task's removed rows, from the frames that hold a
// row of one of the sources in mine.
func spillRows(path string, frames []frameInfo, mine map[string]bool) iter.Seq2[*spilled, error] {
	return func(yield func(*spilled, error) bool) {
		if len(frames) == 0 {
			return
		}
		f, err := os.Open(path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		for i, fi := range frames {
			size, err := binary.ReadUvarint(br)
			if err != nil {
				yield(nil, fmt.Errorf("%s: frame %d: %w", path, i, err))
				return
			}
			blob := make([]byte, size)
			if _, err := io.ReadFull(br, blob); err != nil {
				yield(nil, fmt.Errorf("%s: frame %d: %w", path, i, err))
				return
			}
			if !slices.ContainsFunc(fi.Sources, func(s string) bool { return mine[s] }) {
				continue
			}
			// The blob is never written again: strings may share it.
			d := &stageDecoder{b: blob, s: unsafe.String(unsafe.SliceData(blob), len(blob))}
			for range fi.Rows {
				sp := &spilled{}
				if err := d.value(reflect.ValueOf(sp).Elem()); err != nil {
					yield(nil, fmt.Errorf("%s: frame %d: %w", path, i, err))
					return
				}
				if !yield(sp, nil) {
					return
				}
			}
		}
	}
}

// ShardMerge is phase 4 of a sharded clean over n tasks: it adds up every
// task's counts into reports/clean.json (the report Run writes) and
// removes the shuffle folder's data files, keeping the tasks' counts, so
// a merge killed on the way runs again. An eval source left with no row
// is an error, returned with the report.
func ShardMerge(o Options, n int) (*Report, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	scans, err := readScans(o.Workspace, n)
	if err != nil {
		return nil, err
	}
	dr, err := readDedup(o.Workspace, n)
	if err != nil {
		return nil, err
	}
	rep := r.report
	add := func(from *Report) {
		for name, c := range from.Sources {
			to := rep.source(name)
			to.In += c.In
			to.Kept += c.Kept
			for reason, v := range c.Removed {
				to.Removed[reason] += v
			}
		}
		for k, v := range from.Rewrites.Normalise {
			rep.Rewrites.Normalise[k] += v
		}
		for k, v := range from.Rewrites.PII {
			rep.Rewrites.PII[k] += v
		}
	}
	for _, s := range scans {
		add(s.Report)
	}
	for i := range n {
		b, err := os.ReadFile(filterReport(o.Workspace, i))
		if err != nil {
			return nil, fmt.Errorf("clean filter task %d/%d did not finish: %w", i, n, err)
		}
		fr := &Report{}
		if err := json.Unmarshal(b, fr); err != nil {
			return nil, err
		}
		add(fr)
	}
	if rep.NearDedup != nil && dr.NearDedup != nil {
		rep.NearDedup.Indexed = dr.NearDedup.Indexed
		rep.NearDedup.Candidates = dr.NearDedup.Candidates
		rep.NearDedup.Duplicates = dr.NearDedup.Duplicates
		rep.NearDedup.Clustered = dr.NearDedup.Clustered
	}
	if err := rep.finish(); err != nil {
		return nil, err
	}
	if err := rep.write(o.Workspace.Report("clean.json")); err != nil {
		return nil, err
	}
	if err := dropShuffleData(o.Workspace); err != nil {
		return nil, err
	}
	if err := rep.checkEval(o.Sources); err != nil {
		return rep, err
	}
	return rep, nil
}

// dropShuffleData removes every file of the shuffle folder but the tasks'
// counts (*.json).
func dropShuffleData(ws workspace.Dir) error {
	return filepath.WalkDir(ShuffleDir(ws), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(path, ".json") {
			return nil
		}
		return os.Remove(path)
	})
}
