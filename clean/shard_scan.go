package clean

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/chimed/chimed/dedup"
	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/schemas"
)

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
