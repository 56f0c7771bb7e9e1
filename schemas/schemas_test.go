package schemas

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	gojson "github.com/goccy/go-json"
)

// arrowSchemaOf reads a Parquet file's schema the way Arrow sees it.
func arrowSchemaOf(t *testing.T, path string) *arrow.Schema {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	_ = context.Background()
	return s
}

// sameColumns compares names and types, ignoring the item field's name and
// nullability of list elements, which differ between writers but not readers.
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name {
			return false
		}
		la, oka := fa.Type.(*arrow.ListType)
		lb, okb := fb.Type.(*arrow.ListType)
		if oka != okb {
			return false
		}
		if oka {
			if !arrow.TypeEqual(la.Elem(), lb.Elem()) {
				return false
			}
			continue
		}
		if !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

func writeOne[T any](t *testing.T, path string, row T) {
	t.Helper()
	if _, err := WriteFile(path, slices.Values([]T{row})); err != nil {
		t.Fatal(err)
	}
}

func TestArrowSchemasMatchParquetGo(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		kind  Kind
		write func(path string)
	}{
		{KindText, func(p string) { writeOne(t, p, Text{ID: "1", Text: "发热"}) }},
		{KindQA, func(p string) { writeOne(t, p, QA{ID: "1", Question: "问", Answer: "答"}) }},
		{KindKG, func(p string) { writeOne(t, p, Triple{ID: "1", Head: "糖尿病", Relation: "症状", Tail: "多饮"}) }},
		{KindDialogue, func(p string) {
			writeOne(t, p, Dialogue{ID: "1", Turns: []Turn{{RoleUser, "头痛"}, {RoleAssistant, "多休息"}}})
		}},
		{KindPreference, func(p string) { writeOne(t, p, PreferencePair{ID: "1", Prompt: "p", Chosen: "c", Rejected: "r"}) }},
		{KindExam, func(p string) {
			writeOne(t, p, ExamQuestion{ID: "1", Options: []Option{{"A", "甲"}, {"B", "乙"}}, Answer: "A"})
		}},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			p := filepath.Join(dir, string(c.kind)+".parquet")
			c.write(p)
			want, err := ArrowSchema(c.kind)
			if err != nil {
				t.Fatal(err)
			}
			if got := arrowSchemaOf(t, p); !sameColumns(got, want) {
				t.Errorf("Arrow reads\n%v\nwant\n%v", got, want)
			}
		})
	}
	stageCases := []struct {
		stage Stage
		write func(path string)
	}{
		{StageDCPT, func(p string) { writeOne(t, p, DCPTRow{ID: "1", Text: "x"}) }},
		{StageSFT, func(p string) { writeOne(t, p, SFTRow{ID: "1", Messages: []Turn{{RoleUser, "q"}}}) }},
		{StageDPO, func(p string) { writeOne(t, p, DPORow{ID: "1"}) }},
	}
	for _, c := range stageCases {
		t.Run(string(c.stage), func(t *testing.T) {
			p := filepath.Join(dir, string(c.stage)+".parquet")
			c.write(p)
			want, _ := StageArrowSchema(c.stage)
			if got := arrowSchemaOf(t, p); !sameColumns(got, want) {
				t.Errorf("Arrow reads\n%v\nwant\n%v", got, want)
			}
		})
	}
}

func TestPartWriterRollsAndRoundTrips(t *testing.T) {
	dir := t.TempDir()
	w := NewPartWriter[Dialogue](dir, PartOptions{RowsPerPart: 3, RowsPerGroup: 2})
	for i := range 7 {
		d := Dialogue{ID: StableIDAt("s", "f", int64(i), -1), Turns: []Turn{{RoleUser, "问" + string(rune('a'+i))}}}
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := PartFiles(dir)
	if len(files) != 3 || w.Rows() != 7 {
		t.Fatalf("got %d files, %d rows; want 3, 7", len(files), w.Rows())
	}
	var got []Dialogue
	for d, err := range ReadDir[Dialogue](dir) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	if len(got) != 7 || got[6].Turns[0].Content != "问g" {
		t.Fatalf("round trip lost rows: %+v", got)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestStableIDIsStableAndDistinct(t *testing.T) {
	a := StableIDAt("src", "a.jsonl", 1, -1)
	if a != StableIDAt("src", "a.jsonl", 1, -1) {
		t.Fatal("same input gave two ids")
	}
	seen := map[string]bool{}
	for _, id := range []string{a, StableIDAt("src", "a.jsonl", 2, -1), StableIDAt("src", "a.jsonl", 1, 0),
		StableIDAt("src2", "a.jsonl", 1, -1), StableIDAt("src", "b.jsonl", 1, -1)} {
		if seen[id] {
			t.Fatalf("id %s repeated", id)
		}
		seen[id] = true
	}
}

func TestMetaJSONIsSorted(t *testing.T) {
	if got := MetaJSON(map[string]any{"b": 1, "a": "x"}); got != `{"a":"x","b":1}` {
		t.Fatalf("got %s", got)
	}
	if MetaJSON(nil) != "{}" {
		t.Fatal("empty meta must be {}")
	}
}

// MetaJSON must write what encoding/json writes, byte for byte, so meta
// columns never change with the encoder behind them.
func TestMetaJSONMatchesEncodingJSON(t *testing.T) {
	cases := []map[string]any{
		{"z": 1.5, "a": []any{"x", nil, true}, "中文": "<b>&\u2028", "n": json.Number("12345678901234567890")},
		{"nested": map[string]any{"b": 2.0, "a": map[string]any{}}, "f": 1e21, "g": 0.000001, "i": float64(42)},
		{"_file": "raw/a.jsonl", "_row": int64(7), "_line": 8, "s": "\"quoted\" \\ \t\n"},
	}
	for _, c := range cases {
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := MetaJSON(c); got != string(want) {
			t.Errorf("MetaJSON = %s\nencoding/json = %s", got, want)
		}
	}
}

// clean stores every removed row as goccy/go-json text; it must be the text
// encoding/json writes for the same record.
func TestRecordJSONMatchesEncodingJSON(t *testing.T) {
	tricky := "<b>&\u2028\"引号\"\\\t\n\x01"
	records := []Record{
		&Text{ID: "1", Title: tricky, Text: "发热"},
		&QA{ID: "2", Question: tricky, Answer: "答", Meta: `{"a":1}`},
		&Triple{ID: "3", Head: tricky, Relation: "症状", Tail: "多饮"},
		&Dialogue{ID: "4", Turns: []Turn{{RoleUser, tricky}, {RoleAssistant, "多休息"}}},
		&Dialogue{ID: "5"},
		&PreferencePair{ID: "6", Prompt: tricky},
		&ExamQuestion{ID: "7", Options: []Option{{"A", tricky}}, Answer: "A"},
	}
	for _, r := range records {
		want, _ := json.Marshal(r)
		got, err := gojson.Marshal(r)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: goccy %s (%v)\nencoding/json %s", r.Kind(), got, err, want)
		}
	}
}
