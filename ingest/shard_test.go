package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Shard
		bad  bool
	}{
		{in: "0/1", want: Shard{0, 1}},
		{in: "6/7", want: Shard{6, 7}},
		{in: "7/7", bad: true},
		{in: "-1/3", bad: true},
		{in: "0/0", bad: true},
		{in: "1", bad: true},
		{in: "a/b", bad: true},
		{in: "0/10000", bad: true},
	} {
		got, err := ParseShard(c.in)
		if c.bad != (err != nil) || (!c.bad && got != c.want) {
			t.Errorf("ParseShard(%q) = %v, %v; want %v (error: %v)", c.in, got, err, c.want, c.bad)
		}
	}
	if n := (Shard{2, 7}).Name(); n != "0002-of-0007" {
		t.Errorf("Name = %s", n)
	}
}

func TestShardFromEnv(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want Shard
		ok   bool
		bad  bool
	}{
		{name: "none", env: nil},
		{name: "slurm", env: map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, want: Shard{3, 4}, ok: true},
		{name: "slurm from 1", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, want: Shard{3, 4}, ok: true},
		{name: "slurm past count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"}, ok: true, bad: true},
		{name: "slurm job, no array", env: map[string]string{"SLURM_JOB_ID": "12"}},
		{name: "k8s", env: map[string]string{"JOB_COMPLETION_INDEX": "0", "CHIMED_SHARDS": "2"}, want: Shard{0, 2}, ok: true},
		{name: "k8s without count", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, ok: true, bad: true},
		{name: "k8s junk", env: map[string]string{"JOB_COMPLETION_INDEX": "x", "CHIMED_SHARDS": "2"}, ok: true, bad: true},
	} {
		got, ok, err := ShardFromEnv(func(k string) string { return c.env[k] })
		if ok != c.ok || c.bad != (err != nil) || (!c.bad && got != c.want) {
			t.Errorf("%s: got %v, %v, %v; want %v, %v, error %v", c.name, got, ok, err, c.want, c.ok, c.bad)
		}
	}
}

// TestShardPlans: every file goes to exactly one shard, a shard's files
// are one contiguous run of the (source, file) order so that its parts
// read in shard order keep one process's row order, a join source stays
// whole, and shards are near equal in bytes when files are small.
func TestShardPlans(t *testing.T) {
	var plans []plan
	sizes := [][]int64{{100, 100, 100, 100}, {5, 7, 0, 900}, {50}, {10, 10, 10, 10, 10, 10, 10, 10, 10, 10}}
	for i, ss := range sizes {
		p := plan{src: Source{Name: fmt.Sprintf("s%d", i)}}
		for j, sz := range ss {
			p.files = append(p.files, inputFile{rel: fmt.Sprintf("raw/s%d/%d", i, j), size: sz})
			p.size += sz
		}
		if i == 2 {
			p.src.Map.Join = &JoinMapping{Lookup: "q*", Key: "id", On: "qid", As: "q"}
			p.lookups = []inputFile{{rel: "raw/s2/q", size: 30}}
			p.size += 30
		}
		plans = append(plans, p)
	}
	var order []string
	for _, p := range plans {
		for _, f := range p.files {
			order = append(order, f.rel)
		}
	}
	for _, n := range []int{1, 2, 3, 7, 40} {
		var got []string
		for i := range n {
			for _, p := range shardPlans(plans, Shard{i, n}) {
				if len(p.files) == 0 {
					t.Errorf("n=%d shard %d: source %s with no file", n, i, p.src.Name)
				}
				if p.src.Name == "s2" && (len(p.files) != 1 || len(p.lookups) != 1) {
					t.Errorf("n=%d: the join source was split: %d files, %d lookups", n, len(p.files), len(p.lookups))
				}
				for _, f := range p.files {
					got = append(got, f.rel)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(order) {
			t.Errorf("n=%d: shards in order read %v, want %v", n, got, order)
		}
	}
	// A split file of 1000 bytes in pieces of at most 300 (4 pieces of
	// 250): the shards' pieces, in order, cover it once, the last reading
	// to the end, and a shard's pieces in a row are one.
	big := []plan{{src: Source{Name: "big"}, size: 1000, files: []inputFile{{rel: "big.jsonl", size: 1000, split: true}}}}
	for _, n := range []int{1, 2, 3, 4, 7} {
		var next int64
		for i := range n {
			for _, p := range shardPlansSplit(big, Shard{i, n}, 300) {
				for _, f := range p.files {
					if !f.piece || f.from != next || len(p.files) != 1 {
						t.Errorf("n=%d shard %d: %+v, want one piece from %d", n, i, p.files, next)
					}
					next = f.to
				}
			}
		}
		if next != -1 {
			t.Errorf("n=%d: the last piece ends at %d, want -1 (the end)", n, next)
		}
	}

	// 40 files of 10 bytes in 4 shards: 10 each.
	var even []plan
	p := plan{src: Source{Name: "even"}}
	for j := range 40 {
		p.files = append(p.files, inputFile{rel: fmt.Sprint(j), size: 10})
		p.size += 10
	}
	even = append(even, p)
	for i := range 4 {
		if got := shardPlans(even, Shard{i, 4}); len(got) != 1 || len(got[0].files) != 10 || got[0].size != 100 {
			t.Errorf("shard %d of 4 over 40 equal files: %v", i, got)
		}
	}
}

// readPieces reads path cut at the offsets cuts (ascending, inside the
// file) as a shard reads its pieces, and returns what the pieces yielded,
// in order. It fails the test when a piece yields a record that starts
// outside it: the pieces must share the work, not repeat it.
func readPieces(t *testing.T, path string, src *Source, cuts ...int64) []event {
	t.Helper()
	var out []event
	from := int64(0)
	for i := 0; i <= len(cuts); i++ {
		sp := span{from: from, to: -1}
		if i < len(cuts) {
			sp.to = cuts[i]
		}
		for raw, err := range readFileSpan(path, "f.txt", src, sp, nil, nil, "") {
			if off := raw.Loc.Offset; off >= 0 && (off < sp.from || sp.past(off)) {
				t.Fatalf("piece %+v yielded a record at offset %d", sp, off)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				out = append(out, event{Loc: e.Location, Err: e.Err.Error(), Fatal: e.Fatal})
				continue
			}
			out = append(out, event{Loc: raw.Loc, Fields: raw.Fields})
		}
		from = sp.to
	}
	return out
}

// TestShardTextPieces: a text file read in pieces, cut at every byte (of
// a longer file, every few) and at pairs of bytes (a sample of them), yields what one whole read yields, every record (and
// broken record) once with its row, line and offset, for each way text is
// split into records: per line, per blank-line block, and at a pattern with
// the meddialog parser. The file has a BOM, CRLF lines, leading and doubled
// blank lines, a line of invalid bytes and a record over max_record_bytes.
func TestShardTextPieces(t *testing.T) {
	doc := "\uFEFF\n\n第一行\r\n第二行\n\n\n" + "甲\xff乙\n" + strings.Repeat("长", 40) + "\n\n末行"
	for _, c := range []struct {
		name string
		data string
		text TextOptions
	}{
		{"line", doc, TextOptions{Split: SplitLine}},
		{"blank", doc, TextOptions{Split: SplitBlank}},
		{"pattern", doc, TextOptions{Split: SplitPattern, Pattern: `^(第|甲|长|末)`}},
		{"meddialog", medDialogSample + medDialogSample, TextOptions{Split: SplitPattern, Pattern: `^id=\d+\s*$`, Parser: "meddialog"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.txt")
			if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			src := &Source{Format: FormatText, Text: c.text, MaxRecordBytes: 100}
			whole := readPieces(t, path, src)
			if len(whole) < 3 {
				t.Fatalf("whole file: %d events, want several: %+v", len(whole), whole)
			}
			size := int64(len(c.data))
			step := 1 + size/300 // every byte of a short file
			for k := int64(1); k < size; k += step {
				if got := readPieces(t, path, src, k); !reflect.DeepEqual(got, whole) {
					t.Fatalf("cut at %d: %+v\nwant %+v", k, got, whole)
				}
				for j := k + 1; k%13 == 0 && j < size; j += 17 {
					if got := readPieces(t, path, src, k, j); !reflect.DeepEqual(got, whole) {
						t.Fatalf("cut at %d and %d: %+v\nwant %+v", k, j, got, whole)
					}
				}
			}
		})
	}
}
