package trainer

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

func ints(n int) iter.Seq2[int, error] { return indexes(n)(nil) }

func collect[E any](t *testing.T, src iter.Seq2[E, error]) []E {
	t.Helper()
	var out []E
	for e, err := range src {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestShuffled checks the shuffle buffer hands out every example exactly
// once, never one it could not yet have read (memory stays bounded), and
// the same order for the same seed.
func TestShuffled(t *testing.T) {
	for _, tc := range []struct{ n, size int }{
		{0, 4}, {1, 4}, {5, 1}, {10, 10}, {10, 100}, {1000, 64}, {1000, 1000}, {257, 3},
	} {
		t.Run(fmt.Sprintf("n%d_size%d", tc.n, tc.size), func(t *testing.T) {
			got := collect(t, shuffled(ints(tc.n), tc.size, rand.New(rand.NewPCG(7, 0))))
			if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, collect(t, ints(tc.n))) {
				t.Fatalf("not a permutation of 0..%d: %v", tc.n-1, got)
			}
			for i, e := range got {
				if e >= tc.size+i {
					t.Fatalf("output %d is input %d: the buffer of %d held more than it may", i, e, tc.size)
				}
			}
			again := collect(t, shuffled(ints(tc.n), tc.size, rand.New(rand.NewPCG(7, 0))))
			if !slices.Equal(got, again) {
				t.Errorf("same seed, different order:\n%v\n%v", got, again)
			}
			other := collect(t, shuffled(ints(tc.n), tc.size, rand.New(rand.NewPCG(8, 0))))
			if tc.n >= 100 && tc.size > 1 && slices.Equal(got, other) {
				t.Errorf("seeds 7 and 8 give the same order")
			}
			if tc.size == 1 && !slices.Equal(got, collect(t, ints(tc.n))) {
				t.Errorf("a buffer of one must keep file order: %v", got)
			}
		})
	}
}

// TestShuffledError passes a read error on and stops.
func TestShuffledError(t *testing.T) {
	bad := errors.New("bad row")
	src := func(yield func(int, error) bool) {
		for i := range 10 {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, bad)
	}
	var err error
	n := 0
	for _, e := range shuffled(src, 4, rand.New(rand.NewPCG(1, 1))) {
		if e != nil {
			err = e
			break
		}
		n++
	}
	if !errors.Is(err, bad) || n != 6 {
		t.Errorf("got %d examples then %v, want 6 then %v", n, err, bad)
	}
}

// TestExampleStream checks epochs are permutations of the pass, differ from
// each other, and that seeking to any example (as --resume does) continues
// exactly as an uninterrupted stream.
func TestExampleStream(t *testing.T) {
	const n, buffer, epochs = 37, 8, 4
	full := newExampleStream("test", n, buffer, 42, indexes(n))
	defer full.close()
	want, err := full.batch(n * epochs)
	if err != nil {
		t.Fatal(err)
	}
	for ep := range epochs {
		e := want[ep*n : (ep+1)*n]
		if !slices.Equal(slices.Sorted(slices.Values(e)), collect(t, ints(n))) {
			t.Errorf("epoch %d is not a permutation: %v", ep, e)
		}
		if ep > 0 && slices.Equal(e, want[:n]) {
			t.Errorf("epoch %d repeats epoch 0's order", ep)
		}
	}
	for _, k := range []int{0, 1, 7, n - 1, n, n + 1, 2*n + 5, 3 * n} {
		s := newExampleStream("test", n, buffer, 42, indexes(n))
		if err := s.seek(k); err != nil {
			t.Fatal(err)
		}
		got, err := s.batch(n*epochs - k)
		s.close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[k:]) {
			t.Errorf("after seek(%d):\n%v\nwant\n%v", k, got, want[k:])
		}
	}
}

// TestExampleStreamChangedFile: a pass longer or shorter than counted is an
// error naming the file, not a silently different epoch.
func TestExampleStreamChangedFile(t *testing.T) {
	for _, tc := range []struct{ counted, actual int }{{10, 9}, {10, 11}} {
		s := newExampleStream("stages/x.parquet", tc.counted, 4, 1, indexes(tc.actual))
		_, err := s.batch(tc.counted + 1)
		s.close()
		if err == nil || !strings.Contains(err.Error(), "stages/x.parquet") || !strings.Contains(err.Error(), "changed") {
			t.Errorf("counted %d, pass of %d: err %v", tc.counted, tc.actual, err)
		}
	}
}

// packWhole is the packer as it was before streaming: the whole token stream
// in memory, cut at 0, T, 2T, … into blocks of T+1.
func packWhole(tok *Tokenizer, T int, docs []string) []sequence {
	var stream []int32
	for _, d := range docs {
		stream = append(append(stream, tok.Encode(d)...), EOSID)
	}
	var out []sequence
	for start := 0; start+1 < len(stream); start += T {
		out = append(out, newSequence(T, stream[start:min(start+T+1, len(stream))], nil))
	}
	return out
}

func seqKey(s sequence) string { return fmt.Sprint(s.tokens, s.targets, s.weights) }

// TestPackDocuments checks the streaming packer cuts the same sequences as
// packing the whole stream at once, and packedCount counts them.
func TestPackDocuments(t *testing.T) {
	tok, err := BuildTokenizer(docsOf(strings.Split("高血压患者应低盐饮食。糖尿病需控制血糖。abc", "")), 1, 1200)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("高血压患者应低盐饮食。", 30)
	for _, tc := range []struct {
		name string
		T    int
		docs []string
	}{
		{"none", 8, nil},
		{"one empty", 8, []string{""}},
		{"short", 8, []string{"糖尿病"}},
		{"exact block", 4, []string{"糖尿病需"}}, // 4 ids + EOS = T+1
		{"two blocks and one", 4, []string{"糖尿病需控制血糖"}},
		{"long document", 16, []string{long}},
		{"many documents", 8, []string{"高血压", "", "糖尿病需控制血糖。", long, "abc", "血"}},
		{"bytes", 8, []string{"𝔸罕见字符", "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := packWhole(tok, tc.T, tc.docs)
			got := collect(t, packDocuments(tok, tc.T, docsOf(tc.docs)))
			if !slices.EqualFunc(got, want, func(a, b sequence) bool { return seqKey(a) == seqKey(b) }) {
				t.Errorf("streamed %d sequences, whole-stream packing %d:\n%v\nwant\n%v", len(got), len(want), got, want)
			}
			n, err := packedCount(tok, tc.T, docsOf(tc.docs))
			if err != nil || n != len(want) {
				t.Errorf("packedCount %d (%v), packed %d", n, err, len(want))
			}
		})
	}
}

func docsOf(docs []string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// TestPackDocumentsFixture packs a stage file both ways and compares the
// sequences as a multiset, through the Arrow reader.
func TestPackDocumentsFixture(t *testing.T) {
	ws := fixtureWorkspace(t)
	path := ws.StageFile(schemas.StageDCPT, "train")
	tok, err := BuildTokenizer(readDCPTTexts(path), 2, 1200)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for r, err := range schemas.ReadFile[schemas.DCPTRow](path) {
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, r.Text)
	}
	want := map[string]int{}
	for _, s := range packWhole(tok, 48, texts) {
		want[seqKey(s)]++
	}
	got := map[string]int{}
	for _, s := range collect(t, shuffled(packDocuments(tok, 48, readDCPTTexts(path)), 16, rand.New(rand.NewPCG(3, 0)))) {
		got[seqKey(s)]++
	}
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("streamed and shuffled sequences differ from whole-stream packing (%d vs %d distinct)", len(got), len(want))
	}
}

// TestArrowReaders reads stage files through Arrow and checks every row and
// field arrives as parquet-go reads it.
func TestArrowReaders(t *testing.T) {
	ws := fixtureWorkspace(t)
	dcpt := ws.StageFile(schemas.StageDCPT, "train")
	var wantText []string
	for r, err := range schemas.ReadFile[schemas.DCPTRow](dcpt) {
		if err != nil {
			t.Fatal(err)
		}
		wantText = append(wantText, r.Text)
	}
	if got := collect(t, readDCPTTexts(dcpt)); !slices.Equal(got, wantText) || len(got) == 0 {
		t.Errorf("DCPT texts through Arrow: %d rows, want %d", len(got), len(wantText))
	}

	// SFT with varied turn counts, empty contents and more rows than one
	// Arrow batch and one row group.
	var rows []schemas.SFTRow
	for i := range 2500 {
		var turns []schemas.Turn
		for j := range i % 5 {
			role := []string{schemas.RoleUser, schemas.RoleAssistant}[j%2]
			turns = append(turns, schemas.Turn{Role: role, Content: strings.Repeat("问", j) + fmt.Sprint(i)})
		}
		rows = append(rows, schemas.SFTRow{ID: fmt.Sprint(i), Messages: turns})
	}
	sft := filepath.Join(t.TempDir(), "sft.parquet")
	writeStage(t, sft, rows)
	got := collect(t, readSFTChats(sft, nil))
	if len(got) != len(rows) {
		t.Fatalf("SFT through Arrow: %d rows, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		if len(got[i]) != len(r.Messages) || (len(r.Messages) > 0 && !slices.Equal(got[i], r.Messages)) {
			t.Fatalf("row %d: %+v, want %+v", i, got[i], r.Messages)
		}
	}

	// With an rng, the file's three 1024-row groups come out whole, in the
	// order drawn from it.
	order := rand.New(rand.NewPCG(5, 0)).Perm(3)
	if slices.IsSorted(order) {
		t.Fatalf("seed draws file order %v; pick another", order)
	}
	var want [][]schemas.Turn
	for _, g := range order {
		for _, r := range rows[g*1024 : min((g+1)*1024, len(rows))] {
			want = append(want, r.Messages)
		}
	}
	shuffledGroups := collect(t, readSFTChats(sft, rand.New(rand.NewPCG(5, 0))))
	if len(shuffledGroups) != len(want) {
		t.Fatalf("%d rows read in group order %v, want %d", len(shuffledGroups), order, len(want))
	}
	for i := range want {
		if len(want[i]) != len(shuffledGroups[i]) || (len(want[i]) > 0 && !slices.Equal(want[i], shuffledGroups[i])) {
			t.Fatalf("group order %v, row %d: %+v, want %+v", order, i, shuffledGroups[i], want[i])
		}
	}
}

// TestArrowReaderErrors: a missing file, a file of the wrong stage and a
// file that is not Parquet fail with the path named.
func TestArrowReaderErrors(t *testing.T) {
	ws := fixtureWorkspace(t)
	junk := filepath.Join(t.TempDir(), "junk.parquet")
	if err := os.WriteFile(junk, []byte("PAR1 not really PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() error{
		"missing": func() error { _, err := count(readDCPTTexts(filepath.Join(t.TempDir(), "none.parquet"))); return err },
		"sft as dcpt": func() error {
			_, err := count(readDCPTTexts(ws.StageFile(schemas.StageSFT, "train")))
			return err
		},
		"dcpt as sft": func() error {
			_, err := count(readSFTChats(ws.StageFile(schemas.StageDCPT, "train"), nil))
			return err
		},
		"junk": func() error { _, err := count(readDCPTTexts(junk)); return err },
	} {
		if err := read(); err == nil || !strings.Contains(err.Error(), ".parquet") {
			t.Errorf("%s: err %v, want one naming the file", name, err)
		}
	}
}

// FuzzReadDCPTTexts feeds the Arrow reader arbitrary bytes: it must fail
// with an error, never panic.
func FuzzReadDCPTTexts(f *testing.F) {
	dir := f.TempDir()
	for i, rows := range [][]schemas.DCPTRow{fixtureDCPT(3), nil, {{Text: ""}}} {
		p := filepath.Join(dir, fmt.Sprint(i, ".parquet"))
		if _, err := schemas.WriteFile(p, slices.Values(rows)); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, err := range readDCPTTexts(p) {
			if err != nil {
				return
			}
		}
	})
}

// TestExampleStreamRowGroups streams a file of three row groups: each epoch
// reads every row once, epochs start in different row groups, and seeking
// continues exactly.
func TestExampleStreamRowGroups(t *testing.T) {
	const n, buffer, epochs = 2500, 100, 4
	var rows []schemas.DCPTRow
	for i := range n {
		rows = append(rows, schemas.DCPTRow{ID: fmt.Sprint(i), Text: fmt.Sprint(i)})
	}
	path := filepath.Join(t.TempDir(), "dcpt.parquet")
	writeStage(t, path, rows)
	pass := func(r *rand.Rand) iter.Seq2[string, error] { return readDCPTTextsIn(path, r) }
	full := newExampleStream(path, n, buffer, 9, pass)
	want, err := full.batch(n * epochs)
	full.close()
	if err != nil {
		t.Fatal(err)
	}
	firstGroups := map[int]bool{}
	for ep := range epochs {
		e := want[ep*n : (ep+1)*n]
		seen := map[string]bool{}
		for _, x := range e {
			seen[x] = true
		}
		if len(seen) != n {
			t.Errorf("epoch %d has %d distinct rows of %d", ep, len(seen), n)
		}
		var first int
		fmt.Sscan(e[0], &first)
		firstGroups[first/1024] = true
		// Documents within a group stay in file order (a knowledge-graph
		// head's renderings and QA text meet in packed sequences); only the
		// shuffle buffer mixes them, so the first ones read lie within a few
		// buffers of each other in the file.
		var head []int
		for _, x := range e[:buffer] {
			var k int
			fmt.Sscan(x, &k)
			head = append(head, k)
		}
		if slices.Max(head)-slices.Min(head) > 4*buffer {
			t.Errorf("epoch %d begins with rows %d..%d: documents are no longer read in file order within a group", ep, slices.Min(head), slices.Max(head))
		}
	}
	if len(firstGroups) < 2 {
		t.Errorf("every epoch starts in row group %v: row groups are not shuffled", firstGroups)
	}
	for _, k := range []int{1, 1500, n, 2*n + 1100} {
		s := newExampleStream(path, n, buffer, 9, pass)
		if err := s.seek(k); err != nil {
			t.Fatal(err)
		}
		got, err := s.batch(n*epochs - k)
		s.close()
		if err != nil || !slices.Equal(got, want[k:]) {
			t.Errorf("after seek(%d): %v, order differs from an unbroken stream", k, err)
		}
	}
}
