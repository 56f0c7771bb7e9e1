package ingest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/xuri/excelize/v2"
)

// xlsxBook writes a two-row workbook: shared strings with SetCellValue, or
// inline strings with the stream writer.
func xlsxBook(t *testing.T, inline bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{{"Question", "Options", "Answer"}, {"夜间阵发性呼吸困难，可见于", `A 急性\nB 癔病`, "E"}, {}, {"短行"}}
	if inline {
		sw, err := f.NewStreamWriter("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := sw.SetRow(cell, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	} else {
		for i, r := range rows {
			for j, v := range r {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				f.SetCellValue("Sheet1", cell, v)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadXLSX(t *testing.T) {
	want := []event{
		{Loc: Location{File: "f.bin", Row: 0, Offset: -1}, Fields: map[string]any{"Question": "夜间阵发性呼吸困难，可见于", "Options": `A 急性\nB 癔病`, "Answer": "E"}},
		{Loc: Location{File: "f.bin", Row: 1, Offset: -1}, Fields: map[string]any{"Question": "短行", "Options": "", "Answer": ""}},
	}
	for _, tt := range []struct {
		name   string
		inline bool
		gzip   bool
	}{{"shared strings", false, false}, {"inline strings", true, false}, {"gzip'd", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			data := xlsxBook(t, tt.inline)
			if tt.gzip {
				data = []byte(gzipped(string(data)))
			}
			// The extension lies: the content decides.
			compareEvents(t, collect(t, data, ".bin", &Source{}), want)
		})
	}
}

type parquetTurn struct {
	Role    string `parquet:"role"`
	Content string `parquet:"content"`
}

type parquetDialogue struct {
	ID    string        `parquet:"id"`
	N     int64         `parquet:"n"`
	Tags  []string      `parquet:"tags,list"`
	Turns []parquetTurn `parquet:"turns,list"`
}

func TestReadParquet(t *testing.T) {
	rows := []parquetDialogue{
		{ID: "a", N: 1, Tags: []string{"x", "y"}, Turns: []parquetTurn{{"user", "头痛"}, {"assistant", "休息"}}},
		{ID: "b", N: 2},
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "d.parquet")
	gz := filepath.Join(dir, "d.parquet.gz")
	os.WriteFile(plain, buf.Bytes(), 0o644)
	os.WriteFile(gz, []byte(gzipped(buf.String())), 0o644)
	for _, path := range []string{plain, gz} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var got []map[string]any
			var counted int64
			for raw, err := range ReadFile(path, "d", &Source{}, func(n int64) { counted += n }) {
				if err != nil {
					t.Fatal(err)
				}
				if raw.Loc != (Location{File: "d", Row: int64(len(got)), Offset: -1}) {
					t.Errorf("location %+v", raw.Loc)
				}
				got = append(got, raw.Fields)
			}
			if len(got) != 2 {
				t.Fatalf("read %d rows, want 2", len(got))
			}
			st, _ := os.Stat(path)
			if counted != st.Size() {
				t.Errorf("counted %d bytes, file has %d", counted, st.Size())
			}
			first := got[0]
			if first["id"] != "a" || first["n"] != json.Number("1") || !reflect.DeepEqual(first["tags"], []any{"x", "y"}) {
				t.Errorf("row 0 = %#v", first)
			}
			turns, ok := first["turns"].([]any)
			if !ok || len(turns) != 2 {
				t.Fatalf("turns = %#v", first["turns"])
			}
			if turn, _ := turns[1].(map[string]any); turn["role"] != "assistant" || turn["content"] != "休息" {
				t.Errorf("turns[1] = %#v", turns[1])
			}
		})
	}
}
