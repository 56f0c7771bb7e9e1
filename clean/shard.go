package clean

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// afterDedup opens a run for a phase after the dedup task of an n-task
// clean: the run, every scan's result and the dedup's decisions.
func afterDedup(o Options, n int) (*run, []*scanResult, *dedupResult, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, nil, nil, err
	}
	scans, err := readScans(o.Workspace, n)
	if err != nil {
		return nil, nil, nil, err
	}
	dr, err := readDedup(o.Workspace, n)
	if err != nil {
		return nil, nil, nil, err
	}
	return r, scans, dr, nil
}

// ShardMerge is phase 4 of a sharded clean over n tasks: it adds up every
// task's counts into reports/clean.json (the report Run writes) and
// removes the shuffle folder's data files, keeping the tasks' counts, so
// a merge killed on the way runs again. An eval source left with no row
// is an error, returned with the report.
func ShardMerge(o Options, n int) (*Report, error) {
	r, scans, dr, err := afterDedup(o, n)
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
