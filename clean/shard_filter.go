package clean

import (
	"bufio"
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

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

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
	r, scans, dr, err := afterDedup(o, n)
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
