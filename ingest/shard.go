package ingest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
	"github.com/chimed/chimed/schemas"
)

// Shard is one of Count array tasks' share of ingest: task Index (0-based)
// of Count. The zero Shard is the whole, unsharded ingest.
//
// Work is cut by whole files: every source's files, in chimed.yaml order
// and then name order, are cut into Count contiguous runs of about equal
// bytes, so the shards' parts read in shard order hold a source's rows in
// exactly the order one process writes them, and every row keeps its id
// (ids come from the file and the record's place in it, never the shard).
// A source with map.join is one piece: its lookup table must meet all its
// records.
type Shard struct {
	Index, Count int
}

// Sharded says whether s is a share of a sharded ingest.
func (s Shard) Sharded() bool { return s.Count > 0 }

// String is "i/n", as --shard takes it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Name names the shard in file names: "0002-of-0007".
func (s Shard) Name() string { return fmt.Sprintf("%04d-of-%04d", s.Index, s.Count) }

// MaxShards bounds n: part names give the shard four digits.
const MaxShards = 9999

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want i/n, e.g. 0/4", v)
	}
	return checkShard(i, n)
}

func checkShard(i, n int) (Shard, error) {
	if n < 1 || n > MaxShards || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %d/%d: want 0 <= i < n <= %d", i, n, MaxShards)
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardFromEnv finds the shard an array task is, from Slurm's
// SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT, or
// from a Kubernetes Indexed Job's JOB_COMPLETION_INDEX and the count the
// plan passes in CHIMED_SHARDS. ok is false when neither is set.
func ShardFromEnv(getenv func(string) string) (s Shard, ok bool, err error) {
	num := func(k string) (int, error) {
		n, err := strconv.Atoi(getenv(k))
		if err != nil {
			return 0, fmt.Errorf("%s=%q: %w", k, getenv(k), err)
		}
		return n, nil
	}
	switch {
	case getenv("SLURM_ARRAY_TASK_ID") != "" && getenv("SLURM_ARRAY_TASK_COUNT") != "":
		id, err := num("SLURM_ARRAY_TASK_ID")
		if err != nil {
			return s, true, err
		}
		n, err := num("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return s, true, err
		}
		lo := 0
		if getenv("SLURM_ARRAY_TASK_MIN") != "" {
			if lo, err = num("SLURM_ARRAY_TASK_MIN"); err != nil {
				return s, true, err
			}
		}
		s, err = checkShard(id-lo, n)
		return s, true, err
	case getenv("JOB_COMPLETION_INDEX") != "":
		id, err := num("JOB_COMPLETION_INDEX")
		if err != nil {
			return s, true, err
		}
		if getenv("CHIMED_SHARDS") == "" {
			return s, true, errors.New("JOB_COMPLETION_INDEX is set but CHIMED_SHARDS (the number of shards) is not")
		}
		n, err := num("CHIMED_SHARDS")
		if err != nil {
			return s, true, err
		}
		s, err = checkShard(id, n)
		return s, true, err
	}
	return s, false, nil
}

// shardPlans keeps of plans what shard s reads: each plan's files cut down
// to the shard's, and plans left with no file dropped. A piece (a file, or
// a whole source with a join) goes to the shard that holds the middle
// byte of its run in the concatenation of every piece, so the pieces of a
// shard are contiguous and the shards about equal in bytes.
func shardPlans(plans []plan, s Shard) []plan {
	return shardPlansSplit(plans, s, 0)
}

// shardPlansSplit is shardPlans that also cuts a file marked split into
// pieces of about splitBytes (bytes > 0), each a piece like a file; the
// pieces one shard gets in a row are one.
func shardPlansSplit(plans []plan, s Shard, splitBytes int64) []plan {
	var total int64
	for _, p := range plans {
		total += p.size
	}
	var cum int64
	owner := func(size int64) int {
		mid := cum + size/2
		cum += size
		if total == 0 {
			return 0
		}
		return int(min(int64(s.Count-1), mid*int64(s.Count)/total))
	}
	var out []plan
	for _, p := range plans {
		if p.src.Map.Join != nil {
			if owner(p.size) == s.Index {
				out = append(out, p)
			}
			continue
		}
		q := p
		q.files, q.size = nil, 0
		for _, f := range p.files {
			if !f.split || splitBytes <= 0 || f.size <= splitBytes {
				if owner(f.size) == s.Index {
					q.files = append(q.files, f)
					q.size += f.size
				}
				continue
			}
			pieces := (f.size + splitBytes - 1) / splitBytes
			mine := false
			for k := range pieces {
				from, to := k*f.size/pieces, (k+1)*f.size/pieces
				if owner(to-from) != s.Index {
					mine = false
					continue
				}
				if mine { // the piece before was this shard's too
					q.files[len(q.files)-1].to = to
				} else {
					g := f
					g.piece, g.from, g.to = true, from, to
					q.files = append(q.files, g)
				}
				q.size += to - from
				mine = true
			}
			if last := &q.files; len(*last) > 0 && (*last)[len(*last)-1].rel == f.rel && (*last)[len(*last)-1].to == f.size {
				(*last)[len(*last)-1].to = -1 // the last piece reads to the end
			}
		}
		if len(q.files) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// shardPrefix names a shard's parts of a source: "<source>-s0002", so its
// parts are <source>-s0002-NNNNN.parquet, which sort after the shards
// before it and, with their fixed-width tail, never take the name of
// another source's parts.
func shardPrefix(source string, s Shard) string {
	if !s.Sharded() {
		return source
	}
	return fmt.Sprintf("%s-s%04d", source, s.Index)
}

// cutShard splits a part prefix "<source>-s0002" into the source and the
// shard's digits; sharded is false for an unsharded part's prefix.
func cutShard(prefix string) (source, shard string, sharded bool) {
	if m := shardPrefixTail.FindStringIndex(prefix); m != nil {
		return prefix[:m[0]], prefix[m[0]+2:], true
	}
	return prefix, "", false
}

var (
	shardPrefixTail = regexp.MustCompile(`-s\d{4}$`)
	anyPart         = regexp.MustCompile(`^(.+)-\d{5}\.parquet$`)
	shardPart       = regexp.MustCompile(`-s(\d{4})-\d{5}\.parquet$`)
)

// clearShardOutputs removes what shard s writes again: its own parts of
// every source, and parts of an unsharded ingest (which would otherwise be
// read beside the shards'). Other shards' parts and temporary files are
// left alone, since they may be running now; the merge sweeps.
func clearShardOutputs(ws workspace.Dir, s Shard) error {
	dirs := []string{ws.Quarantine()}
	for _, k := range schemas.Kinds {
		dirs = append(dirs, ws.Normalized(k))
	}
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
			if e.IsDir() || !anyPart.MatchString(name) {
				continue
			}
			if m := shardPart.FindStringSubmatch(name); m != nil && m[1] != fmt.Sprintf("%04d", s.Index) {
				continue
			}
			if err := os.Remove(filepath.Join(d, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// ShardReportPath is where shard s keeps what it counted until the merge.
func ShardReportPath(ws workspace.Dir, s Shard) string {
	return ws.Path(".chimed", "shards", "ingest-"+s.Name()+".json")
}

// shardReport is what one shard counted, per source it read: enough for
// the merge to make reports/ingest.json and run the checks Run runs.
type shardReport struct {
	Shard   string                  `json:"shard"`
	Sources map[string]*shardSource `json:"sources"`
}

type shardSource struct {
	Counts
	First  []string     `json:"first_errors,omitempty"`
	Sniffs []shardSniff `json:"sniffs,omitempty"`
}

type shardSniff struct {
	Rel      string `json:"file"`
	Format   Format `json:"format"`
	Encoding string `json:"encoding,omitempty"`
	ASCII    bool   `json:"ascii,omitempty"`
	Empty    bool   `json:"empty,omitempty"`
}

func writeShardReport(ws workspace.Dir, s Shard, plans []plan, results []sourceResult) error {
	r := shardReport{Shard: s.String(), Sources: map[string]*shardSource{}}
	for i := range plans {
		res := &results[i]
		ss := &shardSource{Counts: res.Counts, First: res.first}
		for _, f := range res.sniffs {
			ss.Sniffs = append(ss.Sniffs, shardSniff{Rel: f.rel, Format: f.format, Encoding: f.encoding, ASCII: f.ascii, Empty: f.empty})
		}
		r.Sources[plans[i].src.Name] = ss
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := ShardReportPath(ws, s)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

// mergeResults reads the n shard reports and adds up, per plan, what the
// shards counted, in shard order (which is file order).
func mergeResults(ws workspace.Dir, n int, plans []plan) ([]sourceResult, error) {
	results := make([]sourceResult, len(plans))
	index := map[string]int{}
	for i, p := range plans {
		index[p.src.Name] = i
	}
	for k := range n {
		s := Shard{Index: k, Count: n}
		path := ShardReportPath(ws, s)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("shard %s has no report (run `chimed ingest --shard %s`): %w", s, s, err)
		}
		var r shardReport
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if r.Shard != s.String() {
			return nil, fmt.Errorf("%s: holds shard %s, not %s", path, r.Shard, s)
		}
		for name, ss := range r.Sources {
			i, ok := index[name]
			if !ok {
				return nil, fmt.Errorf("%s: source %s is not in chimed.yaml (the shards ran on another chimed.yaml; run them again)", path, name)
			}
			res := &results[i]
			res.Counts.add(ss.Counts)
			for _, e := range ss.First {
				if len(res.first) < firstErrorsShown {
					res.first = append(res.first, e)
				}
			}
			for _, f := range ss.Sniffs {
				res.sniffs = append(res.sniffs, fileSniff{rel: f.Rel, format: f.Format, encoding: f.Encoding, ascii: f.ASCII, empty: f.Empty})
			}
		}
	}
	return results, nil
}

// DefaultSplitBytes is the size above which a shard reads a JSON Lines or
// text file in pieces rather than whole.
const DefaultSplitBytes = 64 << 20

// markSplit marks the files of plans a shard may read in pieces: larger
// than splitBytes, not gzip'd (a gzip stream cannot be entered midway, so
// every piece would inflate the whole prefix), read as JSON Lines or plain
// text (as readStream will sniff them; see splittable), of a source with
// no join. A piece holds the records whose first line starts in it: a
// JSON Lines record is one line, a text record a line, a blank-line block
// or the lines from one pattern match to the next. CSV and TSV, JSON
// documents, XLSX and Parquet are read whole by one shard.
func markSplit(plans []plan, splitBytes int64) error {
	for i := range plans {
		p := &plans[i]
		if p.src.Map.Join != nil {
			continue
		}
		for j := range p.files {
			f := &p.files[j]
			if f.size <= splitBytes {
				continue
			}
			format := p.src.Format
			if format == "" || format == FormatAuto {
				fh, err := os.Open(f.path)
				if err != nil {
					return fmt.Errorf("%w: %w", ErrUnreadable, err)
				}
				prefix, err := bufio.NewReaderSize(fh, sniffWindow).Peek(sniffWindow)
				fh.Close()
				if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
					return fmt.Errorf("%s: %w: %w", f.rel, ErrUnreadable, err)
				}
				if isGzip(prefix) {
					continue
				}
				format = sniffHinted(prefix, strings.ToLower(filepath.Ext(f.path)), formatHint(&p.src))
			}
			f.split = splittable(format)
		}
	}
	return nil
}
