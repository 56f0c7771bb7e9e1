package clean

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chimed/chimed/schemas"
)

// TestStageRoundTrip writes frames of every kind's rows, with dropped rows,
// nil and empty slices and bytes that are not UTF-8, and reads them back.
func TestStageRoundTrip(t *testing.T) {
	dialogues := []staged[schemas.Dialogue]{
		{Row: schemas.Dialogue{ID: "a", Source: "s", Turns: []schemas.Turn{{Role: "user", Content: "头痛\xff"}, {Role: "assistant", Content: ""}}, Meta: `{"k":1}`}},
		{Row: schemas.Dialogue{ID: "b", Turns: []schemas.Turn{}}, Changed: []int32{0, -3}, Before: []string{"原文", ""}},
		{Row: schemas.Dialogue{ID: "c"}, Changed: []int32{}, Before: nil},
		{Row: schemas.Dialogue{ID: strings.Repeat("长", 100000)}},
	}
	exams := []staged[schemas.ExamQuestion]{
		{Row: schemas.ExamQuestion{ID: "e", Question: "问？", Options: []schemas.Option{{Label: "A", Text: "甲"}, {Label: "B"}}, Answer: "A", Cluster: "x"}},
	}
	checkRoundTrip(t, dialogues, []int{1}, 0)
	checkRoundTrip(t, dialogues, nil, 1)
	checkRoundTrip(t, exams, nil, 0)
	checkRoundTrip(t, []staged[schemas.QA]{{Row: schemas.QA{ID: "q", Question: "问", Answer: "答"}}}, nil, 0)
}

// checkRoundTrip stages rows as frames (frames copies, the dropped
// positions dropped in the first) and reads them back.
func checkRoundTrip[T any](t *testing.T, rows []staged[T], dropped []int, extra int) {
	t.Helper()
	dir := t.TempDir()
	w, err := newStageWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []staged[T]
	for f := 0; f <= extra; f++ {
		blob, _, err := encodeStaged(rows, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := dropped
		if f > 0 {
			d = nil
		}
		if err := w.Write(blob, len(rows)-len(d), d); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			if !slices.Contains(d, i) {
				want = append(want, r)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got []staged[T]
	var ord uint32
	for fr, err := range stageFrames(w.path, w.frames) {
		if err != nil {
			t.Fatal(err)
		}
		if fr.ord != ord {
			t.Fatalf("frame ordinal %d, want %d", fr.ord, ord)
		}
		rs, err := decodeFrame[T](fr)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rs...)
		ord += uint32(len(rs))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
}

// TestStageDamage checks that a truncated or overlong staging file, or a
// frame with fewer rows than recorded, is an error naming the file and the
// byte offset, not rows made up.
func TestStageDamage(t *testing.T) {
	rows := []staged[schemas.QA]{{Row: schemas.QA{ID: "q1", Question: "问一", Answer: "答一"}}, {Row: schemas.QA{ID: "q2", Question: "问二", Answer: "答二"}}}
	dir := t.TempDir()
	w, err := newStageWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		blob, _, err := encodeStaged(rows, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(blob, len(rows), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	readAll := func(path string, counts []int) error {
		for fr, err := range stageFrames(path, counts) {
			if err != nil {
				return err
			}
			if _, err := decodeFrame[schemas.QA](fr); err != nil {
				return err
			}
		}
		return nil
	}
	if err := readAll(w.path, []int{2, 2}); err != nil {
		t.Fatalf("the whole file: %v", err)
	}
	for _, c := range []struct {
		name   string
		data   []byte
		counts []int
		want   string
	}{
		{"truncated", whole[:len(whole)-5], []int{2, 2}, "at byte"},
		{"bytes after the last frame", append(append([]byte{}, whole...), 0), []int{2, 2}, "bytes after the last"},
		{"fewer rows than recorded", whole, []int{3, 1}, "at byte"},
	} {
		path := filepath.Join(t.TempDir(), "stage.bin")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := readAll(path, c.counts)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s and %q", c.name, err, path, c.want)
		}
	}
}

// FuzzDecodeFrame feeds arbitrary blobs to the decoder: it must return rows
// or an error, never panic or allocate beyond what the blob could hold.
func FuzzDecodeFrame(f *testing.F) {
	blob, _, err := encodeStaged([]staged[schemas.Dialogue]{
		{Row: schemas.Dialogue{ID: "a", Turns: []schemas.Turn{{Role: "user", Content: "头痛"}}}, Changed: []int32{1}, Before: []string{"x"}},
	}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob, 1)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1)
	f.Fuzz(func(t *testing.T, blob []byte, rows int) {
		rows = rows & 7
		fr := &stageFrame{blob: blob, rows: rows, path: "stage.bin"}
		got, err := decodeFrame[schemas.Dialogue](fr)
		if err == nil && len(got) != rows {
			t.Fatalf("%d rows without an error, want %d", len(got), rows)
		}
	})
}
